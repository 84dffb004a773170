"""The ``twinbot`` command line: help, db upgrade, org import/export and invites.

Most tests call ``bot.cli.main(argv)`` in-process (it runs its own event loop, so they are plain ``def``);
a few run ``python -m bot`` for real. Both always use a SQLite file of their own: they test the command,
not the database engine.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from bot import cli
from storage import migrate, registry

SUBCOMMANDS = ("console", "run", "webhook", "db", "org", "invite")
HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
SAMPLE = str(registry.SAMPLE_REGISTRY)


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_clean: None) -> Path:
    """An empty working directory (so no .env is read) and no TWINBOT_* variables but the database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWINBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'twinbot.db'}")
    return tmp_path


@pytest.fixture
def sample_db(workdir: Path, sqlite_template: Path) -> Path:
    """``workdir``'s database, migrated and holding the sample registry."""
    path = workdir / "twinbot.db"
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture(autouse=True)
def _logging_restored(restore_logging: None) -> None:
    """main() installs its own root handler; conftest's restore_logging puts pytest's back."""


def twinbot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``twinbot ARGV`` in-process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def twinbot_process(cwd: Path, *argv: str, module: str = "bot", **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGV`` for real, with only the TWINBOT_* variables given."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWINBOT_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", module, *argv], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60,
        check=False,
    )


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def registry_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: rows(db, f"SELECT * FROM {table} ORDER BY 1")
        for table in ("clusters", "provinces", "province_aliases", "units", "twinning_pairs", "invites")
    }


# --- help ------------------------------------------------------------------------------------


