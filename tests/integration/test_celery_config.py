"""Celery's broker and queue come from the settings; tests keep to their own Redis database."""

from __future__ import annotations

import uuid

import redis

from app.config import Settings

from ..conftest import make_app, redis_test_url


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
        client.delete(queue)
        client.close()
        celery.close()
