"""Scaling-out configuration: the compose file's shape, the settings it uses, and how workers split the rate."""

from __future__ import annotations

import yaml

from bot.config import Settings
from bot.delivery.pacing import DEFAULT_LIMITS, shared_limits
from tests.support import REPO


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_postgres_and_two_workers_against_it() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert "pgdata" in compose()["volumes"]
    workers = {name: s for name, s in services.items() if name.startswith("worker")}
    assert len(workers) == 2
    webhook_ports = set()
    for worker in workers.values():
        assert worker["build"] == "."
        assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
        env = worker["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["TELEGRAM_WEBHOOK_URL"] and env["TELEGRAM_WEBHOOK_SECRET"]  # one shared secret for all
        assert env["DELIVERY_WORKERS"] == str(len(workers)) and env["HEALTH_PORT"]
        assert "/healthz" in " ".join(worker["healthcheck"]["test"])
        webhook_ports |= {p for p in worker["ports"] if p.endswith(":" + env["TELEGRAM_WEBHOOK_PORT"])}
    assert len(webhook_ports) == 2  # distinct host ports for the reverse proxy


def test_every_variable_the_workers_get_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name, service in compose()["services"].items():
        if name.startswith("worker"):
            assert set(service["environment"]) <= fields


def test_workers_split_each_platforms_rate() -> None:
    assert shared_limits() == {p: shared_limits(1)[p] for p in DEFAULT_LIMITS}
    three = shared_limits(3)
    assert three["telegram"].per_second * 3 == DEFAULT_LIMITS["telegram"].per_second
    assert three["telegram"].per_group_per_minute is not None and three["telegram"].per_group_per_minute < 7
    assert shared_limits(100)["telegram"].per_group_per_minute == 1.0  # a group still gets its message
    assert shared_limits(2, per_second=300)["discord"].per_second == 150


def test_scaling_settings_from_the_environment(monkeypatch) -> None:
    for key, value in {
        "TELEGRAM_UPDATES": "off",
        "DELIVERY_WORKERS": "3",
        "DELIVERY_RATE_PER_SECOND": "90",
        "DELIVERY_LEASE_SECONDS": "30",
        "HEALTH_PORT": "9464",
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    assert settings.telegram_updates is False and settings.delivery_workers == 3
    assert settings.delivery_rate_per_second == 90 and settings.delivery_lease_seconds == 30
    assert settings.health_port == 9464 and settings.health_listen == "127.0.0.1"
