"""Appointment rows and their actions as HTML, written here rather than in Jinja macros.

Today shows a hundred rows and the list fifty, and every row carries its actions as real
forms (so they work without JavaScript), each with the CSRF token, a command id, the
version and the return address. Through Jinja macros (a macro call per form and per
field, filters, `Markup` per fragment) the rows were half of Today's time; written here,
with the words and addresses worked out once per request, Today's 97 rows on the small
store took 7 ms less (17.7 against 10.6 ms a page, in process; docs/benchmarks.md).

The markup is the one the macros wrote: the pages call these functions where they called
the macros (`list_row`, `queue_row`, `agenda_row`, `doctor_blocks`, `row_actions`,
`row_attrs`, `undo_button` are template globals), and a row re-rendered after an action
(its `state`: updating, expectation, refusal, values typed, done, undo, cancelling) comes
from the same functions. Catalog text is written as the templates wrote it (trusted, as
Jinja's `_()` treats it); everything else, from the read models, the request or a
refusal, goes through `escape`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from uuid import UUID, uuid4

from flask import g, request, url_for
from markupsafe import Markup, escape

from app.extensions import services
from app.queries.appointments import AppointmentRow

from . import formatting as fmt
from . import i18n
from .actions import Action
from .kit.rendering import csrf_token, here
from .rows import STATUS_ICONS, actions_for

State = Mapping[str, Any]
_NO_STATE: State = {}

DASH = "\u2013"  # between two times, as the pages write it

# Each row's actions replace the row they are in.
_TARGET = 'hx-target="closest [data-appointment-id]" hx-swap="outerHTML"'


def _markup(html: str) -> Markup:
    """This module's HTML, for Jinja to insert as it is: every value from the records, the
    request or a refusal in it went through `escape`."""
    return Markup(html)  # nosec B704


def status_badges() -> dict[str, str]:
    """Each status's badge, by its code, in the active language: a symbol and a word, never
    colour alone (the markup of `_macros.html`'s `status_badge`)."""
    return {
        code: (
            f'<span class="status status-{code}"><span aria-hidden="true">'
            f"{STATUS_ICONS[code]}</span> {escape(i18n.gettext(label))}</span>"
        )
        for code, label in i18n.STATUS_LABELS.items()
    }


@dataclass(frozen=True)
class RowPage:
    """What every row of a page says and sends, worked out once per request (`_page`)."""

    badges: dict[str, str]
    answers: dict[str | None, str]  # the patient's own answer beside the status
    root: str  # the script root: addresses are built from it
    tz: tzinfo  # the clinic's
    csrf: str
    back: str  # where a plain form comes back to (escaped)
    open_it: str
    now_shows: str
    updating: str
    reason: str
    cancel: str
    no_phone: str


def _page() -> RowPage:
    found: RowPage | None = g.get("row_page")
    if found is None:
        gettext = i18n.gettext
        found = g.row_page = RowPage(
            badges=status_badges(),
            answers={
                "confirmed": ' <span class="by-patient" data-patient-answer="confirmed">'
                f"{gettext('confirmed by the patient')}</span>",
                "cancelled": ' <span class="by-patient" data-patient-answer="cancelled">'
                f"{gettext('cancelled by the patient')}</span>",
            },
            root=str(escape(request.script_root)),
            tz=services().tz,
            csrf=str(escape(csrf_token())),
            back=str(escape(here())),
            open_it=gettext("Open it"),
            now_shows=gettext("The row now shows the current version."),
            updating=gettext("Saved; updating…"),
            reason=gettext("Reason for cancelling"),
            cancel=gettext("Cancel appointment"),
            no_phone=gettext("No phone"),
        )
    return found


def _clock(page: RowPage, moment: datetime) -> str:
    return i18n.clock_text(moment.astimezone(page.tz))


def _moment(page: RowPage, moment: datetime, pattern: str = "moment") -> str:
    return str(escape(i18n.moment_text(moment.astimezone(page.tz), pattern)))


def _sync(context: str) -> str:
    """On Today an action's request and the day board's own refresh take turns on the board
    (hx-sync): an action aborts a refresh under way, and a refresh while an action is under
    way is dropped (the action's answer asks for another). Otherwise a refresh could replace
    the row while its action was in flight, and the action's answer would be lost."""
    return ' hx-sync="closest #day-board:replace"' if context == "agenda" else ""


def _command_fields(page: RowPage, row: AppointmentRow, context: str, command_id: str) -> str:
    """What every command on a row sends: a fresh command id (a double click acts once),
    the version shown (a change meanwhile is a conflict), where to come back to."""
    return (
        f'  <input type="hidden" name="csrf_token" value="{page.csrf}">\n'
        f'  <input type="hidden" name="command_id" value="{command_id}">\n'
        f'  <input type="hidden" name="expected_version" value="{row.version}">\n'
        f'  <input type="hidden" name="context" value="{escape(context)}">\n'
        f'  <input type="hidden" name="next" value="{page.back}">'
    )


def _button(page: RowPage, action: Action, row: AppointmentRow, context: str, path: str) -> str:
    url = f"{path}/{action.slug}"
    style = f" {action.style}" if action.style else ""
    return (
        f'\n<form class="inline" method="post" action="{url}" {action.verb}="{url}" '
        f'{_TARGET}{_sync(context)} data-action="{action.slug}">\n'
        f"{_command_fields(page, row, context, str(uuid4()))}\n"
        f'  <button type="submit" class="small{style}">{escape(action.label)}</button>\n'
        "</form>"
    )


def _reason_form(
    page: RowPage, action: Action, row: AppointmentRow, context: str, path: str, state: State
) -> str:
    """An action that needs a reason (cancel). A row asks for it only when the button is
    pressed: fifty hidden forms would weigh more than the rest of the page. Without
    JavaScript the link opens the detail page, whose form is always there."""
    refusal = state.get("refusal")
    errors: Mapping[str, str] = refusal.errors if refusal else {}
    slug, label = action.slug, escape(action.label)
    cancelling = bool(state.get("cancelling"))
    if not (context == "detail" or cancelling or errors.get("reason")):
        return (
            f'\n<a class="button small danger" href="{path}?cancel=1#{slug}"\n'
            f'   hx-get="{path}/row?context={escape(context)}&amp;cancel=1" '
            f'{_TARGET}{_sync(context)} data-action="{slug}">{label}…</a>'
        )
    url = f"{path}/{slug}"
    anchor = slug if context == "detail" else f"{slug}-{row.appointment_id}"
    typed: Mapping[str, str] = state.get("values") or {}
    command_id = escape(typed.get("command_id")) if errors else str(uuid4())
    reason = escape(typed.get("reason", "")) if errors else ""
    rid = f"reason-{escape(context)}-{row.appointment_id}"
    opened = " open" if errors.get("reason") or cancelling else ""
    focus = " autofocus" if cancelling else ""
    problem = ""
    if errors.get("reason"):
        focus += f' aria-invalid="true" aria-describedby="{rid}-error"'
        problem = f'<p class="error" id="{rid}-error">{escape(errors["reason"])}</p>'
    return (
        f'\n<details class="inline-form" id="{anchor}"{opened} data-action="{slug}">\n'
        f'  <summary class="button small danger">{label}…</summary>\n'
        f'  <form method="post" action="{url}" hx-post="{url}" {_TARGET}{_sync(context)}>\n'
        f"{_command_fields(page, row, context, command_id)}\n"
        f'    <label for="{rid}">{page.reason}</label>\n'
        f'    <input id="{rid}" name="reason" type="text" required maxlength="500" '
        f'value="{reason}"{focus}>{problem}\n'
        f'    <button type="submit" class="small danger">{page.cancel}</button>\n'
        "  </form>\n"
        "</details>"
    )


def _link(action: Action, path: str) -> str:
    """An action with a page of its own (reschedule: a day and a free slot to choose)."""
    return (
        f'<a class="button small secondary" href="{path}/{action.slug}" '
        f'data-action="{action.slug}">{escape(action.label)}</a>'
    )


def _path(page: RowPage, row: AppointmentRow) -> str:
    """The appointment's page, which its actions' addresses start with."""
    return f"{page.root}/appointments/{row.appointment_id}"


def _actions(
    page: RowPage, row: AppointmentRow, context: str, state: State, path: str
) -> Iterator[str]:
    """Each action the row offers: rows.actions_for decides which, never this module."""
    return draw_actions(page, row, actions_for(row, context), context, state, path)


def draw_actions(
    page: RowPage,
    row: AppointmentRow,
    actions: Iterable[Action],
    context: str,
    state: State = _NO_STATE,
    path: str | None = None,
) -> Iterator[str]:
    """`actions` on the row, each drawn as its row of web/actions.py says (`macro`)."""
    path = path or _path(page, row)
    for action in actions:
        if action.macro == "button":
            yield _button(page, action, row, context, path)
        elif action.macro == "reason":
            yield _reason_form(page, action, row, context, path, state)
        else:
            yield _link(action, path)


def row_actions(row: AppointmentRow, context: str, state: State = _NO_STATE) -> Markup:
    """The row's action forms and links, as a page region or the detail page shows them."""
    page = _page()
    return _markup("".join(_actions(page, row, context, state, _path(page, row))))


def _attrs(row: AppointmentRow, context: str, state: State) -> str:
    text = (
        f'data-appointment-id="{row.appointment_id}" data-status="{row.status.value}" '
        f'data-version="{row.version}"'
    )
    expectation = state.get("expectation")
    if state.get("updating") and expectation:
        poll = url_for(
            "appointments.row",
            appointment_id=row.appointment_id,
            context=context,
            expect=expectation.param(),
        )
        text += f' hx-get="{escape(poll)}" hx-trigger="every 1s" hx-swap="outerHTML"'
    return text


def row_attrs(row: AppointmentRow, context: str, state: State = _NO_STATE) -> Markup:
    """The attributes that name a row's appointment and version; while the row waits for its
    read model ("updating"), the poll that brings it up to date."""
    return _markup(_attrs(row, context, state))


def _undo(page: RowPage, row: AppointmentRow, context: str, offer: Any, path: str) -> str:
    url = f"{path}/undo"
    return (
        f'\n<form class="inline" method="post" action="{url}" hx-post="{url}" '
        f'{_TARGET}{_sync(context)} data-action="undo">\n'
        f"{_command_fields(page, row, context, str(uuid4()))}\n"
        f'  <input type="hidden" name="undoing" value="{escape(offer.undoes)}">\n'
        f'  <button type="submit" class="small secondary">{escape(offer.label)}</button>\n'
        "</form>"
    )


def undo_button(row: AppointmentRow, context: str, offer: Any) -> Markup:
    """Undo beside the action just done (a rows.UndoOffer): the compensating command, at
    the row's version, so a change by someone else meanwhile is a conflict."""
    page = _page()
    return _markup(_undo(page, row, context, offer, _path(page, row)))


def _feedback(page: RowPage, row: AppointmentRow, context: str, state: State, path: str) -> str:
    """What an action just did to this row, after its actions."""
    refusal = state.get("refusal")
    if refusal and refusal.status != 422:
        changes = ""
        if refusal.changes:
            items = "".join(f"<li>{escape(change)}</li>" for change in refusal.changes)
            changes = f'<ul class="changes">{items}</ul>'
        return (
            f'\n<div class="notice notice-conflict" role="alert" '
            f'data-refusal="{refusal.status}">\n'
            f"  <p>{escape(refusal.message)}</p>\n  {changes}\n"
            f"  <p>{page.now_shows} "
            f'<a href="{path}">{page.open_it}</a></p>\n'
            "</div>"
        )
    if state.get("updating"):
        return f'<span class="meta" role="status">{page.updating}</span>'
    done = state.get("done")
    if done:
        said = f'<span class="meta" role="status">{i18n.gettext(done)}</span>'
        offer = state.get("undo")
        return f"{said} {_undo(page, row, context, offer, path)}" if offer else said
    return ""


def _actions_cell(page: RowPage, row: AppointmentRow, context: str, state: State, path: str) -> str:
    done = "".join(_actions(page, row, context, state, path))
    if state:
        done += _feedback(page, row, context, state, path)
    return f'<td class="actions">{done}</td>'


def _status(page: RowPage, row: AppointmentRow) -> str:
    return page.badges[row.status.value] + page.answers.get(row.patient_answer, "")


def list_row(row: AppointmentRow, state: State = _NO_STATE) -> Markup:
    """A row of the appointment list (and of a patient's visits)."""
    page = _page()
    detail = _path(page, row)
    html = (
        f"<tr {_attrs(row, 'list', state)}>\n"
        f'  <td class="when"><a href="{detail}">{_moment(page, row.starts_at)}</a> '
        f'<span class="meta">{DASH} {_clock(page, row.ends_at)}</span></td>\n'
        f'  <td><a href="{page.root}/patients/{row.patient_id}">'
        f"{escape(row.patient_name)}</a></td>\n"
        f'  <td class="optional">{escape(row.doctor_name)}</td>\n'
        f'  <td class="what optional">{escape(row.title)}</td>\n'
        f"  <td>{_status(page, row)}</td>\n"
        f"  {_actions_cell(page, row, 'list', state, detail)}\n"
        "</tr>"
    )
    return _markup(html)


def queue_row(row: AppointmentRow, state: State = _NO_STATE) -> Markup:
    """A row of Today's confirmation queue."""
    page = _page()
    detail = _path(page, row)
    phone = ""
    if row.patient_phone:
        phone = f'<br><span class="meta nowrap">{escape(row.patient_phone)}</span>'
    html = (
        f"<tr {_attrs(row, 'queue', state)}>\n"
        f'  <td class="when"><a href="{detail}">{_moment(page, row.starts_at, "short_moment")}'
        f"</a><br>{_status(page, row)}</td>\n"
        f"  <td><strong>{escape(row.patient_name)}</strong><br>"
        f'<span class="meta">{escape(row.doctor_name)}</span>{phone}</td>\n'
        f"  {_actions_cell(page, row, 'queue', state, detail)}\n"
        "</tr>"
    )
    return _markup(html)


def agenda_row(
    row: AppointmentRow,
    state: State = _NO_STATE,
    born: Mapping[UUID, date | None] | None = None,
) -> Markup:
    """A row of a day's agenda (Today's board); with `born` (patient id to date of birth),
    of the doctor's day, which shows the patient's phone and date of birth under the name,
    on screen and on paper, and refreshes its rows as "doctor-day"."""
    return _markup(_agenda_row(_page(), row, state, born))


def _agenda_row(
    page: RowPage, row: AppointmentRow, state: State, born: Mapping[UUID, date | None] | None
) -> str:
    context = "agenda" if born is None else "doctor-day"
    detail = _path(page, row)
    who = ""
    if born is not None:
        birth = fmt.day(born.get(row.patient_id), "date_of_birth") or "—"
        phone = escape(row.patient_phone) if row.patient_phone else page.no_phone
        who = (
            f'<br><span class="meta nowrap">{phone}</span> · '
            f'<span class="meta nowrap">{i18n.gettext("born %(day)s", day=escape(birth))}'
            "</span>"
        )
    return (
        f"<tr {_attrs(row, context, state)}>\n"
        f'  <td class="when"><a href="{detail}">{_clock(page, row.starts_at)}{DASH}'
        f"{_clock(page, row.ends_at)}</a></td>\n"
        f'  <td><a href="{page.root}/patients/{row.patient_id}">'
        f"{escape(row.patient_name)}</a>{who}</td>\n"
        f'  <td class="what optional">{escape(row.title)}</td>\n'
        f"  <td>{_status(page, row)}</td>\n"
        f"  {_actions_cell(page, row, context, state, detail)}\n"
        "</tr>"
    )


def doctor_blocks(by_doctor: Iterable[tuple[str, list[AppointmentRow]]], day: date) -> Markup:
    """Today's agenda: a block per doctor (their name, a link to their day, a table of
    their rows). A busy day names a hundred doctors, so the blocks are written here too."""
    page = _page()
    gettext = i18n.gettext
    head = (
        f'<thead><tr><th scope="col">{gettext("Time")}</th>'
        f'<th scope="col">{gettext("Patient")}</th>'
        f'<th scope="col" class="optional">{gettext("Reason")}</th>'
        f'<th scope="col">{gettext("Status")}</th>'
        f'<th scope="col" class="actions">{gettext("Actions")}</th></tr></thead>'
    )
    on_day = f"?day={day.isoformat()}"
    out: list[str] = []
    for name, rows in by_doctor:
        first = rows[0]
        out.append(
            '<div class="doctor-block">\n'
            f'  <h3><a href="{page.root}/doctors/{first.doctor_id}{on_day}">{escape(name)}</a>'
            f' <span class="meta">{escape(first.doctor_specialty)}</span></h3>\n'
            f'  <table class="table rows">\n    {head}\n    <tbody>\n'
        )
        out.extend(_agenda_row(page, row, _NO_STATE, None) for row in rows)
        out.append("\n    </tbody>\n  </table>\n</div>\n")
    return _markup("".join(out))
