"""unit positions: an optional latitude and longitude per unit, to name the place of a shared position

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite has dropped columns in place since 3.35): a batch copy of
# ``units`` would delete, by cascade, every row that refers to a unit.
def upgrade() -> None:
    op.add_column('units', sa.Column('latitude', sa.Double(), nullable=True))
    op.add_column('units', sa.Column('longitude', sa.Double(), nullable=True))


def downgrade() -> None:
    op.drop_column('units', 'longitude')
    op.drop_column('units', 'latitude')
