"""One event, counted once (issue 13): the second reporter of an event is asked whether it is the same one, a
coordinator links and unlinks reports afterwards, and every total (/stats, the digest, its chart data and
spreadsheet, /export) counts a linked event once, with the larger of each figure, before and after."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from handlers.digest import build_text, digest_files
from handlers.i18n import Translator
from storage import digests, events, people
from storage.db import Database
from storage.digests import IsoWeek
from storage.models import Report, ReportVersion, TwinningPair
from storage.scope import Scope
from storage.stats import figures as stats_figures
from tests.conftest import TZ, Clock
from tests.reporting import person, report
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import option_number, walk

# Cluster 1: both border posts are twinned with Đại đội Biên phòng 216 (Hủa Phăn, Laos).
BAT_MOT = "THO-DBP-BAT-MOT"  # Thanh Hóa
THONG_THU = "NAN-DBP-THONG-THU"  # Nghệ An
YEN_KHUONG = "THO-DBP-YEN-KHUONG"  # Thanh Hóa, twinned with Đại đội 216 as well
BAN_KHEO = "THO-BAN-KHEO"  # Thanh Hóa, twinned with Bản Thà Láu
PHU_GIA = "HTH-DBP-PHU-GIA"  # Hà Tĩnh, cluster 3; some tests twin it with Đại đội 216 too
LAO_CAI = "LCA-DBP-CKQT-LAO-CAI"  # Lào Cai, cluster 2: nothing in common with the others
WEEK = IsoWeek(2026, 47)  # 16–22/11/2026; the tests run on Monday 23/11


def visit(day: str, ours: str = "25", theirs: str = "30", partner: str = "1") -> dict[str, str]:
    return {"When did it take place?": day, "Which twinned partner": partner, "Where was it held?": "On our side",
            "on our side?": ours, "on the partner's side?": theirs, "What was the occasion?": "1",
            "Describe the activity": "Chúc Tết, giao lưu văn nghệ với Đại đội 216",
            "Send photos": "Skip", "Where exactly?": "Skip"}


async def review_of_visit(me: ConsoleChannel, answers: dict[str, str]) -> str:
    said = await me.send("/report")
    said = await me.send(option_number(said, "Visit"))
    return await walk(me, answers, said)


async def versions(db: Database, report_id: int) -> list[tuple[int, str, str | None, Any]]:
    async with db.reader() as session:
        rows = (await session.scalars(select(ReportVersion).where(ReportVersion.report_id == report_id)
                                      .order_by(ReportVersion.version))).all()
    return [(v.version, v.action, v.note, v.data.get("event_id")) for v in rows]


async def twin_with_216(db: Database, unit_code: str) -> None:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, unit_code)
        assert unit is not None
        uow.session.add(TwinningPair(code=f"TEST-{unit_code}-216", unit_id=unit.id,
                                     partner_name="Đại đội Biên phòng 216", partner_country="LA",
                                     partner_province="Hủa Phăn", kind="don_dai_doi", active=True))
        await uow.commit()


# --- the second reporter is asked ------------------------------------------------------------------


async def test_the_second_reporter_is_asked_and_same_event_links_the_two(core: Core, db: Database,
                                                                         clock: Clock) -> None:
    first = await officer(core, db, clock, unit=BAT_MOT, user="bat-mot")
    said = await review_of_visit(first, visit("20/11"))
    assert "same event" not in said
    assert "✅ Report #1 submitted" in await first.send(option_number(said, "Submit"))

    second = await officer(core, db, clock, unit=THONG_THU, user="thong-thu")
    said = await review_of_visit(second, visit("21/11", ours="40", theirs="20"))
    assert "🔗 This may be the same event as #1, reported by Đồn Biên phòng Bát Mọt on 20/11." in said
    assert "Same event – submit" in said and "A different one – submit" in said
    assert "✅ Submit" not in said  # one of the two answers submits
    said = await second.send(option_number(said, "Same event"))
    assert "✅ Report #2 submitted" in said and "🔗 Same event as #1 (Đồn Biên phòng Bát Mọt)" in said

    one, two = await all_reports(db)
    assert (one.event_id, two.event_id) == (1, 1)
    assert (one.author.display_name, two.unit.code, len(two.description) > 0) == ("Vàng A Chứ", THONG_THU, True)
    # Audited like a void: the earlier report records who linked it and to what; the new one is born linked.
    assert await versions(db, 1) == [(1, "submitted", None, None), (2, "linked", "2", 1)]
    assert await versions(db, 2) == [(1, "submitted", None, 1)]
    said = await first.send("/report 1")
    assert "🔗 Same event as #2 (Đồn Biên phòng Thông Thụ)" in said
    assert "v2 linked by Vàng A Chứ" in said and "– same event as #2" in said


async def test_a_different_one_keeps_them_apart_in_vietnamese(core: Core, db: Database, clock: Clock) -> None:
    await report(db, clock, BAT_MOT, kind="visit", day=dt.date(2026, 11, 20))
    second = await officer(core, db, clock, unit=THONG_THU, user="thong-thu", lang="vi")
    said = await second.send("/report")
    said = await second.send(option_number(said, "Thăm hỏi"))
    said = await walk(second, {"Hoạt động diễn ra ngày nào?": "20/11", "với đối tác kết nghĩa nào?": "1",
                               "được tổ chức ở đâu?": "1", "Phía Việt Nam có bao nhiêu": "25",
                               "Phía đối tác có bao nhiêu": "30", "Nhân dịp gì?": "1",
                               "Mô tả hoạt động": "Chúc Tết Đại đội 216", "Gửi ảnh hoạt động": "bỏ qua",
                               "Địa điểm cụ thể ở đâu?": "bỏ qua"}, said, until="Vui lòng kiểm tra lại báo cáo")
    assert "🔗 Có thể đây là cùng sự kiện với #1 do Đồn Biên phòng Bát Mọt báo cáo ngày 20/11." in said
    said = await second.send(option_number(said, "Sự kiện khác"))
    assert "✅ Đã gửi báo cáo #2" in said and "🔗" not in said
    assert [r.event_id for r in await all_reports(db)] == [None, None]
    assert await versions(db, 1) == [(1, "submitted", None, None)]


async def test_which_reports_look_like_the_same_event(core: Core, db: Database, clock: Clock) -> None:
    """Same kind, dates within a day, and the same partner or units twinned with each other or with the same
    partner, in any cluster; an earlier report of the same unit, kind, date and partner keeps its own warning."""
    await report(db, clock, BAT_MOT, kind="visit", day=dt.date(2026, 11, 20))  # 1
    await twin_with_216(db, PHU_GIA)

    async def alike(unit_code: str, day: dt.date, kind: str = "visit", pair: int | str | None = None,
                    **other: str) -> events.LookAlikes:
        async with db.reader() as session:
            unit = await people.unit_by_code(session, unit_code)
            assert unit is not None
            pairs = await events_pairs(session, unit.id)
            values: dict[str, Any] = {"unit": unit.id, "kind": kind, "date": day.isoformat()}
            chosen = pairs[0] if pair is None else next((p for p in pairs if p.id == pair), None)
            if chosen is not None and not other:
                values.update(pair=chosen.id, partner={"name": chosen.partner_name, "country": chosen.partner_country})
            else:
                values.update(pair="other", **other)
            return await events.look_alikes(session, values)

    day = dt.date(2026, 11, 20)
    assert (await alike(THONG_THU, day)).same_event.id == 1  # type: ignore[union-attr]  # the same partner
    assert (await alike(THONG_THU, day + dt.timedelta(days=1))).same_event is not None  # a day later
    assert (await alike(THONG_THU, day - dt.timedelta(days=1))).same_event is not None  # a day earlier
    assert (await alike(THONG_THU, day + dt.timedelta(days=2))).same_event is None  # two days: another one
    assert (await alike(THONG_THU, day, kind="exchange")).same_event is None  # another kind
    assert (await alike(LAO_CAI, day)).same_event is None  # nothing in common
    # Another cluster, twinned with the same partner: still asked.
    phu_gia_216 = await alike(PHU_GIA, day, pair=await pair_id(db, "TEST-HTH-DBP-PHU-GIA-216"))
    assert phu_gia_216.same_event is not None and phu_gia_216.same_event.unit_name == "Đồn Biên phòng Bát Mọt"
    # Twinned with the same partner, though the report names another one (the company's district police).
    assert (await alike(YEN_KHUONG, day, partner_name="Công an huyện Sầm Tớ",
                        partner_country="LA")).same_event is not None
    # A partner typed by name is the same partner as the pair of that name.
    assert (await alike(LAO_CAI, day, partner_name="Đại đội Biên phòng 216", partner_country="LA")).same_event
    # Units twinned with each other: a pair of one names the other as its partner.
    assert (await alike(BAN_KHEO, day)).same_event is None
    async with db.unit_of_work() as uow:
        kheo = await people.unit_by_code(uow.session, BAN_KHEO)
        assert kheo is not None
        uow.session.add(TwinningPair(code="TEST-KHEO-BAT-MOT", unit_id=kheo.id, partner_name="Đồn Biên phòng Bát Mọt",
                                     partner_country="LA", kind="don_ban", active=True))
        await uow.commit()
    assert (await alike(BAN_KHEO, day)).same_event is not None
    # The same unit: the same day is a report entered twice, a day apart perhaps the same event.
    same_unit = await alike(BAT_MOT, day)
    assert same_unit.duplicate is not None and same_unit.duplicate.id == 1 and same_unit.same_event is None
    assert (await alike(BAT_MOT, day + dt.timedelta(days=1))).same_event is not None
    # Voided and withdrawn reports are not events any more.
    async with db.unit_of_work() as uow:
        first = await uow.session.get(Report, 1)
        assert first is not None
        first.status = "voided"
        await uow.commit()
    assert (await alike(THONG_THU, day)).same_event is None


async def events_pairs(session: Any, unit_id: int) -> list[TwinningPair]:
    from storage import reports

    return await reports.pairs_of_unit(session, unit_id)


async def pair_id(db: Database, code: str) -> int:
    async with db.reader() as session:
        found = await session.scalar(select(TwinningPair.id).where(TwinningPair.code == code))
    assert found is not None
    return found


# --- a coordinator links and unlinks; the totals before and after -------------------------------


async def four_reports(db: Database, clock: Clock) -> None:
    """Cluster 1, week 47: one New Year visit reported by two border posts (#1, #2), and two other activities."""
    await report(db, clock, BAT_MOT, kind="visit", day=dt.date(2026, 11, 20), ours=25, theirs=30,
                 amount="5000000")  # 1
    await report(db, clock, THONG_THU, kind="visit", day=dt.date(2026, 11, 21), ours=40, theirs=20,
                 amount="3000000")  # 2
    await report(db, clock, BAN_KHEO, kind="exchange", day=dt.date(2026, 11, 19), ours=10, theirs=12)  # 3
    await report(db, clock, YEN_KHUONG, kind="patrol", day=dt.date(2026, 11, 18), ours=6, theirs=6)  # 4
    async with db.unit_of_work() as uow:  # #2 also gave something in dollars, which #1 did not
        second = await uow.session.get(Report, 2)
        assert second is not None
        from storage.reports import Figure, set_measures

        set_measures(second, [*(Figure(m.measure, Decimal(str(m.amount)), m.currency) for m in second.measures),
                              Figure("value_gifts", Decimal(200), "USD")])
        await uow.commit()


async def totals_seen(db: Database, coordinator: ConsoleChannel) -> dict[str, Any]:
    """What the coordinator of cluster 1 is shown: /stats, the digest (text, data, spreadsheet) and /export."""
    stats = await coordinator.send("/stats 11/2026")
    async with db.reader() as session:
        cluster = await digests.cluster_by_number(session, 1)
        assert cluster is not None
        data = await digests.collect(session, cluster, WEEK)
        text = build_text(data, Translator("en", TZ))
        _, book = await digest_files(session, data, Translator("en", TZ))
    digest_summary = sheet_pairs(book.content, "Summary")
    await coordinator.send("/export 11/2026")
    [export] = coordinator.files
    workbook = load_workbook(io.BytesIO(export.content), read_only=True)
    header, *rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    return {"stats": stats, "data": data, "digest": text, "digest_summary": digest_summary,
            "export_summary": sheet_pairs(export.content, 1),
            "export_rows": [dict(zip(header, row, strict=True)) for row in rows]}


def sheet_pairs(content: bytes, sheet: str | int) -> dict[Any, Any]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    found = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
    pairs: dict[Any, Any] = {}
    for row in found.iter_rows(values_only=True):
        if len(row) > 1 and row[1] is not None:
            pairs.setdefault(row[0], row[1])  # the first of a label: this week, before the week before
    return pairs


async def test_a_coordinator_links_and_unlinks_and_every_total_follows(core: Core, db: Database,
                                                                      clock: Clock) -> None:
    await four_reports(db, clock)
    coordinator = await person(core, db, clock, "coord1", "coordinator", cluster=1)

    before = await totals_seen(db, coordinator)
    stats = before["stats"]
    assert "Reports: 4" in stats and "events" not in stats
    assert "Participants (our side): 81" in stats and "Participants (partner side): 68" in stats
    assert "Value of gifts: ₫8,000,000 · $200" in stats
    assert "Thanh Hóa: 3 " in stats and "Nghệ An: 1 " in stats
    assert "Reports: 4 (+4)" in before["digest"] and "Participants (our side): 81 (+81)" in before["digest"]
    assert before["digest_summary"]["Reports"] == 4 and "Events" not in before["digest_summary"]
    assert before["export_summary"]["Reports"] == 4 and "Events" not in before["export_summary"]
    assert before["export_summary"]["Participants (our side)"] == 81
    assert [row["Event no."] for row in before["export_rows"]] == [4, 3, 1, 2]

    said = await coordinator.send("/same 1 2")
    assert "✅ Reports #1 and #2 are one event now" in said
    assert "#1: 🔗 Same event as #2 (Đồn Biên phòng Thông Thụ)" in said
    assert "🔗 Same event as #1 (Đồn Biên phòng Bát Mọt)" in await coordinator.send("/report 2")

    after = await totals_seen(db, coordinator)
    stats = after["stats"]
    assert "3 events (4 reports)" in stats and "Reports: 4" not in stats
    # The larger figure of the two reports, never their sum; per currency.
    assert "Participants (our side): 56" in stats and "Participants (partner side): 48" in stats
    assert "Value of gifts: ₫5,000,000 · $200" in stats
    assert "Visit / greetings 1" in stats
    # By province, an event counts once in each province it was reported from.
    assert "Thanh Hóa: 3 " in stats and "Nghệ An: 1 " in stats
    assert "3 events (4 reports) (+3)" in after["digest"] and "Participants (our side): 56 (+56)" in after["digest"]
    assert "• Visit / greetings: 1 (+1)" in after["digest"]
    data = after["data"]
    assert (data.current.total.events, data.current.total.reports) == (3, 4)
    assert data.current.total.by_kind["visit"] == 1
    assert dict(data.trend)[WEEK]["visit"] == 1  # the chart's eight weeks
    assert data.current.by_province["40"].by_kind["visit"] == 1  # the chart's provinces (Nghệ An)
    assert [h.id for h in data.highlights].count(1) + [h.id for h in data.highlights].count(2) == 1
    assert after["digest_summary"]["Events"] == 3 and after["digest_summary"]["Reports"] == 4
    assert after["digest_summary"]["Participants (our side)"] == 56
    assert after["export_summary"]["Events"] == 3 and after["export_summary"]["Reports"] == 4
    assert after["export_summary"]["Participants (our side)"] == 56
    assert after["export_summary"]["Value of gifts (VND)"] == 5_000_000
    assert after["export_summary"]["Value of gifts (USD)"] == 200
    # One row per report still, each with its own author and figures, and the event's number.
    assert [(row["Report no."], row["Event no."], row["Participants (our side)"]) for row in after["export_rows"]] == [
        (4, 4, 6), (3, 3, 10), (1, 1, 25), (2, 1, 40)]

    said = await coordinator.send("/notsame 2")
    assert "✅ Report #2 is an event of its own again" in said
    again = await totals_seen(db, coordinator)
    assert "Reports: 4" in again["stats"] and "Participants (our side): 81" in again["stats"]
    assert "Reports: 4 (+4)" in again["digest"]
    assert again["export_summary"]["Participants (our side)"] == 81 and "Events" not in again["export_summary"]
    assert [r.event_id for r in await all_reports(db)] == [None, None, None, None]

    # Audited: who, when, what, on both reports.
    assert await versions(db, 1) == [(1, "submitted", None, None), (2, "linked", "2", 1), (3, "unlinked", "2", None)]
    assert await versions(db, 2) == [(1, "submitted", None, None), (2, "linked", "1", 1), (3, "unlinked", "1", None)]
    said = await coordinator.send("/report 2")
    assert "v2 linked by Coord1" in said and "v3 unlinked by Coord1" in said
    assert "– no longer the same event as #1" in said and "🔗" not in said.split("History")[0]


async def test_linking_is_refused_outside_the_coordinators_reach(core: Core, db: Database, clock: Clock) -> None:
    await four_reports(db, clock)
    await report(db, clock, LAO_CAI, kind="visit", day=dt.date(2026, 11, 20))  # 5, cluster 2
    me = await officer(core, db, clock, unit=BAT_MOT)
    assert "Sorry, this command is not available to you." in await me.send("/same 1 2")
    assert "Sorry, this command is not available to you." in await me.send("/notsame 1")

    other_cluster = await person(core, db, clock, "coord2", "coordinator", cluster=2)
    assert "Report #1 is not available to you." in await other_cluster.send("/same 5 1")
    assert "Report #1 is not available to you." in await other_cluster.send("/notsame 1")

    coordinator = await person(core, db, clock, "coord1", "coordinator", cluster=1)
    assert "Report #5 is not available to you." in await coordinator.send("/same 1 5")  # another cluster's
    assert "Report #99 is not available to you." in await coordinator.send("/same 1 99")
    assert "Usage: /same 12 15" in await coordinator.send("/same 1")
    assert "Give two different reports" in await coordinator.send("/same 1 1")
    assert "Report #1 is not linked to another report." in await coordinator.send("/notsame 1")
    admin = await person(core, db, clock, "admin", "admin")
    await admin.send("/void 4 entered twice")
    assert "Report #4 was withdrawn or voided" in await coordinator.send("/same 1 4")
    assert "✅ Reports #1 and #2 are one event now" in await coordinator.send("/cungsukien 1 #2")
    assert "Reports #2 and #1 are one event already." in await coordinator.send("/same 2 1")
    assert [r.event_id for r in await all_reports(db)] == [1, 1, None, None, None]
    # An admin links across clusters; a third report joins the event.
    assert "✅ Reports #5 and #2 are one event now" in await admin.send("/same 5 2")
    assert [r.event_id for r in await all_reports(db)] == [1, 1, None, None, 1]
    assert "🔗 Same event as #1 (Đồn Biên phòng Bát Mọt), #2 (Đồn Biên phòng Thông Thụ)" in await admin.send(
        "/report 5")
    # Taking the first report out leaves the other two one event, under the next number.
    assert "✅ Report #1 is an event of its own again" in await coordinator.send("/khacsukien 1")
    assert [r.event_id for r in await all_reports(db)] == [None, 2, None, None, 2]
    assert await versions(db, 5) == [(1, "submitted", None, None), (2, "linked", "2", 1), (3, "unlinked", "1", 2)]


async def test_an_event_reported_in_two_clusters(core: Core, db: Database, clock: Clock) -> None:
    """An event counts in a cluster's totals when one of its reports is in the cluster, with the figures of the
    cluster's reports only; across all clusters it counts once, with the larger figures of all."""
    await twin_with_216(db, PHU_GIA)
    await report(db, clock, BAT_MOT, kind="visit", day=dt.date(2026, 11, 20), ours=25, theirs=30)  # 1, cluster 1
    phu_gia = await officer(core, db, clock, unit=PHU_GIA, user="phu-gia")
    # The partner chosen by its words, as where nothing can be tapped.
    said = await review_of_visit(phu_gia, visit("20/11", ours="60", theirs="10", partner="Đại đội Biên phòng 216"))
    assert "🔗 This may be the same event as #1, reported by Đồn Biên phòng Bát Mọt on 20/11." in said
    said = await phu_gia.send(option_number(said, "Same event"))
    assert "✅ Report #2 submitted" in said
    assert [r.event_id for r in await all_reports(db)] == [1, 1]

    one = await person(core, db, clock, "coord1", "coordinator", cluster=1)
    three = await person(core, db, clock, "coord3", "coordinator", cluster=3)
    admin = await person(core, db, clock, "admin", "admin")
    stats = await one.send("/stats 11/2026")
    assert "Reports: 1" in stats and "Participants (our side): 25" in stats
    stats = await three.send("/stats 11/2026")
    assert "Reports: 1" in stats and "Participants (our side): 60" in stats
    stats = await admin.send("/stats 11/2026")
    assert "1 event (2 reports)" in stats and "Participants (our side): 60" in stats
    assert "Participants (partner side): 30" in stats
    assert "Thanh Hóa: 1 " in stats and "Hà Tĩnh: 1 " in stats

    async with db.reader() as session:
        everything = await stats_figures(session, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30),
                                         scope=Scope(everything=True))
        province = await stats_figures(session, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30),
                                       scope=Scope(everything=True).narrowed(province_code="42"))  # Hà Tĩnh
    assert (everything.total.events, everything.total.reports) == (1, 2)
    assert everything.by_partner[("LA", "Hủa Phăn")].events == 1  # one partner, one event
    assert everything.by_province["38"].events == everything.by_province["42"].events == 1
    assert (province.total.events, province.total.reports) == (1, 1)
    assert province.total.total("participants_ours") == 60

    # The coordinator of cluster 1 sees the twin's number and unit, not the report itself.
    assert "🔗 Same event as #2 (Đồn Biên phòng Phú Gia)" in await one.send("/report 1")
    assert "Report #2 is not available to you." in await one.send("/report 2")
    assert "Report #2 is not available to you." in await one.send("/notsame 2")
    assert "✅ Report #1 is an event of its own again" in await one.send("/notsame 1")
    assert "Reports: 2" in await admin.send("/stats 11/2026")



