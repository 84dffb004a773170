"""Asking the bot about recent activity: every command with every role, filters, search, figures and voiding."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage import digests, rates
from storage.db import Database
from storage.scope import Scope
from tests.conftest import Clock
from tests.reporting import person, report

# Cluster 2: Lào Cai (LCA-…), cluster 1: Thanh Hóa (THO-…), cluster 5: An Giang.
LAO_CAI_POST = "LCA-DBP-CKQT-LAO-CAI"
LAO_CAI_VILLAGE = "LCA-THON-COC-PHUONG"
THANH_HOA_VILLAGE = "THO-BAN-KHEO"


@pytest.fixture
async def world(core: Core, db: Database, clock: Clock) -> dict[str, object]:
    day = clock().date()
    ids = {
        "post": await report(db, clock, LAO_CAI_POST, kind="donation", day=day - dt.timedelta(days=1),
                             amount="350000000", packages=200, description="Trao quà Tết tại Hà Khẩu"),
        "village": await report(db, clock, LAO_CAI_VILLAGE, kind="exchange", day=day - dt.timedelta(days=3),
                                venue="partner", description="Giao lưu văn nghệ với tổ Tam Bình Bá"),
        "thanh_hoa": await report(db, clock, THANH_HOA_VILLAGE, kind="visit", day=day - dt.timedelta(days=2),
                                  description="Thăm hỏi bản Thà Láu nhân dịp Quốc khánh Lào"),
    }
    return {
        "ids": ids,
        "officer": await person(core, db, clock, "officer", "officer", unit=LAO_CAI_POST),
        "coordinator": await person(core, db, clock, "coordinator", "coordinator", unit=None, cluster=2),
        "admin": await person(core, db, clock, "admin", "admin", unit=None),
        "stranger": ConsoleChannel(core, user_id="stranger", language_code="en", clock=clock),
    }


def user(world: dict[str, object], role: str) -> ConsoleChannel:
    channel = world[role]
    assert isinstance(channel, ConsoleChannel)
    return channel


def ids(world: dict[str, object]) -> dict[str, int]:
    return world["ids"]  # type: ignore[return-value]


COMMANDS = ["/recent", "/find quà", "/stats month", "/silent", "/void 1 duplicate", "/users", "/role 1 none",
            "/invite admin", "/report 1"]
ALLOWED = {
    "stranger": set(),
    "officer": {"/recent", "/find quà", "/stats month", "/report 1"},
    "coordinator": {"/recent", "/find quà", "/stats month", "/silent", "/report 1"},
    "admin": set(COMMANDS),
}


@pytest.mark.parametrize("role", list(ALLOWED))
async def test_every_command_with_every_role(world: dict[str, object], role: str) -> None:
    for command in COMMANDS:
        said = await user(world, role).send(command)
        if role == "stranger":
            assert "you need an invite" in said, command
        elif command in ALLOWED[role]:
            assert "not available to you" not in said or command == "/report 1", (command, said)
        else:
            assert "Sorry, this command is not available to you." in said, (command, said)


async def test_recent_is_scoped_by_role(world: dict[str, object]) -> None:
    officer = await user(world, "officer").send("/recent")
    assert "Đồn Biên phòng CKQT Lào Cai" in officer and "Thôn Cốc Phương" not in officer
    coordinator = await user(world, "coordinator").send("/recent")
    assert "Thôn Cốc Phương" in coordinator and "Bản Khẹo" not in coordinator
    admin = await user(world, "admin").send("/recent")
    assert "Bản Khẹo" in admin and admin.index("#1 ·") < admin.index("#3 ·") < admin.index("#2 ·")


async def test_report_outside_scope_reveals_nothing(world: dict[str, object]) -> None:
    officer = user(world, "officer")
    outside = await officer.send(f"/report {ids(world)['thanh_hoa']}")
    missing = await officer.send("/report 99999")
    assert outside.replace(str(ids(world)["thanh_hoa"]), "N") == missing.replace("99999", "N")
    assert "Bản Khẹo" not in outside
    mine = await officer.send(f"/report {ids(world)['post']}")
    assert "Trao quà Tết tại Hà Khẩu" in mine and "Filed by" in mine


async def test_recent_filters_and_bad_filters(world: dict[str, object]) -> None:
    admin = user(world, "admin")
    said = await admin.send('/recent 20 kind:donation province:"Lào Cai" partner:CN since:01/11/2026')
    assert "#1 ·" in said and "#2 ·" not in said and "#3 ·" not in said
    assert "#3 ·" in await admin.send("/recent partner:LA")
    assert "#3 ·" in await admin.send("/recent partner:Hủa")
    assert "I don't understand “colour:red”" in await admin.send("/recent colour:red")
    assert "Unknown province" in await admin.send("/recent province:Atlantis")
    assert "Ask for 1 to 50" in await admin.send("/recent 500")
    assert "dd/mm/yyyy" in await admin.send("/recent since:2026-11-01")
    assert "not a date" in await admin.send("/recent since:31/02/2026")
    assert "No reports match." in await admin.send("/recent kind:patrol")
    assert "quote is not closed" in await admin.send('/recent province:"Lào Cai')


async def test_recent_pages(core: Core, db: Database, clock: Clock, world: dict[str, object]) -> None:
    for n in range(5):
        await report(db, clock, LAO_CAI_POST, day=clock().date() - dt.timedelta(days=10 + n))
    admin = user(world, "admin")
    said = await admin.send("/recent 3")
    assert "(1–3)" in said and "Older ▶" in said and "Newer" not in said
    said = await admin.send("Older")
    assert "(4–6)" in said and "◀ Newer" in said
    said = await admin.send("Older")
    assert "(7–8)" in said and "Older" not in said


@pytest.mark.parametrize(("words", "found"), [
    ("lao cai", True),  # the unit's name is searched too, accents folded
    ("tam binh", True),
    ("ban kheo", False),  # in cluster 1: not the coordinator's
    ("THA LAU", False),
])
async def test_find_is_accent_insensitive_and_scoped(world: dict[str, object], words: str, found: bool) -> None:
    said = await user(world, "coordinator").send(f"/find {words}")
    assert ("Found" in said) is found, said


async def test_find_ignores_search_syntax(world: dict[str, object]) -> None:
    admin = user(world, "admin")
    assert "Bản Khẹo" in await admin.send("/find ban kheo")
    for nasty in ['"', "*", "NEAR", "OR", "%", "_", "' OR 1=1 --", 'tết" OR "x', "NEAR(a b)"]:
        said = await admin.send(f"/find {nasty}")
        assert "Found" not in said or "#" in said, nasty
    assert "Type words to look for" in await admin.send("/find %")


async def test_stats_figures(world: dict[str, object]) -> None:
    said = await user(world, "coordinator").send("/stats month")
    assert "Activities 01/11/2026–23/11/2026 · cluster 2" in said
    assert "Reports: 2" in said and "Donation / gifts 1" in said and "Exchange (giao lưu) 1" in said
    assert "Gift packages: 200" in said and "₫350,000,000" in said
    assert "Participants (our side): 20" in said and "Participants (partner side): 24" in said
    assert "Lào Cai: 2 (held on our side 1, on the partner's side 1)" in said
    assert "China – Vân Nam: 2" in said
    officer = await user(world, "officer").send("/stats 11/2026")
    assert "Reports: 1" in officer
    assert "outside what you may see" in await user(world, "coordinator").send("/stats cluster:1")
    assert "outside what you may see" in await user(world, "officer").send("/stats unit:THO-BAN-KHEO")
    assert "Reports: 1" in await user(world, "admin").send("/stats month cluster:1")


@pytest.mark.parametrize(("period", "expected"), [
    ("2026-W47", "16/11/2026–22/11/2026"),
    ("01/10/2026-31/10/2026", "No reports in this period."),
    ("01/01/2016-31/12/2026", "at most three years"),
    ("2026-W60", "not a week"),
    ("13/2026", "not a month"),
    ("someday", "I don't understand the period"),
])
async def test_stats_periods(world: dict[str, object], period: str, expected: str) -> None:
    assert expected in await user(world, "admin").send(f"/stats {period}")


async def test_void_withdraws_from_figures_with_reason_and_history(world: dict[str, object]) -> None:
    admin = user(world, "admin")
    post = ids(world)["post"]
    said = await admin.send(f"/void {post} nhập trùng")
    assert "voided" in said
    assert "Reports: 1" in await admin.send("/stats month cluster:2")
    card = await admin.send(f"/report {post}")
    assert "Voided by an administrator: nhập trùng" in card and "v2 voided by Admin" in card
    assert "already voided" in await admin.send(f"/void {post} again")
    assert "Give a reason" in await admin.send(f"/void {post}")


async def test_silent_units(world: dict[str, object], db: Database) -> None:
    # /silent reads the ISO week as the digest does (this week by default, which began today), grouped by province.
    coordinator = user(world, "coordinator")
    said = await coordinator.send("/silent")
    assert said.startswith("No report in the week 23/11/2026 – 29/11/2026 (27)\nThe week is not over yet.\n\n")
    assert "\nLào Cai (" in said and "\nLai Châu (" in said
    lao_cai = said.split("\nLào Cai (")[1].split("\n\n")[0]
    assert "• Đồn Biên phòng CKQT Lào Cai: silent since 22/11/2026" in lao_cai
    assert "• Thôn Cốc Phương, xã Bản Lầu: silent since 20/11/2026" in lao_cai
    assert "• Đồn Biên phòng Pha Long: never reported" in lao_cai
    said = await coordinator.send("/silent last")
    assert said.startswith("No report in the week 16/11/2026 – 22/11/2026 (25)")
    assert "Đồn Biên phòng CKQT Lào Cai" not in said and "Thôn Cốc Phương" not in said
    # The digest of that week names the same units.
    async with db.unit_of_work() as uow:
        cluster = await digests.cluster_by_number(uow.session, 2)
        assert cluster is not None
        data = await digests.collect(uow.session, cluster, digests.IsoWeek(2026, 47))
    silent = {u.name for u in data.units if u.silent_weeks}
    assert len(silent) == 25 and all(f"• {name}:" in said for name in silent)


async def test_silent_is_the_reporting_rate(world: dict[str, object]) -> None:
    # The world's reports were filed on Monday 23/11 for days of week 47: answered, but after Friday's reminder.
    # A period rather than a week: the reporting rate, unit by unit.
    said = await user(world, "coordinator").send("/silent 28/09/2026-22/11/2026")
    lines = said.splitlines()
    assert lines[0] == "Weekly reports · cluster 2 · 28/09/2026 – 22/11/2026 (8 weeks)"
    # 27 active units in cluster 2 × 8 weeks; two of them answered one week each, late.
    assert lines[1] == "Reporting rate: 0.9% of 216 unit-weeks answered, 0% on time"
    assert "• Đồn Biên phòng CKQT Lào Cai (Lào Cai): 1/8 weeks, 0 on time" in lines
    assert "• Đồn Biên phòng Pha Long (Lào Cai): 0/8 weeks, 0 on time · ⚠️ silent for the last 8 weeks" in lines
    assert "Bản Khẹo" not in said  # cluster 1
    said = await user(world, "admin").send("/silent 2026-W47 cluster:2")
    assert "(1 week)" in said and "Reporting rate: 7.4% of 27 unit-weeks answered" in said


async def test_the_reporting_rate_lets_others_run_while_it_goes_through_its_rows(
        world: dict[str, object], db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A year of a cluster is thousands of (unit, day) rows, gone through on the event loop: it pauses every
    ROWS_BETWEEN_PAUSES rows so that officers' steps are not held up meanwhile (bench/contention.py)."""
    monkeypatch.setattr(rates, "ROWS_BETWEEN_PAUSES", 1)
    turns = 0

    async def someone_else() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async with db.unit_of_work() as uow:
        cluster = await digests.cluster_by_number(uow.session, 2)
        assert cluster is not None
        other = asyncio.create_task(someone_else())
        await asyncio.sleep(0)
        before = turns
        found = await rates.unit_rates(uow.session, Scope.cluster(cluster.id), [digests.IsoWeek(2026, 47)],
                                       ZoneInfo("Asia/Ho_Chi_Minh"))
        during = turns - before
        other.cancel()
    # Two units of cluster 2 reported in week 47, each on its own day: two rows, a pause after each.
    assert sum(unit.rate.received for unit in found) == 2
    assert during >= 2


