"""The front desk's calendar: a day as a time grid of doctors, and a week's free capacity.

Both read the doctors and appointments read models with one query each (never one per
doctor, day or cell), and count free time with the rule the booking form's free times use
(`slots.slot_grid` and `slots.free_slots`): a free cell is a slot a booking of the doctor's
slot length would be accepted in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from math import gcd
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.appointment import HOLDS_TIME, Status
from app.domain.availability import instants
from app.domain.clinic_time import day_bounds, to_utc
from app.metrics import timed
from app.projections import tables as t

from .agenda import DoctorRow, overlapping, with_schedules
from .appointments import AppointmentRow
from .availability import DayNote, day_note
from .slots import Slot, free_slots, slot_grid, working_periods

GRID_COLUMNS = 10  # doctors per grid page: about 150 px each on a 1920 px screen
WEEK_ROWS = 50  # doctors per capacity page
MIN_STEP = 5  # minutes: the finest row the grid draws


@dataclass(frozen=True)
class DoctorPage:
    """The doctors a grid or capacity page shows, and whether more follow."""

    doctors: list[DoctorRow]
    page: int
    more: bool


def doctors_for(
    engine: Engine,
    *,
    doctor_id: UUID | None = None,
    specialty: str = "",
    page: int = 1,
    per_page: int = GRID_COLUMNS,
) -> DoctorPage:
    """One page of doctors by name, narrowed to one doctor or one specialty."""
    d = t.doctors
    query = sa.select(d).order_by(d.c.name_key, d.c.doctor_id)
    if doctor_id is not None:
        query = query.where(d.c.doctor_id == doctor_id)
    if specialty:
        query = query.where(d.c.specialty == specialty)
    query = query.offset((page - 1) * per_page).limit(per_page + 1)
    with engine.connect() as conn:
        rows = [DoctorRow.from_row(row) for row in conn.execute(query).mappings()]
        shown = with_schedules(conn, rows[:per_page])
    return DoctorPage(shown, page, len(rows) > per_page)


def day_appointments(
    engine: Engine, doctors: Sequence[DoctorRow], day: date, *, tz: tzinfo
) -> dict[UUID, list[AppointmentRow]]:
    """Each doctor's appointments of the clinic-local day, every status, by start: one
    query for all of them (the grid, the day sheet)."""
    start, end = day_bounds(day, tz)
    found: dict[UUID, list[AppointmentRow]] = {d.doctor_id: [] for d in doctors}
    if not doctors:
        return found
    with engine.connect() as conn:
        query = overlapping([d.doctor_id for d in doctors], start, end)
        for row in conn.execute(query).mappings():
            found[row["doctor_id"]].append(AppointmentRow.from_row(row))
    return found


# -- the day grid --


@dataclass(frozen=True, slots=True)
class Block:
    """What the grid shows of an appointment: a day of ten doctors holds hundreds."""

    appointment_id: UUID
    doctor_id: UUID
    starts_at: datetime
    ends_at: datetime
    status: Status
    patient_name: str
    title: str

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def _blocks(
    engine: Engine, doctors: Sequence[DoctorRow], start: datetime, end: datetime
) -> dict[UUID, list[Block]]:
    """Each doctor's appointments over [start, end), every status, by start: the columns
    the grid draws, as plain tuples (a whole read-model row costs several times more)."""
    found: dict[UUID, list[Block]] = {d.doctor_id: [] for d in doctors}
    if not doctors:
        return found
    a = t.appointments
    query = overlapping(
        [d.doctor_id for d in doctors],
        start,
        end,
        a.c.appointment_id,
        a.c.doctor_id,
        a.c.starts_at,
        a.c.ends_at,
        a.c.status,
        a.c.patient_name,
        a.c.title,
    )
    with engine.connect() as conn:
        for appointment_id, doctor_id, starts, ends, status, patient, title in conn.execute(query):
            found[doctor_id].append(
                Block(
                    appointment_id,
                    doctor_id,
                    to_utc(starts),
                    to_utc(ends),
                    Status(status),
                    patient,
                    title,
                )
            )
    return found


@dataclass
class Cell:
    """What one doctor's column shows from one row of the grid, over `rows` rows."""

    kind: str  # "booked", "free", "open" (working, but not bookable), "off" (not working)
    starts_at: datetime
    rows: int = 1
    appointments: list[Block] = field(default_factory=list)
    ends_at: datetime | None = None  # a free cell's end
    past: bool = False


