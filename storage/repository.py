"""SqlStore: the repository ports of bot/core implemented with SQLAlchemy sessions.

Each write is one short transaction, so a failing update can't leave another half-written. The reads
every command makes (who is asking, their plan) are plain selects built once, on the command's shared
connection when the dispatcher opened a unit of work (`storage.unit`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Any

from sqlalchemy import Integer, RowMapping, bindparam, delete, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.types import Chat, ChatKind, Enrolment, Jump, Lang, PauseSpan, SubjectRef, User
from storage.base import SqlRepository
from storage.models import CHAT_COLUMNS, USER_COLUMNS, ChatRow, EnrolmentRow, JumpRow, PauseRow, UserRow
from storage.rows import from_object, labelled, labels_of, picker, typed_null
from storage.unit import reading, unit_of_work

USER_FIELDS = {
    "display_name",
    "lang",
    "timezone",
    "reminder_time",
    "reading_day",
    "active",
    "nudge_opt_out",
    "lang_chosen",
    "timezone_asked",
}
CHAT_FIELDS = {"title", "lang", "timezone", "post_time", "nudge_time", "reading_day", "active", "kind"}


def to_user(row: UserRow) -> User:
    return from_object(User, row, USER_COLUMNS)


def to_chat(row: ChatRow) -> Chat:
    return from_object(Chat, row, CHAT_COLUMNS)


def to_enrolment(row: EnrolmentRow) -> Enrolment:
    subject = SubjectRef("user", row.user_id) if row.user_id is not None else SubjectRef("chat", row.chat_id or 0)
    return Enrolment(
        id=row.id,
        subject=subject,
        start_date=row.start_date,
        created_at=row.created_at,
        pauses=tuple(PauseSpan(start=p.start_date, end=p.end_date) for p in row.pauses),
        jumps=tuple(Jump(on=j.on_date, day_index=j.day_index) for j in row.jumps),
    )


# Every update resolves its user (and group chat) first: these lookups are built once, not per call.
_USER_BY_ID = select(*labelled(USER_COLUMNS)).where(
    UserRow.platform == bindparam("platform"), UserRow.external_id == bindparam("external_id")
)
_CHAT_BY_ID = select(*labelled(CHAT_COLUMNS)).where(
    ChatRow.platform == bindparam("platform"), ChatRow.external_id == bindparam("external_id")
)
_USER_OF_ROW = picker(User, labels_of(_USER_BY_ID))
_CHAT_OF_ROW = picker(Chat, labels_of(_CHAT_BY_ID))


# A plan with its pauses and jumps in one statement: the enrolment's own row (once, with no pause), then
# one row per pause, then one per jump, each carrying the enrolment's columns. `part` orders and tells them
# apart; typed NULLs fill the columns a part doesn't have (PostgreSQL wants every column of a UNION typed).
_ENROLMENT_COLUMNS = (
    EnrolmentRow.id.label("id"),
    EnrolmentRow.user_id.label("user_id"),
    EnrolmentRow.chat_id.label("chat_id"),
    EnrolmentRow.start_date.label("start_date"),
    EnrolmentRow.created_at.label("created_at"),
)
_SUBJECT = or_(EnrolmentRow.user_id == bindparam("user_id"), EnrolmentRow.chat_id == bindparam("chat_id"))
_NO_DATE = typed_null(PauseRow.start_date)
_NO_INDEX = typed_null(JumpRow.day_index)
_ENROLMENT_PARTS = union_all(
    select(*_ENROLMENT_COLUMNS, literal(0, Integer).label("part"), _NO_DATE.label("d1"), _NO_DATE.label("d2"),
           _NO_INDEX.label("day_index")).where(_SUBJECT),
    select(*_ENROLMENT_COLUMNS, literal(1, Integer), PauseRow.start_date, PauseRow.end_date, _NO_INDEX)
    .join(PauseRow, PauseRow.enrolment_id == EnrolmentRow.id)
    .where(_SUBJECT),
    select(*_ENROLMENT_COLUMNS, literal(2, Integer), JumpRow.on_date, _NO_DATE, JumpRow.day_index)
    .join(JumpRow, JumpRow.enrolment_id == EnrolmentRow.id)
    .where(_SUBJECT),
)  # fmt: skip
_ENROLMENT_BY_SUBJECT = select(_ENROLMENT_PARTS.subquery()).order_by("part", "d1")


def enrolment_from_parts(rows: Sequence[RowMapping]) -> Enrolment | None:
    """The enrolment from the rows of `_ENROLMENT_BY_SUBJECT` (None when there are none)."""
    if not rows:
        return None
    head = rows[0]
    user_id, chat_id = head["user_id"], head["chat_id"]
    return Enrolment(
        id=head["id"],
        subject=SubjectRef("user", user_id) if user_id is not None else SubjectRef("chat", chat_id),
        start_date=head["start_date"],
        created_at=head["created_at"],
        pauses=tuple(PauseSpan(start=r["d1"], end=r["d2"]) for r in rows if r["part"] == 1),
        jumps=tuple(Jump(on=r["d1"], day_index=r["day_index"]) for r in rows if r["part"] == 2),
    )


def _subject_filter(subject: SubjectRef) -> Any:
    return EnrolmentRow.user_id == subject.id if subject.kind == "user" else EnrolmentRow.chat_id == subject.id


def _check_fields(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")


class SqlStore(SqlRepository):
    def unit_of_work(self) -> AbstractAsyncContextManager[None]:
        """One connection for the reads of one command (the dispatcher opens it around each update)."""
        return unit_of_work(self.engine)

    # users -------------------------------------------------------------------------------------------
    async def get_or_create_user(
        self, platform: str, external_id: str, display_name: str, lang: Lang, timezone: str
    ) -> tuple[User, bool]:
        params = {"platform": platform, "external_id": external_id}
        async with reading(self.engine) as connection:  # the common case: a read, no transaction
            found = (await connection.execute(_USER_BY_ID, params)).first()
        if found is not None:
            user = _USER_OF_ROW(found)
            if user.display_name == display_name:
                return user, False
            return await self.update_user(user.id, display_name=display_name), False
        query = select(UserRow).where(UserRow.platform == platform, UserRow.external_id == external_id)
        try:
            async with self.sessions.begin() as session:
                row = UserRow(
                    platform=platform,
                    external_id=external_id,
                    display_name=display_name,
                    lang=lang,
                    timezone=timezone,
                )
                session.add(row)
                await session.flush()
                return to_user(row), True
        except IntegrityError:  # another worker created it between our select and insert
            async with self.sessions() as session:
                return to_user((await session.execute(query)).scalar_one()), False

    async def update_user(self, user_id: int, **fields: Any) -> User:
        _check_fields(fields, USER_FIELDS)
        async with self.sessions.begin() as session:
            row = await session.get_one(UserRow, user_id)
            for key, value in fields.items():
                setattr(row, key, value)
            return to_user(row)

    async def get_user(self, user_id: int) -> User | None:
        async with self.sessions() as session:
            row = await session.get(UserRow, user_id)
            return to_user(row) if row else None

    async def find_user(self, platform: str, external_id: str) -> User | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(UserRow).where(UserRow.platform == platform, UserRow.external_id == external_id)
                )
            ).scalar_one_or_none()
            return to_user(row) if row else None

    async def get_users(self, ids: Collection[int]) -> dict[int, User]:
        """Many users in one query: the outbox renders a whole claimed batch at once."""
        if not ids:
            return {}
        async with self.sessions() as session:
            rows = (await session.execute(select(UserRow).where(UserRow.id.in_(list(ids))))).scalars()
            return {row.id: to_user(row) for row in rows}

    # chats -------------------------------------------------------------------------------------------
    async def get_or_create_chat(
        self, platform: str, external_id: str, kind: ChatKind, title: str | None, lang: Lang, timezone: str
    ) -> Chat:
        params = {"platform": platform, "external_id": external_id}
        async with reading(self.engine) as connection:  # the common case: a read, no transaction
            found = (await connection.execute(_CHAT_BY_ID, params)).first()
        if found is not None:
            chat = _CHAT_OF_ROW(found)
            if not title or chat.title == title:
                return chat
            return await self.update_chat(chat.id, title=title)
        query = select(ChatRow).where(ChatRow.platform == platform, ChatRow.external_id == external_id)
        try:
            async with self.sessions.begin() as session:
                row = ChatRow(
                    platform=platform,
                    external_id=external_id,
                    kind=kind,
                    title=title,
                    lang=lang,
                    timezone=timezone,
                )
                session.add(row)
                await session.flush()
                return to_chat(row)
        except IntegrityError:
            async with self.sessions() as session:
                return to_chat((await session.execute(query)).scalar_one())

    async def update_chat(self, chat_id: int, **fields: Any) -> Chat:
        _check_fields(fields, CHAT_FIELDS)
        async with self.sessions.begin() as session:
            row = await session.get_one(ChatRow, chat_id)
            for key, value in fields.items():
                setattr(row, key, value)
            return to_chat(row)

    async def get_chat(self, chat_id: int) -> Chat | None:
        async with self.sessions() as session:
            row = await session.get(ChatRow, chat_id)
            return to_chat(row) if row else None

    async def get_chats(self, ids: Collection[int]) -> dict[int, Chat]:
        if not ids:
            return {}
        async with self.sessions() as session:
            rows = (await session.execute(select(ChatRow).where(ChatRow.id.in_(list(ids))))).scalars()
            return {row.id: to_chat(row) for row in rows}

    async def find_chat(self, platform: str, external_id: str) -> Chat | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(ChatRow).where(ChatRow.platform == platform, ChatRow.external_id == external_id)
                )
            ).scalar_one_or_none()
            return to_chat(row) if row else None

    async def migrate_chat(self, platform: str, old_external_id: str, new_external_id: str) -> None:
        async with self.sessions.begin() as session:
            old = (
                await session.execute(
                    select(ChatRow).where(ChatRow.platform == platform, ChatRow.external_id == old_external_id)
                )
            ).scalar_one_or_none()
            new = (
                await session.execute(
                    select(ChatRow).where(ChatRow.platform == platform, ChatRow.external_id == new_external_id)
                )
            ).scalar_one_or_none()
            if old is None:
                return
            if new is not None and new.id != old.id:
                # The new id wrote to us before the migration notice: keep the old row's history.
                await session.delete(new)
                await session.flush()
            old.external_id = new_external_id
            old.kind = "group"

    # enrolments --------------------------------------------------------------------------------------
    async def get_enrolment(self, subject: SubjectRef) -> Enrolment | None:
        """Read by nearly every command: one plain select, not an ORM load with its joined collections."""
        params = {"user_id": subject.id if subject.kind == "user" else None}
        params["chat_id"] = subject.id if subject.kind == "chat" else None
        async with reading(self.engine) as connection:
            rows = (await connection.execute(_ENROLMENT_BY_SUBJECT, params)).mappings().all()
        return enrolment_from_parts(rows)

    async def get_enrolments(self, subjects: Collection[SubjectRef]) -> dict[SubjectRef, Enrolment]:
        user_ids = [s.id for s in subjects if s.kind == "user"]
        chat_ids = [s.id for s in subjects if s.kind == "chat"]
        if not subjects:
            return {}
        query = select(EnrolmentRow).where(or_(EnrolmentRow.user_id.in_(user_ids), EnrolmentRow.chat_id.in_(chat_ids)))
        async with self.sessions() as session:
            found = [to_enrolment(row) for row in (await session.execute(query)).unique().scalars()]
        return {enrolment.subject: enrolment for enrolment in found}

    async def enrol(self, subject: SubjectRef, start_date: date) -> Enrolment:
        async with self.sessions.begin() as session:
            row = (
                (await session.execute(select(EnrolmentRow).where(_subject_filter(subject))))
                .unique()
                .scalar_one_or_none()
            )
            if row is None:
                row = EnrolmentRow(
                    user_id=subject.id if subject.kind == "user" else None,
                    chat_id=subject.id if subject.kind == "chat" else None,
                    start_date=start_date,
                    pauses=[],
                    jumps=[],
                )
                session.add(row)
            else:
                row.start_date = start_date
                row.pauses.clear()
                row.jumps.clear()
            await session.flush()
            return to_enrolment(row)

    async def start_pause(self, enrolment_id: int, on: date) -> None:
        async with self.sessions.begin() as session:
            session.add(PauseRow(enrolment_id=enrolment_id, start_date=on))

    async def end_pause(self, enrolment_id: int, on: date) -> Enrolment:
        async with self.sessions.begin() as session:
            await self._end_pauses(session, enrolment_id, on)
            return await self._enrolment(session, enrolment_id)

    async def add_pause(self, enrolment_id: int, start: date, end: date) -> Enrolment:
        async with self.sessions.begin() as session:
            session.add(PauseRow(enrolment_id=enrolment_id, start_date=start, end_date=end))
            return await self._enrolment(session, enrolment_id)

    async def add_jump(self, enrolment_id: int, on: date, day_index: int) -> Enrolment:
        """Today becomes plan day `day_index`; a paused plan resumes with it, in the same transaction."""
        async with self.sessions.begin() as session:
            await self._end_pauses(session, enrolment_id, on)
            await session.execute(delete(JumpRow).where(JumpRow.enrolment_id == enrolment_id, JumpRow.on_date == on))
            session.add(JumpRow(enrolment_id=enrolment_id, on_date=on, day_index=day_index))
            return await self._enrolment(session, enrolment_id)

    @staticmethod
    async def _end_pauses(session: AsyncSession, enrolment_id: int, on: date) -> None:
        open_pauses = (
            await session.execute(
                select(PauseRow).where(PauseRow.enrolment_id == enrolment_id, PauseRow.end_date.is_(None))
            )
        ).scalars()
        for pause in open_pauses:
            pause.end_date = max(on, pause.start_date)

    @staticmethod
    async def _enrolment(session: AsyncSession, enrolment_id: int) -> Enrolment:
        await session.flush()
        query = select(EnrolmentRow).where(EnrolmentRow.id == enrolment_id).execution_options(populate_existing=True)
        return to_enrolment((await session.execute(query)).unique().scalar_one())
