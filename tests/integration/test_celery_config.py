"""Celery's broker and queue come from the settings; tests keep to their own Redis database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from app.config import ConfigurationError, Settings

from ..backends import dispose, make_app, redis_test_url


def test_the_broker_defaults_to_redis_url_and_can_be_set_apart():
    assert (
        Settings.from_env({"REDIS_URL": "redis://cache:6379/2"}).flask_config("/tmp")["CELERY"][
            "broker_url"
        ]
        == "redis://cache:6379/2"
    )
    split = Settings.from_env({"REDIS_URL": "redis://cache/2", "CELERY_BROKER_URL": "amqp://mq"})
    assert split.flask_config("/tmp")["CELERY"]["broker_url"] == "amqp://mq"


def test_a_task_sent_by_the_app_lands_in_its_own_queue_on_its_own_database(sqlite_app):
    queue = f"rendezvous-test-{uuid.uuid4().hex[:8]}"
    app = make_app(
        sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
        CELERY={"broker_url": redis_test_url(), "task_default_queue": queue},
    )
    celery = app.extensions["celery"]
    client = redis.Redis.from_url(redis_test_url())
    try:
        celery.send_task("rendezvous.noop")
        assert client.llen(queue) == 1
    finally:
        client.delete(queue, *client.keys(f"*{queue}*"))  # the queue and kombu's bindings
        client.close()
        celery.close()


def test_with_no_broker_configured_projections_run_in_process():
    config = Settings.from_env({}).flask_config("/tmp")
    assert config["CELERY"]["broker_url"] is None
    assert config["READ_DATABASE_URI"] is None  # read models share the write database


def test_the_catch_up_tick_and_the_read_database_come_from_the_environment():
    settings = Settings.from_env(
        {
            "REDIS_URL": "redis://cache/2",
            "PROJECTION_TICK_SECONDS": "2.5",
            "DATABASE_URL_READ": "postgresql+psycopg://reader@replica/rendezvous",
        }
    )
    config = settings.flask_config("/tmp")
    tick = config["CELERY"]["beat_schedule"]["projections-catch-up"]
    assert (tick["task"], tick["schedule"]) == ("rendezvous.catch_up", 2.5)
    assert config["CELERY"]["task_acks_late"] is True
    assert config["READ_DATABASE_URI"] == "postgresql+psycopg://reader@replica/rendezvous"


@pytest.mark.parametrize("name", ["PROJECTION_TICK_SECONDS", "PROJECTION_BATCH_SIZE"])
def test_a_malformed_projection_setting_is_refused_by_name(name):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: "soon"})
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: "0"})


def test_the_worker_refuses_to_start_without_a_broker(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL")
    }
    env["DATABASE_URL_WRITE"] = f"sqlite:///{tmp_path / 'rendezvous.db'}"
    started = subprocess.run(
        [sys.executable, "-c", "import celery_worker"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "No broker configured: set CELERY_BROKER_URL or REDIS_URL" in started.stderr


def test_with_the_broker_unreachable_commands_commit_and_nudges_pause(sqlite_app, clock):
    from app.commands import RegisterPatient
    from app.config import celery_config

    from .workers import free_port

    app = make_app(
        sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
        CELERY=celery_config(f"redis://127.0.0.1:{free_port()}/0", "nowhere", 5.0),
    )
    services = app.extensions["rendezvous"]
    services.bus.clock = clock
    nudge, attempts = services.bus.after_commit, []
    real_send = nudge.celery.send_task

    def counting(*args, **kwargs):
        attempts.append(args)
        return real_send(*args, **kwargs)

    nudge.celery.send_task = counting
    first = services.bus.handle(RegisterPatient(full_name="Ann Down", date_of_birth="1990-01-01"))
    second = services.bus.handle(RegisterPatient(full_name="Bob Down", date_of_birth="1990-01-01"))

    assert services.store.stream_version(first.stream_id) == 1  # committed all the same
    assert services.store.stream_version(second.stream_id) == 1
    assert len(attempts) == 1  # one failed send, then a pause instead of one per command
    app.extensions["celery"].close()
    dispose(app)
