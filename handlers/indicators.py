"""Indicator rows as data: the file that says which rows the half-year and annual tables have, in which order,
and how each is counted from report kinds and measures (``storage/indicators/default.yaml`` documents the
format), checked whole, and the figures of each row computed from a period's cells.

    spec = parse_indicators(text, "file.yaml")        # IndicatorError listing every bad row as file:line: reason
    figures = compute(spec, tally, organisation)      # every row, for the whole scope and for each slice of it

A row either counts reports (``count: reports``), pairs or units with activity (``pairs_active``,
``units_active``, shown over all of them with ``of``), or adds up measures (``sum``), values in one currency
only, never converted; filters narrow it to kinds, where it was held, a delegation's direction, partner
countries, kinds of unit or of pair. Reports of one event count as one, as in every total (``storage.events``):
once in each cell of a table, with the largest of its reports' figures there.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from handlers.measures import MEASURES, MONEY
from handlers.report_form import FIELDS, KINDS
from storage.annual import Cell, Organisation
from storage.events import Tally, Total
from storage.periods import YearStart
from storage.registry import COUNTRIES, PAIR_KINDS, UNIT_KINDS
from storage.yamldoc import Record, YamlError, load

COUNTS = ("reports", "pairs_active", "units_active")
OF = {"pairs_active": "pairs", "units_active": "units"}
VENUES = tuple(key for key, _ in FIELDS["venue"].choices)
DIRECTIONS = tuple(key for key, _ in FIELDS["direction"].choices)
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Placeholders of the summary sentences besides the indicators' own.
SUMMARY_WORDS = ("period", "scope", "rate", "on_time")
_TOP_FIELDS = {"version", "title", "year_starts", "indicators", "by_place", "by_partner", "summary"}
_FIELDS = {"key", "label", "label_en", "unit", "count", "sum", "currency", "scale", "decimals", "kinds", "venue",
           "direction", "country", "unit_kinds", "pair_kinds", "of", "part_of"}


class IndicatorError(YamlError):
    pass


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str = ""
    label_en: str = ""
    count: str | None = None  # reports | pairs_active | units_active
    sum: tuple[str, ...] = ()  # measures
    currency: str = ""  # for values: the one currency added up
    scale: Decimal = Decimal(1)
    decimals: int = 0
    kinds: frozenset[str] | None = None
    venues: frozenset[str] | None = None
    direction: str | None = None
    countries: frozenset[str] | None = None
    unit_kinds: frozenset[str] | None = None
    pair_kinds: frozenset[str] | None = None
    of: str | None = None  # pairs | units
    part_of: str | None = None

    @property
    def over_units(self) -> bool:
        """Counted over units (not attributable to a partner)."""
        return self.count == "units_active"

    def label_in(self, locale: str) -> str:
        return self.label_en if locale == "en" and self.label_en else self.label

    def takes(self, cell: Cell) -> bool:
        return ((self.kinds is None or cell.kind in self.kinds)
                and (self.venues is None or cell.venue in self.venues)
                and (self.direction is None or cell.direction == self.direction)
                and (self.countries is None or cell.country in self.countries))

    def amount(self, total: Total) -> Decimal:
        """What a total of events adds to this row: its events, or its measures in the row's currency."""
        if self.count == "reports":
            return Decimal(total.events)
        found = Decimal(0)
        for measure in self.sum:
            found += total.measures.get((measure, self.currency if MEASURES[measure].kind == MONEY else ""), 0)
        return found

    def shown(self, raw: Decimal) -> Decimal:
        """A raw total as the table shows it: scaled and rounded to its decimals."""
        value = raw / self.scale if self.scale != 1 else raw
        return value.quantize(Decimal(1).scaleb(-self.decimals))


@dataclass(frozen=True)
class IndicatorSpec:
    title: str
    year_start: YearStart
    indicators: tuple[Indicator, ...]
    by_place: tuple[str, ...]
    by_partner: tuple[str, ...]
    summary: tuple[str, ...]
    source: str = ""
    document: str = ""

    def __getitem__(self, key: str) -> Indicator:
        return self.by_key[key]

    @property
    def by_key(self) -> dict[str, Indicator]:
        return {i.key: i for i in self.indicators}

    @property
    def measures(self) -> frozenset[str]:
        """The measures some row adds up: the only ones read."""
        return frozenset(m for i in self.indicators for m in i.sum)

    def depth(self, indicator: Indicator) -> int:
        depth, parent = 0, indicator.part_of
        while parent is not None:
            depth += 1
            parent = self.by_key[parent].part_of
        return depth


