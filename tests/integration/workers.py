"""Real Celery worker processes (and a private Redis server) for integration tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    """`celery -A celery_worker worker`, as an operator starts it, in its own process group."""

    env: dict[str, str]
    log: Path
    name: str
    beat: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, timeout: float = 60) -> Worker:
        args = [
            sys.executable, "-m", "celery", "-A", "celery_worker", "worker",
            "--loglevel=INFO", "--concurrency=2", "-n", f"{self.name}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if self.beat:
            args += ["-B", "--schedule", str(self.log.with_suffix(".beat"))]
        output = self.log.open("a")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        output.close()
        deadline = time.monotonic() + timeout
        while "ready." not in self.log.read_text():
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker {self.name} not ready:\n{self.log.read_text()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no warm shutdown, no cleanup."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_group(self.process, timeout=20)


def stop_group(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM a process group started with start_new_session (a warm shutdown that reaps
    its children), SIGKILL it if it is still there after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def forget_queue(url: str, name: str) -> None:
    """Delete a test queue and all kombu keeps for it on the Redis database at `url`: its
    bindings, and the messages a killed worker left unacknowledged, which any other worker
    on that database (another test's) would otherwise put back into the queue later."""
    client = redis.Redis.from_url(url)
    try:
        for tag, raw in client.hgetall("unacked").items():
            try:
                routing_key = json.loads(raw)[2]
            except (ValueError, TypeError, IndexError):
                continue
            if routing_key == name:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        client.delete(name, *client.keys(f"*{name}*"))
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RedisServer:
    """A Redis server of the test's own, so the test can stop it without touching others."""

    port: int
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_serving(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Until `url`/healthz answers 200; fail at once if `process` (the server, or the shell
    that runs it) exits, with its log."""
    deadline = time.monotonic() + timeout
    while not _answers(url + "/healthz"):
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer /healthz within {timeout} s")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass
class Gunicorn:
    """gunicorn serving `app:create_app()` with the production settings module
    (app/gunicorn_conf.py), in its own process group; `extra` adds command-line options."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    workers: int = 2
    extra: tuple[str, ...] = ()
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        args = [
            sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--graceful-timeout", "5", "--access-logfile", "-", "--error-logfile", "-",
            # gunicorn's control socket is one path per user: other tests run servers too.
            "--no-control-socket", *self.extra,
        ]  # fmt: skip
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        """Until /healthz answers; fail at once if gunicorn exits (say, the port was taken,
        or the app would not start)."""
        assert self.process is not None
        wait_serving(self.url, self.process, self.log, timeout)

    def stop(self) -> None:
        stop_group(self.process, timeout=15)
