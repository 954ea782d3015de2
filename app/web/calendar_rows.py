"""The rows of the day grid and of the week's capacity as HTML, written here rather than
in Jinja.

A grid of ten doctors over a working day has 400 to 1,300 cells and a few hundred
appointment blocks, a week of 30 doctors 210 cells. Through Jinja each cell cost 10 to
40 µs (a macro call, filters, plurals and `url_for` per link), so the cells were most of
the pages' time; written with prefixes and words worked out once per page, a cell costs a
few µs. The markup is the one the templates wrote (`templates/calendar/_grid.html` and
`_week.html` keep the frame: heading, navigation, header and footer rows); every text from
the read models goes through `escape`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import quote

from flask import request, url_for
from flask_babel import gettext, ngettext
from markupsafe import Markup, escape

from app.queries.calendar import Block, Cell, Column, DayGrid, Week

from .forms.fields import INPUT_FORMAT
from .row_html import DASH, status_badges


@dataclass(frozen=True)
class _Words:
    """Everything a cell says, in the active language, worked out once per page."""

    now: str
    free: str
    not_working: str
    badges: dict[str, str]  # status code: the badge's markup
    away: str = ""


def _words() -> _Words:
    badges = status_badges()
    return _Words(
        escape(gettext("now")),
        escape(gettext("free")),
        escape(gettext("not working")),
        badges,
        escape(gettext("away")),
    )


def grid_rows(grid: DayGrid, day_text: str, *, can_book: bool, tz: tzinfo) -> Markup:
    """The grid's `<tr>` rows: a time label, then each doctor's cell of that row (none where
    a cell above spans it). `day_text` is the ISO day booking links carry."""
    words = _words()
    detail = f"{request.script_root}/appointments/"
    columns = [_ColumnText.of(column, day_text, can_book) for column in grid.columns]
    out: list[str] = []
    for index, start in enumerate(grid.rows):
        local = start.astimezone(tz)
        clock = local.strftime("%H:%M")
        if index == grid.now_row:
            out.append(
                f'<tr class="now"><th scope="row" class="time-col">{clock} '
                f'<span class="now-label">{words.now}</span></th>'
            )
        else:
            out.append(f'<tr><th scope="row" class="time-col">{clock}</th>')
        for column, text in zip(grid.columns, columns, strict=True):
            cell = column.cells[index]
            if cell is not None:
                out.extend(_cell(cell, text, words, detail, tz))
        out.append("</tr>\n")
    # Every value from the records went through `escape` above; the rest is this module's.
    return Markup("".join(out))  # nosec B704


@dataclass(frozen=True)
class _ColumnText:
    doctor_id: str
    booking: str | None  # the booking form's address up to the start (escaped), if allowed
    free_words: str

    @classmethod
    def of(cls, column: Column, day_text: str, can_book: bool) -> _ColumnText:
        doctor = column.doctor
        booking = None
        if can_book:
            booking = escape(
                url_for(
                    "booking.new",
                    doctor_id=doctor.doctor_id,
                    day=day_text,
                    duration_minutes=doctor.slot_minutes,
                    duration_for=doctor.doctor_id,
                )
                + "&starts_at="
            )
        words = gettext("free: book with %(doctor)s", doctor=doctor.full_name)
        return cls(str(doctor.doctor_id), booking, escape(words))


def _cell(cell: Cell, text: _ColumnText, words: _Words, detail: str, tz: tzinfo) -> Iterator[str]:
    span = f' rowspan="{cell.rows}"' if cell.rows > 1 else ""
    if cell.kind == "booked":
        yield f'<td{span} class="booked">'
        for block in cell.appointments:
            yield _block(block, words, detail, tz)
        yield "</td>"
    elif cell.kind == "free":
        local = cell.starts_at.astimezone(tz)
        moment, clock = local.strftime(INPUT_FORMAT), local.strftime("%H:%M")
        where = f'data-free-start="{moment}" data-doctor-id="{text.doctor_id}"'
        if text.booking is not None:
            yield (
                f'<td{span} class="free"><a {where} href="{text.booking}'
                f'{quote(moment, safe="/")}">{clock}<span class="visually-hidden"> {DASH} '
                f"{text.free_words}</span></a></td>"
            )
        else:
            yield (
                f'<td{span} class="free"><span {where}>{clock} '
                f'<span class="meta">{words.free}</span></span></td>'
            )
    elif cell.kind == "away":
        yield f'<td{span} class="away"><span class="meta">{words.away}</span></td>'
    elif cell.kind == "open":
        yield '<td class="open past"></td>' if cell.past else '<td class="open"></td>'
    else:
        yield f'<td class="off"><span class="visually-hidden">{words.not_working}</span></td>'


def _block(block: Block, words: _Words, detail: str, tz: tzinfo) -> str:
    code = block.status.value
    title = f'<span class="what">{escape(block.title)}</span>' if block.title else ""
    return (
        f'<a class="block status-{code}" href="{detail}{block.appointment_id}" '
        f'data-appointment-id="{block.appointment_id}" data-status="{code}">'
        f'<span class="when">{_clock(block.starts_at, tz)}{DASH}{_clock(block.ends_at, tz)}</span>'
        f'<span class="who">{escape(block.patient_name)}</span>{title}{words.badges[code]}</a>'
    )


def _clock(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def week_rows(week: Week) -> Markup:
    """The capacity's `<tr>` rows: a doctor, then "booked / free" for each day, each cell a
    link into that doctor's day grid."""
    script_root = request.script_root
    day_links = {
        day: escape(url_for("calendar.day", day=day.isoformat()) + "&doctor_id=")
        for day in week.days
    }
    not_working = escape(gettext("not working"))
    unavailable = {"away": escape(gettext("away")), "closed": escape(gettext("clinic closed"))}
    plurals: dict[tuple[int, int], str] = {}
    out: list[str] = []
    for doctor in week.doctors:
        doctor_id = str(doctor.doctor_id)
        out.append(
            f'<tr><th scope="row"><a href="{script_root}/doctors/{doctor_id}">'
            f"{escape(doctor.full_name)}</a> "
            f'<span class="meta">{escape(doctor.specialty)}</span></th>'
        )
        for day in week.days:
            c = week.cells[doctor.doctor_id, day]
            if not c.works and not c.booked:
                said = unavailable.get(c.unavailable, not_working)
                kind, inside = c.unavailable or "off", f'<span class="meta">{said}</span>'
            else:
                kind = "has-free" if c.free else "full"
                words = plurals.get((c.booked, c.free))
                if words is None:
                    booked = ngettext("%(num)d booked", "%(num)d booked", c.booked)
                    free = ngettext("%(num)d free", "%(num)d free", c.free)
                    words = plurals[c.booked, c.free] = escape(f"{booked}, {free}")
                inside = (
                    f'<span aria-hidden="true">{c.booked} / {c.free}</span>'
                    f'<span class="visually-hidden">{words}</span>'
                )
            out.append(
                f'<td data-doctor-id="{doctor_id}" data-day="{day.isoformat()}" '
                f'data-free="{c.free}" data-booked="{c.booked}" class="{kind}">'
                f'<a href="{day_links[day]}{doctor_id}">{inside}</a></td>'
            )
        out.append("</tr>\n")
    # As in grid_rows: what came from the records is escaped.
    return Markup("".join(out))  # nosec B704
