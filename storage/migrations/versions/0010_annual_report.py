"""annual report: the agreed rhythm of a twinning pair, indicator sets and plan targets; an index that finds
each pair's last activity in one lookup, and two that let the annual tables read a year of reports and their
measures from indexes alone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column is done in place on SQLite too (no table copy).
    with op.batch_alter_table('twinning_pairs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rhythm', sa.String(length=12), nullable=True))

    op.create_index('ix_reports_pair_status_date', 'reports', ['pair_id', 'status', 'activity_date'], unique=False)
    op.create_index('ix_report_measures_cover', 'report_measures', ['report_id', 'measure', 'currency', 'amount'],
                    unique=False)
    # Everything storage.annual groups a period's reports by, so that a year is read from the index alone. Made by
    # hand, like ix_reports_search (0003): SQLite keeps the columns in the key (json_extract of the direction is
    # read from details), PostgreSQL includes them (json has no btree operator class).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('CREATE INDEX ix_reports_cells ON reports (status, activity_date, unit_id, pair_id, '
                   'partner_country, partner_province, kind, venue, details, created_at)')
    else:
        op.execute('CREATE INDEX ix_reports_cells ON reports (status, activity_date) INCLUDE (unit_id, pair_id, '
                   'partner_country, partner_province, kind, venue, details, created_at)')

    op.create_table('indicator_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_sets'))
    )
    op.create_table('plan_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('target', sa.Numeric(precision=20, scale=3), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_targets')),
    sa.UniqueConstraint('year', 'scope', 'indicator', name=op.f('uq_plan_targets_year_scope_indicator'))
    )


def downgrade() -> None:
    op.drop_table('plan_targets')
    op.drop_table('indicator_sets')
    op.drop_index('ix_reports_cells', table_name='reports')
    op.drop_index('ix_report_measures_cover', table_name='report_measures')
    op.drop_index('ix_reports_pair_status_date', table_name='reports')
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: it copies twinning_pairs and drops the old table, and with foreign keys on, SQLite's
        # drop sets every report's pair_id to NULL (ON DELETE SET NULL) and deletes through ON DELETE CASCADE.
        # SQLite 3.35 and newer drops a column in place (0006 requires it already).
        op.execute('ALTER TABLE twinning_pairs DROP COLUMN rhythm')
    else:
        with op.batch_alter_table('twinning_pairs', schema=None) as batch_op:
            batch_op.drop_column('rhythm')
