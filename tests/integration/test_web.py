"""The web app on the embedded default: pages for people, never a traceback."""

from __future__ import annotations

from app import seed

from ..conftest import make_app


def test_the_home_page_shows_the_latest_changes(sqlite_app):
    seed.seed_demo(sqlite_app.extensions["rendezvous"], echo=lambda _: None)
    response = sqlite_app.test_client().get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Recent activity" in page
    latest = sqlite_app.extensions["rendezvous"].store.tail(1)[0]
    assert latest.metadata["actor"] in page


def test_an_unknown_page_is_a_404_page(sqlite_app):
    response = sqlite_app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert "Not Found" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_dead_database_gives_a_503_page():
    # Nothing listens on port 1: the connection is refused at once.
    app = make_app(
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "cannot be reached right now" in page and "Traceback" not in page
