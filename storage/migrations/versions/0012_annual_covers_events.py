"""annual covers events: the indexes the annual tables read a period from cover the event of each report and
whether each figure is an estimate, now that every total counts an event once (0011); on SQLite, reports in
the order of the annual tables' cells

Without them each of a year's reports is looked up in the table for its event number, and each of its figures
for ``approx``: the national table of a year of a million reports took twice as long. Made by hand for
``ix_reports_cells``, as in 0010 (SQLite keeps the columns in the key, PostgreSQL includes them).

``ix_reports_groups`` (SQLite only) holds reports in the order ``storage.annual`` groups them by, expressions
included, so that SQLite counts a period's reports per cell as it reads them instead of sorting them first
(PostgreSQL adds them up in a hash table and needs no such index).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CELLS = ('unit_id', 'pair_id', 'partner_country', 'partner_province', 'kind', 'venue', 'details')


def _cells(*tail: str) -> None:
    op.execute('DROP INDEX ix_reports_cells')
    columns = ', '.join((*CELLS, *tail))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'CREATE INDEX ix_reports_cells ON reports (status, activity_date, {columns})')
    else:
        op.execute(f'CREATE INDEX ix_reports_cells ON reports (status, activity_date) INCLUDE ({columns})')


# Status and date last: no statement seeks reports by status through this index, so the planner never takes
# it for a period's figures, which read the period's reports by date (ix_reports_cells) and look up each one's.
GROUPS = ("CREATE INDEX ix_reports_groups ON reports (unit_id, pair_id, partner_country, "
          "coalesce(partner_province, ''), kind, venue, coalesce(json_extract(details, '$.direction'), ''), event_id, "
          "status, activity_date)")


def upgrade() -> None:
    _cells('event_id', 'created_at')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(GROUPS)
    op.drop_index('ix_report_measures_cover', table_name='report_measures')
    op.create_index('ix_report_measures_cover', 'report_measures',
                    ['report_id', 'measure', 'currency', 'amount', 'approx'], unique=False)


def downgrade() -> None:
    op.execute('DROP INDEX IF EXISTS ix_reports_groups')
    op.drop_index('ix_report_measures_cover', table_name='report_measures')
    op.create_index('ix_report_measures_cover', 'report_measures', ['report_id', 'measure', 'currency', 'amount'],
                    unique=False)
    _cells('created_at')
