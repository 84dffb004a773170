"""The files the annual report is computed with, and the command line that makes it: an indicator file and a plan
(YAML or XLSX) are checked whole, a bad row named as file:line: reason and nothing of a failed import applied;
``twinbot report`` writes the DOCX, the XLSX and the chat summary; a twinning pair's rhythm in the registry."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from alembic import command
from docx import Document
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from handlers.indicators import IndicatorError, parse_indicators
from handlers.plan_file import PlanError, apply_plan, parse_plan_xlsx, parse_plan_yaml
from storage import indicator_sets, migrate, plans, registry
from storage.db import Database
from storage.models import IndicatorSet, PlanTarget, Report, TwinningPair
from tests.annual_world import known_half_years
from tests.test_cli import twinbot


def spec():  # type: ignore[no-untyped-def]
    return parse_indicators(indicator_sets.default_document(), "default.yaml")


# --- the indicator file ------------------------------------------------------------------------------

BAD_INDICATORS = """\
version: 1
indicators:
  - key: activities
    label: "Số hoạt động"
    count: reports
  - key: activities
    label: "Lại số hoạt động"
    count: reports
  - key: gifts
    label: "Số suất quà"
    sum: gift_parcels
  - key: value
    label: "Trị giá"
    sum: value_gifts
    currency: dong
  - key: held
    label: "tổ chức tại"
    count: reports
    venue: [ours, moon]
    part_of: nothing
  - key: pairs
    label: "Cặp"
    count: pairs_active
    of: units
  - key: both
    label: "Cả hai"
    count: reports
    sum: patients
  - key: Bad-Key
    label: "x"
    count: reports
    colour: red
by_place: [activities, ghosts]
summary:
  - "Trong {period}, {scope} có {activities} hoạt động và {unknown} điều khác."
"""


def test_a_bad_indicator_file_names_every_bad_row() -> None:
    with pytest.raises(IndicatorError) as caught:
        parse_indicators(BAD_INDICATORS, "chi-tieu.yaml")
    assert caught.value.problems == [
        "chi-tieu.yaml:6: key activities is given twice (first on line 3)",
        "chi-tieu.yaml:11: sum: 'gift_parcels' is not a measure (participants_ours, participants_partner, "
        "gift_packages, value_gifts, value_cash, patients, value_medicines, delegations, delegation_people, "
        "markers, km, sessions, households, scholarships, value_works)",
        "chi-tieu.yaml:15: currency 'dong' is not a code like VND or USD",
        "chi-tieu.yaml:19: venue: 'moon' is not one of ours, partner, both, border",
        "chi-tieu.yaml:20: part_of names 'nothing', which is not an indicator above this one",
        "chi-tieu.yaml:24: of: 'units' must be pairs for count: pairs_active",
        "chi-tieu.yaml:25: indicator both needs either count: (reports, pairs_active, units_active) or sum: MEASURE",
        "chi-tieu.yaml:29: key 'Bad-Key': use a-z, 0-9 and _, starting with a letter, at most 40 characters",
        "chi-tieu.yaml:32: unknown field 'colour' in an indicator",
        "chi-tieu.yaml:33: by_place names 'ghosts', which is not an indicator of this file",
        "chi-tieu.yaml:35: summary sentence names 'unknown': use {period}, {scope}, {rate}, {on_time} or an "
        "indicator key (with _prev, _change or _of)",
    ]


def test_not_yaml_at_all() -> None:
    with pytest.raises(IndicatorError) as caught:
        parse_indicators("indicators: [\n  - key: x\n", "x.yaml")
    assert caught.value.problems[0].startswith("x.yaml:2: not valid YAML")


def test_the_shipped_file_reads() -> None:
    shipped = spec()
    assert [i.key for i in shipped.indicators][:4] == ["activities", "held_ours", "held_partner", "held_both"]
    assert shipped.depth(shipped["held_ours"]) == 1 and shipped["gift_value"].currency == "VND"


# --- the plan -------------------------------------------------------------------------------------------

BAD_PLAN = """\
version: 1
year: 2026
targets:
  - province: Lào Cai
    activities: 120
  - province: Atlantis
    activities: 3
  - cluster: 2
    activites: 800
  - province: Lào Cai
    gift_value: -5
  - {cluster: two, activities: 1}
