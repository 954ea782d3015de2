"""Flask extensions, created unbound and attached to the app in create_app()."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from htmx_flask import Htmx
from sqlalchemy.engine import Engine

from app.eventstore.tables import metadata

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
htmx = Htmx()


def read_engine() -> Engine:
    """The read models' database: its own bind when DATABASE_URL_READ differs, else the
    write database's engine (one pool, not two, for the same server)."""
    return db.engines.get("read", db.engine)
