"""The weekly digest built from known reports: figures, each language, units, spreadsheet, chart, /digest."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from handlers.digest import build_text, digest_replies, parse_week
from handlers.digest_chart import render_chart
from handlers.i18n import Translator
from handlers.spreadsheet import write_reports_workbook
from storage import digests, people
from storage.db import Database
from storage.digests import IsoWeek, ReportRow
from storage.models import Identity, Person, Province, Report, ReportMeasure, TwinningPair, Unit, UnitWeek
from storage.scope import Scope
from storage.stats import figures
from tests import reporting
from tests.conftest import TZ, Clock
from tests.test_onboarding import make_invite

WEEK = IsoWeek(2026, 47)  # Monday 16 to Sunday 22 November 2026; the fixed clock is Monday 23/11, week 48.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def add_report(db: Database, unit_code: str, day: dt.date, *, kind: str = "exchange", venue: str = "ours",
                     ours: int | None = 10, theirs: int | None = 12, packages: int | None = None,
                     amount: str | None = None, currency: str = "VND", pair: int = 0, status: str = "submitted",
                     description: str = "Giao lưu văn hóa, thể thao với đơn vị kết nghĩa") -> int:
    async with db.unit_of_work() as uow:
        session = uow.session
        unit = await people.unit_by_code(session, unit_code)
        assert unit is not None
        pairs = (await session.scalars(select(TwinningPair).where(TwinningPair.unit_id == unit.id)
                                       .order_by(TwinningPair.id))).all()
        author = await session.scalar(select(Person).where(Person.display_name == f"Officer {unit_code}"))
        if author is None:
            author = Person(display_name=f"Officer {unit_code}", role="officer", unit_id=unit.id)
            session.add(author)
            await session.flush()
        partner = pairs[pair] if pairs else None
        created = dt.datetime.combine(day, dt.time(12), tzinfo=TZ)
        report = Report(
            draft_token=str(uuid.uuid4()), unit_id=unit.id, author_person_id=author.id, channel="telegram",
            kind=kind, activity_date=day, pair_id=partner.id if partner else None,
            partner_name=partner.partner_name if partner else "Bản Đối Diện",
            partner_country=partner.partner_country if partner else "LA",
            partner_province=partner.partner_province if partner else None, venue=venue,
            description=description, details={"place": "Mốc 123"} if kind == "donation" else {}, status=status,
            created_at=created, updated_at=created,
            measures=[ReportMeasure(measure=name, currency="", amount=Decimal(n)) for name, n in (
                ("participants_ours", ours), ("participants_partner", theirs), ("gift_packages", packages))
                if n is not None],
        )
        if amount:
            report.measures.append(ReportMeasure(measure="value_medicines" if kind == "medical" else "value_gifts",
                                                 currency=currency, amount=Decimal(amount)))
        session.add(report)
        await session.commit()
        return report.id


async def add_person(db: Database, role: str, chat_id: str, *, cluster: int | None = None, unit: str | None = None,
                     locale: str = "en", channel: str = "telegram", name: str | None = None) -> int:
    async with db.unit_of_work() as uow:
        session = uow.session
        cluster_row = await people.cluster_by_number(session, cluster) if cluster else None
        unit_row = await people.unit_by_code(session, unit) if unit else None
        person = Person(display_name=name or f"{role.title()} {chat_id}", role=role, locale=locale,
                        cluster_id=cluster_row.id if cluster_row else None, unit_id=unit_row.id if unit_row else None)
        session.add(person)
        await session.flush()
        session.add(Identity(person_id=person.id, channel=channel, external_id=chat_id, chat_id=chat_id))
        await uow.commit()
        return person.id


async def nothing_to_report(db: Database, unit_code: str, week: IsoWeek) -> None:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, unit_code)
        assert unit is not None
        uow.session.add(UnitWeek(unit_id=unit.id, week=str(week),
                                 nothing_to_report_at=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)))
        await uow.commit()


async def many_silent_units(db: Database, n: int = 150) -> None:
    """``n`` villages of Tây Ninh (cluster 4) with long, markup-laden names, silent since they answered
    "nothing to report" for week 44: each is named in the digest, which then runs over several messages."""
    async with db.unit_of_work() as uow:
        province = await uow.session.scalar(select(Province.code).where(Province.name == "Tây Ninh"))
        assert province is not None
        units = [Unit(code=f"TNI-AP-{k:03d}", name=f"Ấp số {k} <Bến Cầu> & Tân Biên, xã Biên Giới", kind="village",
                      province_code=province) for k in range(n)]
        uow.session.add_all(units)
        await uow.session.flush()
        uow.session.add_all(UnitWeek(unit_id=unit.id, week="2026-W44",
                                     nothing_to_report_at=dt.datetime(2026, 10, 30, 9, tzinfo=dt.UTC))
                            for unit in units)
        await uow.commit()


async def known_week(db: Database) -> None:
    """Cluster 4 (Đồng Nai, Tây Ninh, TP. Hồ Chí Minh): three reports in week 47, two in week 46."""
    await add_report(db, "TNI-DBP-SONG-TRANG", dt.date(2026, 11, 20), kind="donation", ours=12, theirs=40,
                     packages=200, amount="350000000", description="Trao 200 suất quà <b>Tết</b> cho bà con")
    await add_report(db, "TNI-DBP-SONG-TRANG", dt.date(2026, 11, 18), venue="partner", ours=25, theirs=30, pair=2)
    await add_report(db, "TNI-XA-MY-QUY-DONG", dt.date(2026, 11, 21), kind="medical", ours=10, theirs=150,
                     amount="200", currency="USD")
    await add_report(db, "TNI-AP-LONG-CUONG", dt.date(2026, 11, 19), status="withdrawn")
    await add_report(db, "TNI-XA-MY-QUY-DONG", dt.date(2026, 11, 10), ours=5, theirs=5)
    await add_report(db, "TNI-AP-LONG-CUONG", dt.date(2026, 11, 12), kind="donation", ours=3, theirs=20,
                     packages=50, amount="10000000")
    await add_report(db, "LCA-DBP-CKQT-LAO-CAI", dt.date(2026, 11, 17), ours=99, theirs=99)  # cluster 2
    await nothing_to_report(db, "TNI-LHHN", WEEK)


async def collect(db: Database, number: int = 4, week: IsoWeek = WEEK) -> digests.DigestData:
    async with db.unit_of_work() as uow:
        cluster = await digests.cluster_by_number(uow.session, number)
        assert cluster is not None
        return await digests.collect(uow.session, cluster, week)


def test_iso_weeks() -> None:
    assert (WEEK.start, WEEK.end, str(WEEK), str(WEEK.previous)) == (
        dt.date(2026, 11, 16), dt.date(2026, 11, 22), "2026-W47", "2026-W46")
    assert IsoWeek.parse("2026w7") == IsoWeek(2026, 7) and IsoWeek.of(dt.date(2027, 1, 1)) == IsoWeek(2026, 53)
    with pytest.raises(ValueError):
        IsoWeek.parse("2027-W53")
    today = dt.date(2026, 11, 23)
    assert [parse_week(w, today) for w in ("", "last", "tuần trước", "2026-W47", "W45", "12", "soon")] == [
        IsoWeek(2026, 48), WEEK, WEEK, WEEK, IsoWeek(2026, 45), IsoWeek(2026, 12), None]


async def test_digest_figures_from_known_reports(db: Database) -> None:
    await known_week(db)
    data = await collect(db)
    text = build_text(data, Translator("en", TZ))
    lines = text.splitlines()
    # The week is named by its dates, also in its figures' heading (the digest of last week is not "this week").
    assert lines[0] == "<b>📊 Cluster 4 – week 16/11 – 22/11/2026</b>"
    assert "<b>Week 16/11 – 22/11/2026</b> (change from the week before)" in lines
    for expected in (
        "Reports: 3 (+1)",
        "• Exchange (giao lưu): 1 (±0)",
        "• Donation / gifts: 1 (±0)",
        "• Free medical care: 1 (+1)",
        "Participants (our side): 47 (+39)",
        "Participants (partner side): 220 (+195)",
        "Gift packages: 200 (+150)",
        "Value of gifts: ₫350,000,000 (+₫340,000,000)",
        "Value of medicines: $200 (+$200)",
        "• Tây Ninh: 3 activities – 2 held on our side, 1 on the partner's side",
        "• Cambodia – Svay Rieng: 2 activities – 2 held on our side",
        "• Cambodia – Prey Veng: 1 activity – 1 on the partner's side",
        "<b>Filed nothing for the week</b> (1)",
        "<b>Never reported</b> (1)",
    ):
        assert expected in lines, f"{expected!r} not in:\n{text}"
    # The largest report first; the user's own text escaped and cut to one line.
    highlights = lines[lines.index("<b>Highlights</b>") + 1:]
    assert highlights[0] == ("• 20/11/2026 · Đồn Biên phòng Sông Trăng with Đồn CA BVBG X16 (Cambodia – Svay Rieng): "
                             "Donation / gifts, ₫350,000,000")
    assert highlights[2].startswith("• 21/11/2026 · ") and "Free medical care, $200" in highlights[2]
    assert "&lt;b&gt;Tết&lt;/b&gt;" in text and "<b>Tết</b>" not in text
    assert "VND" not in text.replace("₫", "")  # never summed across currencies, each in its own line
    assert "99" not in text  # another cluster's report
    silent = {u.code: u.silent_weeks for u in data.units}
    assert silent == {"DNI-LHHN": 8, "TNI-LHHN": 0, "TNI-AP-LONG-CUONG": 1, "TNI-XA-MY-QUY-DONG": 0,
                      "TNI-DBP-SONG-TRANG": 0}
    assert "weeks or more" not in text and "1 unit answered “nothing to report” for the week." in text
    assert "Silent for two weeks or more" not in text  # DNI-LHHN never reported: it is not "silent since"


async def test_digest_in_each_language(db: Database) -> None:
    await known_week(db)
    data = await collect(db)
    vi = build_text(data, Translator("vi", TZ))
    en = build_text(data, Translator("en", TZ))
    assert "350.000.000" in vi and "₫" in vi and "350,000,000" not in vi
    assert "200\xa0US$" in vi and "200,00" not in vi and "350.000.000\xa0₫" in vi
    assert "₫350,000,000" in en and "$200" in en and "$200.00" not in en
    assert "16/11 – 22/11/2026" in vi and "16/11 – 22/11/2026" in en
    assert vi.startswith("<b>📊 Cụm 4 – tuần 16/11 – 22/11/2026</b>") and "<b>Tuần 16/11 – 22/11/2026</b>" in vi
    assert "Tuần này" not in vi
    assert vi != en or Translator("vi", TZ)("Reports") == "Reports"  # untranslated until the catalog catches up


async def test_an_empty_week_still_lists_silent_units(db: Database) -> None:
    data = await collect(db, week=IsoWeek(2026, 40))
    text = build_text(data, Translator("en", TZ))
    assert "Reports: 0 (±0)" in text and "No activity was reported in the week." in text
    assert "<b>Never reported</b> (5)" in text  # nothing before week 40: none is "silent since" a date
    assert render_chart(data, Translator("en", TZ)).startswith(PNG_MAGIC)


async def test_spreadsheet_reads_back_equal_to_the_database(db: Database) -> None:
    await known_week(db)
    data = await collect(db)
    t = Translator("en", TZ)
    async with db.unit_of_work() as uow:
        replies = await digest_replies(uow.session, data, t)
        expected = (await uow.session.scalars(
            Scope.cluster(data.cluster_id).reports(select(Report)).where(
                Report.activity_date >= WEEK.start, Report.activity_date <= WEEK.end, Report.status == "submitted")
            .order_by(Report.activity_date, Report.id))).all()
        totals = await figures(uow.session, start=WEEK.start, end=WEEK.end, scope=Scope.cluster(data.cluster_id))
    chart, sheet = replies[1].files
    assert chart.filename == "digest-cluster4-2026-W47-en.png" and chart.content.startswith(PNG_MAGIC)
    assert sheet.filename.endswith(".xlsx") and len(sheet.caption) <= 1024
    book = load_workbook(io.BytesIO(sheet.content), read_only=True)
    assert book.sheetnames == ["Reports", "Summary"]
    rows = list(book["Reports"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == len(expected) == 3
    column = {name: index for index, name in enumerate(header)}
    for row, report in zip(body, expected, strict=True):
        assert row[column["Report no."]] == report.id
        assert row[column["Date"]].date() == report.activity_date
        assert row[column["Unit code"]] == report.unit.code and row[column["Province"]] == "Tây Ninh"
        assert row[column["Partner"]] == report.partner_name
        held = reporting.figures(report)
        assert row[column["Participants (our side)"]] == held.get("participants_ours")
        assert row[column["Participants (partner side)"]] == held.get("participants_partner")
        assert row[column["Gift packages"]] == held.get("gift_packages")
        for measure, currency in (("value_gifts", "VND"), ("value_medicines", "USD")):
            label = {"value_gifts": "Value of gifts", "value_medicines": "Value of medicines"}[measure]
            value = row[column[f"{label} ({currency})"]]
            expected_value = held.get(measure, {}).get(currency)
            assert (Decimal(str(value)) if value is not None else None) == expected_value
        assert row[column["Description"]] == report.description
    # A column for each figure the week has, and none for those it has not.
    assert "Delegations" not in column and "Value of gifts (USD)" not in column
    kinds = [row[column["Kind"]] for row in body]
    assert kinds == ["Exchange (giao lưu)", "Donation / gifts", "Free medical care"]
    assert body[1][column["Place"]] == "Mốc 123" and body[1][column["Held"]] == "On our side"
    summary: dict[str, object] = {}
    for row in book["Summary"].iter_rows(values_only=True):  # this week's block comes first
        if len(row) > 1 and row[1] is not None:
            summary.setdefault(row[0], row[1])
    assert summary["Reports"] == totals.total.reports == 3
    assert summary["Participants (our side)"] == totals.total.total("participants_ours") == 47
    assert summary["Gift packages"] == totals.total.total("gift_packages") == 200
    assert Decimal(str(summary["Value of gifts (VND)"])) == totals.total.values("value_gifts")["VND"]
    assert Decimal(str(summary["Value of medicines (USD)"])) == totals.total.values("value_medicines")["USD"]
    assert summary["Tây Ninh"] == 3 and summary["Cambodia – Svay Rieng"] == 2
    assert summary["ISO week"] == "2026-W47"
    # The digest's workbook is made by the same module as /export's: both sheets open frozen and filtered.
    full = load_workbook(io.BytesIO(sheet.content))
    assert [(s.freeze_panes, s.auto_filter.ref) for s in full.worksheets] == [
        ("C2", f"A1:{get_column_letter(len(header))}4"), ("A2", f"A1:B{full.worksheets[1].max_row}")]
    assert "Latitude" not in column and "Status" not in column  # no position this week, no withdrawn rows


def test_spreadsheet_takes_rows_in_any_number_and_language() -> None:
    now = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)
    rows = (ReportRow(
        id=n, activity_date=dt.date(2026, 11, 20), unit_code="U", unit_name="Đồn", province_code="12",
        province_name="Lào Cai", kind="patrol", partner_name="P", partner_country="CN", partner_province=None,
        venue="border", description="=cmd|' /C calc'!A0", details={}, latitude=22.5, longitude=103.9,
        status="submitted", status_reason=None, author_name="A", channel="telegram", version=1, created_at=now,
        updated_at=now, measures={("markers", ""): Decimal(3), ("km", ""): Decimal("7.5")}) for n in range(2000))
    data = write_reports_workbook(rows, [("Tổng", None), ("Báo cáo", 2000)], "vi")
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book.worksheets[0]
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(body) == 2000 and body[0][0] == 0
    assert 7.5 in body[0] and 3 in body[0]
    # The summary sheet opens with its own header (frozen, filtered) since issue 16.
    assert [tuple(v for v in row if v is not None) for row in book.worksheets[1].iter_rows(values_only=True)] == [
        ("Số liệu", "Giá trị"), ("Tổng",), ("Báo cáo", 2000)]


async def test_digest_command_for_coordinators_and_admins(core: Core, db: Database, clock: Clock) -> None:
    await known_week(db)
    coordinator = ConsoleChannel(core, user_id="c4", language_code="en", clock=clock)
    await coordinator.send(f"/start {await make_invite(db, clock, role='coordinator', unit=None, cluster=4)}")
    said = await coordinator.send("/digest last")
    assert "Cluster 4 – week 16/11 – 22/11/2026" in said and "Reports: 3 (+1)" in said
    assert "Chart and spreadsheet of the week 16/11 – 22/11/2026" in said
    said = await coordinator.send("/digest")
    assert "week 23/11 – 29/11/2026" in said and "not over yet" in said
    assert "your own cluster only" in await coordinator.send("/digest 2 last")
    assert "Usage" in await coordinator.send("/digest someday")

    admin = ConsoleChannel(core, user_id="a1", language_code="en", clock=clock)
    await admin.send(f"/start {await make_invite(db, clock, role='admin', unit=None)}")
    said = await admin.send("/digest 2 2026-W47")
    assert "Cluster 2 – week 16/11 – 22/11/2026" in said and "Reports: 1 (+1)" in said
    said = await admin.send("/digest last")
    # The admin's menu names the clusters, not only their numbers.
    assert "Which cluster's digest for the week 16/11 – 22/11/2026?" in said
    assert "4. Cụm số 4 – Đông Nam Bộ mở rộng" in said and "2. Cụm số 2 – các tỉnh miền núi phía Bắc" in said
    said = await admin.send("4")
    assert "Cluster 4 – week 16/11 – 22/11/2026" in said

    officer = ConsoleChannel(core, user_id="o1", language_code="en", clock=clock)
    await officer.send(f"/start {await make_invite(db, clock, unit='TNI-LHHN')}")
    assert "not available to you" in await officer.send("/digest")


async def test_units_of_the_cluster_are_the_active_ones(db: Database) -> None:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, "DNI-LHHN")
        assert isinstance(unit, Unit)
        unit.active = False
        await uow.commit()
    data = await collect(db)
    assert "DNI-LHHN" not in {u.code for u in data.units}


async def test_bindgroup_in_a_group_chat(core: Core, db: Database) -> None:
    from tests.telegram_harness import TelegramHarness, text

    await add_person(db, "coordinator", "401", cluster=4)
    await add_person(db, "officer", "601", unit="TNI-LHHN")
    async with TelegramHarness(core) as tg:
        coordinator = tg.user(401)
        said = text(await coordinator.send("/bindgroup"))
        assert "Send /bindgroup in the group chat" in said
        said = text(await coordinator.send("/bindgroup", chat_id=-100300))
        assert "✅ This group will receive the weekly digest of cluster 4" in said
        assert "Sorry" in text(await tg.user(601).send("/bindgroup", chat_id=-100301))
        async with db.unit_of_work() as uow:
            cluster = await digests.cluster_by_number(uow.session, 4)
            assert cluster is not None
            recipients = await digests.digest_recipients(uow.session, cluster.id, ["telegram"])
        assert [r.address for r in recipients] == ["telegram:401", "telegram:-100300"]
        said = text(await coordinator.send("/bindgroup off", chat_id=-100300))
        assert "no longer receive" in said
        assert tg.stub.violations == []


async def test_digest_of_a_fixed_week_every_measure_and_the_never_reported_fold(db: Database) -> None:
    """Cluster 2, week 47: a report with every measure there is, one unit that reported weeks ago, and the
    cluster's other units never heard from."""
    from handlers.digest import week_dates
    from handlers.measures import DECIMAL, MEASURES, MONEY

    report_id = await add_report(db, "LCA-DBP-CKQT-LAO-CAI", dt.date(2026, 11, 19), kind="donation", ours=None,
                                 theirs=None)
    async with db.unit_of_work() as uow:
        report = await uow.session.get(Report, report_id)
        assert report is not None
        for n, (key, measure) in enumerate(MEASURES.items(), start=1):
            if measure.kind == MONEY:
                report.measures += [ReportMeasure(measure=key, currency="VND", amount=Decimal(1_000_000 * n)),
                                    ReportMeasure(measure=key, currency="USD", amount=Decimal(200))]
            else:
                amount = Decimal(n) + (Decimal("0.5") if measure.kind == DECIMAL else 0)
                report.measures.append(ReportMeasure(measure=key, currency="", amount=amount))
        await uow.commit()
    await add_report(db, "LCA-THON-COC-PHUONG", dt.date(2026, 10, 7))  # silent since 07/10/2026
    data = await collect(db, number=2)
    vi, en = build_text(data, Translator("vi", TZ)), build_text(data, Translator("en", TZ))
    vi_lines, en_lines = vi.splitlines(), en.splitlines()
    # The week by its dates, in the heading and above its figures.
    assert vi_lines[0] == "<b>📊 Cụm 2 – tuần 16/11 – 22/11/2026</b>"
    assert "<b>Tuần 16/11 – 22/11/2026</b> (so với tuần trước)" in vi_lines
    assert en_lines[0] == "<b>📊 Cluster 2 – week 16/11 – 22/11/2026</b>"
    # Every measure's total, each currency on its own, money as the locale writes it without empty decimals.
    t_vi, t_en = Translator("vi", TZ), Translator("en", TZ)
    for n, (key, measure) in enumerate(MEASURES.items(), start=1):
        if measure.kind == MONEY:
            vnd = f"{n:,}".replace(",", ".") + ".000.000"
            assert f"{t_vi(measure.label)}: {vnd}\xa0₫ (+{vnd}\xa0₫)" in vi_lines, key
            assert f"{t_vi(measure.label)}: 200\xa0US$ (+200\xa0US$)" in vi_lines, key
            assert f"{t_en(measure.label)}: $200 (+$200)" in en_lines, key
        elif measure.kind == DECIMAL:
            assert f"{t_vi(measure.label)}: {n},5 (+{n},5)" in vi_lines, key
            assert f"{t_en(measure.label)}: {n}.5 (+{n}.5)" in en_lines, key
        else:
            assert f"{t_en(measure.label)}: {n} (+{n})" in en_lines, key
    assert ",00" not in vi and ".00" not in en
    # Silent since a date, apart from those never heard from, who are many and so counted, not named.
    silent = [u for u in data.units if u.silent_weeks]
    never = [u for u in data.units if u.never_reported]
    assert len(never) == len(silent) - 1 > 5
    assert "<b>Silent for two weeks or more</b> (1)" in en_lines
    assert "• Thôn Cốc Phương, xã Bản Lầu (Lào Cai): silent since 07/10/2026" in en_lines
    assert f"<b>Never reported</b>: {len(never)} units (/silent lists them)" in en_lines
    assert f"<b>Chưa từng báo cáo</b>: {len(never)} đơn vị (xem danh sách bằng /silent)" in vi_lines
    assert not any(u.name in en for u in never)
    assert len(en_lines) < 50
    # A week across the new year names both years.
    assert week_dates(t_en, IsoWeek(2026, 53)) == "28/12/2026 – 03/01/2027"


