"""Secret links for the web pages: only each token's SHA-256 is stored (see bot/web/tokens.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class WebTokenRow(Base):
    """One issued link: what it opens (scope), whose it is (owner), and whether it was revoked."""

    __tablename__ = "web_tokens"
    __table_args__ = (Index("ix_web_tokens_scope_owner", "scope", "owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
