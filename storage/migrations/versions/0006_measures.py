"""measures: a report's figures as rows of their own (participants, packages, values per purpose and currency,
people examined, markers, kilometres, sessions…); twinning signing and review become kinds of their own

Every figure of every report, version and draft is carried over: the columns participants_ours,
participants_partner, gift_packages, delegations and delegation_people, the value (amount, currency; in
details as ``value`` for gifts and ``medicine_value`` for medicines) and the figures kept in details
(patients, markers, km, sessions). Drafts in conversations get the new keys (``value_gifts``,
``value_medicines``, values as lists per currency).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMN_MEASURES = ("participants_ours", "participants_partner", "gift_packages", "delegations", "delegation_people")
DETAIL_MEASURES = ("patients", "markers", "km", "sessions")
MONEY_KEYS = {"value": "value_gifts", "medicine_value": "value_medicines"}
RENAMED_FIELDS = {**MONEY_KEYS, "twinning_event": None}
TWINNING = {"signing": "twinning_signing", "review": "twinning_review"}

reports = sa.table(
    "reports", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("details", sa.JSON),
    sa.column("amount", sa.Numeric(20, 2)), sa.column("currency", sa.String),
    *(sa.column(name, sa.Integer) for name in COLUMN_MEASURES),
)
measures = sa.table(
    "report_measures", sa.column("report_id", sa.Integer), sa.column("measure", sa.String),
    sa.column("currency", sa.String), sa.column("amount", sa.Numeric(20, 3)), sa.column("approx", sa.Boolean),
)
versions = sa.table("report_versions", sa.column("id", sa.Integer), sa.column("data", sa.JSON))
conversations = sa.table("conversations", sa.column("id", sa.Integer), sa.column("step", sa.String),
                         sa.column("data", sa.JSON))


def _new_kind(kind: str | None, details: dict[str, Any]) -> str | None:
    if kind != "twinning":
        return kind
    return TWINNING.get(str(details.get("twinning_event")), "twinning_review")


def _figures(kind: str | None, columns: dict[str, Any], details: dict[str, Any], amount: Any,
             currency: str | None) -> list[dict[str, Any]]:
    """A report's (or a version's) figures as measure rows, from its old columns and details."""
    rows = [{"measure": name, "currency": "", "amount": Decimal(str(columns[name])), "approx": False}
            for name in COLUMN_MEASURES if columns.get(name) is not None]
    rows += [{"measure": name, "currency": "", "amount": Decimal(str(details[name])), "approx": False}
             for name in DETAIL_MEASURES if details.get(name) is not None]
    kept = False
    for old, new in MONEY_KEYS.items():
        money = details.get(old)
        if isinstance(money, dict) and money.get("amount") is not None:
            rows.append({"measure": new, "currency": money["currency"], "amount": Decimal(str(money["amount"])),
                         "approx": False})
            kept = True
    if not kept and amount is not None and currency:
        # A value only in the columns: medical care carried the medicines' value, every other kind the gifts'.
        rows.append({"measure": "value_medicines" if kind == "medical" else "value_gifts", "currency": currency,
                     "amount": Decimal(str(amount)), "approx": False})
    return rows


def _clean_details(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k not in (*DETAIL_MEASURES, *MONEY_KEYS, "twinning_event")}


def _draft_values(values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A draft's values in the new form; True when its kind must be asked again (a twinning draft that had
    not said whether it was a signing or a review)."""
    values = dict(values)
    for old, new in MONEY_KEYS.items():
        if old in values:
            money = values.pop(old)
            values[new] = [money] if isinstance(money, dict) else money
    ask_kind = False
    if values.get("kind") == "twinning":
        event = values.pop("twinning_event", None)
        if event in TWINNING:
            values["kind"] = TWINNING[event]
        else:
            values.pop("kind")
            ask_kind = True
    values.pop("twinning_event", None)
    return values, ask_kind


def _rename(key: Any) -> Any:
    return RENAMED_FIELDS.get(key, key) if isinstance(key, str) else key


