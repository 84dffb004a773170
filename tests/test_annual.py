"""The union's half-year report from known reports (``tests/annual_world.py``): every cell of the tables for a
cluster, a province and the country against counts made by hand here; the DOCX read back with python-docx and
the XLSX with openpyxl; the plan and its pace; reporting rates; pairs gone quiet; /baocao and /pairs."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from handlers.annual import chat_summary, files, load_spec
from handlers.annual_docx import document_date
from handlers.annual_report import (
    AnnualReport,
    Frac,
    Table,
    cluster_subject,
    collect,
    country_subject,
    province_subject,
    summary,
    tables,
)
from handlers.core import Core
from handlers.filters import parse_period
from handlers.i18n import Translator
from handlers.plan_file import apply_plan, parse_plan_yaml
from storage import people
from storage.db import Database
from tests.annual_world import add, known_half_years, set_rhythm
from tests.conftest import TZ, Clock
from tests.reporting import person

TODAY = dt.date(2026, 11, 23)  # the fixed clock's day
H1 = "6 tháng đầu năm 2026"
F = Frac
D = Decimal

# Table 1, by indicator key: (this period, the same period of 2025, this as a per cent of that).
CLUSTER_2 = {
    "activities": (8, 1, D("800.0")),  # R1–R6, R9, R10; P1
    "held_ours": (3, 1, D("300.0")),  # R3, R4, R5; P1
    "held_partner": (3, 0, None),  # R1, R2, R9
    "held_both": (2, 0, None),  # R6 at the border line, R10 on both sides
    "exchanges": (1, 1, D("100.0")),
    "visits": (1, 0, None),
    "patrols": (1, 0, None),
    "outreach": (0, 0, None),
    "twinning_events": (0, 0, None),
    "delegations_out": (1, 0, None),
    "delegation_people_out": (12, 0, None),
    "delegations_in": (2, 0, None),
    "delegation_people_in": (25, 0, None),
    "gift_packages": (130, 0, None),  # R1 100, R10 30
    "gift_value": (D("50.0"), D("0.0"), None),  # triệu đồng; R10's 500 USD is not converted
    "patients": (150, 0, None),
    "medicine_value": (D("20.0"), D("0.0"), None),
    "scholarships": (0, 0, None),
    "support_value": (D("70.0"), D("0.0"), None),
    # Pairs: Hà Khẩu (R1, R2), Cốc Phương, Thượng Phùng (R4, R10), Mường Nhà (R5, R6) of the cluster's 20;
    # border posts: CKQT Lào Cai, Mường Nhà of 9 (5 in Lào Cai, 4 in Điện Biên).
    "pairs_active": (F(D(4), 20), F(D(1), 20), D("400.0")),
    "posts_active": (F(D(2), 9), F(D(1), 9), D("200.0")),
}
COUNTRY = {
    **CLUSTER_2,
    "activities": (12, 2, D("600.0")),  # + R11, R12 (cluster 4), R13, R14 (cluster 1); + P2
    "held_ours": (5, 2, D("250.0")),  # + R11, R14; + P2
    "held_partner": (4, 0, None),  # + R13
    "held_both": (3, 0, None),  # + R12
    "visits": (2, 0, None),  # + R13
    "patrols": (2, 0, None),  # + R12
    "twinning_events": (1, 0, None),  # R14
    "gift_packages": (330, 50, D("660.0")),  # + R11 200; P2 50
    "gift_value": (D("400.0"), D("10.0"), D("4000.0")),
    "support_value": (D("420.0"), D("10.0"), D("4200.0")),
    # + X16 and Svay Angong (cluster 4), Khẹo and Thông Thụ (cluster 1) of the sample's 62 pairs; P1, P2.
    "pairs_active": (F(D(8), 62), F(D(2), 62), D("400.0")),
    # + Sông Trăng and Thông Thụ of the 27 border posts (7 in cluster 1, 9 in 2, 10 in 3, 1 in 4).
    "posts_active": (F(D(4), 27), F(D(2), 27), D("200.0")),
}
LAO_CAI = {
    key: (0, 0, None) if not isinstance(value[0], Frac) else value for key, value in CLUSTER_2.items()
} | {
    "activities": (4, 1, D("400.0")),  # R1, R2, R3, R9; P1
    "held_ours": (1, 1, D("100.0")),
    "held_partner": (3, 0, None),
    "exchanges": (1, 1, D("100.0")),
    "visits": (1, 0, None),
    "delegations_out": (1, 0, None),
    "delegation_people_out": (12, 0, None),
    "gift_packages": (100, 0, None),
    "gift_value": (D("50.0"), D("0.0"), None),
    "medicine_value": (D("0.0"), D("0.0"), None),
    "support_value": (D("50.0"), D("0.0"), None),
    "pairs_active": (F(D(2), 11), F(D(1), 11), D("200.0")),  # Hà Khẩu, Cốc Phương of Lào Cai's 11
    "posts_active": (F(D(1), 5), F(D(1), 5), D("100.0")),
}
# Table 2 columns (by_place): activities, held on our side, on the partner's, delegations out, in, gift packages,
# gift value (triệu đồng), people examined, pairs with activity / all.
CLUSTER_2_PROVINCES = {
    "Cao Bằng": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 0)),
    "Lai Châu": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 0)),
    "Lạng Sơn": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 1)),
    "Lào Cai": (4, 1, 3, 1, 0, 100, D("50.0"), 0, F(D(2), 11)),
    "Sơn La": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 1)),
    "Tuyên Quang": (2, 1, 0, 0, 0, 30, D("0.0"), 150, F(D(1), 3)),
    "Điện Biên": (2, 1, 0, 0, 2, 0, D("0.0"), 0, F(D(1), 4)),
    "Tổng cộng": (8, 3, 3, 1, 2, 130, D("50.0"), 150, F(D(4), 20)),
}
COUNTRY_CLUSTERS = {
    "Cụm số 1": (2, 1, 1, 0, 0, 0, D("0.0"), 0, F(D(2), 15)),
    "Cụm số 2": CLUSTER_2_PROVINCES["Tổng cộng"],
    "Cụm số 3": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 18)),
    "Cụm số 4": (2, 1, 0, 0, 0, 200, D("350.0"), 0, F(D(2), 6)),
    "Cụm số 5": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 3)),
    "Tổng cộng": (12, 5, 4, 1, 2, 330, D("400.0"), 150, F(D(8), 62)),
}
ZERO_UNIT = (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 1))
LAO_CAI_UNITS = {
    "Đồn Biên phòng CKQT Lào Cai": (2, 0, 2, 1, 0, 100, D("50.0"), 0, F(D(1), 1)),
    "Thôn Cốc Phương, xã Bản Lầu": (1, 1, 0, 0, 0, 0, D("0.0"), 0, F(D(1), 1)),
    "Liên hiệp các tổ chức hữu nghị tỉnh Lào Cai": (1, 0, 1, 0, 0, 0, D("0.0"), 0, F(D(0), 0)),
    **{name: ZERO_UNIT for name in (
        "Đồn Biên phòng Si Ma Cai", "Đồn Biên phòng Pha Long", "Đồn Biên phòng Mường Khương", "Đồn Biên phòng Y Tý",
        "Thôn Na Lốc 4, xã Bản Lầu", "Thôn Lồ Cố Chin, xã Pha Long", "Thôn Lũng Pô, xã A Mú Sung",
        "Thôn Lao Chải", "Thị trấn Si Ma Cai")},
    "Tổng cộng": (4, 1, 3, 1, 0, 100, D("50.0"), 0, F(D(2), 11)),
}
# Table 3 (by_partner columns), cluster 2: Vân Nam R1–R4, R9, R10; Luông Pha Băng R5, R6.
CLUSTER_2_PARTNERS = {
    "Trung Quốc": (6, 2, 3, 1, 0, 130, D("50.0"), 150, F(D(3), 17)),
    "Quảng Tây": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 1)),
    "Vân Nam": (6, 2, 3, 1, 0, 130, D("50.0"), 150, F(D(3), 16)),
    "Lào": (2, 1, 0, 0, 2, 0, D("0.0"), 0, F(D(1), 3)),
    "Hủa Phăn": (0, 0, 0, 0, 0, 0, D("0.0"), 0, F(D(0), 1)),
    "Luông Pha Băng": (2, 1, 0, 0, 2, 0, D("0.0"), 0, F(D(1), 2)),
    "Tổng cộng": (8, 3, 3, 1, 2, 130, D("50.0"), 150, F(D(4), 20)),
}
# Table "reporting rate" for cluster 2, weeks 1–26 of 2026 (R6's week 27 belongs to the second half):
# (units, unit-weeks due, answered, %, on time, %). Lào Cai answered R1 (W04), R2 (W07), R3 (W10), R9 (W07, another
# unit), Y Tý's and Pha Long's "nothing to report"; on time R1, R2, Y Tý. Tuyên Quang: R4 late, R10 on time.
CLUSTER_2_RATES = {
    "Cao Bằng": (1, 26, 0, D("0.0"), 0, D("0.0")),
    "Lai Châu": (1, 26, 0, D("0.0"), 0, D("0.0")),
    "Lạng Sơn": (2, 52, 0, D("0.0"), 0, D("0.0")),
    "Lào Cai": (12, 312, 6, D("1.9"), 3, D("1.0")),
    "Sơn La": (2, 52, 0, D("0.0"), 0, D("0.0")),
    "Tuyên Quang": (4, 104, 2, D("1.9"), 1, D("1.0")),
    "Điện Biên": (5, 130, 1, D("0.8"), 0, D("0.0")),
    "Tổng cộng": (27, 702, 9, D("1.3"), 4, D("0.6")),
}


async def report_of(db: Database, subject: str, period: str = H1, today: dt.date = TODAY) -> AnnualReport:
    async with db.unit_of_work() as uow:
        spec = await load_spec(uow.session)
        if subject.startswith("cluster"):
            cluster = await people.cluster_by_number(uow.session, int(subject.split()[1]))
            assert cluster is not None
            about = cluster_subject(cluster)
        elif subject == "country":
            about = country_subject()
        else:
            about = province_subject(subject)
        return await collect(uow.session, about, parse_period(period, today, year_start=spec.year_start), spec,
                             today=today, tz=TZ)


def by_key(report: AnnualReport, table: Table) -> dict[str, tuple[Any, ...]]:
    """Table 1's rows by indicator key: (this period, a year before, per cent)."""
    keys = [i.key for i in report.spec.indicators]
    assert [row.cells[1] for row in table.rows] == [report.spec[k].label for k in keys]
    return {key: tuple(row.cells[3:6]) for key, row in zip(keys, table.rows, strict=True)}


