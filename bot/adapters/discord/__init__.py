"""Discord on discord.py: the adapter, its slash commands, rendering and endpoint configuration."""

from bot.adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