def _conversation(step: str | None, data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    draft = data.get("draft")
    if not isinstance(draft, dict) or not isinstance(draft.get("values"), dict):
        return step, data
    values, ask_kind = _draft_values(draft["values"])
    history = [h for h in (_rename(k) for k in draft.get("history") or []) if h]
    at = _rename(draft.get("at"))
    step = _rename(step) if step != "twinning_event" else "kind"
    if ask_kind:
        history = [h for h in history if h != "kind"]
        step, at = "kind", "kind"
    draft = {**draft, "values": values, "history": history, **({"at": at or step} if "at" in draft else {})}
    return step, {**data, "draft": draft}


def upgrade() -> None:
    op.create_table('report_measures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='', nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=3), nullable=False),
    sa.Column('approx', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_measures_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_measures')),
    sa.UniqueConstraint('report_id', 'measure', 'currency', name=op.f('uq_report_measures_report_id_measure_currency'))
    )
    with op.batch_alter_table('report_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_measures_report_id'), ['report_id'], unique=False)

    bind = op.get_bind()
    rows = bind.execute(sa.select(reports.c.id, reports.c.kind, reports.c.details, reports.c.amount,
                                  reports.c.currency, *(reports.c[name] for name in COLUMN_MEASURES))).mappings()
    new_measures = []
    for row in list(rows):
        details = dict(row["details"] or {})
        new_measures += [{**m, "report_id": row["id"]}
                         for m in _figures(row["kind"], dict(row), details, row["amount"], row["currency"])]
        bind.execute(reports.update().where(reports.c.id == row["id"]).values(
            kind=_new_kind(row["kind"], details), details=_clean_details(details)))
    if new_measures:
        bind.execute(measures.insert(), new_measures)

    for version_id, data in list(bind.execute(sa.select(versions.c.id, versions.c.data))):
        data = dict(data or {})
        details = dict(data.get("details") or {})
        figures = _figures(data.get("kind"), data, details, data.get("amount"), data.get("currency"))
        snapshot = {k: v for k, v in data.items() if k not in (*COLUMN_MEASURES, "amount", "currency")}
        snapshot.update(kind=_new_kind(data.get("kind"), details), details=_clean_details(details),
                        measures=[{**m, "amount": str(m["amount"])} for m in figures])
        bind.execute(versions.update().where(versions.c.id == version_id).values(data=snapshot))

    for conversation_id, step, data in list(bind.execute(sa.select(conversations.c.id, conversations.c.step,
                                                                   conversations.c.data))):
        new_step, new_data = _conversation(step, dict(data or {}))
        if (new_step, new_data) != (step, data):
            bind.execute(conversations.update().where(conversations.c.id == conversation_id)
                         .values(step=new_step, data=new_data))

    if bind.dialect.name == 'sqlite':
        # Not batch mode: it copies the table and drops the old one, and with foreign keys on, SQLite's drop
        # deletes through every ON DELETE CASCADE: the measures, versions and photos just kept. SQLite
        # (3.35 and newer) drops a column in place.
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError(f"SQLite 3.35 or newer is needed (this Python has {sqlite3.sqlite_version})")
        for name in (*COLUMN_MEASURES, "amount", "currency"):
            op.execute(f'ALTER TABLE reports DROP COLUMN {name}')
    else:
        with op.batch_alter_table('reports', schema=None) as batch_op:
            for name in (*COLUMN_MEASURES, "amount", "currency"):
                batch_op.drop_column(name)
    _search_triggers_again()


# The triggers that keep SQLite's full-text index in step (0003) go with the table a batch migration copies.
SQLITE_FTS_TRIGGERS = (
    "CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN "
    "INSERT INTO reports_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER reports_fts_update AFTER UPDATE OF search_text ON reports BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO reports_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def _search_triggers_again() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for trigger in ('insert', 'delete', 'update'):
        op.execute(f'DROP TRIGGER IF EXISTS reports_fts_{trigger}')
    for statement in SQLITE_FTS_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO reports_fts(reports_fts) VALUES ('rebuild')")


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for name in COLUMN_MEASURES:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('amount', sa.Numeric(precision=20, scale=2), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
    bind = op.get_bind()
    figures: dict[int, list[Any]] = {}
    for report_id, name, currency, amount in bind.execute(
            sa.select(measures.c.report_id, measures.c.measure, measures.c.currency, measures.c.amount)):
        figures.setdefault(report_id, []).append((name, currency, amount))
    for report_id, kind, details in list(bind.execute(sa.select(reports.c.id, reports.c.kind, reports.c.details))):
        details = dict(details or {})
        values: dict[str, Any] = {}
        for name, currency, amount in figures.get(report_id, []):
            if name in COLUMN_MEASURES:
                values[name] = int(amount)
            elif name in DETAIL_MEASURES:
                details[name] = str(Decimal(str(amount)).normalize()) if name == "km" else int(amount)
            elif name in ("value_gifts", "value_medicines") and "amount" not in values:
                values.update(amount=amount, currency=currency)
                details["medicine_value" if name == "value_medicines" else "value"] = {
                    "amount": str(amount), "currency": currency}
        if kind in ("twinning_signing", "twinning_review"):
            details["twinning_event"] = "signing" if kind == "twinning_signing" else "review"
            kind = "twinning"
        bind.execute(reports.update().where(reports.c.id == report_id).values(kind=kind, details=details, **values))
    op.drop_table('report_measures')
    _search_triggers_again()
