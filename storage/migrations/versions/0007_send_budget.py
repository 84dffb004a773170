"""send budget: the next moment a message may go out through each channel, shared by every worker

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('send_slots',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_send_slots'))
    )


def downgrade() -> None:
    op.drop_table('send_slots')
