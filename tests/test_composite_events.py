"""Real events combine several things: medical care with gifts, a delegation that signs a twinning, an
exchange with donations. Each is reported as one event with its several figures, and /stats, the digest
text, its spreadsheet and /export show the same figures."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from handlers.digest import build_text, digest_files
from handlers.i18n import Translator
from storage import digests
from storage.db import Database
from storage.digests import IsoWeek
from tests.conftest import TZ, Clock
from tests.reporting import figures, person
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import option_number, walk

HUONG_LAP = "QTR-DBP-HUONG-LAP"  # Quảng Trị, cluster 3; twinned with Đại đội 321 and Trạm Công an La Cồ

# "Đồn phối hợp khám bệnh, cấp thuốc miễn phí cho 150 người dân cụm bản La Cồ và trao 1.000 suất quà trị giá
# 500 triệu đồng" (Hướng Lập, Tết 2026).
MEDICAL_WITH_GIFTS = {
    "Which twinned partner": "Trạm Công an La Cồ",
    "Where was it held?": "On the partner's side",
    "on our side?": "25",
    "on the partner's side?": "150",
    "examined or treated": "150",
    "value of the medicines": "Skip",
    "Describe the activity": "Khám bệnh, cấp thuốc miễn phí và trao quà Tết cho bà con cụm bản La Cồ",
    "Send photos": "Skip",
    "Where exactly?": "Cụm bản La Cồ, huyện Sê Pôn",
}


async def medical_with_gifts(me: ConsoleChannel) -> str:
    said = await me.send("/report")
    said = await me.send(option_number(said, "Free medical care"))
    said = await me.send("hôm qua")
    said = await walk(me, MEDICAL_WITH_GIFTS, said)
    # The form of medical care has no gifts: the officer adds them on the review card.
    said = await me.send(option_number(said, "Add figures"))
    assert "Which figures do you want to add?" in said
    said = await me.send(option_number(said, "Gifts"))
    said = await walk(me, {"What was given?": "Gạo, mì tôm, chăn ấm", "How many gift packages": "1.000 suất",
                           "gifts worth": "500 triệu đồng", "Who received it?": "Bà con cụm bản La Cồ"}, said)
    assert "Gift packages: 1,000" in said and "Value of gifts: ₫500,000,000" in said
    assert "People examined: 150" in said
    said = await me.send(option_number(said, "Submit"))
    assert "✅ Report #1 submitted" in said and "₫500,000,000" in said
    return said


async def test_medical_care_with_gifts_is_one_event_with_every_figure(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    await medical_with_gifts(me)
    [report] = await all_reports(db)
    assert report.kind == "medical" and report.partner_name == "Trạm Công an La Cồ"
    assert figures(report) == {"participants_ours": 25, "participants_partner": 150, "patients": 150,
                               "gift_packages": 1000, "value_gifts": {"VND": Decimal(500_000_000)}}
    assert report.details["gift_items"] == "Gạo, mì tôm, chăn ấm"

    # The same figures everywhere a coordinator of cluster 3 looks.
    coordinator = await person(core, db, clock, "coord3", "coordinator", cluster=3)
    stats = await coordinator.send("/stats month")
    for line in ("Reports: 1", "People examined: 150", "Gift packages: 1,000", "Value of gifts: ₫500,000,000",
                 "Participants (partner side): 150"):
        assert line in stats, stats
    await coordinator.send("/export month")
    [export] = coordinator.files
    sheet = load_workbook(io.BytesIO(export.content), read_only=True).worksheets[0]
    header, row = list(sheet.iter_rows(values_only=True))
    column = dict(zip(header, row, strict=True))
    assert (column["People examined"], column["Gift packages"], column["Value of gifts (VND)"]) == (
        150, 1000, 500_000_000)
    assert "Value of medicines (VND)" not in column  # nothing of it this week: no empty column

    week = IsoWeek.of(report.activity_date)
    async with db.reader() as session:
        cluster = await digests.cluster_by_number(session, 3)
        assert cluster is not None
        data = await digests.collect(session, cluster, week)
        text = build_text(data, Translator("en", TZ))
        _, book = await digest_files(session, data, Translator("en", TZ))
    assert "Gift packages: 1,000 (+1,000)" in text and "People examined: 150 (+150)" in text
    assert "Value of gifts: ₫500,000,000 (+₫500,000,000)" in text
    summary = {r[0]: r[1] for r in load_workbook(io.BytesIO(book.content), read_only=True)["Summary"]
               .iter_rows(values_only=True) if len(r) > 1 and r[1] is not None}
    assert summary["Gift packages"] == 1000 and summary["People examined"] == 150
    assert summary["Value of gifts (VND)"] == 500_000_000


async def test_a_delegation_that_signs_a_twinning(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit="THO-BAN-KHEO")
    said = await me.send("/report")
    said = await me.send(option_number(said, "Twinning signing"))
    said = await walk(me, {"When did it take place?": "hôm qua", "Which twinned partner": "1",
                           "Where was it held?": "On the partner's side", "on our side?": "12",
                           "on the partner's side?": "mỗi bên 12"}, said, until="Describe the activity")
    said = await me.send("Ký kết nghĩa bản Khẹo – bản Thà Láu; đoàn 12 người của xã sang dự")
    said = await walk(me, {"Send photos": "Skip", "Where exactly?": "Skip"}, said)
    said = await me.send(option_number(said, "Add figures"))
    said = await me.send(option_number(said, "Delegation"))
    said = await walk(me, {"incoming or outgoing?": "Outgoing", "How many delegations?": "1",
                           "How many people in all?": "12"}, said)
    said = await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert report.kind == "twinning_signing" and report.details["direction"] == "out"
    assert figures(report) == {"participants_ours": 12, "participants_partner": 12, "delegations": 1,
                               "delegation_people": 12}
    stats = await me.send("/stats month")
    assert "Twinning signing 1" in stats and "Delegations: 1" in stats and "People in the delegations: 12" in stats


async def test_an_exchange_with_donations_in_two_currencies(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)  # Lào Cai: gifts in đồng and in yuan
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await walk(me, {"When did it take place?": "hôm qua", "Which twinned partner": "1",
                           "Where was it held?": "On our side", "on our side?": "khoảng 60 người",
                           "on the partner's side?": "45", "What kind of exchange?": "Sport",
                           "Describe the activity": "Giao lưu bóng đá, tặng quà cho học sinh hai bên",
                           "Send photos": "Skip", "Where exactly?": "Skip"}, said)
    said = await me.send(option_number(said, "Add figures"))
    said = await me.send(option_number(said, "Gifts"))
    said = await walk(me, {"What was given?": "Vở, bút, cặp sách", "How many gift packages": "80",
                           "gifts worth": "5.000 tệ và 20 triệu đồng", "Who received it?": "Skip"}, said)
    # Never added up across currencies; an estimate stays one.
    assert "Value of gifts: ₫20,000,000 · CN¥5,000" in said or "CN¥5,000 · ₫20,000,000" in said
    assert "Participants (our side): ~60" in said
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert figures(report)["value_gifts"] == {"CNY": Decimal(5000), "VND": Decimal(20_000_000)}
    assert {m.measure for m in report.measures if m.approx} == {"participants_ours"}
    stats = await me.send("/stats month")
    assert "Value of gifts: ₫20,000,000 · CN¥5,000" in stats and "Participants (our side): ~60" in stats
