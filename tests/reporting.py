"""Making people and reports directly in the database, for tests about what is asked of them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from handlers.report_values import details_of, figures_of
from storage import people, reports
from storage.db import Database
from storage.models import Person, Unit
from tests.conftest import Clock
from tests.test_onboarding import make_invite


async def person(core: Core, db: Database, clock: Clock, user: str, role: str, *, unit: str | None = None,
                 cluster: int | None = None, lang: str = "en") -> ConsoleChannel:
    channel = ConsoleChannel(core, user_id=user, display_name=user.title(), language_code=lang, clock=clock)
    await channel.send(f"/start {await make_invite(db, clock, role=role, unit=unit, cluster=cluster)}")
    return channel


async def report(db: Database, clock: Clock, unit_code: str, *, kind: str = "exchange", day: dt.date | None = None,
                 venue: str = "ours", ours: int = 10, theirs: int = 12, description: str = "Giao lưu hữu nghị",
                 amount: str | None = None, currency: str = "VND", packages: int | None = None,
                 delegations: int | None = None, delegation_people: int | None = None,
                 author: Person | None = None) -> int:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, unit_code)
        assert isinstance(unit, Unit)
        pairs = await reports.pairs_of_unit(uow.session, unit.id)
        if author is None:
            author = Person(display_name=f"Author of {unit.code}", role="officer", unit_id=unit.id,
                            created_at=clock())
            uow.session.add(author)
            await uow.session.flush()
        values: dict[str, Any] = {
            "unit": unit.id, "unit_name": unit.name, "kind": kind,
            "date": (day or clock().date()).isoformat(), "venue": venue,
            "participants_ours": ours, "participants_partner": theirs, "description": description,
            "gift_packages": packages, "delegations": delegations, "delegation_people": delegation_people,
        }
        if pairs:
            pair = pairs[0]
            values["pair"] = pair.id
            values["partner"] = {"name": pair.partner_name, "country": pair.partner_country,
                                 "province": pair.partner_province}
        if amount is not None:
            money = "value_medicines" if kind == "medical" else "value_gifts"
            values[money] = [{"amount": str(Decimal(amount)), "currency": currency}]
        created, _ = await reports.submit(uow.session, token=str(uuid.uuid4()), values=values,
                                          details=details_of(values), figures=figures_of(values), author=author,
                                          channel="console", now=clock())
        await uow.commit()
        return created.id


def figures(report: Any) -> dict[str, Any]:
    """A report's measures as ``{"gift_packages": 200, "value_gifts": {"VND": Decimal(...)}}``."""
    found: dict[str, Any] = {}
    for m in report.measures:
        amount = Decimal(str(m.amount)).normalize()
        if m.currency:
            found.setdefault(m.measure, {})[m.currency] = amount
        else:
            found[m.measure] = int(amount) if amount == amount.to_integral_value() else amount
    return found