def named(table: Table) -> dict[str, tuple[Any, ...]]:
    return {row.cells[1]: tuple(row.cells[2:]) for row in table.rows}


@pytest.fixture
async def world(db: Database) -> Database:
    await known_half_years(db)
    return db


async def test_cluster_tables_cell_by_cell(world: Database) -> None:
    report = await report_of(world, "cluster 2")
    assert (report.period.start, report.period.end) == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert (report.previous.start, report.previous.end) == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    indicators, places, partners, pairs, rates = tables(report)
    assert indicators.title == "Biểu 1. Kết quả thực hiện các chỉ tiêu chủ yếu"
    assert indicators.header == ["STT", "Chỉ tiêu", "Đơn vị tính", "Thực hiện 6 tháng đầu năm 2026",
                                 "Cùng kỳ năm 2025", "So với cùng kỳ (%)"]
    assert by_key(report, indicators) == CLUSTER_2
    assert [row.cells[0] for row in indicators.rows][:5] == ["1", "-", "-", "-", "2"]
    assert indicators.notes == [  # never converted: said beside the table
        "Ngoài ra, trị giá quà tặng bằng ngoại tệ (không quy đổi): 500 USD.",
        "Ngoài ra, tổng trị giá hỗ trợ (quà, tiền mặt, thuốc, công trình) bằng ngoại tệ (không quy đổi): 500 USD."]
    assert places.title == "Biểu 2. Kết quả theo tỉnh, thành phố"
    assert named(places) == CLUSTER_2_PROVINCES
    assert places.rows[-1].style == "total"
    assert named(partners) == CLUSTER_2_PARTNERS
    assert named(rates) == CLUSTER_2_RATES
    assert len(pairs.rows) == 20
    assert pairs.intro == "Có hoạt động kết nghĩa trong kỳ: 4/20 cặp, 2/9 đồn."
    ha_khau = next(row for row in pairs.rows if row.cells[2] == "Trạm KSBP XNC Hà Khẩu")
    assert ha_khau.cells[1:] == ["Đồn Biên phòng CKQT Lào Cai", "Trạm KSBP XNC Hà Khẩu", "Trung Quốc – Vân Nam", "",
                                 2, "10/02/2026", ""]
    si_ma_cai = next(row for row in pairs.rows if row.cells[2] == "Phân trạm KTBP XNC Seo Pả Chư"
                     and row.cells[1] == "Đồn Biên phòng Si Ma Cai")
    assert si_ma_cai.cells[5:7] == [0, "01/07/2026"]  # last activity known by today, none in the period


