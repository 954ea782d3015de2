"""A reminder's text message: GSM-7 whenever it can be, one segment (160 septets) whenever
the link leaves room, the doctor dropped before the clinic's name is cut, the link never."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from app.outbound import compose
from app.outbound.compose import ReminderFacts, compose_sms, gsm7, is_gsm7, sms_length
from app.outbound.links import PatientLinks

from ..conftest import CLINIC_TZ

APPOINTMENT = UUID("3f2b8c1e-7d4a-4b6e-9c1f-2a5d8e0b7c31")
# A link as the sender makes it: the patient page's signed token is about 73 characters.
LINK = "https://rdv.example.fr/p/" + PatientLinks("secret", 30).make(APPOINTMENT, 12)
SHORT_LINK = "https://rdv.fr/p/abc"
LONG_CLINIC = "Centre médical pluridisciplinaire du Parc des Buttes-Chaumont et de Belleville"

# What the French catalog will say (with its no-break space before the colon), so that the
# test does not wait for the catalog to be translated.
FRENCH = {
    "%(clinic)s, %(when)s with %(doctor)s. Confirm or cancel: %(link)s": (
        "%(clinic)s, rendez-vous le %(when)s avec %(doctor)s. Confirmer ou annuler\u00a0: %(link)s"
    ),
    "%(clinic)s, %(when)s. Confirm or cancel: %(link)s": (
        "%(clinic)s, %(when)s. Confirmer ou annuler\u00a0: %(link)s"
    ),
}


def facts(**changes: object) -> ReminderFacts:
    made = ReminderFacts(
        appointment_id=APPOINTMENT,
        kind="first",
        locale="en",
        tz=CLINIC_TZ,
        starts_at=datetime(2027, 1, 12, 9, 30, tzinfo=CLINIC_TZ),
        ends_at=datetime(2027, 1, 12, 10, 0, tzinfo=CLINIC_TZ),
        patient_name="Zoë Dupont",
        doctor_name="Dr Ada Martin",
        title="",
        clinic_name="Clinique du Parc",
        clinic_address="12 rue des Lilas\n75011 Paris",
        clinic_phone="01 23 45 67 89",
        what_to_bring="",
        link=LINK,
        sender="rendezvous@example.fr",
    )
    return replace(made, **changes)  # type: ignore[arg-type]


@pytest.fixture
def french_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog(locale="fr")
    for msgid, msgstr in FRENCH.items():
        catalog.add(msgid, msgstr)
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "fr" / "LC_MESSAGES" / "messages.mo", "wb") as out:
        write_mo(out, catalog)
    monkeypatch.setattr(compose, "TRANSLATIONS", tmp_path)


class TestGsm7:
    def test_french_letters_the_alphabet_has_stay_and_the_others_lose_their_accent(self):
        assert gsm7("é è à ù É Ç ü ñ ß") == "é è à ù É Ç ü ñ ß"
        assert gsm7("fenêtre, âge, hôpital, sûr, île, reçu, Noël, maïs, Ève, cœur") == (
            "fenetre, age, hopital, sur, ile, recu, Noel, mais, Eve, coeur"
        )

    def test_typography_becomes_plain(self):
        said = "Rappel\u00a0: l’heure «\u202fexacte\u202f» \u2013 09:30… \u2014 fin"
        assert gsm7(said) == 'Rappel : l\'heure " exacte " - 09:30... - fin'
        assert is_gsm7(gsm7(said))

    def test_the_extension_table_is_gsm7_and_costs_two_septets(self):
        assert is_gsm7("10 € [ok] {x} ~ ^ | \\")
        assert sms_length("€") == 2 and sms_length("e") == 1

    def test_what_has_no_plain_form_is_kept_and_counted_as_characters(self):
        assert gsm7("Dr 王 📅") == "Dr 王 📅"
        assert not is_gsm7("Dr 王") and not is_gsm7("ê")
        assert sms_length("Dr 王") == 4


class TestComposeSms:
    def test_a_short_message_says_the_clinic_the_time_the_doctor_and_the_link(self):
        sms = compose_sms(facts(clinic_name="Parc", link=SHORT_LINK), to="+336", key="k1")
        assert sms.text == (
            f"Parc, Tue 12 Jan 09:30 with Dr Ada Martin. Confirm or cancel: {SHORT_LINK}"
        )
        assert (sms.to, sms.key) == ("+336", "k1")

    def test_the_doctor_goes_before_the_clinics_name_is_cut(self):
        sms = compose_sms(facts(), to="+33612345678", key="k1")
        assert "Dr Ada Martin" not in sms.text
        assert sms.text.startswith("Clinique du Parc, Tue 12 Jan 09:30.")
        assert sms_length(sms.text) <= 160

    def test_a_long_clinic_name_is_cut_and_the_link_kept_whole(self):
        sms = compose_sms(facts(clinic_name=LONG_CLINIC), to="+33612345678", key="k1")
        assert sms_length(sms.text) <= 160 and is_gsm7(sms.text)
        assert sms.text.startswith("Centre m") and "..., Tue 12 Jan 09:30." in sms.text
        assert sms.text.endswith(f": {LINK}")

    def test_in_french_it_fits_and_is_gsm7(self, french_catalog):
        sms = compose_sms(facts(locale="fr", clinic_name=LONG_CLINIC), to="+33612345678", key="k1")
        assert sms_length(sms.text) <= 160 and is_gsm7(sms.text)
        assert sms.text.endswith(f"mar. 12 janv. 09:30. Confirmer ou annuler : {LINK}")

    def test_in_french_the_typography_is_made_plain_when_the_doctor_fits(self, french_catalog):
        sms = compose_sms(facts(locale="fr", link=SHORT_LINK), to="+336", key="k1")
        assert sms.text == (
            "Clinique du Parc, rendez-vous le mar. 12 janv. 09:30 avec Dr Ada Martin. "
            f"Confirmer ou annuler : {SHORT_LINK}"
        )

    def test_a_link_longer_than_a_message_is_still_never_cut(self):
        link = "https://rdv.example.fr/p/" + "x" * 200
        sms = compose_sms(facts(link=link, clinic_name=LONG_CLINIC), to="+3361", key="k1")
        assert sms.text.endswith(link)
        assert sms.text.startswith("Centr...,")  # cut no shorter than its floor
