"""The organisation registry: reference provinces, and the import/export of clusters, units and pairs.

The registry file is YAML (see README, "Organisation registry file"). An import is
checked whole before anything is written, and then applied in the caller's single
transaction, so a failed import changes nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.folding import fold_province
from storage.models import Cluster, Province, ProvinceAlias, TwinningPair, Unit
from storage.pairs import RHYTHMS, rhythm_by_name
from storage.provinces import PARTNER_PROVINCES, PROVINCES
from storage.yamldoc import LineLoader, Record

SAMPLE_REGISTRY = Path(__file__).parent / "sample" / "registry.yaml"

# border_command: the provincial Border Guard command (Bộ Chỉ huy BĐBP tỉnh).
UNIT_KINDS = ("border_post", "border_command", "commune", "village", "friendship_union", "other")
# The twinnings of domain.md §4.1: village pairs (bản–bản, thôn–thôn, thôn–tổ, ấp–ấp, ấp–phum), commune and
# district pairs, border posts with a Chinese station, a Lao company or a Cambodian post, and posts or
# provinces with a cluster of villages (đồn–cụm bản, tỉnh–cụm bản) or one village (đồn–bản).
PAIR_KINDS = (
    "ban_ban",
    "thon_to",
    "ap_phum",
    "xa_xa",
    "huyen_huyen",
    "don_tram",
    "don_dai_doi",
    "don_don",
    "don_cum_ban",
    "don_ban",
    "tinh_cum_ban",
    "tinh_tinh",
    "other",
)
COUNTRIES = ("CN", "LA", "KH")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")

_CLUSTER_FIELDS = {"number", "name", "provinces", "leader", "deputy", "basis"}
_UNIT_FIELDS = {"code", "name", "kind", "province", "lat", "lon"}
_PAIR_FIELDS = {"code", "unit", "partner", "country", "partner_province", "kind", "signed", "note", "rhythm"}


# --- reference provinces ------------------------------------------------------------------


async def seed_provinces(session: AsyncSession) -> None:
    """Make the 34 provinces and their aliases match ``storage.provinces`` (idempotent)."""
    existing = {p.code: p for p in (await session.scalars(select(Province))).all()}
    for ref in PROVINCES:
        province = existing.get(ref.code)
        if province is None:
            session.add(Province(code=ref.code, name=ref.name, kind=ref.kind, borders=",".join(ref.borders)))
        else:
            province.name, province.kind, province.borders = ref.name, ref.kind, ",".join(ref.borders)
    aliases = {a.key: a for a in (await session.scalars(select(ProvinceAlias))).all()}
    wanted: dict[str, tuple[str, str]] = {}
    for ref in PROVINCES:
        for label in (ref.name, *ref.old_names):
            wanted.setdefault(fold_province(label), (ref.code, label))
    for key, (code, label) in wanted.items():
        alias = aliases.get(key)
        if alias is None:
            session.add(ProvinceAlias(key=key, province_code=code, label=label))
        else:
            alias.province_code, alias.label = code, label
    await session.flush()


def province_by_name(name: str) -> str | None:
    """The code of the province a name (new or pre-2025, any accents) stands for."""
    key = fold_province(name)
    if re.fullmatch(r"\d{1,2}", key):
        code = key.zfill(2)
        return code if any(ref.code == code for ref in PROVINCES) else None
    return _PROVINCE_KEYS.get(key)


_PROVINCE_KEYS: dict[str, str] = {}
for _ref in PROVINCES:
    for _label in (_ref.name, *_ref.old_names):
        _PROVINCE_KEYS.setdefault(fold_province(_label), _ref.code)
PROVINCE_NAMES = {ref.code: ref.name for ref in PROVINCES}
_PROVINCE_NAMES = PROVINCE_NAMES
_PARTNER_KEYS: dict[str, str] = {}
for _pref in PARTNER_PROVINCES:
    for _label in (_pref.name, _pref.english, _pref.iso, *_pref.aliases):
        _PARTNER_KEYS.setdefault(fold_province(_label), _pref.name)


def partner_province_by_name(name: str) -> str | None:
    return _PARTNER_KEYS.get(fold_province(name))


# --- the registry file ----------------------------------------------------------------------


class RegistryError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ClusterSpec:
    number: int
    name: str
    province_codes: list[str]
    leader: str | None = None
    deputy: str | None = None
    basis: str | None = None


@dataclass
class UnitSpec:
    code: str
    name: str
    kind: str
    province_code: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class PairSpec:
    code: str
    unit_code: str
    partner: str
    country: str
    partner_province: str | None
    kind: str
    signed_on: dt.date | None = None
    signed_precision: str | None = None
    note: str | None = None
    rhythm: str | None = None


@dataclass
class RegistrySpec:
    clusters: list[ClusterSpec] = field(default_factory=list)
    units: list[UnitSpec] = field(default_factory=list)
    pairs: list[PairSpec] = field(default_factory=list)


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=lambda: {"clusters": 0, "units": 0, "pairs": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"clusters": 0, "units": 0, "pairs": 0})
    deactivated: dict[str, int] = field(default_factory=lambda: {"units": 0, "pairs": 0})

    @property
    def changed(self) -> bool:
        return any(v for d in (self.created, self.updated, self.deactivated) for v in d.values())


def parse_signed(value: Any) -> tuple[dt.date | None, str | None]:
    """``25/09/2014``, ``09/2014`` (month precision) or ``2014`` (year precision); YAML's own
    ``2014-09-25`` is read as a day too."""
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), "day"
    if isinstance(value, dt.date):
        return value, "day"
    text = str(value).strip()
    for pattern, precision in (
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "day"),
        (r"(\d{1,2})/(\d{4})", "month"),
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", "iso"),
    ):
        m = re.fullmatch(pattern, text)
        if m:
            parts = [int(g) for g in m.groups()]
            if precision == "iso":
                precision, (year, month, day) = "day", parts
            else:
                day, month, year = parts if precision == "day" else [1, *parts]
            try:
                return dt.date(year, month, day), precision
            except ValueError:
                raise ValueError(f"date signed {text!r} is not a real date") from None
    if re.fullmatch(r"\d{4}", text):
        return dt.date(int(text), 1, 1), "year"
    raise ValueError(f"date signed {text!r} is not dd/mm/yyyy, mm/yyyy or yyyy")


def format_signed(day: dt.date | None, precision: str | None) -> str | None:
    if day is None:
        return None
    if precision == "year":
        return f"{day.year}"
    if precision == "month":
        return f"{day.month:02d}/{day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def parse_registry(text: str, source: str) -> RegistrySpec:
    """Check a whole registry file; raise ``RegistryError`` listing every bad row as ``file:line: reason``."""
    found: list[tuple[int, str]] = []

    def problem(line: int, reason: str) -> None:
        found.append((line, f"{source}:{line}: {reason}"))

    try:
        doc = yaml.load(text, Loader=LineLoader)  # LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise RegistryError([f"{source}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(doc, Record):
        raise RegistryError([f"{source}:1: expected sections 'clusters', 'units' and 'pairs'"])
    for key, line in doc.duplicates:
        problem(line, f"section {key!r} appears twice")
    if doc.get("version", 1) != 1:
        problem(doc.line_of("version"),
                f"unsupported version {doc.get('version')!r} (this twinbot reads version 1)")
    unknown = set(doc) - {"version", "clusters", "units", "pairs"}
    if unknown:
        problem(doc.line, f"unknown section(s): {', '.join(sorted(map(str, unknown)))}")

    spec = RegistrySpec()

    def rows(section: str, fields: set[str], required: Iterable[str]) -> list[Record]:
        items = doc.get(section) or []
        if not isinstance(items, list):
            problem(doc.line_of(section), f"'{section}' must be a list")
            return []
        lines = getattr(items, "lines", [doc.line_of(section)] * len(items))
        good = []
        for item, line in zip(items, lines, strict=True):
            if not isinstance(item, Record):
                problem(line, f"every entry of '{section}' must be a mapping of field: value")
                continue
            extra = sorted(map(str, set(item) - fields))
            missing = [f for f in required if item.get(f) in (None, "")]
            for key, at in item.duplicates:
                problem(at, f"{key} is given twice in this entry of {section}")
            for key in extra:
                guess = difflib.get_close_matches(key, sorted(fields - set(item)), n=1)
                hint = f" (did you mean {guess[0]}?)" if guess else ""
                problem(item.line_of(key), f"unknown field {key!r} in {section}{hint}")
                if guess and guess[0] in missing:
                    missing.remove(guess[0])  # already explained by the typo
            if missing:
                problem(item.line, f"missing {', '.join(missing)} in {section}")
            if not extra and not missing and not item.duplicates:
                good.append(item)
        return good

    def text_field(item: Record, key: str, limit: int) -> str | None:
        value = item.get(key)
        if value is None:
            return None
        value = " ".join(str(value).split())
        if len(value) > limit:
            problem(item.line_of(key), f"{key} is longer than {limit} characters")
        return value

    def province(item: Record, key: str) -> str | None:
        name = str(item.get(key))
        code = province_by_name(name)
        if code is None:
            problem(item.line_of(key),
                    f"unknown province {name!r} (use one of the 34 provinces or a pre-2025 name)")
        return code

    seen_numbers: set[int] = set()
    assigned: dict[str, int] = {}
    for item in rows("clusters", _CLUSTER_FIELDS, ("number", "name")):
        number = item["number"]
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            problem(item.line_of("number"), f"cluster number {number!r} must be a whole number from 1")
            continue
        if number in seen_numbers:
            problem(item.line_of("number"), f"cluster {number} appears twice")
        seen_numbers.add(number)
        names = item.get("provinces") or []
        if not isinstance(names, list):
            problem(item.line_of("provinces"), "provinces must be a list, e.g. [Lào Cai, Lai Châu]")
            names = []
        name_lines = getattr(names, "lines", [item.line_of("provinces")] * len(names))
        codes: list[str] = []
        for name, line in zip(names, name_lines, strict=True):
            code = province_by_name(str(name))
            if code is None:
                problem(line, f"unknown province {str(name)!r} in cluster {number}")
            elif code in assigned and assigned[code] != number:
                problem(line, f"{_PROVINCE_NAMES[code]} is already in cluster {assigned[code]}")
            elif code not in codes:  # the same province twice (or by an old name too) in one list is harmless
                assigned[code] = number
                codes.append(code)
        leader = province(item, "leader") if item.get("leader") else None
        deputy = province(item, "deputy") if item.get("deputy") else None
        for role, code in (("leader", leader), ("deputy", deputy)):
            if code is not None and code not in codes:
                problem(item.line_of(role), f"{role} {_PROVINCE_NAMES[code]} is not one of cluster {number}'s "
                        "provinces")
        spec.clusters.append(
            ClusterSpec(
                number=number,
                name=text_field(item, "name", 200) or "",
                province_codes=codes,
                leader=leader,
                deputy=deputy,
                basis=text_field(item, "basis", 300),
            )
        )

    unit_codes: set[str] = set()
    for item in rows("units", _UNIT_FIELDS, ("code", "name", "kind", "province")):
        code = str(item["code"]).strip()
        if not CODE_RE.match(code):
            problem(item.line_of("code"), f"unit code {code!r}: use A-Z, 0-9 and '-', at most 40 characters")
        elif code in unit_codes:
            problem(item.line_of("code"), f"unit code {code} appears twice")
        unit_codes.add(code)
        if item["kind"] not in UNIT_KINDS:
            problem(item.line_of("kind"), f"unit kind {item['kind']!r} is not one of {', '.join(UNIT_KINDS)}")
        province_code = province(item, "province")
        latitude, longitude = item.get("lat"), item.get("lon")
        if (latitude is None) != (longitude is None):
            problem(item.line_of("lat" if latitude is not None else "lon"),
                    f"unit {code}: give both lat and lon, or neither")
            latitude = longitude = None
        for key, value, bound in (("lat", latitude, 90), ("lon", longitude, 180)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not -bound <= value <= bound):
                problem(item.line_of(key), f"{key} {value!r} must be a number of degrees from {-bound} to {bound}")
                latitude = longitude = None
        spec.units.append(
            UnitSpec(code, text_field(item, "name", 200) or "", str(item["kind"]), province_code or "",
                     float(latitude) if latitude is not None else None,
                     float(longitude) if longitude is not None else None)
        )

    pair_codes: set[str] = set()
    for item in rows("pairs", _PAIR_FIELDS, ("code", "unit", "partner", "country", "kind")):
        code = str(item["code"]).strip()
        if not CODE_RE.match(code):
            problem(item.line_of("code"), f"pair code {code!r}: use A-Z, 0-9 and '-', at most 40 characters")
        elif code in pair_codes:
            problem(item.line_of("code"), f"pair code {code} appears twice")
        pair_codes.add(code)
        unit_code = str(item["unit"]).strip()
        if unit_code not in unit_codes:
            problem(item.line_of("unit"),
                    f"pair {code} names unit {item['unit']!r}, which is not in the units section")
        country = str(item["country"]).strip().upper()
        if country not in COUNTRIES:
            problem(item.line_of("country"), f"country {item['country']!r} is not one of {', '.join(COUNTRIES)}")
        if item["kind"] not in PAIR_KINDS:
            problem(item.line_of("kind"), f"pair kind {item['kind']!r} is not one of {', '.join(PAIR_KINDS)}")
        partner_province = None
        if item.get("partner_province"):
            partner_province = partner_province_by_name(str(item["partner_province"]))
            if partner_province is None:
                problem(item.line_of("partner_province"),
                        f"unknown partner province {item['partner_province']!r}")
        try:
            signed_on, precision = parse_signed(item.get("signed"))
        except ValueError as exc:
            problem(item.line_of("signed"), str(exc))
            signed_on, precision = None, None
        rhythm = None
        if item.get("rhythm") not in (None, ""):
            rhythm = rhythm_by_name(str(item["rhythm"]))
            if rhythm is None:
                problem(item.line_of("rhythm"), f"rhythm {item['rhythm']!r} is not one of {', '.join(RHYTHMS)}")
        spec.pairs.append(
            PairSpec(
                code=code,
                unit_code=unit_code,
                partner=text_field(item, "partner", 200) or "",
                country=country,
                partner_province=partner_province,
                kind=str(item["kind"]),
                signed_on=signed_on,
                signed_precision=precision,
                note=text_field(item, "note", 500),
                rhythm=rhythm,
            )
        )
    if found:
        raise RegistryError([text for _, text in sorted(found, key=lambda f: f[0])])  # in file order
    return spec


def load_registry_file(path: Path) -> RegistrySpec:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError([f"{path}: cannot read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise RegistryError([f"{path}: not UTF-8 text"]) from None
    return parse_registry(text, str(path))


def _assign(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


async def apply_registry(session: AsyncSession, spec: RegistrySpec) -> ImportSummary:
    """Create or update everything in ``spec``; units and pairs no longer listed are deactivated, not deleted
    (reports keep pointing at them)."""
    await seed_provinces(session)
    summary = ImportSummary()
    clusters = {c.number: c for c in (await session.scalars(select(Cluster))).all()}
    touched: set[int] = set()  # numbers of clusters already counted as created or updated
    for cs in spec.clusters:
        values: dict[str, Any] = {"name": cs.name, "leader_province_code": cs.leader,
                                  "deputy_province_code": cs.deputy, "basis": cs.basis}
        cluster = clusters.get(cs.number)
        if cluster is None:
            cluster = Cluster(number=cs.number, **values)
            session.add(cluster)
            clusters[cs.number] = cluster
            summary.created["clusters"] += 1
            touched.add(cs.number)
        elif _assign(cluster, values):
            summary.updated["clusters"] += 1
            touched.add(cs.number)
    await session.flush()
    numbers = {cluster.id: number for number, cluster in clusters.items()}
    membership = {code: clusters[cs.number].id for cs in spec.clusters for code in cs.province_codes}
    for province in (await session.scalars(select(Province))).all():
        new_id = membership.get(province.code)
        if province.cluster_id != new_id:
            # A province joining or leaving a cluster changes both clusters.
            for number in (numbers.get(i) for i in (province.cluster_id, new_id) if i is not None):
                if number is not None and number not in touched:
                    summary.updated["clusters"] += 1
                    touched.add(number)
            province.cluster_id = new_id

    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    for us in spec.units:
        values = {"name": us.name, "kind": us.kind, "province_code": us.province_code, "active": True,
                  "latitude": us.latitude, "longitude": us.longitude}
        unit = units.get(us.code)
        if unit is None:
            unit = Unit(code=us.code, **values)
            session.add(unit)
            units[us.code] = unit
            summary.created["units"] += 1
        elif _assign(unit, values):
            summary.updated["units"] += 1
    listed = {us.code for us in spec.units}
    for code, unit in units.items():
        if code not in listed and unit.active:
            unit.active = False
            summary.deactivated["units"] += 1
    await session.flush()

    pairs = {p.code: p for p in (await session.scalars(select(TwinningPair))).all()}
    for ps in spec.pairs:
        values = {
            "unit_id": units[ps.unit_code].id,
            "partner_name": ps.partner,
            "partner_country": ps.country,
            "partner_province": ps.partner_province,
            "kind": ps.kind,
            "signed_on": ps.signed_on,
            "signed_precision": ps.signed_precision,
            "note": ps.note,
            "rhythm": ps.rhythm,
            "active": True,
        }
        pair = pairs.get(ps.code)
        if pair is None:
            session.add(TwinningPair(code=ps.code, **values))
            summary.created["pairs"] += 1
        elif _assign(pair, values):
            summary.updated["pairs"] += 1
    listed = {ps.code for ps in spec.pairs}
    for code, pair in pairs.items():
        if code not in listed and pair.active:
            pair.active = False
            summary.deactivated["pairs"] += 1
    await session.flush()
    return summary


async def export_registry(session: AsyncSession) -> str:
    clusters = (
        await session.scalars(select(Cluster).options(selectinload(Cluster.provinces)).order_by(Cluster.number))
    ).all()
    units = (await session.scalars(select(Unit).where(Unit.active).order_by(Unit.code))).all()
    unit_codes = {u.id: u.code for u in units}
    pairs = (
        await session.scalars(select(TwinningPair).where(TwinningPair.active).order_by(TwinningPair.code))
    ).all()

    def cluster_doc(c: Cluster) -> dict[str, Any]:
        doc: dict[str, Any] = {"number": c.number, "name": c.name, "provinces": [p.name for p in c.provinces]}
        if c.leader_province_code:
            doc["leader"] = _PROVINCE_NAMES[c.leader_province_code]
        if c.deputy_province_code:
            doc["deputy"] = _PROVINCE_NAMES[c.deputy_province_code]
        if c.basis:
            doc["basis"] = c.basis
        return doc

    def pair_doc(p: TwinningPair) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "code": p.code,
            "unit": unit_codes.get(p.unit_id),
            "partner": p.partner_name,
            "country": p.partner_country,
        }
        if p.partner_province:
            doc["partner_province"] = p.partner_province
        doc["kind"] = p.kind
        signed = format_signed(p.signed_on, p.signed_precision)
        if signed:
            doc["signed"] = signed
        if p.note:
            doc["note"] = p.note
        if p.rhythm:
            doc["rhythm"] = p.rhythm
        return doc

    def unit_doc(u: Unit) -> dict[str, Any]:
        doc: dict[str, Any] = {"code": u.code, "name": u.name, "kind": u.kind,
                               "province": _PROVINCE_NAMES[u.province_code]}
        if u.latitude is not None and u.longitude is not None:
            doc.update(lat=u.latitude, lon=u.longitude)
        return doc

    body = {
        "version": 1,
        "clusters": [cluster_doc(c) for c in clusters],
        "units": [unit_doc(u) for u in units],
        "pairs": [pair_doc(p) for p in pairs if p.unit_id in unit_codes],
    }
    header = "# twinbot organisation registry; edit and load with `twinbot org import FILE`\n"
    return header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110)


async def registry_is_empty(session: AsyncSession) -> bool:
    return (await session.scalar(select(Unit.id).limit(1))) is None




def describe_summary(summary: ImportSummary) -> str:
    if not summary.changed:
        return "no changes"
    parts = []
    for verb, counts in (("created", summary.created), ("updated", summary.updated),
                         ("deactivated", summary.deactivated)):
        listed = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        if listed:
            parts.append(f"{verb} {listed}")
    return "; ".join(parts)


async def demo_unit(session: AsyncSession) -> Unit | None:
    """A unit with twinning pairs, for the console demo's ready-made invite."""
    pairs = func.count(TwinningPair.id)
    return await session.scalar(
        select(Unit).join(TwinningPair, TwinningPair.unit_id == Unit.id)
        .where(Unit.active, TwinningPair.active).group_by(Unit.id).order_by(pairs.desc(), Unit.code).limit(1)
    )
