"""Logging that never prints a token: a filter redacts every configured secret from every record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

NOISY = ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler.executors.default", "discord.gateway")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs full request URLs, and Telegram's URLs contain the bot token.
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