async def test_the_building_block_takes_the_largest_figure_and_counts_per_period(db: Database, clock: Clock) -> None:
    """``events.tally`` directly, as a new total would use it: the largest figure of an event's reports is
    an estimate only when that figure is one; a period counts the reports dated within it."""
    await report(db, clock, BAT_MOT, kind="visit", day=dt.date(2026, 11, 22), ours=25, theirs=30)  # Sunday, W47
    await report(db, clock, THONG_THU, kind="visit", day=dt.date(2026, 11, 23), ours=40, theirs=20)  # Monday, W48
    async with db.unit_of_work() as uow:
        first, second = [await uow.session.get(Report, n) for n in (1, 2)]
        assert first is not None and second is not None
        for measure in first.measures:  # #1's 25 and 30 are estimates: only the 30 is the event's figure
            measure.approx = True
        assert await events.link(uow.session, first, second, by=first.author, now=clock())
        await uow.commit()

    async def visits(start: dt.date, end: dt.date) -> events.Total:
        async with db.reader() as session:
            tally = await events.tally(session, events.reports_in(start=start, end=end, scope=Scope(everything=True)),
                                       Report.kind)
        return tally.by(lambda group: group[0])["visit"]

    november = await visits(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert (november.events, november.reports) == (1, 2)
    assert november.measures[("participants_ours", "")] == 40 and november.measures[("participants_partner", "")] == 30
    assert november.approx == {"participants_partner"}
    week_47 = await visits(WEEK.start, WEEK.end)
    assert (week_47.events, week_47.reports, week_47.measures[("participants_ours", "")]) == (1, 1, 25)
    assert week_47.approx == {"participants_ours", "participants_partner"}
    week_48 = await visits(WEEK.shift(1).start, WEEK.shift(1).end)
    assert (week_48.events, week_48.reports, week_48.measures[("participants_ours", "")]) == (1, 1, 40)
    assert week_48.approx == set()
