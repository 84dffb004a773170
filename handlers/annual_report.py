"""The union's own report of a half-year, a year, a quarter or any period: what it is about (a unit, a province,
a cluster, the country), its figures now and a year before, the year's plan and the pace towards it,
reporting rates and twinning pairs, and the tables made of them.

    report = await collect(session, subject, period, spec, today=..., tz=...)   # the queries
    tables(report)                                                              # pure: what the DOCX and XLSX show

Everything in the tables is in Vietnamese: they are the administrative report (Nghị định 30/2020) a union
signs; their row labels come from the indicator file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import string
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import Period
from handlers.indicators import Figures, Indicator, IndicatorSpec, Value, compute
from storage import annual, pairs, plans, rates
from storage.annual import Organisation
from storage.events import Tally
from storage.folding import fold
from storage.models import Cluster, Unit
from storage.pairs import PairActivity
from storage.periods import reporting_year, year_before, year_bounds
from storage.plans import Progress
from storage.provinces import PROVINCES
from storage.rates import Rate, UnitRate, percent
from storage.registry import PROVINCE_NAMES
from storage.scope import Scope
from storage.senders import UnitRef

RHYTHM_NAMES = {"quarterly": "hằng quý", "six_monthly": "6 tháng", "yearly": "hằng năm"}
COUNTRY_NAMES = {"CN": "Trung Quốc", "LA": "Lào", "KH": "Campuchia"}
UNIT_KIND_NAMES = {"border_post": "đồn biên phòng"}
_PROVINCE_KINDS = {ref.code: ref.kind for ref in PROVINCES}


# --- what the report is about --------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    kind: str  # unit | province | cluster | country
    name: str  # as the summary names it: "các đơn vị thuộc Cụm số 2", "các đơn vị trên địa bàn tỉnh Lào Cai"
    title: str  # as a table names it: "Cụm số 2", "tỉnh Lào Cai", a unit's name, "Cả nước"
    scope: Scope
    issuer: tuple[str, ...]  # the issuing body, upper case, as the head of the document shows it
    place: str  # the địa danh of the date line: "Lào Cai"
    unit_id: int | None = None
    province_code: str | None = None
    cluster_number: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "unit_id": self.unit_id, "province_code": self.province_code,
                "cluster_number": self.cluster_number}

    @property
    def slug(self) -> str:
        if self.kind == "cluster":
            return f"cum-{self.cluster_number}"
        if self.kind == "province":
            return f"tinh-{self.province_code}"
        if self.kind == "unit":
            return f"don-vi-{self.unit_id}"
        return "ca-nuoc"


def place_name(province_code: str) -> str:
    """The địa danh of a province for a document's date line: "Lào Cai", "Thành phố Hồ Chí Minh"."""
    name = PROVINCE_NAMES.get(province_code, "")
    return "Thành phố " + name.removeprefix("TP. ") if name.startswith("TP. ") else name


def province_title(province_code: str) -> str:
    """ "tỉnh Lào Cai", "thành phố Hà Nội", "Thành phố Hồ Chí Minh"."""
    name = PROVINCE_NAMES.get(province_code, province_code)
    if name.startswith("TP. "):
        return "Thành phố " + name.removeprefix("TP. ")
    return ("thành phố " if _PROVINCE_KINDS.get(province_code) == "tp" else "tỉnh ") + name


def country_subject() -> Subject:
    return Subject("country", "các đơn vị trong cả nước", "Cả nước", Scope(everything=True),
                   ("LIÊN HIỆP CÁC TỔ CHỨC HỮU NGHỊ VIỆT NAM",), "Hà Nội")


def cluster_subject(cluster: Cluster) -> Subject:
    leader = cluster.leader_province_code
    return Subject("cluster", f"các đơn vị thuộc Cụm số {cluster.number}", f"Cụm số {cluster.number}",
                   Scope.cluster(cluster.id),
                   ("LIÊN HIỆP CÁC TỔ CHỨC HỮU NGHỊ VIỆT NAM", f"CỤM SỐ {cluster.number}"),
                   place_name(leader) if leader else "", cluster_number=cluster.number)


def province_subject(code: str) -> Subject:
    title = province_title(code)
    return Subject("province", f"các đơn vị trên địa bàn {title}", title[:1].upper() + title[1:],
                   Scope(everything=True, province_code=code),
                   (f"LIÊN HIỆP CÁC TỔ CHỨC HỮU NGHỊ {title.upper()}",), place_name(code), province_code=code)


