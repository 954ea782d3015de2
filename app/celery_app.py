"""Celery wired the way Flask's documentation recommends: tasks run in the app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from app.config["CELERY"] and keep it in app.extensions."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery

    from app import tasks  # noqa: F401 - registers the tasks with this app

    @worker_process_init.connect(weak=False)
    def fresh_connections(**_: Any) -> None:
        # A forked pool process must not share its parent's database sockets.
        from app.extensions import db

        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    return celery
