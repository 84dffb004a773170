"""``twinbot digest preview`` writes each language's text, the chart and the XLSX; ``twinbot digest send`` sends
now, once."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot import digest_cli
from bot.settings import Settings
from storage.db import Database
from tests.botapi_stub import BotApiStub
from tests.telegram_harness import TOKEN
from tests.test_cli import _logging_restored, sample_db, twinbot, workdir  # noqa: F401  (fixtures)
from tests.test_digest import WEEK, add_person, known_week

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_preview_writes_text_chart_and_spreadsheet_per_language(sample_db: Path, workdir: Path,  # noqa: F811
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = twinbot(capsys, "digest", "preview", "--cluster", "2", "--week", "2026-W47", "--out", "out")
    assert (code, err) == (0, "")
    names = sorted(p.name for p in (workdir / "out").iterdir())
    assert names == sorted(f"digest-cluster2-2026-W47-{locale}.{ext}" for locale in ("vi", "en")
                           for ext in ("txt", "html", "png", "xlsx"))
    assert len(out.splitlines()) == 8
    english = (workdir / "out" / "digest-cluster2-2026-W47-en.txt").read_text(encoding="utf-8")
    assert english.startswith("📊 Cluster 2 – week 16/11 – 22/11/2026") and "<b>" not in english
    assert (workdir / "out" / "digest-cluster2-2026-W47-vi.png").read_bytes().startswith(PNG_MAGIC)
    book = load_workbook(io.BytesIO((workdir / "out" / "digest-cluster2-2026-W47-vi.xlsx").read_bytes()))
    assert len(book.sheetnames) == 2


def test_preview_refuses_a_bad_week_or_cluster(sample_db: Path,  # noqa: F811
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = twinbot(capsys, "digest", "preview", "--cluster", "2", "--week", "2026-W60", "--out", "x")
    assert code == 2 and "week 60 does not exist in 2026" in err
    code, _, err = twinbot(capsys, "digest", "preview", "--cluster", "9", "--out", "x")
    assert code == 1 and "no cluster number 9" in err


async def test_send_now_goes_once(db: Database, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4)
    async with BotApiStub() as stub:
        settings = Settings(_env_file=None, telegram_token=TOKEN, telegram_api_base=stub.base_url,  # type: ignore[call-arg]
                            database_url=db_url)
        args = argparse.Namespace(digest_command="send", cluster=4, week=WEEK)
        assert await digest_cli.digest(args, settings) == 0
        assert "1 new recipient(s); 1 sent" in capsys.readouterr().out
        assert await digest_cli.digest(args, settings) == 0
        assert "nothing new to send" in capsys.readouterr().out
        assert len(stub.sent_texts(401)) == 1 and len(stub.calls_of("sendDocument")) == 1
        assert stub.violations == []
