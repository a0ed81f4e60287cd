"""SQLAlchemy 2 typed models. Rows are keyed by (platform, external id) strings, never platform objects.

Alembic owns every change to these tables (see migrations/); a test checks the two never drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.rows import by_key

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back aware datetimes, on SQLite (which drops zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    lang: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    reminder_time: Mapped[time | None] = mapped_column(Time(), default=time(8, 0))
    reading_day: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    nudge_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # explicit choices: /lang sticks over a platform's locale; the timezone question is asked once
    lang_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    timezone_asked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatRow(Base):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(128))
    lang: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    post_time: Mapped[time | None] = mapped_column(Time())
    nudge_time: Mapped[time | None] = mapped_column(Time())
    reading_day: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EnrolmentRow(Base):
    """One plan per subject: a user's own, or a group chat's cohort."""

    __tablename__ = "enrolments"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (chat_id IS NULL)", name="one_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), unique=True)
    start_date: Mapped[date] = mapped_column(Date())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    pauses: Mapped[list[PauseRow]] = relationship(
        order_by="PauseRow.start_date", cascade="all, delete-orphan", lazy="joined"
    )
    jumps: Mapped[list[JumpRow]] = relationship(order_by="JumpRow.on_date", cascade="all, delete-orphan", lazy="joined")


class PauseRow(Base):
    __tablename__ = "enrolment_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date())
    end_date: Mapped[date | None] = mapped_column(Date())


class JumpRow(Base):
    __tablename__ = "enrolment_jumps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[date] = mapped_column(Date())
    day_index: Mapped[int] = mapped_column(Integer)


class CheckinRow(Base):
    """A learner's check-in for one of their local calendar days."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("user_id", "local_date"),
        Index("ix_checkins_local_date", "local_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date())
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SettingRow(Base):
    """Small pieces of application state (e.g. the hash of the last command sync)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# The columns of the core dataclasses, keyed by field name (each column's attribute has the field's name):
# hot reads (every update resolves its user) select these and build `User` / `Chat` from the row's mapping
# without loading ORM objects (storage/rows.py), and the ORM-row mappers in storage/repository.py read the
# same attributes. Order doesn't matter: nothing is matched by position.
USER_COLUMNS = by_key(
    UserRow.id,
    UserRow.platform,
    UserRow.external_id,
    UserRow.display_name,
    UserRow.lang,
    UserRow.timezone,
    UserRow.reminder_time,
    UserRow.reading_day,
    UserRow.active,
    UserRow.nudge_opt_out,
    UserRow.lang_chosen,
    UserRow.timezone_asked,
)
CHAT_COLUMNS = by_key(
    ChatRow.id,
    ChatRow.platform,
    ChatRow.external_id,
    ChatRow.kind,
    ChatRow.title,
    ChatRow.lang,
    ChatRow.timezone,
    ChatRow.post_time,
    ChatRow.nudge_time,
    ChatRow.reading_day,
    ChatRow.active,
)