async def test_country_tables_cell_by_cell(world: Database) -> None:
    report = await report_of(world, "country")
    indicators, places, *_ = tables(report)
    assert by_key(report, indicators) == COUNTRY
    groups = {row.cells[1]: tuple(row.cells[2:]) for row in places.rows if row.style in ("group", "total")}
    assert groups == COUNTRY_CLUSTERS
    # Every province row adds up to its cluster's, every cluster to the whole.
    current = None
    sums: dict[str, list[Any]] = {}
    for row in places.rows:
        if row.style == "group":
            current = row.cells[1]
            sums[current] = [0] * (len(row.cells) - 2)
        elif row.style == "":
            assert current is not None
            sums[current] = [_add(a, b) for a, b in zip(sums[current], row.cells[2:], strict=True)]
    assert {name: tuple(values) for name, values in sums.items()} == {
        name: values for name, values in COUNTRY_CLUSTERS.items() if name != "Tổng cộng"}
    assert report.subject.place == "Hà Nội" and report.subject.issuer == ("LIÊN HIỆP CÁC TỔ CHỨC HỮU NGHỊ VIỆT NAM",)


def _add(a: Any, b: Any) -> Any:
    if isinstance(b, Frac):
        base = a if isinstance(a, Frac) else Frac(D(0), 0)
        return Frac(base.part + b.part, base.whole + b.whole)
    return a + b


async def test_province_tables_cell_by_cell(world: Database) -> None:
    report = await report_of(world, "15")  # Lào Cai
    indicators, places, *_rest = tables(report)
    assert by_key(report, indicators) == LAO_CAI
    assert places.title == "Biểu 2. Kết quả theo đơn vị"
    assert named(places) == LAO_CAI_UNITS
    rates = _rest[-1]
    assert rates.rows[-1].cells[2:] == [12, 312, 6, D("1.9"), 3, D("1.0")]
    assert {row.cells[1]: row.cells[4] for row in rates.rows[:-1]}["Đồn Biên phòng CKQT Lào Cai"] == 2
    assert report.subject.issuer == ("LIÊN HIỆP CÁC TỔ CHỨC HỮU NGHỊ TỈNH LÀO CAI",)
    assert report.subject.place == "Lào Cai"


