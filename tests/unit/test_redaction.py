"""Secrets never reach a log line: the handler redacts the whole formatted record — message, arguments,
the exception's text, its traceback and the stack — for both tokens, the webhook secret and the database
password, also URL-quoted as they appear inside request URLs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.config import REDACTED, RedactingFormatter, Settings, configure_logging, register_secret

TELEGRAM = "4242:AAE-telegram-secret-token"
DISCORD = "MTIz.discord-secret.token"
WEBHOOK = "webhook-secret-value-123"
PASSWORD = "pg-pass-word-987"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        database_url=f"postgresql+psycopg://studybuddy:{PASSWORD}@127.0.0.1:5432/db",
        telegram_bot_token=TELEGRAM,
        discord_bot_token=DISCORD,
        telegram_webhook_secret=WEBHOOK,
        _env_file=None,
    )


@pytest.fixture
def captured(settings: Settings) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", settings.secrets())
    stream = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, RedactingFormatter)
    handler.setStream(stream)
    try:
        yield logging.getLogger("test.redaction"), stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_settings_know_every_secret(settings: Settings) -> None:
    assert set(settings.secrets()) == {TELEGRAM, DISCORD, WEBHOOK, PASSWORD}


@pytest.mark.parametrize("secret", [TELEGRAM, DISCORD, WEBHOOK, PASSWORD])
def test_a_secret_inside_an_exception_and_its_traceback_is_redacted(
    secret: str, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    log, stream = captured

    def fails(value: str) -> None:
        raise RuntimeError(f"502 Bad Gateway for /bot{value}/getMe; Authorization: Bot {value}")

    try:
        fails(secret)
    except RuntimeError:
        log.exception("call failed with %s", secret, stack_info=True)
    text = stream.getvalue()
    assert "RuntimeError: 502 Bad Gateway" in text and "Stack (most recent call last)" in text
    assert secret not in text and REDACTED in text


def test_the_url_quoted_form_is_redacted_too(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    log.warning("GET http://127.0.0.1/bot%s/getMe", "4242%3AAAE-telegram-secret-token")
    assert "AAE-telegram-secret-token" not in stream.getvalue()


def test_a_secret_learned_at_run_time_is_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    register_secret("generated-at-run-time-secret")
    log.debug("setWebhook params: %s", {"secret_token": "generated-at-run-time-secret"})
    assert "generated-at-run-time-secret" not in stream.getvalue()


def test_a_plain_filter_would_have_missed_the_traceback() -> None:
    """Why the formatter: the message alone is clean, the traceback is not."""
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise ValueError(f"token {TELEGRAM} rejected")
    except ValueError as error:
        record.exc_info = (type(error), error, error.__traceback__)
    assert TELEGRAM in logging.Formatter().format(record)
    register_secret(TELEGRAM)
    assert TELEGRAM not in RedactingFormatter().format(record)
