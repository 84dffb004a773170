"""Every declared measure is everywhere a figure is shown: /stats, the digest's text and spreadsheet, /export,
the correction menu, the form's sets and both catalogs. A measure added to handlers/measures.py and
forgotten anywhere fails here."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.core import Core
from handlers.digest import build_text, digest_files
from handlers.i18n import Translator
from handlers.measures import FIGURE_SETS, MEASURES, MONEY
from handlers.report_form import FIELDS
from handlers.report_values import details_of, figures_of
from storage import digests, people, reports
from storage.db import Database
from storage.digests import IsoWeek
from storage.models import Person, Report
from tests.conftest import TZ, Clock
from tests.reporting import person
from tests.test_catalogs import ROOT
from tests.test_report_kinds import option_number

UNIT = "LCA-DBP-CKQT-LAO-CAI"  # cluster 2


def figure(key: str) -> object:
    """A plausible figure of the measure, as a draft holds it."""
    kind = MEASURES[key].kind
    if kind == MONEY:
        return [{"amount": "12300000", "currency": "VND"}]
    if kind == "decimal":
        return "12.5"
    return 12


async def report_with(db: Database, clock: Clock, key: str) -> int:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, UNIT)
        assert unit is not None
        author = Person(display_name="Author", role="officer", unit_id=unit.id, created_at=clock())
        uow.session.add(author)
        await uow.session.flush()
        values = {"unit": unit.id, "unit_name": unit.name, "kind": "other", "date": clock().date().isoformat(),
                  "venue": "ours", "pair": "other", "partner_name": "Tổ Tam Bình Bá", "partner_country": "CN",
                  "description": f"Hoạt động có {key}", key: figure(key)}
        report, _ = await reports.submit(uow.session, token=str(uuid.uuid4()), values=values,
                                         details=details_of(values), figures=figures_of(values), author=author,
                                         channel="console", now=clock())
        await uow.commit()
        return report.id


@pytest.mark.parametrize("key", list(MEASURES))
async def test_every_measure_is_shown_everywhere(core: Core, db: Database, clock: Clock, key: str) -> None:
    measure = MEASURES[key]
    await report_with(db, clock, key)
    t = Translator("en", TZ)
    label = t(measure.label)
    shown = "₫12,300,000" if measure.kind == MONEY else ("12.5" if measure.kind == "decimal" else "12")
    header = f"{label} (VND)" if measure.kind == MONEY else label

    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    assert f"{label}: {shown}" in await coordinator.send("/stats week")

    await coordinator.send("/export week")
    [export] = coordinator.files
    rows = list(load_workbook(io.BytesIO(export.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert Decimal(str(dict(zip(rows[0], rows[1], strict=True))[header])) == Decimal(shown.strip("₫").replace(",", ""))

    week = IsoWeek.of(clock().astimezone(TZ).date())
    async with db.reader() as session:
        cluster = await digests.cluster_by_number(session, 2)
        assert cluster is not None
        data = await digests.collect(session, cluster, week)
        text = build_text(data, t)
        _, book = await digest_files(session, data, t)
    assert f"{label}: {shown} (+{shown})" in text
    summary = load_workbook(io.BytesIO(book.content), read_only=True)["Summary"]
    assert header in [row[0] for row in summary.iter_rows(values_only=True)]

    # The author may correct it, like any other field.
    me = await person(core, db, clock, "author", "officer", unit=UNIT)
    async with db.unit_of_work() as uow:
        report_id = await uow.session.scalar(select(Report.id))
        author = await people.identity(uow.session, "console", "author")
        assert author is not None and report_id is not None
        report = await reports.get(uow.session, report_id)
        assert report is not None
        report.author_person_id = author.person_id
        await uow.commit()
    said = await me.send("/myreports")
    said = await me.send(option_number(said, f"#{report_id}"))
    said = await me.send(option_number(said, "Correct a field"))
    assert label in said


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_measure_and_set_speaks_both_languages(locale: str) -> None:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "twinbot.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    for measure in MEASURES.values():
        for msgid in (measure.label, measure.prompt, measure.example, *measure.refused_units.values()):
            message = catalog.get(msgid)
            assert message is not None and message.string and not message.fuzzy, (measure.key, msgid)
    for figure_set in FIGURE_SETS.values():
        assert catalog.get(figure_set.label) and catalog.get(figure_set.label).string, figure_set.key  # type: ignore[union-attr]


def test_every_measure_belongs_to_a_set_or_is_always_asked() -> None:
    in_sets = {key for figure_set in FIGURE_SETS.values() for key in figure_set.fields}
    for key in MEASURES:
        assert key in in_sets or key in ("participants_ours", "participants_partner"), key
        assert key in FIELDS
    for figure_set in FIGURE_SETS.values():
        assert all(key in FIELDS for key in figure_set.fields), figure_set.key
