"""The organisation registry file: import (idempotent, all-or-nothing, line-numbered problems), export
(the same format back), old province names, and deactivation of what a new file leaves out."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot import cli
from storage import migrate, registry
from storage.db import Database
from storage.models import Cluster, Province, ProvinceAlias, TwinningPair, Unit

SAMPLE_TEXT = registry.SAMPLE_REGISTRY.read_text(encoding="utf-8")
SOURCE = "org/registry.yaml"


# --- helpers ---------------------------------------------------------------------------------


async def snapshot(db: Database) -> dict[str, Any]:
    """Everything the registry owns, in a comparable form."""
    async with db.unit_of_work() as uow:
        s = uow.session
        numbers = {c.id: c.number for c in (await s.scalars(select(Cluster))).all()}
        unit_codes = {u.id: u.code for u in (await s.scalars(select(Unit))).all()}
        return {
            "clusters": sorted(
                (c.number, c.name, c.leader_province_code, c.deputy_province_code, c.basis)
                for c in (await s.scalars(select(Cluster))).all()
            ),
            "provinces": sorted(
                (p.code, p.name, numbers.get(p.cluster_id)) for p in (await s.scalars(select(Province))).all()
            ),
            "aliases": sorted((a.key, a.province_code) for a in (await s.scalars(select(ProvinceAlias))).all()),
            "units": sorted(
                (u.code, u.name, u.kind, u.province_code, u.active) for u in (await s.scalars(select(Unit))).all()
            ),
            "pairs": sorted(
                (p.code, unit_codes[p.unit_id], p.partner_name, p.partner_country, p.partner_province, p.kind,
                 p.signed_on, p.signed_precision, p.note, p.active)
                for p in (await s.scalars(select(TwinningPair))).all()
            ),
        }


async def import_text(db: Database, text: str, source: str = SOURCE) -> registry.ImportSummary:
    spec = registry.parse_registry(text, source)  # raises before anything touches the database
    async with db.unit_of_work() as uow:
        summary = await registry.apply_registry(uow.session, spec)
        await uow.commit()
    return summary


async def export(db: Database) -> str:
    async with db.unit_of_work() as uow:
        return await registry.export_registry(uow.session)


def normal(spec: registry.RegistrySpec) -> tuple[Any, ...]:
    """A spec without the order of rows (export sorts by code) or of a cluster's provinces."""
    return (
        sorted((c.number, c.name, tuple(sorted(c.province_codes)), c.leader, c.deputy, c.basis)
               for c in spec.clusters),
        sorted(dataclasses.astuple(u) for u in spec.units),
        sorted((dataclasses.astuple(p) for p in spec.pairs), key=lambda row: row[0]),
    )


def edited(change: Any) -> str:
    """The sample registry, loaded as plain YAML, changed by ``change(doc)`` and dumped again."""
    doc = yaml.safe_load(SAMPLE_TEXT)
    change(doc)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def insert_after(text: str, section_line: str, *rows: str) -> tuple[str, int]:
    """Insert ``rows`` right after the line ``section_line``; return the text and the first row's line number."""
    lines = text.split("\n")
    at = lines.index(section_line) + 1
    lines[at:at] = list(rows)
    return "\n".join(lines), at + 1


def problems_of(text: str) -> list[str]:
    with pytest.raises(registry.RegistryError) as caught:
        registry.parse_registry(text, SOURCE)
    return caught.value.problems


# --- idempotent import and export ------------------------------------------------------------


async def test_importing_the_same_file_again_changes_nothing(db: Database) -> None:
    before = await snapshot(db)
    assert len(before["clusters"]) == 5 and len(before["units"]) == 76 and len(before["pairs"]) == 62

    summary = await import_text(db, SAMPLE_TEXT)

    assert not summary.changed
    assert registry.describe_summary(summary) == "no changes"
    assert await snapshot(db) == before


async def test_an_edited_row_updates_just_that_row(db: Database) -> None:
    before = await snapshot(db)

    def rename(doc: dict[str, Any]) -> None:
        unit = next(u for u in doc["units"] if u["code"] == "LCA-DBP-CKQT-LAO-CAI")
        unit["name"] = "Đồn Biên phòng Cửa khẩu Quốc tế Lào Cai"

    summary = await import_text(db, edited(rename))

    assert registry.describe_summary(summary) == "updated 1 units"
    after = await snapshot(db)
    assert ("LCA-DBP-CKQT-LAO-CAI", "Đồn Biên phòng Cửa khẩu Quốc tế Lào Cai", "border_post", "15", True) in after[
        "units"
    ]
    assert [u for u in after["units"] if u[0] != "LCA-DBP-CKQT-LAO-CAI"] == [
        u for u in before["units"] if u[0] != "LCA-DBP-CKQT-LAO-CAI"
    ]
    assert after["pairs"] == before["pairs"] and after["clusters"] == before["clusters"]
    assert not (await import_text(db, edited(rename))).changed


