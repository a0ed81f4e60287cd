"""group days: each group's per-day check-in count, kept as check-ins happen

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_days",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_group_days_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "local_date", name=op.f("pk_group_days")),
    )
    # The counts so far, exactly as /top used to compute them from the check-ins on every call.
    op.execute(
        "INSERT INTO group_days (chat_id, local_date, checked)"
        " SELECT m.chat_id, c.local_date, count(*) FROM group_members m JOIN checkins c ON c.user_id = m.user_id"
        " WHERE m.active AND c.local_date >= m.joined_on GROUP BY m.chat_id, c.local_date"
    )


def downgrade() -> None:
    op.drop_table("group_days")
