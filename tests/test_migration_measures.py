"""Migration 0006 carries every figure over: a database at 0005 holding reports of every kind, their versions
and half-written drafts is upgraded, and every figure is the same afterwards, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.pool import NullPool

from storage import migrate, registry
from storage.db import Database
from storage.models import Conversation, Report, ReportVersion
from tests.conftest import TEST_DB_URL
from tests.reporting import figures

SCHEMA = "twinbot_migration_test"

# (kind, columns, details) as 0005 stored them.
OLD_REPORTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("exchange", {"participants_ours": 45, "participants_partner": 1200}, {"exchange_type": "sport"}),
    ("donation", {"participants_ours": 12, "participants_partner": 40, "gift_packages": 200,
                  "amount": "350000000", "currency": "VND"},
     {"gift_items": "Gạo", "value": {"amount": "350000000", "currency": "VND"}, "place": "Cầu Hồ Kiều 2"}),
    ("visit", {}, {"occasion": "new_year"}),
    ("delegation", {"delegations": 2, "delegation_people": 14}, {"direction": "out"}),
    ("patrol", {"participants_ours": 6}, {"markers": 3, "km": "7.5"}),
    ("medical", {"participants_partner": 150, "amount": "200.00", "currency": "USD"},
     {"patients": 150, "medicine_value": {"amount": "200.00", "currency": "USD"}}),
    ("medical", {"amount": "20000000", "currency": "VND"}, {"patients": 30}),  # a value in the columns only
    ("outreach", {}, {"outreach_topic": "markers", "sessions": 2}),
    ("twinning", {}, {"twinning_event": "signing"}),
    ("twinning", {"participants_ours": 20}, {"twinning_event": "review"}),
    ("other", {}, {}),
]
EXPECTED = [
    ("exchange", {"participants_ours": 45, "participants_partner": 1200}, {"exchange_type": "sport"}),
    ("donation", {"participants_ours": 12, "participants_partner": 40, "gift_packages": 200,
                  "value_gifts": {"VND": Decimal(350000000)}}, {"gift_items": "Gạo", "place": "Cầu Hồ Kiều 2"}),
    ("visit", {}, {"occasion": "new_year"}),
    ("delegation", {"delegations": 2, "delegation_people": 14}, {"direction": "out"}),
    ("patrol", {"participants_ours": 6, "markers": 3, "km": Decimal("7.5")}, {}),
    ("medical", {"participants_partner": 150, "patients": 150, "value_medicines": {"USD": Decimal(200)}}, {}),
    ("medical", {"patients": 30, "value_medicines": {"VND": Decimal(20000000)}}, {}),
    ("outreach", {"sessions": 2}, {"outreach_topic": "markers"}),
    ("twinning_signing", {}, {}),
    ("twinning_review", {"participants_ours": 20}, {}),
    ("other", {}, {}),
]


@pytest.fixture
async def old_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database in its own file (SQLite) or schema (PostgreSQL), brought to 0005 only."""
    if TEST_DB_URL:
        setup = Database(TEST_DB_URL, poolclass=NullPool)
        async with setup.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await setup.dispose()
        db = Database(TEST_DB_URL, poolclass=NullPool,
                      connect_args={"server_settings": {"search_path": SCHEMA}, "timeout": 10})
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    await migrate.upgrade(db, "0005")
    await registry_at_0005(db)
    yield db
    await db.dispose()
    if TEST_DB_URL:
        setup = Database(TEST_DB_URL, poolclass=NullPool)
        async with setup.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await setup.dispose()


async def registry_at_0005(db: Database) -> None:
    """The sample registry in a database at 0005, whose units and pairs have none of the columns added since
    (0009's position, 0010's rhythm): clusters and provinces through the models, units and pairs as 0005
    stores them."""
    from sqlalchemy import insert

    from storage.models import Cluster, Province, TwinningPair, Unit

    spec = registry.load_registry_file(registry.SAMPLE_REGISTRY)
    units = Unit.__table__
    async with db.unit_of_work() as uow:
        s = uow.session
        await registry.seed_provinces(s)
        clusters = {}
        for cs in spec.clusters:
            clusters[cs.number] = Cluster(number=cs.number, name=cs.name, leader_province_code=cs.leader,
                                          deputy_province_code=cs.deputy, basis=cs.basis)
            s.add(clusters[cs.number])
        await s.flush()
        for province in (await s.scalars(select(Province))).all():
            province.cluster_id = next((clusters[cs.number].id for cs in spec.clusters
                                        if province.code in cs.province_codes), None)
        await s.execute(insert(units), [{"code": u.code, "name": u.name, "kind": u.kind,
                                         "province_code": u.province_code, "active": True} for u in spec.units])
        ids = dict((await s.execute(select(units.c.code, units.c.id))).all())
        await s.execute(insert(TwinningPair.__table__), [
            {"code": p.code, "unit_id": ids[p.unit_code], "partner_name": p.partner, "partner_country": p.country,
             "partner_province": p.partner_province, "kind": p.kind, "signed_on": p.signed_on,
             "signed_precision": p.signed_precision, "note": p.note, "active": True} for p in spec.pairs])
        await uow.commit()