async def test_users_and_roles(world: dict[str, object]) -> None:
    admin = user(world, "admin")
    said = await admin.send("/users")
    assert "Officer · officer · Đồn Biên phòng CKQT Lào Cai · console" in said
    officer_id = said.split("Officer · officer")[0].rsplit("#", 1)[1].strip().split()[0]
    said = await admin.send(f"/role {officer_id} coordinator 2")
    assert "is now coordinator of cluster 2" in said
    assert "Thôn Cốc Phương" in await user(world, "officer").send("/recent")
    assert "There is no person" in await admin.send("/role 999 admin")
    assert "Usage" in await admin.send("/role x")


# --- the same questions in Vietnamese, as coordinators ask them ---------------------------------

ALL = {"post", "village", "thanh_hoa"}  # dated 22/11, 20/11 and 21/11/2026; today is Monday 23/11/2026


def found(world: dict[str, object], said: str) -> set[str]:
    by_id = {n: name for name, n in ids(world).items()}
    return {by_id[int(n)] for n in re.findall(r"^#(\d+) ·", said, re.MULTILINE)}


@pytest.mark.parametrize(("words", "expected"), [
    ("loại:tặng quà", {"post"}),
    ("loai:tang qua", {"post"}),  # typed without accents
    ("loại:giao lưu", {"village"}),
    ("đối tác:Lào", {"thanh_hoa"}),  # a partner that names a country filters by the country
    ("doi tac:lao", {"thanh_hoa"}),
    ("đối tác:Hủa Phăn", {"thanh_hoa"}),
    ("đối tác:Tam Bình Bá", {"village"}),
    ("nước:Trung Quốc", {"post", "village"}),
    ("nước:Campuchia", set()),
    ("tỉnh:Lào Cai", {"post", "village"}),
    ('tỉnh:"Thanh Hóa"', {"thanh_hoa"}),
    ("đơn vị:LCA-THON-COC-PHUONG", {"village"}),
    ("đơn vị:Cốc Phương", {"village"}),  # part of the unit's name
    ("cụm:1", {"thanh_hoa"}),
    ("từ:21/11/2026", {"post", "thanh_hoa"}),
    ("đến:21/11/2026", {"village", "thanh_hoa"}),
    ("từ:21/11 đến:21/11", {"thanh_hoa"}),
    ("tuần này", set()),
    ("tuần trước", ALL),
    ("tháng này", ALL),
    ("tháng trước", set()),
    ("quý này", ALL),
    ("quý III", set()),
    ("quý IV", ALL),
    ("6 tháng đầu năm", set()),
    ("năm nay", ALL),
    ("năm 2025", set()),
    ("năm 2026", ALL),
    ("2 loại:tặng quà tỉnh:Lào Cai tháng này", {"post"}),
    ("tỉnh:Lào Cai tuần trước", {"post", "village"}),
])
async def test_recent_in_vietnamese(core: Core, db: Database, clock: Clock, world: dict[str, object], words: str,
                                    expected: set[str]) -> None:
    admin = await person(core, db, clock, "quan-tri", "admin", lang="vi")
    said = await admin.send(f"/recent {words}")
    assert found(world, said) == expected, said
    if not expected:
        assert "Không có báo cáo nào phù hợp." in said


