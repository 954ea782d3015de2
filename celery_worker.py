"""Celery entry point: `celery -A celery_worker worker` (and `beat`) from the project root.

The worker builds the same Flask app as the web process, so tasks run in its app context
with the same settings. Projection tasks arrive with the projections work; until then the
worker starts, connects to the broker and waits.
"""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