"""


def test_a_bad_plan_names_every_bad_row() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan_yaml(BAD_PLAN, "ke-hoach.yaml", spec())
    problems = caught.value.problems
    assert problems[0] == ("ke-hoach.yaml:6: unknown province 'Atlantis' (use one of the 34 provinces or a "
                           "pre-2025 name)")
    assert problems[1].startswith("ke-hoach.yaml:9: 'activites' is not an indicator of the indicator file in use")
    assert problems[2:] == [
        "ke-hoach.yaml:10: Lào Cai is given twice for 2026 (first on line 4)",
        "ke-hoach.yaml:11: target -5 for gift_value must be a number from 0",
        "ke-hoach.yaml:12: cluster 'two' must be a whole number from 1",
    ]


def plan_workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_plan_as_a_spreadsheet() -> None:
    content = plan_workbook([["Năm", "Tỉnh", "Cụm", "activities", "Trị giá quà tặng"],
                             [2026, "Lào Cai", None, 120, 500],
                             [2026, None, 2, 800, None],
                             [None, None, None, None, None],
                             [2027, "Hà Giang", None, 10, "1,5"]])
    with pytest.raises(PlanError) as caught:
        parse_plan_xlsx(content, "ke-hoach.xlsx", spec())
    assert caught.value.problems == ["ke-hoach.xlsx:5: target '1,5' for gift_value must be a number from 0"]
    content = plan_workbook([["year", "province", "cluster", "activities", "Trị giá quà tặng"],
                             [2026, "Lào Cai", None, 120, 500], [2026, None, 2, 800, None]])
    parsed = parse_plan_xlsx(content, "ke-hoach.xlsx", spec())
    assert parsed.targets == {2026: {"province:15": {"activities": 120, "gift_value": 500},
                                     "cluster:2": {"activities": 800}}}


async def test_a_plan_naming_an_unknown_cluster_changes_nothing(db: Database) -> None:
    async with db.unit_of_work() as uow:
        parsed = parse_plan_yaml("year: 2026\ntargets:\n  - {province: Lào Cai, activities: 3}\n"
                                 "  - {cluster: 9, activities: 1}\n", "p.yaml", spec())
        with pytest.raises(PlanError) as caught:
            await apply_plan(uow.session, parsed, now=dt.datetime.now(dt.UTC))
        assert caught.value.problems == ["p.yaml:4: there is no cluster 9 (see `twinbot org export`)"]
        assert await uow.session.scalar(select(func.count(PlanTarget.id))) == 0


async def test_a_plan_replaces_the_targets_of_the_scopes_it_names(db: Database) -> None:
    now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    async with db.unit_of_work() as uow:
        for text_ in ("year: 2026\ntargets:\n  - {province: Lào Cai, activities: 3, patients: 100}\n"
                      "  - {cluster: 2, activities: 30}\n",
                      "year: 2026\ntargets:\n  - {province: Lào Cai, activities: 5}\n"):
            await apply_plan(uow.session, parse_plan_yaml(text_, "p.yaml", spec()), now=now)
        await uow.commit()
        assert await plans.of_year(uow.session, 2026) == {"province:15": {"activities": 5},
                                                          "cluster:2": {"activities": 30}}


# --- the command line --------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_clean: None, restore_logging: None) -> Path:
    """An empty working directory and no TWINBOT_* variables but a SQLite database in it (as in test_cli)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWINBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'twinbot.db'}")
    return tmp_path


@pytest.fixture
def world_db(workdir: Path, sqlite_template: Path) -> Path:
    """``workdir``'s SQLite database with the sample organisation and the known half-years."""
    path = workdir / "twinbot.db"
    shutil.copy(sqlite_template, path)

    async def fill() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await known_half_years(db)
        await db.dispose()

    asyncio.run(fill())
    return path