async def test_moving_a_province_to_another_cluster_is_a_change(db: Database) -> None:
    def move(doc: dict[str, Any]) -> None:
        doc["clusters"][0]["provinces"].remove("Thanh Hóa")
        doc["clusters"][2]["provinces"].append("Thanh Hóa")

    summary = await import_text(db, edited(move))

    assert summary.changed, "a province changing cluster must not be reported as 'no changes'"
    assert registry.describe_summary(summary) == "updated 2 clusters"
    assert ("38", "Thanh Hóa", 3) in (await snapshot(db))["provinces"]
    assert not (await import_text(db, edited(move))).changed


async def test_export_parses_back_to_the_same_registry(db: Database) -> None:
    text = await export(db)

    assert text.startswith("# twinbot organisation registry")
    assert normal(registry.parse_registry(text, "export.yaml")) == normal(registry.load_registry_file(
        registry.SAMPLE_REGISTRY))
    # Importing what was exported changes nothing.
    assert not (await import_text(db, text)).changed


async def test_export_import_into_a_fresh_database_export_gives_identical_text(db: Database, tmp_path: Path) -> None:
    first = await export(db)
    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        await migrate.upgrade(fresh)
        summary = await import_text(fresh, first, "export.yaml")
        assert summary.created == {"clusters": 5, "units": 76, "pairs": 62}
        second = await export(fresh)
    finally:
        await fresh.dispose()
    assert second == first


async def test_export_writes_new_province_names_and_signed_dates_as_written(db: Database) -> None:
    text = await export(db)
    doc = yaml.safe_load(text)
    provinces = {p["province"] for p in doc["units"]}
    assert provinces <= {ref.name for ref in registry.PROVINCES}
    pair = next(p for p in doc["pairs"] if p["code"] == "LCA-COC-PHUONG-TAM-BINH-BA")
    assert pair["signed"] == "08/2013"
    assert pair["unit"] == "LCA-THON-COC-PHUONG" and pair["partner_province"] == "Vân Nam"


# --- old province names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Hà Giang", "08"),
        ("ha giang", "08"),
        ("Tỉnh Hà Giang", "08"),
        ("HÀ GIANG", "08"),
        ("Thừa Thiên Huế", "46"),
        ("Thừa Thiên - Huế", "46"),
        ("Long An", "80"),
        ("Bình Dương", "79"),
        ("Bà Rịa – Vũng Tàu", "79"),
        ("Yên Bái", "15"),
        ("Tuyên Quang", "08"),
        ("Mars", None),
        ("Giang", None),
    ],
)
def test_province_by_name_finds_the_new_unit(name: str, code: str | None) -> None:
    assert registry.province_by_name(name) == code


async def test_units_filed_under_old_names_land_in_the_new_province(db: Database) -> None:
    def add(doc: dict[str, Any]) -> None:
        doc["units"] += [
            {"code": "T-HG", "name": "Xã A", "kind": "commune", "province": "Hà Giang"},
            {"code": "T-HG2", "name": "Xã B", "kind": "commune", "province": "ha giang"},
            {"code": "T-HG3", "name": "Xã C", "kind": "commune", "province": "Tỉnh Hà Giang"},
            {"code": "T-TTH", "name": "Xã D", "kind": "commune", "province": "Thừa Thiên Huế"},
            {"code": "T-LA", "name": "Xã E", "kind": "commune", "province": "Long An"},
            {"code": "T-BD", "name": "Xã F", "kind": "commune", "province": "Bình Dương"},
        ]

    edit = edited(add)
    summary = await import_text(db, edit)
    assert summary.created["units"] == 6
    units = {u[0]: u[3] for u in (await snapshot(db))["units"]}
    assert {c: units[c] for c in ("T-HG", "T-HG2", "T-HG3", "T-TTH", "T-LA", "T-BD")} == {
        "T-HG": "08", "T-HG2": "08", "T-HG3": "08", "T-TTH": "46", "T-LA": "80", "T-BD": "79",
    }
    exported = {u["code"]: u["province"] for u in yaml.safe_load(await export(db))["units"]}
    assert exported["T-HG"] == "Tuyên Quang" and exported["T-TTH"] == "Huế"
    assert exported["T-LA"] == "Tây Ninh" and exported["T-BD"] == "TP. Hồ Chí Minh"
    # Spelling a province differently is not a change.
    assert not (await import_text(db, edit)).changed
    # The database can find them too.
    async with db.unit_of_work() as uow:
        alias = await uow.session.get(ProvinceAlias, "ha giang")
        assert alias is not None and alias.province_code == "08"