async def test_the_chart_is_titled_with_the_dates_and_has_a_panel_for_people_and_gifts(db: Database) -> None:
    await known_week(db)
    data = await collect(db)
    assert [str(w) for w, _, _ in data.trend_figures][-2:] == ["2026-W46", "2026-W47"]
    assert [(people, gifts) for _, people, gifts in data.trend_figures][-2:] == [(33, 50), (267, 200)]
    titles: list[str] = []
    ticks: list[str] = []
    legends: list[list[str]] = []
    from matplotlib.figure import Figure

    real_savefig = Figure.savefig

    def spy(self: Figure, *args: object, **kwargs: object) -> None:
        titles.append(self.get_suptitle())
        for axes in self.axes:
            titles.append(axes.get_title(loc="left"))
            ticks.extend(label.get_text() for label in axes.get_xticklabels())
            legend = axes.get_legend()
            legends.append([text.get_text() for text in legend.get_texts()] if legend else [])
        real_savefig(self, *args, **kwargs)

    Figure.savefig = spy  # type: ignore[method-assign]
    try:
        png = render_chart(data, Translator("vi", TZ))
    finally:
        Figure.savefig = real_savefig  # type: ignore[method-assign]
    assert png.startswith(PNG_MAGIC)
    assert titles[0] == "Cụm 4 – tuần 16/11 – 22/11/2026"
    assert "16/11" in ticks and "09/11" in ticks and not any(tick.startswith("W") for tick in ticks)
    assert len(titles) == 4 and legends[2] == ["Số người tham gia", "Số suất quà"]  # the third panel
    assert all(legends)  # each panel has its own legend, beside it


