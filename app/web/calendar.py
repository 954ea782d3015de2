"""The calendar: a day as a time grid of doctors, its printed day sheet, and a week's free
capacity per doctor and day."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar, cast
from uuid import UUID

from cachetools import LRUCache
from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from app.extensions import services
from app.queries import agenda, freshness
from app.queries import calendar as cal

from . import formatting as fmt
from . import forms, pickers
from .calendar_rows import grid_rows, week_rows
from .kit import access
from .kit.rendering import page, settle, wants_fragment

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

GRID = "calendar"  # the grid region's element id: navigation and filters swap it alone
WEEK = "capacity"
SHEET_DOCTORS = 200  # a printed day sheet holds every doctor of the clinic
T = TypeVar("T")


@dataclass(frozen=True)
class Choice:
    """What the calendar is narrowed to, from the query string."""

    day: date
    doctor_id: UUID | None
    specialty: str
    page: int
    mine: bool  # a doctor's own column, whatever the query string says

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string for a link to this choice, with `changes`."""
        values: dict[str, Any] = {
            "day": self.day.isoformat(),
            "doctor_id": None if self.mine else self.doctor_id,
            "specialty": None if self.mine else (self.specialty or None),
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 10_000 else 1


def _choice(source: Mapping[str, str], day: date | None = None) -> Choice:
    mine = access.principal().doctor_id
    return Choice(
        day=day or forms.parse_day(source.get("day")) or fmt.today(),
        doctor_id=mine or _uuid(source.get("doctor_id")),
        specialty="" if mine else (source.get("specialty") or "").strip()[:120],
        page=1 if mine else _page_number(source.get("page")),
        mine=mine is not None,
    )


def _filters(choice: Choice) -> dict[str, Any]:
    """The specialties to filter by, from the doctor pickers' options (built once per
    change of the doctors), and the doctor picker itself in the template."""
    if choice.mine:
        return {"specialties": []}
    return {"specialties": pickers.specialties()}


# What a grid or a week is worked out from: the doctors and appointments read models.
READ_MODELS = ("appointments", "doctors")


def _memoised(kind: str, parts: tuple[Any, ...], make: Callable[[], T]) -> T:
    """`make()`, or what it gave for the same `parts` while the read models it reads have
    not changed (their checkpoints move in the transaction that changes them) and within the
    same minute of the clinic's clock (free times and the "now" line move with it).

    Every desk polls its grid every 15 s; while nothing changes, the same grid is worked out
    again and again. Kept per process, so it never outlives the code or settings that made
    it, and bounded. A store without checkpoints yet (empty, or rows written by hand) is
    never memoised."""
    size = current_app.config.get("CALENDAR_MEMO_SIZE", 64)
    if not size:
        return make()
    versions = freshness.versions(services().query_engine, READ_MODELS)
    if len(versions) < len(READ_MODELS):
        return make()
    # What a region shows besides the data: the user's language and role (which links and
    # free cells it offers; a doctor's own column is in `parts`, the Choice).
    parts = (*parts, str(get_locale()), access.principal().role)
    # A grid of ten full columns is about 150 KB: the default 64 hold 10 MB at most.
    memo: LRUCache[tuple[Any, ...], Any] = current_app.extensions.setdefault(
        "rendezvous.calendar_memo", LRUCache(maxsize=size)
    )
    minute = fmt.now().replace(second=0, microsecond=0)
    key = (kind, versions, minute, request.script_root, *parts)
    with _MEMO_LOCK:
        found = memo.get(key)
    if found is None:
        found = make()
        with _MEMO_LOCK:
            memo[key] = found
    return cast(T, found)


_MEMO_LOCK = threading.Lock()  # the development server answers from several threads


@bp.get("")
def day() -> Response:
    """The day as a time grid, one column per doctor; `?print=1` is the printed day sheet."""
    updating = settle()
    choice = _choice(request.args)
    if request.args.get("print") == "1":
        return _sheet(choice)

    def make() -> Markup:
        engine, tz = services().query_engine, services().tz
        doctors = cal.doctors_for(
            engine, doctor_id=choice.doctor_id, specialty=choice.specialty, page=choice.page
        )
        grid = cal.day_grid(engine, doctors.doctors, choice.day, tz=tz, now=fmt.now())
        rows = grid_rows(
            grid, choice.day.isoformat(), can_book=access.allowed("booking.new"), tz=tz
        )
        context: dict[str, Any] = {
            "choice": choice,
            "grid": grid,
            "grid_rows": rows,
            "more": doctors.more,
            "today": fmt.today(),
            "previous": choice.day - timedelta(days=1),
            "next": choice.day + timedelta(days=1),
            "monday": choice.day - timedelta(days=choice.day.weekday()),
        }
        # Rendered from the repository's template; what records say is escaped by it.
        return Markup(render_template("calendar/_grid.html", **context))  # nosec B704

    region = _memoised("day", (choice,), make)
    if wants_fragment(GRID):
        return make_response(region)
    return page(
        "calendar/day.html", updating=updating, choice=choice, grid_region=region,
        **_filters(choice),
    )  # fmt: skip


def _sheet(choice: Choice) -> Response:
    """Every chosen doctor's appointments of the day, one doctor per printed page."""
    engine = services().query_engine
    doctors = cal.doctors_for(
        engine, doctor_id=choice.doctor_id, specialty=choice.specialty, per_page=SHEET_DOCTORS
    ).doctors
    by_doctor = cal.day_appointments(engine, doctors, choice.day, tz=services().tz)
    days = [(doctor, by_doctor[doctor.doctor_id]) for doctor in doctors]
    # A whole-clinic sheet prints the doctors who have someone to see; one doctor's, always.
    if len(days) > 1:
        days = [(doctor, rows) for doctor, rows in days if rows]
    born = agenda.birth_dates(engine, {row.patient_id for _, rows in days for row in rows})
    return page("calendar/sheet.html", choice=choice, days=days, born=born)


@bp.get("/week")
def week() -> Response:
    """Booked and free slots per doctor and day for seven days, with the clinic's free slots
    per day; each cell leads into the day grid."""
    updating = settle()
    start = forms.parse_day(request.args.get("start"))
    if start is None:
        start = fmt.today() - timedelta(days=fmt.today().weekday())
    choice = _choice(request.args, day=start)

    def make() -> tuple[cal.Week, Markup]:
        engine, tz = services().query_engine, services().tz
        doctors = cal.doctors_for(
            engine,
            doctor_id=choice.doctor_id,
            specialty=choice.specialty,
            page=choice.page,
            per_page=cal.WEEK_ROWS,
        )
        week = cal.week_capacity(engine, doctors, start, tz=tz, now=fmt.now())
        context: dict[str, Any] = {
            "choice": choice,
            "week": week,
            "week_rows": week_rows(week),
            "today": fmt.today(),
            "this_monday": fmt.today() - timedelta(days=fmt.today().weekday()),
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
        }
        return week, Markup(render_template("calendar/_week.html", **context))  # nosec B704

    capacity, region = _memoised("week", (choice,), make)
    if wants_fragment(WEEK):
        return make_response(region)
    return page(
        "calendar/week.html", updating=updating, choice=choice, week=capacity,
        today=fmt.today(), week_region=region, **_filters(choice),
    )  # fmt: skip