async def test_a_cluster_may_name_a_province_by_its_old_name(db: Database) -> None:
    def rename(doc: dict[str, Any]) -> None:
        provinces = doc["clusters"][1]["provinces"]
        provinces[provinces.index("Tuyên Quang")] = "Hà Giang"
        doc["clusters"][1]["deputy"] = "Hà Giang"

    assert not (await import_text(db, edited(rename))).changed


# --- removal deactivates ---------------------------------------------------------------------


async def test_units_and_pairs_left_out_are_deactivated_not_deleted(db: Database) -> None:
    before = await snapshot(db)
    gone_pairs = {p[0] for p in before["pairs"] if p[1] == "LCA-DBP-CKQT-LAO-CAI"}
    assert gone_pairs

    def drop(doc: dict[str, Any]) -> None:
        doc["units"] = [u for u in doc["units"] if u["code"] != "LCA-DBP-CKQT-LAO-CAI"]
        doc["pairs"] = [p for p in doc["pairs"] if p["unit"] != "LCA-DBP-CKQT-LAO-CAI"]
        doc["pairs"] = [p for p in doc["pairs"] if p["code"] != "LCA-COC-PHUONG-TAM-BINH-BA"]

    without = edited(drop)
    summary = await import_text(db, without)

    assert summary.deactivated == {"units": 1, "pairs": len(gone_pairs) + 1}
    assert registry.describe_summary(summary) == f"deactivated 1 units, {len(gone_pairs) + 1} pairs"
    after = await snapshot(db)
    assert len(after["units"]) == len(before["units"]) and len(after["pairs"]) == len(before["pairs"])
    units = {u[0]: u for u in after["units"]}
    pairs = {p[0]: p for p in after["pairs"]}
    assert units["LCA-DBP-CKQT-LAO-CAI"][-1] is False
    assert all(pairs[code][-1] is False for code in [*gone_pairs, "LCA-COC-PHUONG-TAM-BINH-BA"])
    assert units["LCA-THON-COC-PHUONG"][-1] is True  # its unit stays
    text = await export(db)
    assert "LCA-DBP-CKQT-LAO-CAI" not in text and "LCA-COC-PHUONG-TAM-BINH-BA" not in text
    assert not (await import_text(db, without)).changed

    # Listing them again brings back the same rows.
    again = await import_text(db, SAMPLE_TEXT)
    assert again.updated == {"clusters": 0, "units": 1, "pairs": len(gone_pairs) + 1}
    assert again.created == {"clusters": 0, "units": 0, "pairs": 0}
    assert await snapshot(db) == before


# --- problems: file:line: reason, and nothing applied ----------------------------------------


UNIT_ROW = "  - {{code: {code}, name: \"Xã thử\", kind: {kind}, province: {province}}}"


def _unknown_province() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:", UNIT_ROW.format(code="T-1", kind="commune", province="Mars"))
    return text, line, "unknown province 'Mars'"


def _unknown_kind() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:",
                              UNIT_ROW.format(code="T-1", kind="border_pots", province="Lào Cai"))
    return text, line, "unit kind 'border_pots'"


def _missing_unit() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "pairs:",
                              "  - {code: T-P, unit: NO-SUCH-UNIT, partner: X, country: CN, kind: ban_ban}")
    return text, line, "NO-SUCH-UNIT"


def _duplicate_unit_code() -> tuple[str, int, str]:
    # Inserted after the original, so the copy is the one reported.
    text, line = insert_after(SAMPLE_TEXT, "    province: Lào Cai",
                              UNIT_ROW.format(code="LCA-DBP-CKQT-LAO-CAI", kind="border_post", province="Lào Cai"))
    return text, line, "LCA-DBP-CKQT-LAO-CAI appears twice"