async def test_delivery_health_lists_everyone_who_cannot_be_reached(core: Core, db: Database, clock: Clock) -> None:
    """Coordinators, bound groups and officers (their reminders): blocked, gone, deleted, held back, failed."""
    from storage.models import Delivery

    await known_week(db)
    coordinators = [await add_person(db, "coordinator", chat, cluster=4, name=name)
                    for chat, name in (("401", "Điều phối A"), ("402", "Điều phối B"), ("403", "Điều phối C"))]
    blocked_officer = await add_person(db, "officer", "601", unit="TNI-LHHN", name="Cán bộ Lò Văn Dũng")
    throttled_officer = await add_person(db, "officer", "602", unit="TNI-DBP-SONG-TRANG", name="Cán bộ Hà Thị Mai")
    await add_person(db, "officer", "603", unit="TNI-XA-MY-QUY-DONG", name="Cán bộ Quàng Văn Sáng")
    async with db.unit_of_work() as uow:
        cluster = await digests.cluster_by_number(uow.session, 4)
        assert cluster is not None
        units = {u.code: u.id for u in (await uow.session.scalars(select(Unit))).all()}
        digest = digests.digest_key(cluster.id, WEEK)
        now = clock()
        rows = [
            (digest, "telegram:401", coordinators[0], "sent", None),
            (digest, "telegram:402", coordinators[1], "blocked", "Forbidden: bot was blocked by the user"),
            (digest, "telegram:403", coordinators[2], "blocked", "Forbidden: user is deactivated"),
            (digest, "telegram:-100200", None, "blocked", "Forbidden: bot was kicked from the group chat"),
            (digests.reminder_key(units["TNI-LHHN"], WEEK), "telegram:601", blocked_officer, "blocked",
             "blocked the bot before this was planned"),
            (digests.reminder_key(units["TNI-DBP-SONG-TRANG"], WEEK), "telegram:602", throttled_officer, "pending",
             "flood control: retry after 30 s"),
        ]
        uow.session.add_all(Delivery(key=key, recipient=recipient, person_id=person, status=status, error=error,
                                     attempts=1, due_at=now, created_at=now) for key, recipient, person, status, error
                            in rows)
        # An officer who blocked the bot but was not reminded this week (the unit had reported) is unreachable too.
        sang = await uow.session.scalar(select(Identity).where(Identity.chat_id == "603"))
        assert sang is not None
        sang.blocked_at = now
        await uow.commit()
    admin = ConsoleChannel(core, user_id="a1", language_code="en", clock=clock)
    await admin.send(f"/start {await make_invite(db, clock, role='admin', unit=None)}")
    said = await admin.send("/digest 4 last")
    health = said.split("Delivery: sent to 1 of 4.")[1]
    assert "Cannot be reached (6)" in health
    for line in ("⛔ Điều phối B has blocked the bot: not delivered.",
                 "⛔ Điều phối C: the account no longer exists, not delivered.",
                 "⛔ the group -100200: the bot is no longer in that chat, not delivered.",
                 "⛔ Cán bộ Lò Văn Dũng (Liên hiệp các tổ chức hữu nghị tỉnh Tây Ninh) has blocked the bot: "
                 "not delivered.",
                 "⏳ Cán bộ Hà Thị Mai (Đồn Biên phòng Sông Trăng): held back by the messenger's sending limits; "
                 "trying again.",
                 "⛔ Cán bộ Quàng Văn Sáng (Xã Mỹ Quý Đông) has blocked the bot: not delivered."):
        assert line in health, line
    assert "Điều phối A" not in health
