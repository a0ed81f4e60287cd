"""The schedule book: keeps each subject's schedule rows in line with its settings and the push kinds.

Commands call it (through the core's `Schedules` port) after changing anything a kind's `when` reads;
the tick then only reads due rows.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import Clock
from bot.core.ports import Store
from bot.core.types import SubjectRef
from bot.delivery.kinds import PushKinds, Subscriber
from bot.delivery.outbox import OutboxRepo
from bot.delivery.schedule import DesiredSchedule, next_occurrence


class ScheduleBook:
    pushes = True

    def __init__(self, store: Store, outbox: OutboxRepo, kinds: PushKinds, clock: Clock) -> None:
        self.store = store
        self.outbox = outbox
        self.kinds = kinds
        self.clock = clock

    async def subscriber(self, subject: SubjectRef) -> tuple[str, Subscriber] | None:
        """The subject's platform and settings, or None when it no longer exists."""
        user = chat = None
        if subject.kind == "user":
            user = await self.store.get_user(subject.id)
            if user is None:
                return None
            platform = user.platform
        else:
            chat = await self.store.get_chat(subject.id)
            if chat is None:
                return None
            platform = chat.platform
        enrolled = await self.store.get_enrolment(subject) is not None
        return platform, Subscriber(subject, user, chat, enrolled)

    async def refresh(self, subject: SubjectRef) -> None:
        """Bring a subject's schedules in line with its settings; called after commands that change them."""
        found = await self.subscriber(subject)
        if found is None:
            return
        platform, subscriber = found
        now = self.clock.now()
        kinds = self.kinds.for_audience(subject.kind)
        planned = []
        for kind in kinds:
            recurrence = kind.when(subscriber)
            if recurrence is not None:
                planned.append((DesiredSchedule(subject, kind.name, recurrence), next_occurrence(recurrence, now)))
        await self.outbox.replace_schedules(platform, subject, [kind.name for kind in kinds], planned)

    async def next_due(self, subject: SubjectRef) -> tuple[str, datetime] | None:
        return await self.outbox.next_due(subject)