@dataclass(frozen=True)
class Column:
    doctor: DoctorRow
    cells: list[Cell | None]  # one per grid row; None where a cell above spans it
    released: list[Block]  # cancelled or no-show: they hold no time
    works: bool  # has working hours that day
    free: int  # free cells
    # Absences that day, shown as such in the header and the cells ("away"), not as
    # time outside working hours.
    note: DayNote | None = None


@dataclass(frozen=True)
class DayGrid:
    day: date
    step_minutes: int
    rows: list[datetime]  # each row's start (UTC)
    columns: list[Column]
    now_row: int | None  # the row the current time falls in, on today
    closed: str | None = None  # the clinic's closure that day, its label


def _minute_of_day(moment: datetime, tz: tzinfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


def _step(doctors: Sequence[DoctorRow], periods: Sequence[Slot], tz: tzinfo) -> int:
    """The longest row that keeps every slot and working period on row boundaries."""
    step = 60
    for doctor in doctors:
        step = gcd(step, doctor.slot_minutes)
    for period in periods:
        step = gcd(step, _minute_of_day(period.starts_at, tz))
    return max(step, MIN_STEP)


def _floor(moment: datetime, origin: datetime, step: timedelta) -> int:
    return (moment - origin) // step


def _ceil(moment: datetime, origin: datetime, step: timedelta) -> int:
    return -((origin - moment) // step)


@timed("calendar_day")
def day_grid(
    engine: Engine, doctors: Sequence[DoctorRow], day: date, *, tz: tzinfo, now: datetime
) -> DayGrid:
    """The doctors' day as rows of `step_minutes` from the earliest working start (or
    appointment) to the latest end, each doctor a column of booked, free, open and off cells."""
    day_start, day_end = day_bounds(day, tz)
    rows_by_doctor = _blocks(engine, doctors, day_start, day_end)
    periods = {d.doctor_id: working_periods(day, d.schedule, tz) for d in doctors}
    # The hours each doctor would have worked but for an absence: drawn as "away".
    planned = {
        d.doctor_id: [Slot(a, b) for a, b in instants(day, d.schedule.clock_periods(day), tz)]
        for d in doctors
    }
    notes = {d.doctor_id: day_note(d.schedule, day, tz) for d in doctors}
    closed = doctors[0].schedule.clinic.closures.get(day) if doctors else None
    holding = {
        d.doctor_id: [r for r in rows_by_doctor[d.doctor_id] if r.status in HOLDS_TIME]
        for d in doctors
    }
    spans = [p for ps in planned.values() for p in ps] + [
        Slot(max(r.starts_at, day_start), min(r.ends_at, day_end))
        for rs in holding.values()
        for r in rs
    ]
    if not spans:
        return DayGrid(
            day,
            60,
            [],
            [_idle_column(d, rows_by_doctor[d.doctor_id], notes[d.doctor_id]) for d in doctors],
            None,
            closed,
        )
    step_minutes = _step(doctors, [p for ps in periods.values() for p in ps], tz)
    step = timedelta(minutes=step_minutes)
    earliest = min(s.starts_at for s in spans)
    # Rows start on a whole step of the clinic's clock (09:00, not 09:07).
    origin = earliest - timedelta(minutes=_minute_of_day(earliest, tz) % step_minutes)
    origin = origin.replace(second=0, microsecond=0)
    count = _ceil(max(s.ends_at for s in spans), origin, step)
    rows = [origin + n * step for n in range(count)]
    columns = [
        _column(
            doctor,
            rows,
            step,
            periods[doctor.doctor_id],
            planned[doctor.doctor_id],
            holding[doctor.doctor_id],
            [r for r in rows_by_doctor[doctor.doctor_id] if r.status not in HOLDS_TIME],
            free_slots(
                slot_grid(day, doctor.schedule, doctor.slot_minutes, tz),
                holding[doctor.doctor_id],
                now=now,
            ),
            now,
            notes[doctor.doctor_id],
        )
        for doctor in doctors
    ]
    now_row = _floor(now, origin, step) if rows and rows[0] <= now < rows[-1] + step else None
    return DayGrid(day, step_minutes, rows, columns, now_row, closed)


def _idle_column(doctor: DoctorRow, rows: list[Block], note: DayNote | None) -> Column:
    return Column(doctor, [], [r for r in rows if r.status not in HOLDS_TIME], False, 0, note)


def _column(
    doctor: DoctorRow,
    rows: list[datetime],
    step: timedelta,
    periods: list[Slot],
    planned: list[Slot],
    holding: list[Block],
    released: list[Block],
    free: list[Slot],
    now: datetime,
    note: DayNote | None = None,
) -> Column:
    origin, count = rows[0], len(rows)
    cells: list[Cell | None] = [None] * count
    taken = [False] * count

    def place(cell: Cell, first: int, last: int) -> None:
        first, last = max(first, 0), min(last, count)
        # Rows already drawn stay as they are: a cell never overlaps another.
        while first < last and taken[first]:
            first += 1
        span = 0
        while first + span < last and not taken[first + span]:
            taken[first + span] = True
            span += 1
        if span:
            cell.rows, cell.starts_at = span, rows[first]
            cells[first] = cell

    # Appointments whose rows touch are drawn as one block, listed in time order.
    groups: list[tuple[Cell, int, int]] = []
    for appointment in holding:
        first = _floor(appointment.starts_at, origin, step)
        last = _ceil(appointment.ends_at, origin, step)
        if groups and first < groups[-1][2]:
            block, top, bottom = groups[-1]
            block.appointments.append(appointment)
            groups[-1] = (block, top, max(bottom, last))
        else:
            block = Cell("booked", appointment.starts_at, appointments=[appointment])
            groups.append((block, first, last))
    for cell, first, last in groups:
        place(cell, first, last)
    for slot in free:
        place(
            Cell("free", slot.starts_at, ends_at=slot.ends_at),
            _floor(slot.starts_at, origin, step),
            _ceil(slot.ends_at, origin, step),
        )
    away: Cell | None = None  # the away cell above, which a following away row extends
    for index, start in enumerate(rows):
        if taken[index]:
            away = None
            continue
        working = any(p.starts_at < start + step and start < p.ends_at for p in periods)
        kind = "open" if working else "off"
        if not working and any(p.starts_at < start + step and start < p.ends_at for p in planned):
            if away is not None:
                away.rows += 1  # one cell for the whole time away, said once
                continue
            kind = "away"
        cells[index] = Cell(kind, start, past=start + step <= now)
        away = cells[index] if kind == "away" else None
    return Column(doctor, cells, released, bool(periods), len(free), note)


# -- the week's capacity --


@dataclass(frozen=True)
class Capacity:
    booked: int  # appointments that hold time
    free: int  # free slots of the doctor's slot length
    works: bool
    # Why no time is free though the weekly hours say otherwise: "away", "closed", or "".
    unavailable: str = ""


@dataclass(frozen=True)
class Week:
    days: list[date]
    doctors: list[DoctorRow]
    cells: dict[tuple[UUID, date], Capacity]
    free_per_day: dict[date, int]
    more: bool
    page: int


@timed("calendar_week")
def week_capacity(
    engine: Engine, doctors: DoctorPage, start: date, *, tz: tzinfo, now: datetime
) -> Week:
    """Booked appointments and free slots per doctor and day, for seven days from `start`."""
    days = [start + timedelta(days=n) for n in range(7)]
    first, last = day_bounds(days[0], tz)[0], day_bounds(days[-1], tz)[1]
    a = t.appointments
    busy: dict[tuple[UUID, date], list[Slot]] = defaultdict(list)
    if doctors.doctors:
        query = overlapping(
            [d.doctor_id for d in doctors.doctors],
            first,
            last,
            a.c.doctor_id,
            a.c.starts_at,
            a.c.ends_at,
            a.c.local_day,
            holding_only=True,
        )
        with engine.connect() as conn:
            for doctor_id, starts_at, ends_at, day in conn.execute(query).all():
                busy[doctor_id, day].append(Slot(to_utc(starts_at), to_utc(ends_at)))
    cells: dict[tuple[UUID, date], Capacity] = {}
    free_per_day = dict.fromkeys(days, 0)
    for doctor in doctors.doctors:
        for day in days:
            taken = busy.get((doctor.doctor_id, day), [])
            grid = slot_grid(day, doctor.schedule, doctor.slot_minutes, tz)
            free = len(free_slots(grid, taken, now=now)) if grid else 0
            unavailable = ""
            if not grid:
                note = day_note(doctor.schedule, day, tz)
                if note is not None and note.closed is not None:
                    unavailable = "closed"
                elif note is not None and note.absences:
                    unavailable = "away"
            cells[doctor.doctor_id, day] = Capacity(len(taken), free, bool(grid), unavailable)
            free_per_day[day] += free
    return Week(days, doctors.doctors, cells, free_per_day, doctors.more, doctors.page)