def _duplicate_pair_code() -> tuple[str, int, str]:
    text = SAMPLE_TEXT + "  - {code: LCA-COC-PHUONG-TAM-BINH-BA, unit: LCA-THON-COC-PHUONG, partner: X, country: CN, " \
        "kind: ban_ban}\n"
    return text, SAMPLE_TEXT.count("\n") + 1, "LCA-COC-PHUONG-TAM-BINH-BA appears twice"


def _impossible_date() -> tuple[str, int, str]:
    text, line = insert_after(
        SAMPLE_TEXT, "pairs:",
        "  - {code: T-P, unit: LCA-DBP-CKQT-LAO-CAI, partner: X, country: CN, kind: don_tram, signed: 31/02/2015}",
    )
    return text, line, "31/02/2015"


def _impossible_yaml_date() -> tuple[str, int, str]:
    # Unquoted, YAML itself reads this as a timestamp.
    text, line = insert_after(
        SAMPLE_TEXT, "pairs:",
        "  - {code: T-P, unit: LCA-DBP-CKQT-LAO-CAI, partner: X, country: CN, kind: don_tram, signed: 2015-02-31}",
    )
    return text, line, "2015-02-31"


def _field_typo() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:", "  - {code: T-1, name: X, kind: commune, provnce: Lào Cai}")
    return text, line, "provnce"


def _yaml_syntax() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:", "  - code: T-1: broken")
    return text, line, "not valid YAML"


def _province_in_two_clusters() -> tuple[str, int, str]:
    text, _ = insert_after(SAMPLE_TEXT, "clusters:", "  - {number: 9, name: Thử, provinces: [Hà Nội]}")
    # The first mention wins; the later one (cluster 1's list) is reported.
    cluster_1 = text.split("\n").index("  - number: 1") + 1
    provinces_line = next(i for i, row in enumerate(text.split("\n"), 1) if i > cluster_1 and "provinces:" in row)
    return text, provinces_line, "Hà Nội is already in cluster 9"


def _old_name_in_second_cluster() -> tuple[str, int, str]:
    text = SAMPLE_TEXT.replace("    provinces: [An Giang,", "    provinces: [Yên Bái, An Giang,")
    line = next(i for i, row in enumerate(text.split("\n"), 1) if row.startswith("    provinces: [Yên Bái"))
    return text, line, "Lào Cai is already in cluster 2"


def _block_style_field() -> tuple[str, int, str]:
    # A many-line entry: the line of the bad field, not of the entry's first line.
    text, line = insert_after(SAMPLE_TEXT, "units:", "  - code: T-1", "    name: X", "    kind: commune",
                              "    province: Atlantis")
    return text, line + 3, "unknown province 'Atlantis'"


def _scalar_entry() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:", "  - T-1 Xã thử")
    return text, line, "must be a mapping"


def _field_given_twice() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:",
                              "  - {code: T-1, name: X, kind: commune, province: Lào Cai, province: Mars}")
    return text, line, "province"


def _leader_outside_cluster() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "clusters:", "  - {number: 9, name: Thử, provinces: [], leader: Cao Bằng}")
    return text, line, "Cao Bằng"


def _position_out_of_range() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:",
                              "  - {code: T-1, name: X, kind: commune, province: Lào Cai, lat: 122.5, lon: 103.9}")
    return text, line, "lat 122.5 must be a number of degrees from -90 to 90"


def _latitude_without_longitude() -> tuple[str, int, str]:
    text, line = insert_after(SAMPLE_TEXT, "units:",
                              "  - {code: T-1, name: X, kind: commune, province: Lào Cai, lat: 22.5}")
    return text, line, "give both lat and lon"