def unit_subject(unit: Unit | UnitRef) -> Subject:
    return Subject("unit", unit.name, unit.name, Scope(unit_id=unit.id), (unit.name.upper(),),
                   place_name(unit.province_code),
                   unit_id=unit.id, province_code=unit.province_code)


# --- the report's data ---------------------------------------------------------------------------


@dataclass
class AnnualReport:
    subject: Subject
    period: Period
    previous: Period
    made_on: dt.date
    spec: IndicatorSpec
    organisation: Organisation
    current: Figures
    before: Figures
    year: int  # the reporting year of the period's end: the plan's
    as_of: dt.date  # the day the pace is measured on
    plan_total: dict[str, Progress] = field(default_factory=dict)  # the subject's own targets
    plan_lines: list[Progress] = field(default_factory=list)  # the subject's, then each province's or cluster's
    rates: list[UnitRate] = field(default_factory=list)
    weeks: int = 0  # weeks due in the period
    pairs: list[PairActivity] = field(default_factory=list)
    pair_reports: dict[int, int] = field(default_factory=dict)  # events of each pair in the period
    other_currencies: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # indicator -> currency -> raw

    @property
    def rate(self) -> Rate:
        total = Rate()
        for unit in self.rates:
            total.add(unit.rate)
        return total

    def overdue(self) -> list[PairActivity]:
        return [p for p in self.pairs if p.overdue(self.made_on)]


def period_title(period: Period) -> str:
    return period.title or f"từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}"


def previous_period(period: Period) -> Period:
    start, end = year_before(period.start), year_before(period.end)
    title = (period.title.replace(str(period.end.year), str(end.year))
             if period.title and not period.title.startswith("từ ngày") else "")
    return Period(start, end, "", title or f"từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}")


async def collect(session: AsyncSession, subject: Subject, period: Period, spec: IndicatorSpec, *,
                  today: dt.date, tz: dt.tzinfo, side: AsyncSession | None = None) -> AnnualReport:
    """Everything the report shows. ``side``: a second session (its own connection), on which the same period
    of the year before is read while ``session`` reads the period itself."""
    org = await annual.organisation(session, subject.scope)
    previous = previous_period(period)
    due = rates.due_weeks(period.start, period.end, until=today)

    async def figures(on: AsyncSession, start: dt.date, end: dt.date) -> tuple[Tally, Figures]:
        # Worked out as soon as read: the other connection reads on meanwhile (SQLite lets go of the GIL).
        found = await annual.cells(on, start=start, end=end, scope=subject.scope, measures=spec.measures)
        return found, compute(spec, found, org)

    async def this_period() -> tuple[Tally, Figures, list[UnitRate], list[PairActivity]]:
        cells, current = await figures(session, period.start, period.end)
        # The rates and pairs in the same snapshot as the period's figures.
        return (cells, current, await rates.unit_rates(session, subject.scope, due, tz),
                await pairs.pair_activity(session, subject.scope, until=today))

    if side is None:
        (cells, current, unit_rates, pair_list), (_, before) = (
            await this_period(), await figures(session, previous.start, previous.end))
    else:
        (cells, current, unit_rates, pair_list), (_, before) = await asyncio.gather(
            this_period(), figures(side, previous.start, previous.end))
    year = reporting_year(period.end, spec.year_start)
    year_start, year_end = year_bounds(year, spec.year_start)
    as_of = min(max(today, year_start), year_end)  # the pace of a year gone by is measured on its last day
    report = AnnualReport(subject=subject, period=period, previous=previous, made_on=today, spec=spec,
                          organisation=org, current=current, before=before, year=year, as_of=as_of,
                          rates=unit_rates, weeks=len(due), pairs=pair_list)
    report.other_currencies = report.current.other_currencies
    counted = Tally(alone=cells.alone, linked=cells.linked)  # the events of each pair, not their figures
    report.pair_reports = {pair: total.events for pair, total in counted.by(lambda group: group[1]).items()
                           if pair is not None}

    known = report.current if period.start == year_start and period.end >= as_of else None
    report.plan_total, report.plan_lines = await year_progress(session, spec, subject, org, year=year, as_of=as_of,
                                                               so_far=known)
    return report


