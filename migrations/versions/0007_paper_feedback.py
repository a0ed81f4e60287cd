"""papers: each learner's feedback and reading check-ins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("vote", sa.Integer(), nullable=False),
        sa.Column("read_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_feedback")),
        sa.UniqueConstraint("user_id", "arxiv_id", name=op.f("uq_paper_feedback_user_id_arxiv_id")),
    )
    with op.batch_alter_table("paper_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_feedback_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_paper_feedback_read_on"), ["read_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paper_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_feedback_read_on"))
        batch_op.drop_index(batch_op.f("ix_paper_feedback_user_id"))

    op.drop_table("paper_feedback")