BAD_FILES = {
    "unknown province": _unknown_province,
    "unknown unit kind": _unknown_kind,
    "pair naming a missing unit": _missing_unit,
    "duplicate unit code": _duplicate_unit_code,
    "duplicate pair code": _duplicate_pair_code,
    "impossible date 31/02/2015": _impossible_date,
    "impossible YAML date": _impossible_yaml_date,
    "field name typo": _field_typo,
    "YAML syntax error": _yaml_syntax,
    "province in two clusters": _province_in_two_clusters,
    "old name of a province already in a cluster": _old_name_in_second_cluster,
    "bad field of a many-line entry": _block_style_field,
    "entry that is not a mapping": _scalar_entry,
    "field given twice": _field_given_twice,
    "cluster leader outside the cluster": _leader_outside_cluster,
    "position out of range": _position_out_of_range,
    "latitude without longitude": _latitude_without_longitude,
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_row_is_reported_with_file_line_and_reason(case: str) -> None:
    text, line, reason = BAD_FILES[case]()
    problems = problems_of(text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{SOURCE}:{line}: "), problems
    assert reason in problems[0]
    assert "\n" not in problems[0]


def test_every_bad_row_is_listed_not_just_the_first() -> None:
    text, first = insert_after(SAMPLE_TEXT, "units:",
                               UNIT_ROW.format(code="T-1", kind="commune", province="Mars"),
                               UNIT_ROW.format(code="T-2", kind="commune_x", province="Lào Cai"))
    text += "  - {code: T-P, unit: T-404, partner: X, country: VN, kind: ban_ban}\n"
    problems = problems_of(text)
    last = text.count("\n")
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"{SOURCE}:{first}", f"{SOURCE}:{first + 1}", f"{SOURCE}:{last}", f"{SOURCE}:{last}"
    ]
    assert "T-404" in problems[2] and "country 'VN'" in problems[3]


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "units: {code: X}\n", "version: 2\n"])
def test_a_file_that_is_not_a_registry_is_refused(text: str) -> None:
    [problem] = problems_of(text)
    assert problem.startswith(f"{SOURCE}:1: ")


def test_an_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(registry.RegistryError) as caught:
        registry.load_registry_file(missing)
    assert caught.value.problems == [f"{missing}: cannot read (No such file or directory)"]
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("units:\n  - {code: X, name: Hà}\n".encode("latin-1"))
    with pytest.raises(registry.RegistryError, match="not UTF-8"):
        registry.load_registry_file(latin1)


async def test_a_failed_import_leaves_the_database_unchanged(db: Database) -> None:
    before = await snapshot(db)
    # A file changing many things at once, with one bad row near the end.
    text = edited(lambda doc: doc["units"].__setitem__(0, {**doc["units"][0], "name": "Đổi tên"}))
    text += "  - {code: T-P, unit: NO-SUCH-UNIT, partner: X, country: CN, kind: ban_ban}\n"
    with pytest.raises(registry.RegistryError):
        await import_text(db, text)
    assert await snapshot(db) == before



async def test_cli_import_of_a_bad_file_exits_1_and_changes_nothing(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_clean: None,
    restore_logging: None, capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWINBOT_DATABASE_URL", os.environ.get("TWINBOT_TEST_DATABASE_URL") or db_url)
    text, line, _ = _unknown_province()
    text = text.replace("kind: ban_ban, signed: \"05/2015\"}", "kind: ban_ban, signed: 31/02/2015}", 1)
    bad_date_line = next(i for i, row in enumerate(text.split("\n"), 1) if "31/02/2015" in row)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    before = await snapshot(db)

    code = await asyncio.to_thread(cli.main, ["org", "import", str(bad)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"twinbot: {bad} was not imported; nothing changed:",
        f"{bad}:{line}: unknown province 'Mars' (use one of the 34 provinces or a pre-2025 name)",
        f"{bad}:{bad_date_line}: date signed '31/02/2015' is not a real date",
    ]
    assert await snapshot(db) == before


async def test_units_may_have_a_position_kept_through_export(db: Database) -> None:
    text = SAMPLE_TEXT.replace(
        '  - code: LCA-DBP-CKQT-LAO-CAI\n    name: "Đồn Biên phòng CKQT Lào Cai"\n    kind: border_post\n'
        '    province: Lào Cai\n',
        '  - code: LCA-DBP-CKQT-LAO-CAI\n    name: "Đồn Biên phòng CKQT Lào Cai"\n    kind: border_post\n'
        '    province: Lào Cai\n    lat: 22.5061\n    lon: 103.967\n')
    assert text != SAMPLE_TEXT
    summary = await import_text(db, text)
    assert summary.updated["units"] == 1
    async with db.unit_of_work() as uow:
        unit = await uow.session.scalar(select(Unit).where(Unit.code == "LCA-DBP-CKQT-LAO-CAI"))
        assert unit is not None and (unit.latitude, unit.longitude) == (22.5061, 103.967)
        exported = await registry.export_registry(uow.session)
    spec = registry.parse_registry(exported, "export")
    [unit_spec] = [u for u in spec.units if u.code == "LCA-DBP-CKQT-LAO-CAI"]
    assert (unit_spec.latitude, unit_spec.longitude) == (22.5061, 103.967)
    assert sum("lat:" in line for line in exported.splitlines()) == 1  # units without one stay as they were
    assert not (await import_text(db, exported)).changed
