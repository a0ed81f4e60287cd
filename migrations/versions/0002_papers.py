"""papers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 01:12:22.607630
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("feed_date", sa.Date(), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("type_counts", sa.JSON(), nullable=False),
        sa.Column("new_ids", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_fetches")),
    )
    with op.batch_alter_table("paper_fetches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_fetches_at"), ["at"], unique=False)

    op.create_table(
        "papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("primary_category", sa.String(length=32), nullable=False),
        sa.Column("announce_type", sa.String(length=16), nullable=False),
        sa.Column("announced", sa.Date(), nullable=True),
        sa.Column("link", sa.String(length=256), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
        sa.UniqueConstraint("arxiv_id", name=op.f("uq_papers_arxiv_id")),
    )
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_papers_announced"), ["announced"], unique=False)

    op.create_table(
        "user_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("topic_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_topics_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_topics")),
        sa.UniqueConstraint("user_id", "topic_key", name=op.f("uq_user_topics_user_id_topic_key")),
    )
    with op.batch_alter_table("user_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_topics_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_topics_user_id"))

    op.drop_table("user_topics")
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_papers_announced"))

    op.drop_table("papers")
    with op.batch_alter_table("paper_fetches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_fetches_at"))

    op.drop_table("paper_fetches")
