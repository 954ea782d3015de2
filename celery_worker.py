"""Celery entry point, from the project root with the web app's environment:

    celery -A celery_worker worker     # runs projection tasks
    celery -A celery_worker beat       # sends the catch-up tick every PROJECTION_TICK_SECONDS

The worker builds the same Flask app as the web process, so tasks run in its app context
with the same settings.
"""

from app import create_app
from app.extensions import celery as celery_of  # not `celery`: the name `-A` looks up

flask_app = create_app()
if not flask_app.config["CELERY"].get("broker_url"):
    raise SystemExit(
        "No broker configured: set CELERY_BROKER_URL or REDIS_URL. (Without one, the web "
        "process runs projections itself after each command and needs no worker.)"
    )
celery_app = celery_of(flask_app)