# --- the file ----------------------------------------------------------------------------------


def parse_indicators(text: str, source: str) -> IndicatorSpec:
    """Check a whole indicator file; raise ``IndicatorError`` listing every bad row as ``file:line: reason``."""
    found: list[tuple[int, str]] = []

    def problem(line: int, reason: str) -> None:
        found.append((line, f"{source}:{line}: {reason}"))

    try:
        doc = load(text, source)
    except YamlError as exc:
        raise IndicatorError(exc.problems) from None
    if not isinstance(doc, Record):
        raise IndicatorError([f"{source}:1: expected the sections 'indicators', 'by_place', 'by_partner'"])
    for key, line in doc.duplicates:
        problem(line, f"section {key!r} appears twice")
    if doc.get("version", 1) != 1:
        problem(doc.line_of("version"), f"unsupported version {doc.get('version')!r} (this twinbot reads version 1)")
    for key in sorted(map(str, set(doc) - _TOP_FIELDS)):
        problem(doc.line_of(key), f"unknown section {key!r}")
    year_start = YearStart()
    if doc.get("year_starts") is not None:
        try:
            year_start = YearStart.parse(str(doc["year_starts"]))
        except ValueError as exc:
            problem(doc.line_of("year_starts"), f"year_starts: {exc}")

    items = doc.get("indicators")
    indicators: list[Indicator] = []
    if not isinstance(items, list) or not items:
        problem(doc.line_of("indicators"), "'indicators' must be a list of at least one indicator")
        items = []
    lines = getattr(items, "lines", [doc.line] * len(items))
    keys: dict[str, int] = {}
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, Record):
            problem(line, "every indicator must be a mapping of field: value")
            continue
        indicator = _indicator(item, keys, problem)
        if indicator is not None:
            indicators.append(indicator)
            keys[indicator.key] = item.line

    by_key = {i.key: i for i in indicators}

    def columns(section: str) -> tuple[str, ...]:
        value = doc.get(section)
        if value is None:
            return ()
        if not isinstance(value, list):
            problem(doc.line_of(section), f"'{section}' must be a list of indicator keys")
            return ()
        chosen: list[str] = []
        for key, line in zip(value, getattr(value, "lines", [doc.line_of(section)] * len(value)), strict=True):
            if str(key) not in keys:
                problem(line, f"{section} names {key!r}, which is not an indicator of this file")
            elif section == "by_partner" and by_key.get(str(key)) and by_key[str(key)].over_units:
                problem(line, f"{key} counts units, which have no partner: it cannot be a column of by_partner")
            elif str(key) in chosen:
                problem(line, f"{section} names {key} twice")
            else:
                chosen.append(str(key))
        return tuple(chosen)

    by_place, by_partner = columns("by_place"), columns("by_partner")
    summary: list[str] = []
    sentences = doc.get("summary") or []
    if not isinstance(sentences, list):
        problem(doc.line_of("summary"), "'summary' must be a list of sentences")
        sentences = []
    allowed = set(SUMMARY_WORDS)
    for key, indicator in by_key.items():
        allowed |= {key, f"{key}_prev", f"{key}_change"} | ({f"{key}_of"} if indicator.of else set())
    for sentence, line in zip(sentences, getattr(sentences, "lines", [doc.line] * len(sentences)), strict=True):
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(str(sentence)) if name is not None]
        except ValueError as exc:
            problem(line, f"summary sentence: {exc} (write a brace as {{{{ or }}}})")
            continue
        unknown = [name for name in names if name not in allowed]
        if unknown:
            problem(line, f"summary sentence names {', '.join(map(repr, unknown))}: use {{period}}, {{scope}}, "
                    "{rate}, {on_time} or an indicator key (with _prev, _change or _of)")
        else:
            summary.append(str(sentence))
    if found:
        raise IndicatorError([text for _, text in sorted(found, key=lambda f: f[0])])
    return IndicatorSpec(title=" ".join(str(doc.get("title") or "Kết quả công tác đối ngoại nhân dân").split()),
                         year_start=year_start, indicators=tuple(indicators), by_place=by_place,
                         by_partner=by_partner, summary=tuple(summary), source=source, document=text)


