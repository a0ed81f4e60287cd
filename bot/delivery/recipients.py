"""A platform's answer about a recipient, turned into state: blocked or unknown recipients stop getting
pushes until they write again, and a moved group follows its new id."""

from __future__ import annotations

from bot.core.adapter import DeliveryResult, Target
from bot.core.ports import ChatRepo, UserRepo


class StoreRecipients:
    """`RecipientEvents` over the shared user and chat ports."""

    def __init__(self, users: UserRepo, chats: ChatRepo) -> None:
        self.users = users
        self.chats = chats

    async def apply(self, target: Target, result: DeliveryResult) -> Target | None:
        if result.outcome == "gone":
            if target.kind == "user":
                user = await self.users.find_user(target.platform, target.external_id)
                if user is not None:
                    await self.users.update_user(user.id, active=False)
            else:
                chat = await self.chats.find_chat(target.platform, target.external_id)
                if chat is not None:
                    await self.chats.update_chat(chat.id, active=False)
            return None
        if result.outcome == "migrated" and result.new_external_id and target.kind == "chat":
            await self.migrate(target.platform, target.external_id, result.new_external_id)
            return Target(target.platform, "chat", result.new_external_id)
        return None

    async def migrate(self, platform: str, old_external_id: str, new_external_id: str) -> None:
        await self.chats.migrate_chat(platform, old_external_id, new_external_id)
