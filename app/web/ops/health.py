"""Health checks for load balancers and orchestrators: /healthz says the process is up,
/readyz whether it can serve (databases, Redis, read models recent enough).

Both are public (load balancers do not sign in), so the answers say which check failed and
a short reason, never a driver's message (it can name hosts and users).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from app.extensions import probes, services
from app.ops.figures import SystemFigures
from app.ops.probes import database_problem, redis_problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def live() -> Response:
    """200 while the process answers; it asks nothing of the databases, so a database
    outage does not get healthy processes restarted."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/readyz")
def ready() -> Response:
    """200 when this process can serve, 503 when it cannot; each check's result as JSON."""
    checks = readiness()
    fine = all(check["ok"] for check in checks.values())
    response = jsonify({"status": "ready" if fine else "not ready", "checks": checks})
    response.status_code = 200 if fine else 503
    return response


def readiness() -> dict[str, dict[str, Any]]:
    """Every check's result, by name: the databases, each Redis, the projections."""
    found, probing = services(), probes()
    checks = {"write_database": _result(database_problem(found.store.engine))}
    if found.read_engine is found.store.engine:
        checks["read_database"] = checks["write_database"]  # one database holds both
    else:
        checks["read_database"] = _result(database_problem(found.read_engine))
    for name, client in probing.redis.items():
        checks[name] = _result(redis_problem(client))
    checks["projections"] = _projections(probing.figures)
    return checks


def _result(problem: str | None) -> dict[str, Any]:
    return {"ok": True} if problem is None else {"ok": False, "reason": problem}


def _projections(figures: SystemFigures) -> dict[str, Any]:
    """Ready when no projection is parked and none is further behind than
    READY_MAX_LAG_SECONDS: pages would show data that old."""
    limit = current_app.config["READY_MAX_LAG_SECONDS"]
    try:
        found = figures.lag()
    except Exception:
        current_app.logger.warning("readiness: the projections' lag is unknown", exc_info=True)
        return {"ok": False, "reason": "unknown"}
    parked = [status.name for status in found if status.state == "parked"]
    late = [status.name for status in found if status.seconds_behind > limit]
    reasons = [f"parked: {', '.join(parked)}"] if parked else []
    if late:
        reasons.append(f"more than {limit:g} s behind: {', '.join(late)}")
    lag = {
        status.name: {
            "state": status.state,
            "events_behind": status.events_behind,
            "seconds_behind": round(status.seconds_behind, 3),
        }
        for status in found
    }
    if reasons:
        return {"ok": False, "reason": "; ".join(reasons), "lag": lag}
    return {"ok": True, "lag": lag}
