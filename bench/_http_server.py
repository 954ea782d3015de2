"""The gunicorn server that bench/http_pages.py and bench/http_cache.py load, and plain
requests to it (redirects not followed) for what wrk cannot do: waiting for it to answer, and
fetching a CSRF token."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import _pg
from _http_app import STAFF

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """One gunicorn serving the bench app over one database."""

    label: str
    url: str  # the database
    port: int
    process: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    cookie: str | None = None
    token: str | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def server_env(url: str, broker: str | None, queue: str) -> dict[str, str]:
    """The app's settings for one database; with `broker`, projections go to a worker."""
    env = {**os.environ, "DATABASE_URL_WRITE": _pg.sqlalchemy_url(url), "SECRET_KEY": "bench"}
    env["BENCH_STAFF_PASSWORD"] = STAFF_PASSWORD
    env["CLINIC_TIMEZONE"] = "Europe/Paris"
    for name in ("DATABASE_URL_READ", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_QUEUE"):
        env.pop(name, None)
    if broker:
        env.update(CELERY_BROKER_URL=broker, CELERY_QUEUE=queue)
    return env


@contextmanager
def serving(
    server: Server,
    workers: int,
    broker: str | None,
    logs: Path,
    *,
    env: Mapping[str, str] | None = None,
    queue: str | None = None,
    worker: bool = True,
) -> Iterator[Server]:
    """Run gunicorn (and, with a broker, a Celery worker) until the block ends. `env` adds
    settings for both; two servers given the same `queue` may share one worker (the other
    passes worker=False)."""
    queue = queue or f"rendezvous-bench-http-{uuid.uuid4().hex[:8]}"
    env = {**server_env(server.url, broker, queue), **(env or {})}
    log = logs / f"gunicorn-{server.label}.log"
    prepare = [sys.executable, "-c", "from bench._http_app import prepare_staff; prepare_staff()"]
    subprocess.run(prepare, cwd=ROOT, env=env, check=True, timeout=120)
    args = [
        str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers),
        "--bind", f"127.0.0.1:{server.port}", "--worker-class", "sync",
        "--log-level", "warning", "bench._http_app:build()",
    ]  # fmt: skip
    server.process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    if broker and worker:
        celery_args = [
            sys.executable, "-m", "celery", "-A", "celery_worker", "worker", "-B",
            "--schedule", str(logs / f"beat-{server.label}"), "--loglevel=WARNING",
            "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        celery_log = logs / f"celery-{server.label}.log"
        server.worker = subprocess.Popen(
            celery_args, cwd=ROOT, env=env, stdout=celery_log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_up(server, log)
        server.cookie, server.token = csrf_credentials(server)
        yield server
    finally:
        for process in (server.process, server.worker):
            if process is not None:
                stop(process)
        if broker:
            forget_queue(broker, queue)


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn or Celery as an operator would (SIGTERM to the parent: finish the
    request or task in hand), and its whole process group if that takes too long."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def forget_queue(broker: str, queue: str) -> None:
    """Drop this run's queue from Redis: the nudges left in it are redundant (one projection
    run catches up with every event), and the benchmark database should not fill up."""
    import redis

    client = redis.Redis.from_url(broker)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    client.close()


def wait_until_up(server: Server, log: Path, timeout: float = 60) -> None:
    """Return once the sign-in page answers; exit with gunicorn's log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            sys.exit(f"gunicorn for {server.label} exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            if fetch(server, "GET", "/login")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn for {server.label} did not answer within {timeout:.0f} s; see {log}")


def fetch(
    server: Server, method: str, path: str, body: str | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], str]:
    """One request, redirects not followed: (status, headers, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        found = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
        cookies = [
            v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"
        ]
        if cookies:
            found["set-cookie"] = "; ".join(cookies)
        return response.status, found, text
    finally:
        conn.close()


# The password of the account the load signs in with, new for each run.
STAFF_PASSWORD = secrets.token_urlsafe(18)
CSRF_META = re.compile(r'<meta\s+name="csrf-token"\s+content="([^"]+)"', re.I)


def csrf_credentials(server: Server) -> tuple[str | None, str | None]:
    """Sign in as the benchmark's account: its session cookie, and the CSRF token bound to
    that session."""
    status, headers, text = fetch(server, "GET", "/login")
    cookie, token = headers.get("set-cookie"), CSRF_META.search(text)
    if status != 200 or not cookie or not token:
        sys.exit(f"GET /login answered {status} without a session or a CSRF token")
    form = urlencode({"csrf_token": token.group(1), "username": STAFF, "password": STAFF_PASSWORD})
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    status, headers, _ = fetch(server, "POST", "/login", form, form_headers)
    if status != 303:
        sys.exit(f"signing in as {STAFF} answered {status}")
    cookie = headers["set-cookie"]
    # A signed-in session gets a new CSRF token, stored in it: keep the cookie that holds it.
    status, headers, text = fetch(server, "GET", "/appointments/new", headers={"Cookie": cookie})
    token = CSRF_META.search(text)
    if status != 200 or not token:
        sys.exit(f"GET /appointments/new answered {status} once signed in")
    return headers.get("set-cookie", cookie), token.group(1)


def post_headers(server: Server) -> dict[str, str]:
    """What a form post from the browser sends besides its body: cookie and CSRF token."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if server.cookie:
        headers["Cookie"] = server.cookie
    if server.token:
        headers["X-CSRFToken"] = server.token
    return headers
