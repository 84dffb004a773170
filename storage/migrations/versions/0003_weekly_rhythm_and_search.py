"""weekly rhythm and search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:51:42.556801
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'period', name=op.f('uq_job_runs_job_period'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_deliveries_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('key', 'recipient', name=op.f('uq_deliveries_key_recipient'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_status_due', ['status', 'due_at'], unique=False)

    op.create_table('group_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('bound_by_person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bound_by_person_id'], ['people.id'], name=op.f('fk_group_bindings_bound_by_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_group_bindings_cluster_id_clusters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_bindings')),
    sa.UniqueConstraint('channel', 'chat_id', name=op.f('uq_group_bindings_channel_chat_id'))
    )
    with op.batch_alter_table('group_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_bindings_cluster_id'), ['cluster_id'], unique=False)

    op.create_table('unit_weeks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('nothing_to_report_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('nothing_to_report_by', sa.Integer(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['nothing_to_report_by'], ['people.id'], name=op.f('fk_unit_weeks_nothing_to_report_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_weeks_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_weeks')),
    sa.UniqueConstraint('unit_id', 'week', name=op.f('uq_unit_weeks_unit_id_week'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegations', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delegation_people', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))

    _backfill_search_text()
    if op.get_bind().dialect.name == 'sqlite':
        # External-content FTS5 kept in step by triggers. A later batch migration that recreates
        # `reports` drops these triggers and must create them again.
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute("CREATE INDEX ix_reports_search ON reports USING gin (to_tsvector('simple', search_text))")


SQLITE_FTS = (
    "CREATE VIRTUAL TABLE reports_fts USING fts5(search_text, content='reports', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO reports_fts(rowid, search_text) SELECT id, search_text FROM reports",
    "CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN "
    "INSERT INTO reports_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER reports_fts_update AFTER UPDATE OF search_text ON reports BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO reports_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def _backfill_search_text() -> None:
    from storage.folding import fold

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT r.id, r.description, r.partner_name, r.partner_province, u.name FROM reports r "
        "JOIN units u ON u.id = r.unit_id"
    )).all()
    for row in rows:
        text = fold(" ".join(part or "" for part in row[1:]))
        bind.execute(sa.text("UPDATE reports SET search_text = :t WHERE id = :id"), {"t": text, "id": row[0]})



def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER reports_fts_{trigger}')
        op.execute('DROP TABLE reports_fts')
    else:
        op.execute('DROP INDEX ix_reports_search')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_column('delegation_people')
        batch_op.drop_column('delegations')

    op.drop_table('unit_weeks')
    with op.batch_alter_table('group_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_bindings_cluster_id'))

    op.drop_table('group_bindings')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_status_due')

    op.drop_table('deliveries')
    op.drop_table('job_runs')