async def insert_old(db: Database) -> None:
    now = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)
    naive = now.replace(tzinfo=None) if db.is_sqlite else now
    async with db.unit_of_work() as uow:
        s = uow.session
        unit_id = (await s.execute(text("SELECT id FROM units WHERE code = 'LCA-DBP-CKQT-LAO-CAI'"))).scalar_one()
        person_id = (await s.execute(text(
            "INSERT INTO people (display_name, role, unit_id, created_at) VALUES ('Vàng A Chứ', 'officer', :u, :t) "
            "RETURNING id"), {"u": unit_id, "t": naive})).scalar_one()
        for n, (kind, columns, details) in enumerate(OLD_REPORTS, start=1):
            names = ", ".join(columns)
            marks = ", ".join(f":{c}" for c in columns)
            report_id = (await s.execute(text(
                "INSERT INTO reports (draft_token, unit_id, author_person_id, channel, kind, activity_date, "
                "partner_name, partner_country, venue, description, details, status, search_text, version, "
                f"created_at, updated_at{', ' + names if names else ''}) VALUES (:token, :unit, :person, 'console', "
                ":kind, :day, 'Trạm KSBP XNC Hà Khẩu', 'CN', 'ours', 'Hoạt động', :details, 'submitted', '', 1, "
                f":t, :t{', ' + marks if marks else ''}) RETURNING id"),
                {"token": f"token-{n}", "unit": unit_id, "person": person_id, "kind": kind,
                 "day": dt.date(2026, 11, 20), "details": json.dumps(details), "t": naive, **columns})).scalar_one()
            snapshot = {"kind": kind, "details": details, **{k: columns.get(k) for k in (
                "participants_ours", "participants_partner", "gift_packages", "delegations", "delegation_people",
                "amount", "currency")}}
            await s.execute(text("INSERT INTO report_versions (report_id, version, action, data, "
                                 "changed_by_person_id, changed_at) VALUES (:r, 1, 'submitted', :d, :p, :t)"),
                            {"r": report_id, "d": json.dumps(snapshot), "p": person_id, "t": naive})
        drafts = [
            ("u-donation", "value", {"kind": "donation", "gift_items": "Gạo",
                                     "value": {"amount": "1500000", "currency": "VND"}}, ["kind", "gift_items"]),
            ("u-medical", "description", {"kind": "medical", "patients": 150,
                                          "medicine_value": {"amount": "20000000", "currency": "VND"}},
             ["kind", "patients", "medicine_value"]),
            ("u-twinning", "twinning_event", {"kind": "twinning", "date": "2026-11-20"}, ["kind", "date"]),
        ]
        for user, step, values, history in drafts:
            data = {"draft": {"token": user, "values": values, "history": history, "at": step}}
            await s.execute(text("INSERT INTO conversations (channel, user_external_id, flow, step, data, seq, "
                                 "updated_at) VALUES ('console', :u, 'report', :s, :d, 3, :t)"),
                            {"u": user, "s": step, "d": json.dumps(data), "t": naive})
        await uow.commit()


async def test_every_figure_is_the_same_after_the_upgrade(old_db: Database) -> None:
    await insert_old(old_db)
    await migrate.upgrade(old_db)
    assert await migrate.current(old_db) == migrate.head()
    async with old_db.unit_of_work() as uow:
        found = (await uow.session.scalars(select(Report).order_by(Report.id))).all()
        assert [(r.kind, figures(r), dict(r.details)) for r in found] == EXPECTED
        versions = (await uow.session.scalars(select(ReportVersion).order_by(ReportVersion.report_id))).all()
        assert [v.data["kind"] for v in versions] == [kind for kind, _, _ in EXPECTED]
        assert versions[1].data["measures"] == [
            {"measure": "participants_ours", "currency": "", "amount": "12", "approx": False},
            {"measure": "participants_partner", "currency": "", "amount": "40", "approx": False},
            {"measure": "gift_packages", "currency": "", "amount": "200", "approx": False},
            {"measure": "value_gifts", "currency": "VND", "amount": "350000000", "approx": False}]
        assert "participants_ours" not in versions[1].data and "value" not in versions[1].data["details"]
        conversations = {c.user_external_id: c for c in (await uow.session.scalars(select(Conversation))).all()}
    donation = conversations["u-donation"]
    assert donation.step == "value_gifts" and donation.data["draft"]["at"] == "value_gifts"
    assert donation.data["draft"]["values"]["value_gifts"] == [{"amount": "1500000", "currency": "VND"}]
    medical = conversations["u-medical"].data["draft"]
    assert medical["values"]["value_medicines"] == [{"amount": "20000000", "currency": "VND"}]
    assert medical["history"] == ["kind", "patients", "value_medicines"]
    twinning = conversations["u-twinning"]
    # Signing or review was not said yet: the kind is asked again, nothing else is lost.
    assert twinning.step == "kind" and "kind" not in twinning.data["draft"]["values"]
    assert twinning.data["draft"]["values"]["date"] == "2026-11-20"


async def test_search_still_finds_reports_after_the_upgrade(old_db: Database) -> None:
    from storage import lookup
    from storage.scope import Scope

    await insert_old(old_db)
    async with old_db.unit_of_work() as uow:
        await uow.session.execute(text("UPDATE reports SET search_text = 'hoat dong tram ksbp xnc ha khau'"))
        await uow.commit()
    await migrate.upgrade(old_db)
    async with old_db.unit_of_work() as uow:
        found = await lookup.search(uow.session, Scope(everything=True), "Hà Khẩu")
    assert len(found) == 10  # the ten newest of the eleven
