"""The desk in French, through the real app on PostgreSQL: refusals and conflicts worded by
the catalog with French dates, plurals, status labels and the history, for a person who
chose French; the same pages stay English for everyone else."""

from __future__ import annotations

import re
import uuid

from babel.dates import format_date

from ..clinic import local
from .desk import TODAY, Desk
from .projecting import catch_up
from .webclient import Staff, page_text

NBSP, NNBSP = "\u00a0", "\u202f"


def _book(staff: Staff, desk: Desk, starts: str, patient: int = 0) -> str:
    response = staff.post(
        "/appointments",
        {
            "patient_id": str(desk.clinic.patient_ids[patient]),
            "doctor_id": str(desk.clinic.doctor_id),
            "starts_at": starts,
            "duration_minutes": "15",
            "title": "Bilan",
            "command_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 303, page_text(response)
    catch_up(desk.services.projector)
    return re.search(r"/appointments/([0-9a-f-]{36})", response.headers["Location"]).group(1)


def test_a_stale_action_is_a_conflict_told_in_french_with_a_french_date(desk):
    french = Staff(desk.staff.client.application, locale="fr")
    appointment = _book(french, desk, f"{TODAY}T09:00")
    page = page_text(french.get(f"/appointments/{appointment}"))
    assert '<html lang="fr">' in page
    seen = re.search(r'data-version="(\d+)"', page).group(1)
    desk.staff.post(
        f"/appointments/{appointment}/cancel", {"expected_version": seen, "reason": "Grippe"}
    )
    before = desk.events()
    response = french.post(f"/appointments/{appointment}/confirm", {"expected_version": seen})
    text = page_text(response)
    assert response.status_code == 409
    assert "Ce rendez-vous a été modifié par quelqu’un d’autre après que vous l’avez ouvert" in text
    # Who did what, and when, as French writes a moment: "lundi 11 janvier 2027 à 08:00".
    moment = f"{format_date(local(TODAY + ' 08:00').date(), 'EEEE d MMMM y', locale='fr')} à 08:00"
    assert f"rendez-vous annulé par Test admin le {moment}" in text
    assert desk.events() == before


def test_a_refused_booking_is_explained_in_french_and_writes_nothing(desk):
    french = Staff(desk.staff.client.application, locale="fr")
    before = desk.events()
    response = french.post(
        "/appointments",
        {
            "patient_id": str(desk.clinic.patient_ids[0]),
            "doctor_id": str(desk.clinic.doctor_id),
            "starts_at": f"{TODAY}T07:00",  # before the clock's 08:00
            "duration_minutes": "15",
            "title": "Bilan",
            "command_id": str(uuid.uuid4()),
        },
    )
    text = page_text(response)
    assert response.status_code == 422
    assert "Corrigez les champs signalés." in text
    assert f"est déjà passé{NNBSP}; choisissez un horaire plus tard." in text
    assert "lundi 11 janvier 2027 à 07:00" in text
    assert desk.events() == before


def test_plurals_status_labels_and_history_in_each_language(desk):
    french = Staff(desk.staff.client.application, locale="fr")
    first = _book(french, desk, f"{TODAY}T09:00")
    today_fr = page_text(french.get(f"/?day={TODAY}"))
    assert "Agenda · 1 rendez-vous" in today_fr and "En attente" in today_fr
    today_en = page_text(desk.staff.get(f"/?day={TODAY}"))
    assert "Agenda · 1 appointment<" in today_en and "Pending" in today_en
    assert '<html lang="en">' in today_en
    _book(french, desk, f"{TODAY}T10:00", patient=1)
    assert "Agenda · 2 rendez-vous" in page_text(french.get(f"/?day={TODAY}"))
    assert "Agenda · 2 appointments" in page_text(desk.staff.get(f"/?day={TODAY}"))
    # The history keeps data; each reader gets it in words of their own language.
    detail_fr = page_text(french.get(f"/appointments/{first}"))
    assert "Rendez-vous créé" in detail_fr
    assert f"Début{NBSP}: lundi 11 janvier 2027 à 09:00" in detail_fr
    detail_en = page_text(desk.staff.get(f"/appointments/{first}"))
    assert "Appointment created" in detail_en
    assert "Starts: Monday 11 January 2027 at 09:00" in detail_en
