"""Fake Telegram Bot API server for running the real python-telegram-bot against in tests."""

from . import updates
from .server import ApiCall, ApiError, Chaos, FakeTelegramServer, UploadedFile, post_webhook

__all__ = ["ApiCall", "ApiError", "Chaos", "FakeTelegramServer", "UploadedFile", "post_webhook", "updates"]