async def test_docx_reads_back_as_an_administrative_report(world: Database) -> None:
    report = await report_of(world, "cluster 2", today=dt.date(2026, 7, 5))
    docx, xlsx = files(report)
    assert docx.filename == "bao-cao-cum-2-2026-H1.docx" and xlsx.filename == "bao-cao-cum-2-2026-H1.xlsx"
    document = Document(io.BytesIO(docx.content))
    head = document.tables[0].rows[0].cells
    assert head[0].text.splitlines()[:2] == ["LIÊN HIỆP CÁC TỔ CHỨC HỮU NGHỊ VIỆT NAM", "CỤM SỐ 2"]
    assert head[1].text.splitlines() == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "",
                                         "Lào Cai, ngày 05 tháng 7 năm 2026"]
    texts = [p.text for p in document.paragraphs]
    at = texts.index("BÁO CÁO")
    assert texts[at + 1] == "Kết quả công tác đối ngoại nhân dân 6 tháng đầu năm 2026"
    for heading in ("I. KẾT QUẢ THỰC HIỆN", "II. ĐÁNH GIÁ CHUNG", "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI"):
        assert heading in texts
    assert ("Trong 6 tháng đầu năm 2026, các đơn vị thuộc Cụm số 2 đã tổ chức 8 hoạt động giao lưu, đối ngoại "
            "nhân dân (tăng 700,0% so với cùng kỳ năm trước), trong đó 3 hoạt động tại địa bàn và 3 hoạt động tại "
            "nước bạn.") in texts
    assert "Đã trao 130 suất quà, trị giá 50,0 triệu đồng." in texts
    assert not any(t.startswith("Trao 0 suất học bổng") for t in texts)  # a sentence of zeros is left out
    assert "Biểu 1. Kết quả thực hiện các chỉ tiêu chủ yếu" in texts
    grid = document.tables[1]
    rows = [[cell.text for cell in row.cells] for row in grid.rows]
    assert rows[0][:4] == ["STT", "Chỉ tiêu", "Đơn vị tính", "Thực hiện 6 tháng đầu năm 2026"]
    assert rows[1] == ["1", "Số hoạt động giao lưu, đối ngoại nhân dân", "hoạt động", "8", "1", "800,0"]
    gifts = next(r for r in rows if r[1] == "Trị giá quà tặng")
    assert gifts[3:] == ["50,0", "0,0", "–"]
    pairs = next(r for r in rows if r[1].startswith("Số cặp kết nghĩa"))
    assert pairs[3:] == ["4/20", "1/20", "400,0"]
    provinces = [[cell.text for cell in row.cells] for row in document.tables[2].rows]
    assert provinces[-1][:3] == ["", "Tổng cộng", "8"] and provinces[-1][-1] == "4/20"
    last = document.tables[-1].rows[0].cells
    assert last[0].text.startswith("Nơi nhận:") and "CHỦ TỊCH" in last[1].text


async def test_xlsx_reads_back_with_figures_that_add_up(world: Database) -> None:
    report = await report_of(world, "country")
    _, xlsx = files(report)
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Biểu 1 Chỉ tiêu", "Biểu 2 Địa bàn", "Biểu 3 Nước bạn", "Biểu 4 Cặp kết nghĩa",
                               "Biểu 5 Tỷ lệ báo cáo"]
    sheet = book["Biểu 1 Chỉ tiêu"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, row in enumerate(values) if row[0] == "STT")
    header = values[header_at]
    assert header[3:6] == ["Thực hiện 6 tháng đầu năm 2026", "Thực hiện 6 tháng đầu năm 2026 – trên tổng số",
                           "Cùng kỳ năm 2025"]
    body = {row[1].strip(): row for row in values[header_at + 1:] if row[1]}
    assert body["Số hoạt động giao lưu, đối ngoại nhân dân"][3:8] == [12, None, 2, None, 600]
    assert body["Trị giá quà tặng"][3] == 400
    gift_row = next(r for r in sheet.iter_rows(min_row=header_at + 2) if r[1].value == "Trị giá quà tặng")
    assert gift_row[3].number_format == "#,##0.0" and gift_row[2].value == "triệu đồng"
    assert body["Số cặp kết nghĩa có hoạt động / tổng số cặp"][3:7] == [8, 62, 2, 62]
    places = [list(row) for row in book["Biểu 2 Địa bàn"].iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(places) if row[0] == "STT") + 1
    provinces = [row for row in places[start:] if row[0] and str(row[0]).isdigit()]
    total = next(row for row in places[start:] if row[1] == "Tổng cộng")
    for column in range(2, len(total)):
        column_sum = sum(D(str(row[column] or 0)) for row in provinces)
        assert column_sum == D(str(total[column] or 0)), places[start - 1][column]
    assert total[2:] == [12, 5, 4, 1, 2, 330, 400, 150, 8, 62]


async def test_chat_summary_in_each_language(world: Database) -> None:
    report = await report_of(world, "cluster 2")
    en = chat_summary(Translator("en", TZ), report).splitlines()
    assert en[0] == "📄 <b>Report 2026-H1 (01/01/2026 – 30/06/2026)</b> · cluster 2"
    assert "• People-to-people activities: 8 (a year before: 1, +700%)" in en
    assert "• Twinning pairs with activity / all pairs: 4/20 (a year before: 1/20, +300%)" in en
    assert "Reporting rate: 1.3% of 702 unit-weeks answered, 0.6% on time." in en
    vi = chat_summary(Translator("vi", TZ), report).splitlines()
    assert vi[0] == "📄 <b>Báo cáo 6 tháng đầu năm 2026</b> · cụm 2"
    assert "• Số hoạt động giao lưu, đối ngoại nhân dân: 8 (cùng kỳ năm trước: 1, +700%)" in vi
    assert "• Trị giá quà tặng (triệu đồng): 50 (cùng kỳ năm trước: 0)" in vi


