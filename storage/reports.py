"""Reports: submission from a finished draft (joining the event of a report it repeats, when the reporter says
so), the author's list, corrections and withdrawals, each change kept as a version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import events
from storage.folding import fold
from storage.models import Person, Report, ReportMeasure, ReportPhoto, ReportVersion, TwinningPair, Unit
from storage.senders import Sender
from storage.stats import exact

_COLUMN_FIELDS = ("kind", "venue", "description")


@dataclass(frozen=True)
class Figure:
    """One measure of a report as handlers declare it (``handlers.measures``): a count, a decimal, or a
    value in one currency (``currency`` empty otherwise)."""

    measure: str
    amount: Decimal
    currency: str = ""
    approx: bool = False


def snapshot(report: Report) -> dict[str, Any]:
    """Everything a version records, as JSON."""
    return {
        "kind": report.kind,
        "activity_date": report.activity_date.isoformat(),
        "unit_id": report.unit_id,
        "pair_id": report.pair_id,
        "partner_name": report.partner_name,
        "partner_country": report.partner_country,
        "partner_province": report.partner_province,
        "venue": report.venue,
        "description": report.description,
        "details": report.details,
        "measures": [{"measure": m.measure, "currency": m.currency, "amount": str(exact(m.amount)),
                      "approx": m.approx} for m in report.measures],
        "latitude": report.latitude,
        "longitude": report.longitude,
        "photos": [p.file_id for p in report.photos],
        "status": report.status,
        "status_reason": report.status_reason,
        "event_id": report.event_id,
    }


def apply_values(report: Report, values: dict[str, Any], details: dict[str, Any], figures: list[Figure]) -> None:
    """Copy a draft onto a report: its columns from ``values``, what describes it (``details``) and its
    figures (``figures``), as handlers split them."""
    for key in _COLUMN_FIELDS:
        if key in values:
            setattr(report, key, values[key])
    if "date" in values:
        report.activity_date = dt.date.fromisoformat(values["date"])
    if "unit" in values:
        report.unit_id = int(values["unit"])
    partner = values.get("partner")
    if values.get("pair") not in (None, "other") and partner:
        report.pair_id = int(values["pair"])
        report.partner_name = partner["name"]
        report.partner_country = partner["country"]
        report.partner_province = partner.get("province")
    elif values.get("pair") == "other":
        report.pair_id = None
        report.partner_name = values.get("partner_name") or ""
        report.partner_country = values.get("partner_country") or ""
        report.partner_province = None
    location = values.get("location") or {}
    report.latitude = location.get("lat")
    report.longitude = location.get("lon")
    details = dict(details)
    if location.get("place"):
        details["place"] = location["place"]
    if location.get("near"):
        details["near"] = location["near"]  # the registry's nearest unit when the position was shared
    report.details = details
    set_measures(report, figures)
    report.search_text = fold(" ".join(
        part or "" for part in (report.description, report.partner_name, report.partner_province,
                                values.get("unit_name"), details.get("place"), details.get("gift_items"),
                                details.get("recipients"), (details.get("near") or {}).get("name"))
    ))


def set_measures(report: Report, figures: list[Figure]) -> None:
    """The report's measures become ``figures``: rows kept and changed in place where the measure and
    currency stay (a row deleted and inserted again in one flush would clash on the unique key)."""
    wanted = {(f.measure, f.currency): f for f in figures}
    for row in list(report.measures):
        figure = wanted.pop((row.measure, row.currency), None)
        if figure is None:
            report.measures.remove(row)
        else:
            row.amount, row.approx = figure.amount, figure.approx
    report.measures.extend(ReportMeasure(measure=f.measure, currency=f.currency, amount=f.amount, approx=f.approx)
                           for f in wanted.values())


async def submit(
    session: AsyncSession, *, token: str, values: dict[str, Any], details: dict[str, Any], figures: list[Figure],
    author: Person, channel: str, now: dt.datetime, same_event_as: int | None = None
) -> tuple[Report, bool]:
    """Create the report of a draft; (report, False) when that draft was submitted already. With
    ``same_event_as``, the report joins that report's event, if it still counts."""
    existing = await session.scalar(select(Report.id).where(Report.draft_token == token))
    if existing is not None:
        report = await get(session, existing)
        assert report is not None
        return report, False
    report = Report(draft_token=token, author=author, channel=channel, created_at=now,
                    updated_at=now, status="submitted", version=1, details={}, measures=[])
    apply_values(report, values, details, figures)
    # Its unit, author and photos are at hand: set them rather than load them back after the insert.
    unit = await session.get(Unit, report.unit_id)
    assert unit is not None
    report.unit = unit
    report.photos = [
        ReportPhoto(position=position, channel=channel, file_id=photo["file_id"],
                    file_unique_id=photo.get("unique_id"), file_size=photo.get("size"),
                    stored_path=photo.get("path"))
        for position, photo in enumerate(values.get("photos") or [])
    ]
    session.add(report)
    await session.flush()
    if same_event_as is not None:
        other = await get(session, same_event_as, lock=True)
        if other is not None and other.status == "submitted":
            await events.link(session, other, report, by=author, now=now, submitting=report)
    session.add(ReportVersion(report_id=report.id, version=1, action="submitted", data=snapshot(report),
                              changed_by_person_id=author.id, changed_at=now))
    await session.flush()
    return report, True


async def by_author(session: AsyncSession, person_id: int, limit: int = 10) -> list[Report]:
    return list((await session.scalars(
        select(Report).where(Report.author_person_id == person_id).order_by(Report.created_at.desc(),
                                                                            Report.id.desc()).limit(limit)
    )).all())


async def get(session: AsyncSession, report_id: int, *, lock: bool = False) -> Report | None:
    query = select(Report).where(Report.id == report_id)
    return await session.scalar(query.with_for_update(of=Report) if lock else query)


async def record_change(session: AsyncSession, report: Report, *, action: str, by: Person | Sender,
                        now: dt.datetime, note: str | None = None) -> None:
    report.version += 1
    report.updated_at = now
    await session.flush()
    await session.refresh(report, ["photos", "measures"])
    session.add(ReportVersion(report_id=report.id, version=report.version, action=action, data=snapshot(report),
                              changed_by_person_id=by.id, changed_at=now, note=note))
    await session.flush()


async def versions(session: AsyncSession, report_id: int) -> list[ReportVersion]:
    return list((await session.scalars(
        select(ReportVersion).where(ReportVersion.report_id == report_id).order_by(ReportVersion.version)
    )).all())


# Built once: the report form asks for a unit's pairs at several steps of every report.
_PAIRS_OF_UNIT = (select(TwinningPair).where(TwinningPair.unit_id == bindparam("unit"), TwinningPair.active)
                  .order_by(TwinningPair.id))


async def pairs_of_unit(session: AsyncSession, unit_id: int) -> list[TwinningPair]:
    return list((await session.scalars(_PAIRS_OF_UNIT, {"unit": unit_id})).all())
