"""The chat action a deferred job shows says what is coming: "sending a file…" for a spreadsheet, "typing…" for
figures that come as text (the sign's repetition over a long export: tests/test_export.py)."""

from __future__ import annotations

from handlers.core import Core
from storage.db import Database
from tests.conftest import Clock
from tests.reporting import report
from tests.telegram_harness import TelegramHarness, text
from tests.test_onboarding import make_invite


async def test_figures_show_typing_and_a_spreadsheet_shows_a_file_on_its_way(
        core: Core, db: Database, clock: Clock) -> None:
    await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", day=clock().date(), packages=12)
    async with TelegramHarness(core) as tg:
        user = tg.user(3004)
        await user.send(f"/start {await make_invite(db, clock, role='coordinator', unit=None, cluster=2)}")
        for command, action, answer in (("/stats week", "typing", "12"),
                                        ("/export week", "upload_document", "Spreadsheet ready")):
            calls = await user.send(command)
            assert answer in text(calls)
            # Every sign shown is of that kind; a slow machine may show it more than once (every 4 s).
            shown = [c.params["action"] for c in calls if c.method == "sendChatAction"]
            assert shown and set(shown) == {action}, (command, shown)
        assert tg.stub.violations == []
