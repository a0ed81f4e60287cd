"""Configuration from the environment (and an optional .env file) and logging that never prints a secret.

Secrets stay SecretStr; a filter redacts every configured secret from every log record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in the user's data dir")
    default_timezone: str = "UTC"
    log_level: str = "INFO"

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_updates: bool = Field(True, description="off: send only, don't consume updates (extra workers)")

    discord_bot_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None

    arxiv_feed_url: str = "https://rss.arxiv.org/rss/cs.CL+cs.LG"
    arxiv_api_url: str = "http://export.arxiv.org/api/query"
    arxiv_ingest: bool = True

    # Several workers on one PostgreSQL (see README "Scaling out").
    delivery_workers: int = Field(1, ge=1, description="workers sharing the outbox; each paces at 1/N of the rate")
    delivery_rate_per_second: float | None = Field(None, gt=0, description="total sends/s per platform, all workers")
    delivery_lease_seconds: float = Field(120.0, gt=0, description="a dead worker's claims return after this")
    health_port: int | None = Field(None, description="serve /healthz and /metrics on this port")
    health_listen: str = "127.0.0.1"

    def secrets_of_adapters(self) -> list[str]:
        """The chat platforms' tokens that are set: each one means an adapter `studybuddy run` starts."""
        values = [self.telegram_bot_token, self.discord_bot_token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    def secrets(self) -> list[str]:
        """Every secret value, so logging can redact them wherever they turn up."""
        values = [self.telegram_bot_token, self.telegram_webhook_secret, self.discord_bot_token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


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