def test_twinbot_report_writes_the_document_the_tables_and_the_summary(
        world_db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = twinbot(capsys, "report", "--period", "2026-H1", "--cluster", "2", "--out", "bc",
                             "--date", "05/07/2026")
    assert (code, err) == (0, "")
    assert out.split() == ["bc/bao-cao-cum-2-2026-H1.docx", "bc/bao-cao-cum-2-2026-H1.xlsx",
                           "bc/bao-cao-cum-2-2026-H1-vi.txt", "bc/bao-cao-cum-2-2026-H1-en.txt"]
    document = Document(str(workdir / "bc/bao-cao-cum-2-2026-H1.docx"))
    assert "Lào Cai, ngày 05 tháng 7 năm 2026" in document.tables[0].rows[0].cells[1].text
    assert [c.text for c in document.tables[1].rows[1].cells][3:] == ["8", "1", "800,0"]
    book = load_workbook(workdir / "bc/bao-cao-cum-2-2026-H1.xlsx")
    assert book.sheetnames[0] == "Biểu 1 Chỉ tiêu"
    english = (workdir / "bc/bao-cao-cum-2-2026-H1-en.txt").read_text(encoding="utf-8")
    assert "Report 2026-H1 (01/01/2026 – 30/06/2026) · cluster 2" in english
    assert "People-to-people activities: 8 (a year before: 1, +700%)" in english

    code, out, _ = twinbot(capsys, "report", "--year", "2026", "--province", "Hà Giang", "--out", "bc")
    assert code == 0 and "bc/bao-cao-tinh-08-2026.docx" in out.split()  # Hà Giang is part of Tuyên Quang now
    code, out, _ = twinbot(capsys, "report", "--out", "bc", "--date", "05/07/2026")
    assert code == 0 and "bc/bao-cao-ca-nuoc-2026-H2.docx" in out.split()  # the half-year of the date, so far
    code, _, err = twinbot(capsys, "report", "--period", "someday", "--out", "bc")
    assert code == 1 and "--period: I don't understand the period" in err
    code, _, err = twinbot(capsys, "report", "--cluster", "9", "--out", "bc")
    assert code == 1 and "no cluster number 9" in err


def test_twinbot_indicators_import_checks_the_whole_file_first(
        world_db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(BAD_INDICATORS, encoding="utf-8")
    code, _, err = twinbot(capsys, "indicators", "import", "bad.yaml")
    assert code == 1 and "bad.yaml was not imported; nothing changed:" in err
    assert "bad.yaml:11: sum: 'gift_parcels' is not a measure" in err
    code, out, _ = twinbot(capsys, "indicators", "export")
    assert out == indicator_sets.default_document()  # still the shipped one

    mine = """\
version: 1
title: "Kết quả công tác hữu nghị"
year_starts: "15/12"
indicators:
  - {key: activities, label: "Tổng số hoạt động", unit: "hoạt động", count: reports}
  - {key: laos, label: "Hoạt động với Lào", unit: "hoạt động", count: reports, country: [LA]}
by_place: [activities, laos]
by_partner: [activities]
summary: ["Trong {period}, có {activities} hoạt động."]
"""
    (workdir / "mine.yaml").write_text(mine, encoding="utf-8")
    code, out, _ = twinbot(capsys, "indicators", "import", "mine.yaml", "--dry-run")
    assert code == 0 and "nothing changed" in out
    assert twinbot(capsys, "indicators", "export")[1] == indicator_sets.default_document()
    code, out, _ = twinbot(capsys, "indicators", "import", "mine.yaml")
    assert code == 0 and "imported 2 indicators" in out
    assert twinbot(capsys, "indicators", "export")[1] == mine
    code, _, _ = twinbot(capsys, "report", "--period", "năm 2026", "--cluster", "2", "--out", "bc",
                         "--date", "20/12/2026")
    assert code == 0
    document = Document(str(workdir / "bc/bao-cao-cum-2-2026.docx"))
    texts = [p.text for p in document.paragraphs]
    assert "Kết quả công tác hữu nghị năm 2026" in texts
    rows = [[c.text for c in row.cells] for row in document.tables[1].rows]
    # The statistics year: 15/12/2025–14/12/2026 holds R1–R7, R9, R10 in cluster 2, two of them with Laos;
    # 15/12/2024–14/12/2025 holds P1 and P3.
    assert rows[1:] == [["1", "Tổng số hoạt động", "hoạt động", "9", "2", "450,0"],
                        ["2", "Hoạt động với Lào", "hoạt động", "2", "0", "–"]]
    assert "Trong năm 2026, có 9 hoạt động." in texts


def test_twinbot_plan_import_yaml_and_xlsx(world_db: Path, workdir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(BAD_PLAN, encoding="utf-8")
    code, _, err = twinbot(capsys, "plan", "import", "bad.yaml")
    assert code == 1 and "bad.yaml was not imported; nothing changed:" in err and "bad.yaml:6: unknown province" in err
    (workdir / "plan.yaml").write_text("version: 1\nyear: 2026\ntargets:\n  - {cluster: 2, activities: 20}\n"
                                       "  - {province: Lào Cai, activities: 10, gift_value: 100}\n", encoding="utf-8")
    code, out, _ = twinbot(capsys, "plan", "import", "plan.yaml", "--dry-run")
    assert code == 0 and "would replace 3 targets of 2 provinces or clusters for 2026" in out
    assert "targets: []" in twinbot(capsys, "plan", "export", "--year", "2026")[1]
    code, out, _ = twinbot(capsys, "plan", "import", "plan.yaml")
    assert code == 0 and "imported 3 targets" in out
    exported = twinbot(capsys, "plan", "export", "--year", "2026")[1]
    assert "- cluster: 2\n  activities: 20\n- province: Lào Cai\n  activities: 10\n  gift_value: 100\n" in exported
    (workdir / "plan.xlsx").write_bytes(plan_workbook([["year", "cluster", "activities"], [2026, 9, 5]]))
    code, _, err = twinbot(capsys, "plan", "import", "plan.xlsx")
    assert code == 1 and "plan.xlsx:2: there is no cluster 9" in err
    (workdir / "plan.xlsx").write_bytes(plan_workbook([["year", "cluster", "activities"], [2026, 2, 25]]))
    code, out, _ = twinbot(capsys, "plan", "import", "plan.xlsx")
    assert code == 0 and "(1 targets they had before)" in out
    code, _, _ = twinbot(capsys, "report", "--period", "2026-H1", "--cluster", "2", "--out", "bc",
                         "--date", "05/07/2026")
    summary = (workdir / "bc/bao-cao-cum-2-2026-H1-en.txt").read_text(encoding="utf-8")
    # By 05/07, R1–R7, R9, R10: 9 activities of 25 (186 of 365 days: 12,7 → 13 expected).
    assert "Plan 2026 – People-to-people activities: 9 of 25 (36%) by 05/07/2026, behind pace." in summary


# --- the registry's rhythm, and the migration that added it ------------------------------------------------


def test_a_pairs_rhythm_in_the_registry(tmp_path: Path) -> None:
    text_ = registry.SAMPLE_REGISTRY.read_text(encoding="utf-8")
    parsed = registry.parse_registry(text_, "r.yaml")
    rhythms = {p.code: p.rhythm for p in parsed.pairs if p.rhythm}
    assert rhythms == {"NAN-THONG-THU-DD-216": "six_monthly", "QTR-KA-TANG-DENSAVAN": "quarterly",
                       "QTR-KA-TUP-KA-TUP-2": "quarterly", "QTR-LA-LAY-DD-511": "quarterly"}
    changed = text_.replace("rhythm: quarterly}", "rhythm: hằng quý}").replace("rhythm: six_monthly}",
                                                                               "rhythm: every week}")
    with pytest.raises(registry.RegistryError) as caught:
        registry.parse_registry(changed, "r.yaml")
    [problem] = caught.value.problems
    assert problem.endswith(": rhythm 'every week' is not one of quarterly, six_monthly, yearly")
    assert problem.startswith("r.yaml:25")


async def test_rhythms_go_in_and_come_back_out(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.session.scalar(select(TwinningPair.rhythm).where(
            TwinningPair.code == "QTR-LA-LAY-DD-511")) == "quarterly"
        exported = await registry.export_registry(uow.session)
    assert "rhythm: quarterly" in exported and "rhythm: six_monthly" in exported
    again = sorted(registry.parse_registry(exported, "again.yaml").pairs, key=lambda p: p.code)
    assert again == sorted(registry.load_registry_file(registry.SAMPLE_REGISTRY).pairs, key=lambda p: p.code)


async def test_migration_0007_down_and_up_keeps_every_report_with_its_pair(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("the SQLite in-place column drop is what is tested; PostgreSQL drops columns in place anyway")
    await known_half_years(db)

    async def pairs_of_reports() -> list[tuple[int, int | None]]:
        async with db.unit_of_work() as uow:
            return list((await uow.session.execute(select(Report.id, Report.pair_id).order_by(Report.id))).all())

    before = await pairs_of_reports()
    assert sum(1 for _, pair in before if pair) == 16
    async with db.writer() as conn:
        await conn.run_sync(lambda sync: command.downgrade(migrate.alembic_config(sync), "0006"))
    async with db.unit_of_work() as uow:
        columns = [row[1] for row in await uow.session.execute(text("PRAGMA table_info(twinning_pairs)"))]
        assert "rhythm" not in columns
        assert (await uow.session.execute(text("SELECT count(*) FROM reports WHERE pair_id IS NOT NULL"))).scalar() \
            == 16
    await migrate.upgrade(db)
    assert await pairs_of_reports() == before
    async with db.unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count(IndicatorSet.id))) == 0
