"""Flask extensions, created unbound and attached to the app in create_app()."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from htmx_flask import Htmx

from app.eventstore.tables import metadata

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
htmx = Htmx()
