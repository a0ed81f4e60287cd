"""Configuration from the environment (and an optional .env file) and logging that never prints a secret.

Secrets stay SecretStr; the log handler redacts every secret from every fully formatted record."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError
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
    # Public web pages (calendar feeds, dashboards); see README "Web pages".
    web_port: int | None = Field(None, ge=0, le=65535, description="serve the web pages on this port")
    web_listen: str = "127.0.0.1"
    public_url: str | None = Field(None, description="the pages' address as users see it, e.g. behind a proxy")

    def secrets_of_adapters(self) -> list[str]:
        """The chat platforms' tokens that are set: each one means an adapter `studybuddy run` starts."""
        values = [self.telegram_bot_token, self.discord_bot_token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    def secrets(self) -> list[str]:
        """Every secret value, so logging can redact them wherever they turn up: the tokens, the webhook
        secret and the database password."""
        values = [self.telegram_bot_token, self.telegram_webhook_secret, self.discord_bot_token]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        password = urlsplit(self.database_url).password if self.database_url else None
        return [*found, password] if password else found


# The PostgreSQL drivers people name in DATABASE_URL, with what to install for each.
POSTGRES_DRIVERS = {
    "psycopg": ("psycopg", "pip install 'studybuddy[postgres]'"),
    "asyncpg": ("asyncpg", "pip install asyncpg"),
}


def config_problems(settings: Settings) -> list[str]:
    """What would make the bot fail later, found at start: one line per problem, saying what to do."""
    problems: list[str] = []
    try:
        ZoneInfo(settings.default_timezone)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError; "../x" a ValueError
        problems.append(
            f"DEFAULT_TIMEZONE={settings.default_timezone!r} is not a known timezone; "
            "use an IANA name such as Europe/Berlin or Asia/Shanghai."
        )
    problems += public_url_problems(settings)
    url = settings.database_url or ""
    backend, _, driver = url.partition("://")[0].partition("+")
    if backend in ("postgresql", "postgres"):
        driver = driver or "psycopg"
        module, install = POSTGRES_DRIVERS.get(driver, (driver, f"pip install {driver}"))
        try:
            importlib.import_module(module)
        except ImportError:
            problems.append(
                f"DATABASE_URL uses PostgreSQL through the {driver} driver, which is not installed: {install}"
            )
    return problems


def public_url_problems(settings: Settings) -> list[str]:
    """PUBLIC_URL goes into every link users get: an absolute http(s) address with no query or fragment."""
    problems: list[str] = []
    if settings.web_port and settings.web_port == settings.health_port:  # port 0 (any free one) never clashes
        problems.append("WEB_PORT and HEALTH_PORT must differ: the public pages and /metrics are separate servers.")
    if not settings.public_url:
        return problems
    try:
        parts = urlsplit(settings.public_url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and not (parts.query or parts.fragment)
        _port = parts.port  # raises for a port that isn't a number
    except ValueError:
        usable = False
    if not usable:
        problems.append(
            f"PUBLIC_URL={settings.public_url!r} is not a web address to build links on; "
            "use e.g. https://bot.example.org or https://example.org/studybuddy (no ? or #)."
        )
    elif settings.web_port is None:
        problems.append("PUBLIC_URL is set but WEB_PORT is not: set WEB_PORT so the web pages are served.")
    return problems


class ConfigError(Exception):
    """The configuration can't work; `problems` has one line for each thing to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings() -> Settings:
    """Settings from the environment, checked: a bad value is reported now, not as a failure much later."""
    try:
        settings = Settings()
    except ValidationError as error:
        lines = []
        for item in error.errors():
            name = "_".join(str(part) for part in item["loc"]).upper()
            shown = "" if "TOKEN" in name or "SECRET" in name else f" (got {item.get('input')!r})"
            lines.append(f"{name}: {item['msg']}{shown}")
        raise ConfigError(lines) from None
    problems = config_problems(settings)
    if problems:
        raise ConfigError(problems)
    return settings


# aiosqlite logs every operation at DEBUG: thousands of lines a minute that say nothing about the bot.
NOISY = ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler.executors.default", "discord.gateway", "aiosqlite")


REDACTED = "[redacted]"
_SECRETS: set[str] = set()  # every secret known to the process, as it may appear in text


def register_secret(secret: str | None) -> None:
    """Redact `secret` from every log line from now on (also ones generated at run time, e.g. a webhook
    secret nobody configured), in the forms it takes in text: as is, and URL-quoted (`:` -> `%3A`)."""
    if secret and len(secret) >= 4:
        _SECRETS.update({secret, quote(secret, safe=""), quote(secret)})


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):  # longest first: a quoted form contains no other
        text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    """Redacts the fully formatted record: message, exception text, traceback and stack.

    Redacting only the message is not enough: a token inside an exception's text (a library's own
    "token rejected" error, a proxy's 502 page echoing the request path or headers) would be printed in
    clear by the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    for secret in secrets:
        register_secret(secret)
    handler = logging.StreamHandler()
    # On the handler too: a library that sets its own logger to DEBUG (bm25s does) still stays below `level`.
    handler.setLevel(level.upper())
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings go through the same redacting handler
    # httpx logs full request URLs, and Telegram's URLs contain the bot token.
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