async def test_plan_percent_and_pace(world: Database) -> None:
    async with world.unit_of_work() as uow:
        spec = await load_spec(uow.session)
        plan = parse_plan_yaml("version: 1\nyear: 2026\ntargets:\n"
                               "  - {cluster: 2, activities: 20}\n"
                               "  - {province: Lào Cai, activities: 10, gift_value: 100}\n"
                               "  - {province: Hà Giang, activities: 4}\n"  # a pre-2025 name: Tuyên Quang
                               "  - {province: Điện Biên, activities: 2}\n", "plan.yaml", spec)
        await apply_plan(uow.session, plan, now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
        await uow.commit()
    report = await report_of(world, "cluster 2")
    indicators = tables(report)[0]
    assert indicators.header[6:] == ["Kế hoạch năm 2026", "Đạt so với kế hoạch (%)",
                                     "Thực hiện từ đầu năm đến 23/11/2026", "Tiến độ"]
    # The cluster's own target; H1 has 8 of 20; by 23/11 (327 of 365 days: 17,9 → 18 expected) 9 with R7.
    rows = {row.cells[1]: row.cells[6:] for row in indicators.rows}
    assert rows["Số hoạt động giao lưu, đối ngoại nhân dân"] == [20, D("40.0"), 9, "Chậm tiến độ"]
    assert rows["Trị giá quà tặng"] == [None, None, None, ""]  # not every province of the cluster has one
    plan_table = tables(report)[-1]
    assert plan_table.title == "Biểu 6. Tiến độ thực hiện kế hoạch năm 2026"
    assert [row.cells[1:] for row in plan_table.rows] == [
        ["Cụm số 2", "Số hoạt động giao lưu, đối ngoại nhân dân", "hoạt động", 20, 9, D("45.0"), "Chậm tiến độ"],
        ["Điện Biên", "Số hoạt động giao lưu, đối ngoại nhân dân", "hoạt động", 2, 2, D("100.0"), "Đạt tiến độ"],
        ["Lào Cai", "Số hoạt động giao lưu, đối ngoại nhân dân", "hoạt động", 10, 5, D("50.0"), "Chậm tiến độ"],
        ["Lào Cai", "Trị giá quà tặng", "triệu đồng", 100, D("50.0"), D("50.0"), "Chậm tiến độ"],
        ["Tuyên Quang", "Số hoạt động giao lưu, đối ngoại nhân dân", "hoạt động", 4, 2, D("50.0"), "Chậm tiến độ"],
    ]
    en = chat_summary(Translator("en", TZ), report)
    assert ("Plan 2026 – People-to-people activities: 9 of 20 (45%) by 23/11/2026, behind pace." in en)


async def test_statistics_year_cut_off(world: Database) -> None:
    from storage import indicator_sets, periods

    async with world.unit_of_work() as uow:
        document = indicator_sets.default_document().replace('year_starts: "01/01"', 'year_starts: "15/12"')
        await indicator_sets.save(uow.session, source="stat.yaml", document=document, now=dt.datetime.now(dt.UTC))
        await uow.commit()
    report = await report_of(world, "country", period="năm 2026")
    assert report.spec.year_start == periods.STATISTICS
    assert (report.period.start, report.period.end) == (dt.date(2025, 12, 15), dt.date(2026, 12, 14))
    # Every 2026 report but P1–P3; the same year before: 15/12/2024–14/12/2025 holds P1–P3.
    assert by_key(report, tables(report)[0])["activities"] == (13, 3, D("433.3"))


async def test_pairs_gone_quiet(world: Database, core: Core, clock: Clock) -> None:
    await set_rhythm(world, "LCA-CKQT-HA-KHAU", "quarterly")  # last met 10/2/2026: due by 10/5
    await set_rhythm(world, "DBN-MUONG-NHA-DD-163", "yearly")  # last met 30/6/2026: due by 30/6/2027
    await set_rhythm(world, "LCA-PHA-LONG-LAO-KHA", "six_monthly")  # never reported, no signing date
    report = await report_of(world, "cluster 2")
    assert sorted(p.code for p in report.overdue()) == ["LCA-CKQT-HA-KHAU", "LCA-PHA-LONG-LAO-KHA"]
    pairs = tables(report)[3]
    status = {row.cells[2]: (row.cells[4], row.cells[7]) for row in pairs.rows}
    assert status["Trạm KSBP XNC Hà Khẩu"] == ("hằng quý", "Quá hạn giao ban")
    assert status["Phân trạm KTBP XNC Lao Kha"] == ("6 tháng", "Quá hạn giao ban")
    assert pairs.notes == ["2 cặp quá hạn giao ban theo nhịp độ đã thỏa thuận (tính đến ngày 23/11/2026)."]

    coordinator = await person(core, world, clock, "coord", "coordinator", unit=None, cluster=2)
    said = await coordinator.send("/pairs overdue")
    lines = said.splitlines()
    assert lines[0] == "Twinning pairs: 20, 2 overdue for their agreed meetings"
    assert ("• Đồn Biên phòng CKQT Lào Cai ↔ Trạm KSBP XNC Hà Khẩu (China – Vân Nam): last activity 10/02/2026 · "
            "quarterly · ⚠️ overdue since 10/05/2026") in lines
    assert "• Đồn Biên phòng Pha Long ↔ Phân trạm KTBP XNC Lao Kha (China – Vân Nam): no activity reported · " \
           "every six months · ⚠️ overdue" in lines
    assert "Mường Nhà" not in said
    said = await coordinator.send("/pairs")
    assert "Mường Nhà" in said and "last activity 30/06/2026 · yearly" in said
    assert "outside what you may see" in await coordinator.send("/pairs cluster:1")
    officer = await person(core, world, clock, "off", "officer", unit="DBN-DBP-MUONG-NHA")
    said = await officer.send("/pairs")
    assert said.splitlines()[0] == "Twinning pairs: 1, 0 overdue for their agreed meetings"
    assert "Usage" in await officer.send("/pairs sometimes")


async def test_baocao_for_each_role(world: Database, core: Core, clock: Clock) -> None:
    coordinator = await person(core, world, clock, "coord", "coordinator", unit=None, cluster=2)
    said = await coordinator.send(f"/baocao {H1}")
    assert "⏳ Preparing the report 2026-H1 (01/01/2026 – 30/06/2026) · cluster 2 (Word and Excel)…" in said
    assert "• People-to-people activities: 8 (a year before: 1, +700%)" in said
    assert [f.filename for f in coordinator.files] == ["bao-cao-cum-2-2026-H1.docx", "bao-cao-cum-2-2026-H1.xlsx"]
    said = await coordinator.send('/annual quý I/2026 province:"Lào Cai"')
    assert "2026-Q1 (01/01/2026 – 31/03/2026) · Lào Cai" in said
    assert "• People-to-people activities: 4 (a year before: 1, +300%)" in said  # R1, R2, R3, R9; P1
    assert "outside what you may see" in await coordinator.send("/baocao năm 2026 cluster:4")
    assert "outside what you may see" in await coordinator.send("/baocao province:\"Tây Ninh\"")
    assert "outside what you may see" in await coordinator.send("/baocao cả nước")
    said = await coordinator.send("/baocao someday")
    assert "I don't understand the period" in said and "quý III/2026" in said

    admin = await person(core, world, clock, "adm", "admin", unit=None)
    said = await admin.send(f"/baocao {H1}")
    assert "· the whole country" in said and "• People-to-people activities: 12 (a year before: 2, +500%)" in said
    said = await admin.send("/baocao 01/01/2026-31/01/2026 cluster:4")
    assert "• People-to-people activities: 1 (a year before: 0)" in said  # R11
    assert admin.files[0].filename == "bao-cao-cum-4-20260101-20260131.docx"

    officer = await person(core, world, clock, "off", "officer", unit="LCA-DBP-CKQT-LAO-CAI", lang="vi")
    said = await officer.send(f"/baocao {H1}")
    assert "Đồn Biên phòng CKQT Lào Cai" in said and "• Số hoạt động giao lưu, đối ngoại nhân dân: 2" in said
    assert officer.files[0].filename.startswith("bao-cao-don-vi-")
    assert "phạm vi" in await officer.send("/baocao cluster:2")


async def test_the_current_half_by_default(world: Database, core: Core, clock: Clock) -> None:
    admin = await person(core, world, clock, "adm", "admin", unit=None)
    said = await admin.send("/baocao")
    assert "2026-H2 (01/07/2026 – 31/12/2026)" in said


def test_document_date_follows_decree_30() -> None:
    assert document_date("Lào Cai", dt.date(2026, 7, 5)) == "Lào Cai, ngày 05 tháng 7 năm 2026"
    assert document_date("Hà Nội", dt.date(2023, 2, 1)) == "Hà Nội, ngày 01 tháng 02 năm 2023"
    assert document_date("Tiền Giang", dt.date(2023, 12, 25)) == "Tiền Giang, ngày 25 tháng 12 năm 2023"


@pytest.mark.parametrize(("words", "start", "end", "title"), [
    ("6 tháng đầu năm 2026", "2026-01-01", "2026-06-30", "6 tháng đầu năm 2026"),
    ("6 thang cuoi nam 2026", "2026-07-01", "2026-12-31", "6 tháng cuối năm 2026"),
    ("năm 2026", "2026-01-01", "2026-12-31", "năm 2026"),
    ("quý III/2026", "2026-07-01", "2026-09-30", "quý III năm 2026"),
    ("Quý 4 năm 2025", "2025-10-01", "2025-12-31", "quý IV năm 2025"),
    ("2026-H1", "2026-01-01", "2026-06-30", "6 tháng đầu năm 2026"),
    ("2026-Q2", "2026-04-01", "2026-06-30", "quý II năm 2026"),
    ("01/01/2026 - 30/06/2026", "2026-01-01", "2026-06-30", "từ ngày 01/01/2026 đến ngày 30/06/2026"),
    ("11/2026", "2026-11-01", "2026-11-30", "tháng 11 năm 2026"),
])
def test_periods_as_unions_name_them(words: str, start: str, end: str, title: str) -> None:
    period = parse_period(words, TODAY)
    assert (period.start.isoformat(), period.end.isoformat(), period.title) == (start, end, title)


def test_statistics_periods() -> None:
    from storage.periods import STATISTICS

    def bounds(words: str) -> tuple[str, str]:
        period = parse_period(words, TODAY, year_start=STATISTICS)
        return period.start.isoformat(), period.end.isoformat()

    assert bounds("năm 2026") == ("2025-12-15", "2026-12-14")
    assert bounds("6 tháng đầu năm 2026") == ("2025-12-15", "2026-06-14")
    assert bounds("6 tháng cuối năm 2026") == ("2026-06-15", "2026-12-14")
    assert bounds("quý I/2026") == ("2025-12-15", "2026-03-14")
    assert bounds("quý IV/2026") == ("2026-09-15", "2026-12-14")


async def test_the_weekly_digest_shows_the_rate_the_plan_and_pairs_overdue(world: Database) -> None:
    from handlers.digest import build_text, summary_rows
    from handlers.digest import collect as digest_collect
    from storage.periods import IsoWeek

    await set_rhythm(world, "LCA-CKQT-HA-KHAU", "quarterly")
    async with world.unit_of_work() as uow:
        spec = await load_spec(uow.session)
        await apply_plan(uow.session, parse_plan_yaml("year: 2026\ntargets:\n  - {cluster: 2, activities: 20}\n",
                                                      "p.yaml", spec), now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
        await uow.commit()
        cluster = await people.cluster_by_number(uow.session, 2)
        assert cluster is not None
        data = await digest_collect(uow.session, cluster, IsoWeek(2026, 47), TZ)
    lines = build_text(data, Translator("en", TZ)).splitlines()
    # Weeks 1–47 × 27 units; answered: the 9 of the first half, R6 and R7 in week 27; on time: 4, R6, R7.
    assert "<b>Reporting rate since 01/01/2026</b>: 0.9% of 1,269 unit-weeks answered, 0.5% on time" in lines
    assert "Lào Cai: 1.2% answered, 0.7% on time" in lines  # 7 and 4 of 12 × 47 = 564
    at = lines.index("<b>Plan 2026</b>, by 22/11/2026")
    assert lines[at + 1] == "• cluster 2 – People-to-people activities: 9 of 20 (45%), behind pace"
    at = lines.index("<b>Pairs overdue for their agreed meetings</b> (1)")
    assert lines[at + 1] == ("• Đồn Biên phòng CKQT Lào Cai ↔ Trạm KSBP XNC Hà Khẩu (China – Vân Nam): "
                             "last activity 10/02/2026 · quarterly · ⚠️ overdue since 10/05/2026")
    rows = dict(summary_rows(data, Translator("en", TZ)))
    assert rows["Unit-weeks due"] == 1269 and rows["Unit-weeks answered on time"] == 6
    assert rows["Pairs overdue for their agreed meetings"] == 1


async def test_stats_give_the_reporting_rate(world: Database, core: Core, clock: Clock) -> None:
    coordinator = await person(core, world, clock, "coord", "coordinator", unit=None, cluster=2)
    said = (await coordinator.send("/stats 2026-W10")).splitlines()
    # Cốc Phương's report (late) and Y Tý's "nothing to report" (on time), of 27 units.
    assert "Reporting rate: 7.4% of 27 unit-weeks answered, 3.7% on time" in said
    assert "Lào Cai: 16.7% answered, 8.3% on time" in said


# --- reports of one event count once -------------------------------------------------------------------
# The second half of 2026: R7 and, filed by two units each, a donation (E1 at Y Tý's border post, 100 packages and
# 40 triệu; E2 at the village of Lũng Pô, both in Lào Cai, 120 packages and 30 triệu) and an outgoing delegation
# (D1 from the village of Lao Chải in Lào Cai, 10 people; D2 from the communes of Nghĩa Thuận in Tuyên Quang, 14
# people); S at Thượng Phùng (Tuyên Quang), 30 packages, stands alone. The same half of 2025 holds P3.
H2 = "6 tháng cuối năm 2026"
LINKED_CLUSTER_2 = {
    "activities": (4, 1, D("400.0")),  # R7, E, D, S (6 reports); P3
    "held_ours": (2, 1, D("200.0")),  # R7, S; P3
    "held_partner": (2, 0, None),  # E, D
    "held_both": (0, 0, None),
    "exchanges": (0, 1, D("0.0")),  # P3
    "visits": (1, 0, None),  # R7
    "patrols": (0, 0, None),
    "outreach": (0, 0, None),
    "twinning_events": (0, 0, None),
    "delegations_out": (1, 0, None),  # D: 1 and 1, one delegation
    "delegation_people_out": (14, 0, None),  # D: the larger of 10 and 14
    "delegations_in": (0, 0, None),
    "delegation_people_in": (0, 0, None),
    "gift_packages": (150, 0, None),  # E: the larger of 100 and 120; S 30
    "gift_value": (D("40.0"), D("0.0"), None),  # E: the larger of 40 and 30
    "patients": (0, 0, None),
    "medicine_value": (D("0.0"), D("0.0"), None),
    "scholarships": (0, 0, None),
    "support_value": (D("40.0"), D("0.0"), None),
    # The pairs of Si Ma Cai, Y Tý, Lũng Pô, Lao Chải, Nghĩa Thuận, Thượng Phùng; CKQT Lào Cai's (P3).
    "pairs_active": (F(D(6), 20), F(D(1), 20), D("600.0")),
    "posts_active": (F(D(2), 9), F(D(1), 9), D("200.0")),  # Si Ma Cai, Y Tý; CKQT Lào Cai
}
LINKED_COUNTRY = LINKED_CLUSTER_2 | {
    "pairs_active": (F(D(6), 62), F(D(1), 62), D("600.0")),
    "posts_active": (F(D(2), 27), F(D(1), 27), D("200.0")),
}
# Table 2: each province counts the events it reported, once; the total counts each event once, so the rows of
# an event reported in two provinces (D) add up to more than the total.
ZERO_PLACE = (0, 0, 0, 0, 0, 0, D("0.0"), 0)
LINKED_CLUSTER_2_PROVINCES = {
    **{name: (*ZERO_PLACE, F(D(0), values[-1].whole)) for name, values in CLUSTER_2_PROVINCES.items()},
    "Lào Cai": (3, 1, 2, 1, 0, 120, D("40.0"), 0, F(D(4), 11)),  # R7, E (both its reports), D1
    "Tuyên Quang": (2, 1, 1, 1, 0, 30, D("0.0"), 0, F(D(2), 3)),  # D2, S
    "Tổng cộng": (4, 2, 2, 1, 0, 150, D("40.0"), 0, F(D(6), 20)),
}
LINKED_COUNTRY_CLUSTERS = {
    "Cụm số 1": (*ZERO_PLACE, F(D(0), 15)),
    "Cụm số 2": LINKED_CLUSTER_2_PROVINCES["Tổng cộng"],
    "Cụm số 3": (*ZERO_PLACE, F(D(0), 18)),
    "Cụm số 4": (*ZERO_PLACE, F(D(0), 6)),
    "Cụm số 5": (*ZERO_PLACE, F(D(0), 3)),
    "Tổng cộng": (4, 2, 2, 1, 0, 150, D("40.0"), 0, F(D(6), 62)),
}
LINKED_LAO_CAI_UNITS = {  # each unit counts the event it reported, with its own figures
    "Đồn Biên phòng Y Tý": (1, 0, 1, 0, 0, 100, D("40.0"), 0, F(D(1), 1)),
    "Thôn Lũng Pô, xã A Mú Sung": (1, 0, 1, 0, 0, 120, D("30.0"), 0, F(D(1), 1)),
    "Thôn Lao Chải": (1, 0, 1, 1, 0, 0, D("0.0"), 0, F(D(1), 1)),
    "Đồn Biên phòng Si Ma Cai": (1, 1, 0, 0, 0, 0, D("0.0"), 0, F(D(1), 1)),
    "Tổng cộng": (3, 1, 2, 1, 0, 120, D("40.0"), 0, F(D(4), 11)),
}
LINKED_CLUSTER_2_PARTNERS = {
    **{name: (*ZERO_PLACE, F(D(0), values[-1].whole)) for name, values in CLUSTER_2_PARTNERS.items()},
    "Trung Quốc": (4, 2, 2, 1, 0, 150, D("40.0"), 0, F(D(6), 17)),
    "Vân Nam": (4, 2, 2, 1, 0, 150, D("40.0"), 0, F(D(6), 16)),
    "Tổng cộng": (4, 2, 2, 1, 0, 150, D("40.0"), 0, F(D(6), 20)),
}


@pytest.fixture
async def linked_world(world: Database) -> Database:
    from storage import events
    from storage.models import Report

    e1 = await add(world, "LCA-DBP-Y-TY", dt.date(2026, 8, 10), "donation", "partner",
                   figures={"gift_packages": 100}, money=("value_gifts", "VND", "40000000"))
    e2 = await add(world, "LCA-THON-LUNG-PO", dt.date(2026, 8, 10), "donation", "partner",
                   figures={"gift_packages": 120}, money=("value_gifts", "VND", "30000000"))
    d1 = await add(world, "LCA-THON-LAO-CHAI", dt.date(2026, 9, 3), "delegation", "partner",
                   figures={"delegations": 1, "delegation_people": 10}, direction="out")
    d2 = await add(world, "TQG-CUM-NGHIA-THUAN", dt.date(2026, 9, 3), "delegation", "partner",
                   figures={"delegations": 1, "delegation_people": 14}, direction="out")
    await add(world, "TQG-CUM-THUONG-PHUNG", dt.date(2026, 10, 1), "donation", "ours",  # S
              figures={"gift_packages": 30})
    async with world.unit_of_work() as uow:
        for first_id, second_id in ((e1, e2), (d1, d2)):
            first, second = await uow.session.get(Report, first_id), await uow.session.get(Report, second_id)
            assert first is not None and second is not None
            assert await events.link(uow.session, first, second, by=first.author,
                                     now=dt.datetime(2026, 10, 5, tzinfo=dt.UTC))
        await uow.commit()
    return world


async def test_linked_reports_count_once_in_the_cluster_tables(linked_world: Database) -> None:
    report = await report_of(linked_world, "cluster 2", period=H2)
    indicators, places, partners, pairs, _rates = tables(report)
    assert by_key(report, indicators) == LINKED_CLUSTER_2
    assert indicators.notes == []
    assert named(places) == LINKED_CLUSTER_2_PROVINCES
    assert named(partners) == LINKED_CLUSTER_2_PARTNERS
    activities = {row.cells[2]: row.cells[5] for row in pairs.rows}  # each of E's and D's pairs: one event
    assert [activities[name] for name in ("Đại đội QLBG huyện Kim Bình", "Thôn Thủy Tào, xã Dao Sơn, huyện Hà Khẩu",
                                          "Hương Bát Bố, huyện Ma Lật Pha")] == [1, 1, 1]
    assert "Đã trao 150 suất quà, trị giá 40,0 triệu đồng." in summary(report)


async def test_linked_reports_count_once_in_the_national_tables(linked_world: Database) -> None:
    report = await report_of(linked_world, "country", period=H2)
    indicators, places, *_ = tables(report)
    assert by_key(report, indicators) == LINKED_COUNTRY
    assert {row.cells[1]: tuple(row.cells[2:]) for row in places.rows if row.style in ("group", "total")} \
        == LINKED_COUNTRY_CLUSTERS
    provinces = {row.cells[1]: tuple(row.cells[2:]) for row in places.rows if row.style == ""}
    assert provinces["Lào Cai"] == LINKED_CLUSTER_2_PROVINCES["Lào Cai"]
    assert provinces["Tuyên Quang"] == LINKED_CLUSTER_2_PROVINCES["Tuyên Quang"]


async def test_linked_reports_count_once_for_their_province(linked_world: Database) -> None:
    report = await report_of(linked_world, "15", period=H2)  # Lào Cai
    indicators, places, *_ = tables(report)
    table = by_key(report, indicators)
    assert (table["activities"][0], table["gift_packages"][0], table["gift_value"][0]) == (3, 120, D("40.0"))
    assert {name: values for name, values in named(places).items() if name in LINKED_LAO_CAI_UNITS} \
        == LINKED_LAO_CAI_UNITS


async def test_a_report_standing_alone_counts_as_before(world: Database) -> None:
    """Without links every event is one report: the second half of 2026 holds R7 alone."""
    report = await report_of(world, "cluster 2", period=H2)
    table = by_key(report, tables(report)[0])
    assert (table["activities"], table["visits"], table["gift_packages"]) == ((1, 1, D("100.0")), (1, 0, None),
                                                                              (0, 0, None))