async def year_progress(session: AsyncSession, spec: IndicatorSpec, subject: Subject, org: Organisation, *,
                        year: int, as_of: dt.date, so_far: Figures | None = None
                        ) -> tuple[dict[str, Progress], list[Progress]]:
    """The year's plan for ``subject`` and how far it came by ``as_of``: its own targets, then every target of
    its provinces (a cluster) or clusters (the country). ``so_far``: the figures of the year up to ``as_of``
    when the caller has them already. Nothing without targets, or before the year starts."""
    targets = await plans.of_year(session, year)
    first, last = year_bounds(year, spec.year_start)
    if not targets or as_of < first:
        return {}, []
    as_of = min(as_of, last)
    if so_far is None:
        so_far = compute(spec, await annual.cells(session, start=first, end=as_of, scope=subject.scope,
                                                  measures=spec.measures), org)
    share = Decimal((as_of - first).days + 1) / Decimal((last - first).days + 1)
    return plan_progress(spec, org, subject, targets, so_far, share)


def plan_progress(spec: IndicatorSpec, org: Organisation, subject: Subject, targets: plans.Targets, so_far: Figures,
                  share: Decimal) -> tuple[dict[str, Progress], list[Progress]]:
    """A cluster's target of an indicator is its own, or else the sum of its provinces' when every province of
    it has one; the country's is the sum of the clusters' when every cluster has one."""
    known = spec.by_key

    def cluster_targets(number: int) -> dict[str, Decimal]:
        own = dict(targets.get(plans.cluster_scope(number), {}))
        members = [p.code for p in org.provinces.values() if p.cluster_number == number]
        for key in known:
            if key not in own and members and all(key in targets.get(plans.province_scope(p), {}) for p in members):
                own[key] = sum((targets[plans.province_scope(p)][key] for p in members), Decimal(0))
        return own

    def line(scope: str, name: str, key: str, target: Decimal, values: dict[str, Value] | None) -> Progress:
        indicator = known[key]
        figure = values[key].figure if values and key in values else None
        done = figure if figure is not None else Decimal(0)
        expected = (target * share).quantize(Decimal(1).scaleb(-indicator.decimals), rounding=ROUND_HALF_UP)
        return Progress(scope, name, key, indicator.label, indicator.label_en or indicator.label, indicator.unit,
                        target, done, expected)

    own: dict[str, Decimal] = {}
    if subject.kind == "province" and subject.province_code:
        own = dict(targets.get(plans.province_scope(subject.province_code), {}))
    elif subject.kind == "cluster" and subject.cluster_number is not None:
        own = cluster_targets(subject.cluster_number)
    elif subject.kind == "country":
        per_cluster = [cluster_targets(n) for n in sorted(org.clusters)]
        own = {key: sum((c[key] for c in per_cluster), Decimal(0))
               for key in known if per_cluster and all(key in c for c in per_cluster)}
    total = {key: line("total", subject.title, key, own[key], so_far.total) for key in known if key in own}
    lines = list(total.values())
    if subject.kind == "cluster":
        members = [p for p in org.provinces.values() if p.cluster_number == subject.cluster_number]
        for code in [p.code for p in sorted(members, key=lambda p: fold(p.name))]:
            for key, target in targets.get(plans.province_scope(code), {}).items():
                if key in known:
                    lines.append(line(plans.province_scope(code), PROVINCE_NAMES.get(code, code), key, target,
                                      so_far.provinces.get(code)))
    elif subject.kind == "country":
        for number in sorted(org.clusters):
            for key, target in cluster_targets(number).items():
                if key in known:
                    lines.append(line(plans.cluster_scope(number), f"Cụm số {number}", key, target,
                                      so_far.clusters.get(number)))
    return total, lines


# --- numbers as the document writes them -------------------------------------------------------------


