"""study buddies and weekly reviews

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buddy_optins",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_buddy_optins_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_buddy_optins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_buddy_optins")),
    )
    with op.batch_alter_table("buddy_optins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buddy_optins_user_id"), ["user_id"], unique=False)

    op.create_table(
        "buddy_weeks",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("monday", sa.Date(), nullable=False),
        sa.Column("draws", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_buddy_weeks_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "monday", name=op.f("pk_buddy_weeks")),
    )
    op.create_table(
        "buddy_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("monday", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pair_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_buddy_pairs_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_buddy_pairs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buddy_pairs")),
        sa.UniqueConstraint("chat_id", "monday", "user_id", name=op.f("uq_buddy_pairs_chat_id_monday_user_id")),
    )
    with op.batch_alter_table("buddy_pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buddy_pairs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "weekly_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("plan_week", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_weekly_reviews_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_weekly_reviews_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_reviews")),
        sa.UniqueConstraint("user_id", "plan_week", name=op.f("uq_weekly_reviews_user_id_plan_week")),
    )
    with op.batch_alter_table("weekly_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weekly_reviews_chat_id"), ["chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("weekly_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weekly_reviews_chat_id"))
    op.drop_table("weekly_reviews")
    with op.batch_alter_table("buddy_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buddy_pairs_user_id"))
    op.drop_table("buddy_pairs")
    op.drop_table("buddy_weeks")
    with op.batch_alter_table("buddy_optins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buddy_optins_user_id"))
    op.drop_table("buddy_optins")
