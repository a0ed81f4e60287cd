"""the daily loop: learners' explicit choices (language, timezone asked)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lang_chosen", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("timezone_asked", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone_asked")
        batch_op.drop_column("lang_chosen")
