"""event links: reports of one event filed by several units share an event number, so totals count it once

``reports.event_id`` is NULL on a report that stands alone (every report, after this upgrade) and, on each
report of a linked event, the number of the event's first report. Added and dropped in place on SQLite:
copying ``reports`` in batch mode would delete through the ON DELETE CASCADE of its measures, versions and
photos, and drop the full-text triggers. ``ix_reports_kind_date`` serves the review card's one query for
reports that may be the same event (one kind, three days).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('reports', sa.Column('event_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_reports_event_id'), 'reports', ['event_id'], unique=False)
    op.create_index('ix_reports_kind_date', 'reports', ['kind', 'activity_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reports_kind_date', table_name='reports')
    op.drop_index(op.f('ix_reports_event_id'), table_name='reports')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE reports DROP COLUMN event_id')  # SQLite 3.35 and newer, as 0006 needs
    else:
        op.drop_column('reports', 'event_id')