async def test_questions_in_vietnamese_are_answered_in_vietnamese(core: Core, db: Database, clock: Clock,
                                                                 world: dict[str, object]) -> None:
    coordinator = await person(core, db, clock, "dieu-phoi", "coordinator", cluster=2, lang="vi")
    # /help suggests Vietnamese words to a Vietnamese reader.
    assert "/recent 20 loại:tặng quà đối tác:Lào tháng này" in await coordinator.send("/help")
    said = await coordinator.send("/stats tháng này")
    assert "Số báo cáo: 2" in said and "01/11/2026–23/11/2026" in said
    said = await coordinator.send("/stats quý III")
    assert "01/07/2026–30/09/2026" in said and "Không có báo cáo nào" in said
    said = await coordinator.send("/stats tuần trước đơn vị:Cốc Phương")
    assert "Số báo cáo: 1" in said and "Thôn Cốc Phương" in said
    said = await coordinator.send("/stats năm nay tỉnh:Lào Cai")
    assert "Số báo cáo: 2" in said
    # Words it does not know are answered with the words it does, in Vietnamese.
    said = await coordinator.send("/recent màu:đỏ")
    assert "Không hiểu “màu:đỏ”" in said and "loại:…, tỉnh:…, đối tác:…, nước:…" in said
    said = await coordinator.send("/recent loại:bơi lội")
    assert "Không có loại “bơi lội”" in said and "Tặng quà, hỗ trợ" in said
    said = await coordinator.send("/stats hôm kia")
    assert "Không hiểu khoảng thời gian “hôm kia”" in said and "6 tháng đầu năm" in said
    said = await coordinator.send("/recent nước:Thái Lan")
    assert "Không có nước “Thái Lan”" in said and "Trung Quốc; Lào; Campuchia" in said
    # Another cluster's unit is answered as if there were none.
    assert "Không có báo cáo nào phù hợp." in await coordinator.send("/recent đơn vị:THO-BAN-KHEO")
    said = await coordinator.send("/recent đơn vị:Đồn")
    assert "Có nhiều đơn vị khớp với “Đồn”" in said