def _names(item: Record, key: str, allowed: Iterable[str], problem: Any, *, upper: bool = False
           ) -> frozenset[str] | None:
    value = item.get(key)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    names = [str(v).strip().upper() if upper else str(v).strip() for v in values]
    allowed = tuple(allowed)
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        problem(item.line_of(key), f"{key}: {', '.join(map(repr, bad)) or 'an empty list'} is not one of "
                f"{', '.join(allowed)}")
        return None
    return frozenset(names)


def _indicator(item: Record, keys: dict[str, int], report: Any) -> Indicator | None:
    """One indicator, or None when it has a problem (each reported through ``report``)."""
    bad: list[str] = []

    def problem(line: int, reason: str) -> None:
        bad.append(reason)
        report(line, reason)

    for key, line in item.duplicates:
        problem(line, f"{key} is given twice in this indicator")
    for key in sorted(map(str, set(item) - _FIELDS)):
        problem(item.line_of(key), f"unknown field {key!r} in an indicator")
    key = str(item.get("key") or "").strip()
    if not KEY_RE.match(key):
        problem(item.line_of("key"), f"key {key!r}: use a-z, 0-9 and _, starting with a letter, at most 40 characters")
    elif key in keys:
        problem(item.line_of("key"), f"key {key} is given twice (first on line {keys[key]})")
    label = " ".join(str(item.get("label") or "").split())
    if not label:
        problem(item.line, f"indicator {key or '?'} has no label")
    elif len(label) > 200:
        problem(item.line_of("label"), "label is longer than 200 characters")
    count, summed = item.get("count"), item.get("sum")
    measures: tuple[str, ...] = ()
    if (count is None) == (summed is None):
        problem(item.line, f"indicator {key or '?'} needs either count: ({', '.join(COUNTS)}) or sum: MEASURE")
    elif count is not None and count not in COUNTS:
        problem(item.line_of("count"), f"count {count!r} is not one of {', '.join(COUNTS)}")
    elif summed is not None:
        listed = summed if isinstance(summed, list) else [summed]
        measures = tuple(str(m).strip() for m in listed)
        bad = [m for m in measures if m not in MEASURES]
        if bad or not measures:
            problem(item.line_of("sum"), f"sum: {', '.join(map(repr, bad)) or 'an empty list'} is not a measure "
                    f"({', '.join(MEASURES)})")
    money = [m for m in measures if m in MEASURES and MEASURES[m].kind == MONEY]
    currency = ""
    if item.get("currency") is not None:
        currency = str(item["currency"]).strip().upper()
        if not money:
            problem(item.line_of("currency"), "currency is for values (value_gifts, value_cash …) only")
        elif not re.fullmatch(r"[A-Z]{3}", currency):
            problem(item.line_of("currency"), f"currency {item['currency']!r} is not a code like VND or USD")
    elif money:
        currency = "VND"
    if money and len(money) != len(measures):
        problem(item.line_of("sum"), "values and counts cannot be added together")
    scale = Decimal(1)
    if item.get("scale") is not None:
        try:
            scale = Decimal(str(item["scale"]))
            if scale <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problem(item.line_of("scale"), f"scale {item['scale']!r} must be a positive number, e.g. 1000000")
            scale = Decimal(1)
    decimals = item.get("decimals", 0)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 3:
        problem(item.line_of("decimals"), f"decimals {decimals!r} must be 0, 1, 2 or 3")
        decimals = 0
    direction = item.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        problem(item.line_of("direction"), f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
    of = item.get("of")
    if of is not None and (count not in OF or OF[count] != of):
        expected = OF.get(str(count))
        problem(item.line_of("of"), f"of: {of!r} " + (f"must be {expected} for count: {count}" if expected
                                                       else "goes with count: pairs_active or units_active"))
    unit_kinds = _names(item, "unit_kinds", UNIT_KINDS, problem)
    pair_kinds = _names(item, "pair_kinds", PAIR_KINDS, problem)
    if pair_kinds is not None and count != "pairs_active":
        problem(item.line_of("pair_kinds"), "pair_kinds goes with count: pairs_active")
    part_of = item.get("part_of")
    if part_of is not None and str(part_of) not in keys:
        problem(item.line_of("part_of"), f"part_of names {part_of!r}, which is not an indicator above this one")
    indicator = Indicator(
        key=key, label=label, unit=" ".join(str(item.get("unit") or "").split())[:40],
        label_en=" ".join(str(item.get("label_en") or "").split())[:200],
        count=str(count) if count is not None else None, sum=measures, currency=currency, scale=scale,
        decimals=decimals, kinds=_names(item, "kinds", KINDS, problem), venues=_names(item, "venue", VENUES, problem),
        direction=str(direction) if direction is not None else None,
        countries=_names(item, "country", COUNTRIES, problem, upper=True), unit_kinds=unit_kinds,
        pair_kinds=pair_kinds, of=str(of) if of is not None else None,
        part_of=str(part_of) if part_of is not None else None,
    )
    return None if bad else indicator


# --- the figures -------------------------------------------------------------------------------

Partner = tuple[str, str]  # (country, partner province or "")


@dataclass
class Value:
    """One cell of a table: the figure (scaled) and, for rows shown as x/y, the whole it is part of."""

    figure: Decimal | None  # None: the row means nothing for this slice (units have no partner)
    of: int | None = None


@dataclass
class Figures:
    """Every indicator for the scope and each slice of it."""

    spec: IndicatorSpec
    total: dict[str, Value]
    units: dict[int, dict[str, Value]]
    provinces: dict[str, dict[str, Value]]
    clusters: dict[int | None, dict[str, Value]]
    partners: dict[Partner, dict[str, Value]]
    countries: dict[str, dict[str, Value]]
    # For rows of values in one currency: what the scope holds in the others (never converted), raw.
    other_currencies: dict[str, dict[str, Decimal]] = field(default_factory=dict)


def compute(spec: IndicatorSpec, tally: Tally, org: Organisation) -> Figures:
    """Each indicator over ``tally`` (``storage.annual.cells``): for the whole scope, each unit, province and
    cluster, and each partner country and partner province. An event counts once in each of them, with the
    largest figure of its reports there; pairs and units with activity are counted once wherever they appear."""
    pairs_of: dict[int, Partner] = {pid: (p.country, p.partner_province) for pid, p in org.pairs.items()}
    takers: dict[tuple[str, str, str, str], list[Indicator]] = {}

    def taking(cell: Cell) -> list[Indicator]:
        what = (cell.kind, cell.venue, cell.direction, cell.country)
        found = takers.get(what)
        if found is None:
            found = takers[what] = [i for i in spec.indicators if i.takes(cell)]
        return found

    # Pairs and units with activity: sets of ids, which add up by union.
    unit_ids: dict[int, dict[str, set[int]]] = {}
    partner_ids: dict[Partner, dict[str, set[int]]] = {}
    for group in {*tally.alone, *tally.linked}:
        cell = Cell(*group)
        of_unit = unit_ids.setdefault(cell.unit_id, {})
        partner_ids.setdefault((cell.country, cell.partner_province), {})
        for indicator in taking(cell):
            if indicator.count == "pairs_active":
                pair = org.pairs.get(cell.pair_id) if cell.pair_id is not None else None
                if pair is None or not _pair_counts(indicator, pair, org):
                    continue
                of_unit.setdefault(indicator.key, set()).add(pair.id)
                partner_ids.setdefault(pairs_of[pair.id], {}).setdefault(indicator.key, set()).add(pair.id)
            elif indicator.count == "units_active":
                unit = org.units.get(cell.unit_id)
                if unit is not None and unit.active and _unit_counts(indicator, unit.kind):
                    of_unit.setdefault(indicator.key, set()).add(unit.id)

    # Events and figures: the cells rolled up once to (indicator, unit, partner country, partner province), the
    # events kept apart, then to each slice, where an event reported by two units counts once.
    def rows_of(group: tuple[Any, ...]) -> list[tuple[str, int, str, str]]:
        cell = Cell(*group)
        return [(i.key, cell.unit_id, cell.country, cell.partner_province)
                for i in taking(cell) if i.count not in OF]

    fine = tally.regroup(rows_of)
    province_of: dict[int, str] = {}
    for unit_id in {*unit_ids, *(u.id for u in org.units.values() if u.active)}:
        province_of[unit_id] = org.units[unit_id].province_code if unit_id in org.units else ""
    cluster_of = {code: org.provinces[code].cluster_number if code in org.provinces else None
                  for code in set(province_of.values())}
    totals = {
        "total": fine.by(lambda row: (row[0], None)),
        "unit": fine.by(lambda row: (row[0], row[1])),
        "province": fine.by(lambda row: (row[0], province_of[row[1]])),
        "cluster": fine.by(lambda row: (row[0], cluster_of[province_of[row[1]]])),
        "partner": fine.by(lambda row: (row[0], (row[2], row[3]))),
        "country": fine.by(lambda row: (row[0], row[2])),
    }

    # The wholes: pairs and units of each slice, whether or not they were active.
    pair_totals: dict[str, dict[Any, int]] = {}
    unit_totals: dict[str, dict[Any, int]] = {}
    for indicator in spec.indicators:
        if indicator.count == "pairs_active":
            counts: dict[Any, int] = {}
            for pair in org.pairs.values():
                if _pair_counts(indicator, pair, org):
                    places = [*_places(org, pair.unit_id), ("partner", pairs_of[pair.id]), ("country", pair.country)]
                    for key in places:
                        counts[key] = counts.get(key, 0) + 1
            pair_totals[indicator.key] = counts
        elif indicator.count == "units_active":
            counts = {}
            for unit in org.units.values():
                if unit.active and _unit_counts(indicator, unit.kind):
                    for key in _places(org, unit.id):
                        counts[key] = counts.get(key, 0) + 1
            unit_totals[indicator.key] = counts

    def values(level: str, at: Any, ids: dict[str, set[int]]) -> dict[str, Value]:
        shown: dict[str, Value] = {}
        for indicator in spec.indicators:
            if indicator.count in OF:
                if indicator.over_units and level in ("partner", "country"):
                    shown[indicator.key] = Value(None)
                    continue
                wholes = (pair_totals if indicator.count == "pairs_active" else unit_totals)[indicator.key]
                shown[indicator.key] = Value(Decimal(len(ids.get(indicator.key, ()))),
                                             wholes.get((level, at), 0) if indicator.of else None)
            else:
                total = totals[level].get((indicator.key, at))
                shown[indicator.key] = Value(indicator.shown(indicator.amount(total) if total else Decimal(0)))
        return shown

    def union(into: dict[str, set[int]], ids: dict[str, set[int]]) -> None:
        for key, found in ids.items():
            into.setdefault(key, set()).update(found)

    provinces: dict[str, dict[str, set[int]]] = {}
    clusters: dict[int | None, dict[str, set[int]]] = {}
    everything: dict[str, set[int]] = {}
    for unit_id, province in province_of.items():
        ids = unit_ids.get(unit_id, {})
        union(provinces.setdefault(province, {}), ids)
        union(clusters.setdefault(cluster_of[province], {}), ids)
        union(everything, ids)
    countries: dict[str, dict[str, set[int]]] = {}
    partner_keys = set(partner_ids) | set(pairs_of.values())
    for partner in partner_keys:
        union(countries.setdefault(partner[0], {}), partner_ids.get(partner, {}))
    other_currencies: dict[str, dict[str, Decimal]] = {}
    for indicator in spec.indicators:
        total = totals["total"].get((indicator.key, None))
        if not indicator.currency or total is None:
            continue
        for (measure, currency), amount in sorted(total.measures.items()):
            if measure in indicator.sum and currency and currency != indicator.currency and amount:
                per = other_currencies.setdefault(indicator.key, {})
                per[currency] = per.get(currency, Decimal(0)) + amount
    return Figures(
        spec=spec, total=values("total", None, everything),
        units={u: values("unit", u, unit_ids.get(u, {})) for u in province_of},
        provinces={p: values("province", p, ids) for p, ids in provinces.items()},
        clusters={c: values("cluster", c, ids) for c, ids in clusters.items()},
        partners={p: values("partner", p, partner_ids.get(p, {})) for p in partner_keys},
        countries={c: values("country", c, ids) for c, ids in countries.items()},
        other_currencies=other_currencies,
    )


def _places(org: Organisation, unit_id: int) -> list[tuple[str, Any]]:
    unit = org.units.get(unit_id)
    province = unit.province_code if unit else ""
    cluster = org.provinces[province].cluster_number if province in org.provinces else None
    return [("total", None), ("unit", unit_id), ("province", province), ("cluster", cluster)]


def _unit_counts(indicator: Indicator, kind: str) -> bool:
    return indicator.unit_kinds is None or kind in indicator.unit_kinds


def _pair_counts(indicator: Indicator, pair: Any, org: Organisation) -> bool:
    unit = org.units.get(pair.unit_id)
    return (unit is not None and unit.active and _unit_counts(indicator, unit.kind)
            and (indicator.pair_kinds is None or pair.kind in indicator.pair_kinds)
            and (indicator.countries is None or pair.country in indicator.countries))
