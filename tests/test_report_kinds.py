"""Every activity kind end to end, plus back, fix-a-field, cancel, duplicates and "my reports"."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage.db import Database
from storage.models import ReportVersion
from tests.conftest import Clock
from tests.reporting import figures
from tests.test_report_console import all_reports, officer

COMMON = {
    "When did it take place?": "hôm qua",
    "Which twinned partner": "1",
    "Where was it held?": "On our side",
    "on our side?": "25",
    "on the partner's side?": "30",
    "Describe the activity": "Hoạt động hữu nghị với đơn vị kết nghĩa",
    "Send photos": "Skip",
    "Where exactly?": "Skip",
}

KINDS = {
    "exchange": ({"What kind of exchange?": "Culture / arts"}, {"exchange_type": "culture"}, {}),
    "donation": ({"What was given?": "Gạo và chăn", "How many gift packages": "150",
                  "gifts worth": "1,5tr", "Who received it?": "Bà con bản Thà Láu"},
                 {"gift_items": "Gạo và chăn", "recipients": "Bà con bản Thà Láu"},
                 {"gift_packages": 150, "value_gifts": {"VND": Decimal("1500000")}}),
    "visit": ({"What was the occasion?": "National day"}, {"occasion": "national_day"}, {}),
    "delegation": ({"incoming or outgoing?": "Outgoing", "How many delegations?": "2",
                    "How many people in all?": "14"},
                   {"direction": "out"}, {"delegations": 2, "delegation_people": 14}),
    "patrol": ({"border markers": "3", "kilometres": "7,5"}, {}, {"markers": 3, "km": Decimal("7.5")}),
    "medical": ({"examined or treated": "150", "value of the medicines": "20 triệu"},
                {}, {"patients": 150, "value_medicines": {"VND": Decimal("20000000")}}),
    "outreach": ({"What was the outreach about?": "Protecting the border line and markers",
                  "How many sessions": "2"}, {"outreach_topic": "markers"}, {"sessions": 2}),
    "twinning_signing": ({}, {}, {}),
    "twinning_review": ({}, {}, {}),
    "other": ({}, {}, {}),
}
KIND_LABELS = {"exchange": "Exchange", "donation": "Donation", "visit": "Visit", "delegation": "Delegation",
               "patrol": "Joint patrol", "medical": "Free medical", "outreach": "Legal",
               "twinning_signing": "Twinning signing", "twinning_review": "Twinning review",
               "other": "Other activity"}


def option_number(said: str, label: str) -> str:
    for line in said.splitlines():
        m = re.match(r"^(\d+)\. (.*)$", line)
        if m and label in m.group(2):
            return m.group(1)
    raise AssertionError(f"no option {label!r} in:\n{said}")


async def walk(me: ConsoleChannel, answers: dict[str, str], said: str, limit: int = 25,
               until: str = "Please check your report") -> str:
    for _ in range(limit):
        if until in said:
            return said
        prompt = next((key for key in answers if key in said), None)
        assert prompt is not None, f"unexpected step:\n{said}"
        said = await me.send(answers[prompt])
    raise AssertionError("the report never reached its review")


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_kind_end_to_end(core: Core, db: Database, clock: Clock, kind: str) -> None:
    me = await officer(core, db, clock, unit="THO-BAN-KHEO")
    said = await me.send("/report")
    said = await me.send(option_number(said, KIND_LABELS[kind]))
    own, details, measures = KINDS[kind]
    said = await walk(me, {**COMMON, **own}, said)
    assert "Partner: Bản Thà Láu" in said and "(Laos, Hủa Phăn)" in said
    said = await me.send(option_number(said, "Submit"))
    assert "✅ Report #1 submitted" in said
    [report] = await all_reports(db)
    assert report.kind == kind and str(report.activity_date) == "2026-11-22"
    assert report.venue == "ours"
    assert report.unit.code == "THO-BAN-KHEO" and report.partner_country == "LA"
    assert report.details == details
    assert figures(report) == {"participants_ours": 25, "participants_partner": 30, **measures}


async def test_back_and_fix_a_field_from_the_review(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await me.send("hôm nay")
    said = await me.send("Back")
    assert "When did it take place?" in said and "Now: 23/11/2026" in said
    said = await me.send("20/11")
    assert "Which twinned partner" in said
    said = await walk(me, {**COMMON, "What kind of exchange?": "Sport"}, said)
    assert "Exchange (giao lưu) · 20/11/2026" in said
    said = await me.send(option_number(said, "Fix"))
    said = await me.send(option_number(said, "Date"))
    said = await me.send("21/11/2026")
    assert "Please check your report" in said and "Exchange (giao lưu) · 21/11/2026" in said
    # Back from a field opened on the card returns to the card, not to the fields answered before it.
    said = await me.send(option_number(said, "Fix"))
    said = await me.send(option_number(said, "Participants (our side)"))
    assert "Back to the report" in said
    said = await me.send("Back")
    assert "Please check your report" in said and "Participants (our side): 25" in said
    said = await me.send(option_number(said, "Fix"))
    said = await me.send(option_number(said, "Kind"))
    said = await me.send(option_number(said, "Donation"))
    # The exchange's own type does not belong to a donation: dropped only after a yes.
    assert "Donation / gifts does not ask for Type of exchange: Sport" in said
    said = await me.send(option_number(said, "Yes, change the kind"))
    assert "What was given?" in said  # a new kind asks its own fields, then returns to the review
    said = await walk(me, {"What was given?": "Sách vở", "How many gift packages": "Skip",
                           "gifts worth": "200 USD", "Who received it?": "Skip"}, said)
    assert "Type of exchange" not in said and "Value of gifts: $200" in said
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert report.kind == "donation" and "exchange_type" not in report.details
    assert figures(report)["value_gifts"] == {"USD": Decimal("200")}


async def test_cancel_asks_first_and_keeps_nothing(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await me.send("/report")
    await me.send("1")
    said = await me.send("/cancel")
    assert "Discard this report?" in said
    said = await me.send(option_number(said, "No, continue"))
    assert "When did it take place?" in said
    said = await me.send("/cancel")
    said = await me.send(option_number(said, "Yes, discard"))
    assert "Nothing was saved" in said
    assert await all_reports(db) == []
    assert "nothing to cancel" in (await me.send("/cancel")).lower()


async def test_help_in_the_middle_shows_the_step_again(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await me.send("/report")
    said = await me.send("/help")
    assert "/report" in said and said.rstrip().endswith("10. Other activity\nType the number of your choice.")


async def test_possible_duplicate_is_flagged_but_may_be_submitted(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    for attempt in range(2):
        said = await me.send("/report")
        said = await me.send(option_number(said, "Visit"))
        said = await walk(me, {**COMMON, "What was the occasion?": "Skip"}, said)
        if attempt == 1:
            assert "Report #1 (activity on 22/11/2026) looks the same" in said
        else:
            assert "looks the same" not in said
        await me.send(option_number(said, "Submit"))
    assert len(await all_reports(db)) == 2


async def test_my_reports_correct_and_withdraw_keep_versions(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await walk(me, {**COMMON, "What kind of exchange?": "Sport"}, said)
    await me.send(option_number(said, "Submit"))
    said = await me.send("/myreports")
    assert "#1 · 22/11/2026 · Exchange (giao lưu) · Trạm KSBP XNC Hà Khẩu · 55 people" in said
    said = await me.send("1")
    assert "Report #1" in said and "Correct a field" in said
    said = await me.send(option_number(said, "Correct a field"))
    said = await me.send(option_number(said, "Participants (our side)"))
    assert "Now: 25" in said
    said = await me.send("40")
    # Nothing is saved before the officer sees old → new and says so.
    assert "Correct report #1?" in said and "Participants (our side): 25 → 40" in said
    said = await me.send(option_number(said, "Save"))
    assert "✅ Report #1 corrected (version 2)" in said
    said = await me.send("/report 1")
    assert "v2 corrected by Vàng A Chứ" in said and "Participants (our side): 25 → 40" in said
    clock.advance(hours=49)
    said = await me.send("/myreports")
    said = await me.send("1")
    assert "Correct a field" not in said and "Withdraw" not in said
    async with db.unit_of_work() as uow:
        versions = (await uow.session.scalars(select(ReportVersion).order_by(ReportVersion.version))).all()
        ours = [next(m["amount"] for m in v.data["measures"] if m["measure"] == "participants_ours")
                for v in versions]
        assert [(v.version, v.action) for v in versions] == [(1, "submitted"), (2, "corrected")]
        assert ours == ["25", "40"]


async def test_withdraw_within_48_hours(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Other activity"))
    said = await walk(me, COMMON, said)
    await me.send(option_number(said, "Submit"))
    await me.send("/myreports")
    said = await me.send("1")
    said = await me.send(option_number(said, "Withdraw"))
    said = await me.send(option_number(said, "Yes, withdraw"))
    assert "Report #1 was withdrawn." in said
    [report] = await all_reports(db)
    assert report.status == "withdrawn" and report.version == 2
    assert "❌" in await me.send("/myreports")


async def test_coordinator_reports_for_a_unit_of_their_cluster(core: Core, db: Database, clock: Clock) -> None:
    from tests.reporting import person

    me = await person(core, db, clock, "coord", "coordinator", cluster=2)
    said = await me.send("/report")
    assert "Which unit is this report for?" in said
    assert "No unit you may report for matches “Bản Khẹo”" in await me.send("Bản Khẹo")  # cluster 1
    said = await me.send("lao cai")
    assert "Several units match" in said
    said = await me.send(option_number(said, "Đồn Biên phòng CKQT Lào Cai"))
    assert "What kind of activity" in said
    said = await me.send(option_number(said, "Other activity"))
    said = await walk(me, COMMON, said)
    assert "Unit: Đồn Biên phòng CKQT Lào Cai" in said
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert report.unit.code == "LCA-DBP-CKQT-LAO-CAI" and report.author.role == "coordinator"


async def test_resume_then_cancel_then_continue_returns_to_the_same_step(core: Core, db: Database,
                                                                        clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    await me.send(option_number(said, "Exchange"))
    await me.send("hôm qua")
    said = await me.send("/report")
    assert "unfinished report" in said
    said = await me.send("/cancel")
    said = await me.send(option_number(said, "No, continue"))
    assert "Which twinned partner" in said
    said = await me.send("/report")
    said = await me.send(option_number(said, "Continue"))
    assert "Which twinned partner" in said
    said = await me.send("/report")
    said = await me.send(option_number(said, "Discard"))
    assert "discarded" in said and "What kind of activity" in said