def number(value: Decimal | int | None, decimals: int = 0) -> str:
    """Vietnamese style: 1.234,5."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(Decimal(value), format=pattern, locale="vi")


def share_text(value: Decimal | None) -> str:
    return "–" if value is None else number(value, 1)


def value_text(value: Value, indicator: Indicator) -> str:
    if value.figure is None:
        return "–"
    text = number(value.figure, indicator.decimals)
    return f"{text}/{number(value.of)}" if value.of is not None else text


def change_text(now: Decimal | None, before: Decimal | None) -> str:
    """ "tăng 12,5%", "giảm 3,0%", "không đổi", "tăng 5" (from nothing)."""
    now, before = now or Decimal(0), before or Decimal(0)
    if now == before:
        return "không đổi"
    if not before:
        return f"tăng {number(now, _places(now))}"
    rate = percent(abs(now - before), before)
    return f"{'tăng' if now > before else 'giảm'} {share_text(rate)}%"


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- the tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frac:
    """x/y: pairs or units with activity out of all of them."""

    part: Decimal
    whole: int


@dataclass
class Row:
    cells: list[Any]  # str, Decimal, int, Frac or None
    style: str = ""  # "" | "part" (indented: of the row above) | "group" (a subtotal) | "total"


@dataclass
class Table:
    key: str  # the sheet's name, without its number
    title: str  # without its number: ``tables`` numbers them "Biểu 1. …"
    header: list[str]
    rows: list[Row]  # figures are Decimals with the places they are shown with
    notes: list[str] = field(default_factory=list)
    intro: str = ""


def _cell(value: Value, indicator: Indicator) -> Any:
    if value.figure is None:
        return None
    return Frac(value.figure, value.of) if value.of is not None else value.figure


def _comparison(now: Value, before: Value) -> Decimal | None:
    if now.figure is None or before.figure is None:
        return None
    return percent(now.figure, before.figure)


def indicator_table(report: AnnualReport) -> Table:
    spec = report.spec
    plan = bool(report.plan_total)
    header = ["STT", "Chỉ tiêu", "Đơn vị tính", f"Thực hiện {period_title(report.period)}",
              f"Cùng kỳ năm {report.previous.end.year}", "So với cùng kỳ (%)"]
    if plan:
        header += [f"Kế hoạch năm {report.year}", "Đạt so với kế hoạch (%)",
                   f"Thực hiện từ đầu năm đến {report.as_of:%d/%m/%Y}", "Tiến độ"]
    rows = []
    number_at = 0
    for indicator in spec.indicators:
        depth = spec.depth(indicator)
        if depth == 0:
            number_at += 1
        now, before = report.current.total[indicator.key], report.before.total[indicator.key]
        cells: list[Any] = [str(number_at) if depth == 0 else "-", indicator.label, indicator.unit,
                            _cell(now, indicator), _cell(before, indicator), _comparison(now, before)]
        if plan:
            target = report.plan_total.get(indicator.key)
            if target is None:
                cells += [None, None, None, ""]
            else:
                cells += [target.target, percent(now.figure or 0, target.target), target.done,
                          "Đạt tiến độ" if target.on_pace else "Chậm tiến độ"]
        rows.append(Row(cells, "part" if depth else ""))
    notes = []
    for key, values in report.other_currencies.items():
        listed = "; ".join(f"{number(amount, _places(amount))} {currency}"
                           for currency, amount in sorted(values.items()))
        notes.append(f"Ngoài ra, {spec[key].label.lower()} bằng ngoại tệ (không quy đổi): {listed}.")
    return Table("Chỉ tiêu", "Kết quả thực hiện các chỉ tiêu chủ yếu", header, rows, notes)


def _columns(spec: IndicatorSpec, keys: tuple[str, ...]) -> list[str]:
    return [f"{spec[k].label} ({spec[k].unit})" if spec[k].unit else spec[k].label for k in keys]


def place_table(report: AnnualReport) -> Table | None:
    """By province (a cluster, the country: provinces under their cluster) or by unit (a province)."""
    subject, spec, org, figures = report.subject, report.spec, report.organisation, report.current
    keys = spec.by_place
    if subject.kind == "unit" or not keys:
        return None

    def row(first: str, name: str, values: dict[str, Value] | None, style: str = "") -> Row:
        return Row([first, name, *(_cell(values[k], spec[k]) if values else None for k in keys)], style)

    rows: list[Row] = []
    if subject.kind == "province":
        title, place = "Kết quả theo đơn vị", "Đơn vị"
        units = sorted((u for u in org.units.values() if u.id in figures.units), key=lambda u: (u.kind, fold(u.name)))
        rows = [row(str(n), u.name, figures.units[u.id]) for n, u in enumerate(units, start=1)]
    else:
        title, place = "Kết quả theo tỉnh, thành phố", "Tỉnh, thành phố"
        provinces = sorted(figures.provinces, key=lambda c: fold(str(PROVINCE_NAMES.get(c, c))))
        if subject.kind == "cluster":
            rows = [row(str(n), PROVINCE_NAMES.get(c, c), figures.provinces[c])
                    for n, c in enumerate(provinces, start=1)]
        else:
            for number_at, cluster in enumerate(sorted(figures.clusters, key=lambda c: (c is None, c or 0)), start=1):
                name = f"Cụm số {cluster}" if cluster is not None else "Chưa xếp cụm"
                rows.append(row(_roman(number_at), name, figures.clusters[cluster], "group"))
                members = [c for c in provinces if (org.provinces[c].cluster_number if c in org.provinces
                                                     else None) == cluster]
                rows += [row(str(n), PROVINCE_NAMES.get(c, c), figures.provinces[c])
                         for n, c in enumerate(members, start=1)]
    rows.append(row("", "Tổng cộng", figures.total, "total"))
    return Table("Địa bàn", title, ["STT", place, *_columns(spec, keys)], rows)


def partner_table(report: AnnualReport) -> Table | None:
    spec, figures = report.spec, report.current
    keys = spec.by_partner
    if not keys:
        return None

    def row(first: str, name: str, values: dict[str, Value], style: str = "") -> Row:
        return Row([first, name, *(_cell(values[k], spec[k]) for k in keys)], style)

    rows: list[Row] = []
    order = {code: n for n, code in enumerate(COUNTRY_NAMES)}
    for number_at, country in enumerate(sorted(figures.countries, key=lambda c: (order.get(c, 9), c)), start=1):
        rows.append(row(_roman(number_at), COUNTRY_NAMES.get(country, country), figures.countries[country], "group"))
        provinces = sorted((p for p in figures.partners if p[0] == country), key=lambda p: (p[1] == "", fold(p[1])))
        rows += [row(str(n), p[1] or "Không ghi tỉnh", figures.partners[p]) for n, p in enumerate(provinces, start=1)]
    rows.append(row("", "Tổng cộng", figures.total, "total"))
    return Table("Nước bạn", "Kết quả theo nước bạn, tỉnh bạn",
                 ["STT", "Nước bạn, tỉnh bạn", *_columns(spec, keys)], rows)


def rate_table(report: AnnualReport) -> Table:
    subject = report.subject
    by_unit = subject.kind in ("province", "unit")
    groups: dict[str, list[UnitRate]] = {}
    for unit in report.rates:
        groups.setdefault(unit.name if by_unit else unit.province_code, []).append(unit)
    header = ["STT", "Đơn vị" if by_unit else "Tỉnh, thành phố", "Số đơn vị", "Số tuần phải báo cáo",
              "Số tuần đã báo cáo", "Tỷ lệ báo cáo (%)", "Số tuần báo cáo đúng hạn", "Tỷ lệ đúng hạn (%)"]

    def row(first: str, name: str, units: list[UnitRate], style: str = "") -> Row:
        rate = Rate()
        for unit in units:
            rate.add(unit.rate)
        return Row([first, name, len(units), rate.expected, rate.received, rate.received_percent, rate.on_time,
                    rate.on_time_percent], style)

    keys = sorted(groups, key=lambda k: fold(str(k if by_unit else PROVINCE_NAMES.get(k, k))))
    rows = [row(str(n), k if by_unit else PROVINCE_NAMES.get(k, k), groups[k]) for n, k in enumerate(keys, start=1)]
    rows.append(row("", "Tổng cộng", report.rates, "total"))
    intro = (f"Mỗi đơn vị báo cáo hằng tuần (có hoạt động thì gửi báo cáo, không có thì báo \"không có hoạt động\"); "
             f"kỳ báo cáo có {report.weeks} tuần đã kết thúc. Đúng hạn: trước 16 giờ thứ Sáu của tuần, "
             f"khi hệ thống nhắc các đơn vị chưa báo cáo.")
    return Table("Tỷ lệ báo cáo", "Tình hình báo cáo của các đơn vị", header, rows, intro=intro)


def pair_table(report: AnnualReport) -> Table:
    coverage = coverage_lines(report)
    overdue = report.overdue()
    header = ["STT", "Đơn vị", "Đối tác kết nghĩa", "Nước bạn, tỉnh bạn", "Nhịp độ giao ban",
              "Số hoạt động trong kỳ", "Hoạt động gần nhất", "Tình trạng"]
    rows = []
    for n, pair in enumerate(report.pairs, start=1):
        where = COUNTRY_NAMES.get(pair.partner_country, pair.partner_country)
        if pair.partner_province:
            where += f" – {pair.partner_province}"
        status = ""
        if pair.rhythm:
            status = "Quá hạn giao ban" if pair.overdue(report.made_on) else "Đúng nhịp độ"
        rows.append(Row([str(n), pair.unit_name, pair.partner_name, where, RHYTHM_NAMES.get(pair.rhythm or "", ""),
                         report.pair_reports.get(pair.id, 0),
                         pair.last_activity.strftime("%d/%m/%Y") if pair.last_activity else "Chưa có", status]))
    notes = []
    if overdue:
        notes.append(f"{len(overdue)} cặp quá hạn giao ban theo nhịp độ đã thỏa thuận (tính đến ngày "
                     f"{report.made_on:%d/%m/%Y}).")
    return Table("Cặp kết nghĩa", "Hoạt động của các cặp kết nghĩa", header, rows, notes,
                 intro=" ".join(coverage))


def coverage_lines(report: AnnualReport) -> list[str]:
    """ "Có hoạt động kết nghĩa trong kỳ: 23/98 cặp, 12/40 đồn.", from the rows counted over pairs or units."""
    parts = []
    for indicator in report.spec.indicators:
        value = report.current.total[indicator.key]
        if indicator.of and value.figure is not None and value.of is not None:
            parts.append(f"{number(value.figure)}/{number(value.of)} {indicator.unit or indicator.label}".strip())
    return [f"Có hoạt động kết nghĩa trong kỳ: {', '.join(parts)}."] if parts else []


def plan_table(report: AnnualReport) -> Table | None:
    if not report.plan_lines:
        return None
    spec = report.spec
    header = ["STT", "Địa bàn", "Chỉ tiêu", "Đơn vị tính", f"Kế hoạch năm {report.year}",
              f"Thực hiện đến {report.as_of:%d/%m/%Y}", "Đạt (%)", "Tiến độ"]
    rows = []
    for n, line in enumerate(report.plan_lines, start=1):
        indicator = spec[line.indicator]
        rows.append(Row([str(n), line.name, indicator.label, indicator.unit, line.target, line.done, line.percent,
                         "Đạt tiến độ" if line.on_pace else "Chậm tiến độ"], "total" if line.scope == "total" else ""))
    intro = (f"Tiến độ: thực hiện từ đầu năm đến ngày {report.as_of:%d/%m/%Y} so với phần kế hoạch tương ứng với "
             "số ngày đã qua của năm.")
    return Table("Kế hoạch", f"Tiến độ thực hiện kế hoạch năm {report.year}", header, rows,
                 intro=intro)


def tables(report: AnnualReport) -> list[Table]:
    found = [indicator_table(report), place_table(report), partner_table(report), pair_table(report),
             rate_table(report), plan_table(report)]
    numbered = []
    for n, table in enumerate((t for t in found if t is not None), start=1):
        table.key, table.title = f"Biểu {n} {table.key}", f"Biểu {n}. {table.title}"
        numbered.append(table)
    return numbered


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    text = ""
    for value, letters in numerals:
        while n >= value:
            text += letters
            n -= value
    return text


# --- the summary paragraph ---------------------------------------------------------------------------


def summary(report: AnnualReport) -> list[str]:
    """The indicator file's summary sentences, filled in; a sentence whose figures are all zero is left out."""
    spec, now, before = report.spec, report.current.total, report.before.total
    rate = report.rate
    values: dict[str, str] = {"period": period_title(report.period), "scope": report.subject.name,
                              "rate": f"{share_text(rate.received_percent)}%" if rate.expected else "",
                              "on_time": f"{share_text(rate.on_time_percent)}%" if rate.expected else ""}
    zero: set[str] = set()
    for indicator in spec.indicators:
        key, value, previous = indicator.key, now[indicator.key], before[indicator.key]
        values[key] = number(value.figure, indicator.decimals) if value.figure is not None else "–"
        values[f"{key}_prev"] = number(previous.figure, indicator.decimals) if previous.figure is not None else "–"
        values[f"{key}_change"] = change_text(value.figure, previous.figure)
        values[f"{key}_of"] = number(value.of) if value.of is not None else "–"
        if not value.figure:
            zero.add(key)
    sentences = []
    for sentence in spec.summary:
        names = {name for _, name, _, _ in string.Formatter().parse(sentence) if name is not None}
        figures = {n.removesuffix("_prev").removesuffix("_change").removesuffix("_of") for n in names}
        figures &= set(spec.by_key)
        if figures and figures <= zero:
            continue
        if names & {"rate", "on_time"} and not rate.expected:
            continue
        sentences.append(sentence.format(**values))
    return sentences
