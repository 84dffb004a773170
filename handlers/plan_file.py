"""The year's plan file: targets per province or cluster for the indicators of the annual tables, as YAML or as
an XLSX sheet, checked whole (every bad row reported as ``file:line: reason``) before anything is applied.

YAML::

    version: 1
    year: 2026
    targets:
      - province: Lào Cai        # a province (new or pre-2025 name) …
        activities: 120          # indicator key: the year's target, in the unit the table shows
        gift_value: 500          #   (triệu đồng for gift_value)
      - cluster: 2               # … or a cluster, by number
        activities: 800

XLSX: the first sheet; a header row with ``year`` (năm), ``province`` (tỉnh) or ``cluster`` (cụm), then one
column per indicator (its key or its label); one row per province or cluster. A row's line is its row number.

Importing replaces, for each year and province or cluster in the file, all that scope's targets of that year.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.indicators import IndicatorSpec
from storage import plans
from storage.folding import fold
from storage.registry import province_by_name
from storage.yamldoc import Record, YamlError, load

MAX_TARGET = Decimal(10) ** 12
YEAR_WORDS = {"year", "nam"}
PROVINCE_WORDS = {"province", "tinh", "tinh thanh pho", "tinh thanh"}
CLUSTER_WORDS = {"cluster", "cum"}


class PlanError(YamlError):
    pass


@dataclass
class PlanSpec:
    targets: dict[int, plans.Targets] = field(default_factory=dict)  # year -> scope -> indicator -> target
    lines: dict[tuple[int, str], int] = field(default_factory=dict)  # (year, scope) -> line, for later problems
    source: str = ""

    @property
    def count(self) -> int:
        return sum(len(values) for by_scope in self.targets.values() for values in by_scope.values())


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[tuple[int, str]] = []

    def __call__(self, line: int, reason: str) -> None:
        self.found.append((line, f"{self.source}:{line}: {reason}"))

    def raise_any(self) -> None:
        if self.found:
            raise PlanError([text for _, text in sorted(self.found, key=lambda f: f[0])])


def _target(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() and 0 <= number < MAX_TARGET else None


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        return None
    return year if 2000 <= year <= 2100 else None


def _add(spec: PlanSpec, problem: _Problems, year: int, scope: str, line: int, what: str,
         values: dict[str, Decimal]) -> None:
    if (year, scope) in spec.lines:
        problem(line, f"{what} is given twice for {year} (first on line {spec.lines[(year, scope)]})")
        return
    spec.lines[(year, scope)] = line
    spec.targets.setdefault(year, {})[scope] = values


def _scope(province: Any, cluster: Any, line: int, problem: _Problems) -> tuple[str, str] | None:
    """("province:15", "Lào Cai") or ("cluster:2", "cluster 2"); None (reported) otherwise."""
    if (province in (None, "")) == (cluster in (None, "")):
        problem(line, "each target row names either a province or a cluster")
        return None
    if province not in (None, ""):
        code = province_by_name(str(province))
        if code is None:
            problem(line, f"unknown province {str(province)!r} (use one of the 34 provinces or a pre-2025 name)")
            return None
        return plans.province_scope(code), str(province)
    number: int | None
    try:
        number = int(str(cluster).strip())
    except ValueError:
        number = None
    if number is None or number < 1 or isinstance(cluster, bool):
        problem(line, f"cluster {cluster!r} must be a whole number from 1")
        return None
    return plans.cluster_scope(number), f"cluster {number}"


def parse_plan_yaml(text: str, source: str, indicators: IndicatorSpec) -> PlanSpec:
    problem = _Problems(source)
    try:
        doc = load(text, source)
    except YamlError as exc:
        raise PlanError(exc.problems) from None
    if not isinstance(doc, Record):
        raise PlanError([f"{source}:1: expected 'year' and 'targets'"])
    for key, line in doc.duplicates:
        problem(line, f"section {key!r} appears twice")
    if doc.get("version", 1) != 1:
        problem(doc.line_of("version"), f"unsupported version {doc.get('version')!r} (this twinbot reads version 1)")
    for key in sorted(map(str, set(doc) - {"version", "year", "targets"})):
        problem(doc.line_of(key), f"unknown section {key!r}")
    year = _year(doc.get("year"))
    if year is None:
        problem(doc.line_of("year"), f"year {doc.get('year')!r} must be a year such as 2026")
    items = doc.get("targets")
    if not isinstance(items, list) or not items:
        problem(doc.line_of("targets"), "'targets' must be a list of provinces or clusters with their targets")
        items = []
    spec = PlanSpec(source=source)
    known = indicators.by_key
    for item, line in zip(items, getattr(items, "lines", [doc.line] * len(items)), strict=True):
        if not isinstance(item, Record):
            problem(line, "every entry of 'targets' must be a mapping: province or cluster, then indicator: target")
            continue
        for key, at in item.duplicates:
            problem(at, f"{key} is given twice in this entry")
        scope = _scope(item.get("province"), item.get("cluster"), item.line, problem)
        values: dict[str, Decimal] = {}
        for key, value in item.items():
            if key in ("province", "cluster"):
                continue
            if str(key) not in known:
                problem(item.line_of(key), f"{key!r} is not an indicator of the indicator file in use "
                        f"({', '.join(known)})")
                continue
            target = _target(value)
            if target is None:
                problem(item.line_of(key), f"target {value!r} for {key} must be a number from 0")
                continue
            values[str(key)] = target
        if not values and not any(k not in ("province", "cluster") for k in item):
            problem(item.line, "this entry gives no target")
        if scope is not None and year is not None:
            _add(spec, problem, year, scope[0], item.line, scope[1], values)
    problem.raise_any()
    return spec


def parse_plan_xlsx(content: bytes, source: str, indicators: IndicatorSpec) -> PlanSpec:
    from openpyxl import load_workbook

    problem = _Problems(source)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise PlanError([f"{source}:1: not an XLSX workbook ({type(exc).__name__})"]) from None
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    if not rows:
        raise PlanError([f"{source}:1: the first sheet is empty"])
    by_label = {fold(i.label): i.key for i in indicators.indicators}
    columns: dict[int, str] = {}  # column -> year | province | cluster | indicator key
    for index, name in enumerate(rows[0]):
        if name is None or str(name).strip() == "":
            continue
        word = fold(str(name))
        if word in YEAR_WORDS:
            columns[index] = "year"
        elif word in PROVINCE_WORDS:
            columns[index] = "province"
        elif word in CLUSTER_WORDS:
            columns[index] = "cluster"
        elif str(name).strip() in indicators.by_key:
            columns[index] = str(name).strip()
        elif word in by_label:
            columns[index] = by_label[word]
        else:
            problem(1, f"column {str(name)!r} is not year, province, cluster or an indicator of the indicator file "
                    "in use (its key or its label)")
    if "year" not in columns.values():
        problem(1, "the header row needs a 'year' column")
    spec = PlanSpec(source=source)
    for number, row in enumerate(rows[1:], start=2):
        if all(value is None or str(value).strip() == "" for value in row):
            continue
        cells = {columns[i]: value for i, value in enumerate(row) if i in columns}
        year = _year(cells.get("year"))
        if year is None:
            problem(number, f"year {cells.get('year')!r} must be a year such as 2026")
        scope = _scope(cells.get("province"), cells.get("cluster"), number, problem)
        values: dict[str, Decimal] = {}
        for key, value in cells.items():
            if key in ("year", "province", "cluster") or value is None or str(value).strip() == "":
                continue
            target = _target(value)
            if target is None:
                problem(number, f"target {value!r} for {key} must be a number from 0")
            else:
                values[key] = target
        if scope is not None and year is not None:
            _add(spec, problem, year, scope[0], number, scope[1], values)
    problem.raise_any()
    return spec


def load_plan_file(path: Path, indicators: IndicatorSpec) -> PlanSpec:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PlanError([f"{path}: cannot read ({exc.strerror})"]) from None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return parse_plan_xlsx(content, str(path), indicators)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError([f"{path}: not UTF-8 text (a plan is YAML, or an .xlsx workbook)"]) from None
    return parse_plan_yaml(text, str(path), indicators)


async def apply_plan(session: AsyncSession, spec: PlanSpec, *, now: Any) -> plans.PlanSummary:
    """Check what only the database knows (that each cluster exists), then replace the targets; raise
    ``PlanError`` before writing anything when a cluster does not exist."""
    numbers = await plans.cluster_numbers(session)
    problem = _Problems(spec.source)
    for (_, scope), line in spec.lines.items():
        kind, _, ident = scope.partition(":")
        if kind == "cluster" and int(ident) not in numbers:
            problem(line, f"there is no cluster {ident} (see `twinbot org export`)")
    problem.raise_any()
    summary = plans.PlanSummary()
    for year, targets in sorted(spec.targets.items()):
        done = await plans.replace(session, year, targets, now=now)
        summary.scopes += done.scopes
        summary.targets += done.targets
        summary.replaced += done.replaced
    return summary
