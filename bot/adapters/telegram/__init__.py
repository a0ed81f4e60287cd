"""Telegram on python-telegram-bot: the adapter (`adapter.py`) and the PTB glue it is built on (`ptb.py`)."""

from bot.adapters.telegram.adapter import TelegramAdapter, menu_commands

__all__ = ["TelegramAdapter", "menu_commands"]