def test_help_lists_every_subcommand(tmp_path: Path) -> None:
    done = twinbot_process(tmp_path, "--help", TWINBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: twinbot ")
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ")]
    assert [name for name in listed if name in SUBCOMMANDS] == list(SUBCOMMANDS)
    assert not (tmp_path / "x.db").exists()  # help touches no database


@pytest.mark.parametrize(
    "argv",
    [
        [name, "--help"] for name in SUBCOMMANDS
    ] + [
        ["db", "upgrade", "--help"], ["db", "current", "--help"], ["db", "revision", "--help"],
        ["org", "import", "--help"], ["org", "export", "--help"], ["org", "sample", "--help"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_every_subcommand_has_help(workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = twinbot(capsys, *argv)
    assert code == 0 and err == ""
    assert out.startswith(f"usage: twinbot {' '.join(argv[:-1])}")


@pytest.mark.parametrize("argv", [[], ["db"], ["org"], ["invite"], ["frobnicate"]], ids=repr)
def test_a_missing_or_unknown_command_is_a_usage_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = twinbot(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("usage: twinbot") and "error:" in err


# --- db --------------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_is_idempotent(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = workdir / "twinbot.db"
    assert not db.exists()

    assert twinbot(capsys, "db", "upgrade") == (0, f"schema at {HEAD}\n", "")
    assert rows(db, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert rows(db, "SELECT count(*) FROM provinces") == [(34,)]
    assert rows(db, "SELECT province_code FROM province_aliases WHERE key = 'ha giang'") == [("08",)]
    assert rows(db, "SELECT count(*) FROM units") == [(0,)]
    before = registry_rows(db)

    assert twinbot(capsys, "db", "upgrade") == (0, f"schema at {HEAD}\n", "")
    assert registry_rows(db) == before
    assert twinbot(capsys, "db", "current") == (0, f"{HEAD}\n", "")


# --- org -------------------------------------------------------------------------------------


def test_org_import_loads_then_changes_nothing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = workdir / "twinbot.db"

    code, out, err = twinbot(capsys, "org", "import", SAMPLE)
    assert (code, err) == (0, "")
    assert out == f"{SAMPLE}: imported – created 5 clusters, 76 units, 62 pairs\n"
    after_first = registry_rows(db)
    assert len(after_first["units"]) == 76

    assert twinbot(capsys, "org", "import", SAMPLE) == (0, f"{SAMPLE}: imported – no changes\n", "")
    assert registry_rows(db) == after_first


def test_org_import_dry_run_shows_changes_and_keeps_none(
    sample_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = sample_db.parent / "edited.yaml"
    edited.write_text(
        registry.SAMPLE_REGISTRY.read_text(encoding="utf-8").replace(
            '    name: "Đồn Biên phòng CKQT Lào Cai"', '    name: "Đồn Biên phòng Cửa khẩu Quốc tế Lào Cai"'
        ),
        encoding="utf-8",
    )
    before = registry_rows(sample_db)

    assert twinbot(capsys, "org", "import", "--dry-run", str(edited)) == (
        0, f"{edited}: would change – updated 1 units\n", "")
    assert registry_rows(sample_db) == before

    assert twinbot(capsys, "org", "import", str(edited)) == (0, f"{edited}: imported – updated 1 units\n", "")
    assert rows(sample_db, "SELECT name FROM units WHERE code = 'LCA-DBP-CKQT-LAO-CAI'") == [
        ("Đồn Biên phòng Cửa khẩu Quốc tế Lào Cai",)
    ]


def test_org_import_of_a_bad_file_exits_1_listing_file_line_reason(
    sample_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = registry.SAMPLE_REGISTRY.read_text(encoding="utf-8").split("\n")
    # Change a unit's name (a change that must not be applied), and add three bad rows.
    lines[lines.index('    name: "Đồn Biên phòng CKQT Lào Cai"')] = '    name: "Đổi tên"'
    at = lines.index("units:") + 1
    lines[at:at] = [
        "  - {code: T-1, name: Xã thử, kind: commune, province: Hà Giang}",  # fine: old name
        "  - {code: T-2, name: Xã thử, kind: village, province: Atlantis}",
        "  - {code: T-3, name: Xã thử, kind: hamlet, province: Long An}",
    ]
    lines.append("  - {code: T-P, unit: T-404, partner: X, country: CN, kind: ban_ban, signed: 31/02/2015}")
    bad = sample_db.parent / "bad.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = registry_rows(sample_db)

    code, out, err = twinbot(capsys, "org", "import", str(bad))

    assert (code, out) == (1, "")
    last = len(lines)
    assert err.splitlines() == [
        f"twinbot: {bad} was not imported; nothing changed:",
        f"{bad}:{at + 2}: unknown province 'Atlantis' (use one of the 34 provinces or a pre-2025 name)",
        f"{bad}:{at + 3}: unit kind 'hamlet' is not one of border_post, border_command, commune, village, "
        "friendship_union, other",
        f"{bad}:{last}: pair T-P names unit 'T-404', which is not in the units section",
        f"{bad}:{last}: date signed '31/02/2015' is not a real date",
    ]
    assert registry_rows(sample_db) == before


def test_org_import_of_a_missing_file_exits_1(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = twinbot(capsys, "org", "import", "nope.yaml")
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == "nope.yaml: cannot read (No such file or directory)"
    assert not (workdir / "twinbot.db").exists()  # a failed import does not even create the database


def test_org_export_round_trips(sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    code, printed, err = twinbot(capsys, "org", "export")
    assert (code, err) == (0, "")
    assert printed.startswith("# twinbot organisation registry")

    out_file = tmp_path / "exported.yaml"
    assert twinbot(capsys, "org", "export", str(out_file)) == (0, f"wrote {out_file}\n", "")
    assert out_file.read_text(encoding="utf-8") == printed

    # Importing the export changes nothing; into an empty database it exports the same text again.
    assert twinbot(capsys, "org", "import", str(out_file)) == (0, f"{out_file}: imported – no changes\n", "")
    monkeypatch.setenv("TWINBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    assert twinbot(capsys, "org", "import", str(out_file))[0] == 0
    assert twinbot(capsys, "org", "export") == (0, printed, "")


def test_org_sample_prints_the_bundled_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert twinbot(capsys, "org", "sample") == (0, f"{SAMPLE}\n", "")


# --- invite ----------------------------------------------------------------------------------


def invite_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = twinbot(capsys, "invite", *argv, "--json")
    assert (code, err) == (0, ""), err
    assert out.count("\n") == 1
    return json.loads(out)


def test_invite_json_without_a_bot_username_has_no_link(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    created = invite_json(capsys, "--role", "officer", "--unit", "LCA-DBP-CKQT-LAO-CAI")

    assert created["link"] is None
    assert created["role"] == "officer"
    assert rows(sample_db, "SELECT i.role, u.code, i.used_at FROM invites i JOIN units u ON u.id = i.unit_id "
                f"WHERE i.code = '{created['code']}'") == [("officer", "LCA-DBP-CKQT-LAO-CAI", None)]


@pytest.mark.parametrize("username", ["twinbot_test_bot", "@twinbot_test_bot"])
def test_invite_json_with_a_bot_username_has_a_start_link(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    monkeypatch.setenv("TWINBOT_BOT_USERNAME", username)

    created = invite_json(capsys, "--role", "officer", "--unit", "lca-dbp-ckqt-lao-cai")

    assert created["link"] == f"https://t.me/twinbot_test_bot?start={created['code']}"
    assert len(rows(sample_db, "SELECT * FROM invites")) == 1


def test_invite_for_a_coordinator_needs_a_cluster(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert twinbot(capsys, "invite", "--role", "coordinator") == (
        1, "", "twinbot: a coordinator invite needs --cluster NUMBER\n")
    assert twinbot(capsys, "invite", "--role", "coordinator", "--cluster", "99") == (
        1, "", "twinbot: no cluster number 99\n")
    assert rows(sample_db, "SELECT * FROM invites") == []

    created = invite_json(capsys, "--role", "coordinator", "--cluster", "2")
    assert rows(sample_db, "SELECT c.number FROM invites i JOIN clusters c ON c.id = i.cluster_id "
                f"WHERE i.code = '{created['code']}'") == [(2,)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--role", "officer", "--unit", "NO-SUCH-UNIT"], "no unit with the code 'NO-SUCH-UNIT'"),
        (["--role", "officer"], "an officer invite needs --unit CODE"),
        (["--role", "officer", "--unit", "LCA-DBP-CKQT-LAO-CAI", "--days", "0"], "--days must be between 1 and 365"),
        (["--role", "admin", "--days", "366"], "--days must be between 1 and 365"),
    ],
)
def test_a_bad_invite_is_a_clear_error_and_creates_nothing(
    sample_db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = twinbot(capsys, "invite", *argv, "--json")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(f"twinbot: {message}")
    assert rows(sample_db, "SELECT * FROM invites") == []


def test_invite_of_a_deactivated_unit_is_refused(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = registry.SAMPLE_REGISTRY.read_text(encoding="utf-8")
    without = sample_db.parent / "without.yaml"
    doc_lines = [
        line for line in text.split("\n")
        if "code: CBG-LHHN," not in line
    ]
    without.write_text("\n".join(doc_lines), encoding="utf-8")
    assert twinbot(capsys, "org", "import", str(without)) == (0, f"{without}: imported – deactivated 1 units\n", "")

    code, _, err = twinbot(capsys, "invite", "--role", "officer", "--unit", "CBG-LHHN")
    assert code == 1 and "CBG-LHHN" in err
    assert rows(sample_db, "SELECT active FROM units WHERE code = 'CBG-LHHN'") == [(0,)]


def test_invite_as_text_tells_how_to_use_it(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = twinbot(capsys, "invite", "--role", "admin", "--days", "3")
    assert (code, err) == (0, "")
    first, second = out.splitlines()
    invite_code = first.split()[1]
    assert first.startswith(f"Invite {invite_code} – admin of everything, single use, expires ")
    assert second == f"The new user sends: /start {invite_code}"


# --- the real entry point, end to end --------------------------------------------------------


def test_python_m_bot_end_to_end(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'twinbot.db'}"

    upgraded = twinbot_process(tmp_path, "db", "upgrade", TWINBOT_DATABASE_URL=url)
    assert (upgraded.returncode, upgraded.stdout, upgraded.stderr) == (0, f"schema at {HEAD}\n", "")

    imported = twinbot_process(tmp_path, "org", "import", SAMPLE, TWINBOT_DATABASE_URL=url)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == f"{SAMPLE}: imported – created 5 clusters, 76 units, 62 pairs\n"

    invited = twinbot_process(tmp_path, "invite", "--role", "officer", "--unit", "LCA-DBP-CKQT-LAO-CAI", "--json",
                              TWINBOT_DATABASE_URL=url, TWINBOT_BOT_USERNAME="twinbot_test_bot")
    assert invited.returncode == 0, invited.stderr
    created = json.loads(invited.stdout)
    assert created["link"] == f"https://t.me/twinbot_test_bot?start={created['code']}"

    # Also as ``python -m bot.cli``, where the module is __main__: its errors are still one line, exit 1.
    unknown = twinbot_process(tmp_path, "invite", "--role", "officer", "--unit", "NOPE", module="bot.cli",
                              TWINBOT_DATABASE_URL=url)
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (1, "", "twinbot: no unit with the code 'NOPE'\n")

    no_token = twinbot_process(tmp_path, "run", TWINBOT_DATABASE_URL=url)
    assert no_token.returncode != 0 and no_token.stdout == ""
    assert no_token.stderr == "twinbot: TWINBOT_TELEGRAM_TOKEN is not set; ask @BotFather for a token\n"
