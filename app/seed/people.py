"""The demo clinic's cast: doctors with their hours, names, visit and cancellation reasons."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://rendezvous.example/demo")
RECEPTION = ("amelie", "bruno", "chloe")

WEEKDAY_HOURS = [["08:30", "12:30"], ["14:00", "18:30"]]
DOCTORS: list[tuple[str, str, int, dict[str, list[list[str]]]]] = [
    (
        "Dr Camille Martin",
        "General practice",
        15,
        {d: WEEKDAY_HOURS for d in ("mon", "tue", "wed", "thu", "fri")},
    ),
    (
        "Dr Hugo Bernard",
        "Paediatrics",
        20,
        {
            **{d: [["09:00", "12:00"], ["13:30", "17:30"]] for d in ("mon", "tue", "wed", "thu")},
            "sat": [["09:00", "12:00"]],
        },
    ),
    (
        "Dr Léa Petit",
        "Dermatology",
        30,
        {d: [["09:00", "13:00"], ["14:00", "17:00"]] for d in ("tue", "wed", "thu", "fri")},
    ),
    (
        "Dr Samir Haddad",
        "Cardiology",
        30,
        {d: [["08:00", "12:00"], ["13:00", "16:00"]] for d in ("mon", "wed", "fri")},
    ),
]
FIRST = [
    "Jeanne",
    "Louis",
    "Inès",
    "Gabriel",
    "Chloé",
    "Nathan",
    "Manon",
    "Yanis",
    "Sarah",
    "Lucas",
    "Emma",
    "Adam",
    "Zoé",
    "Hugo",
    "Lina",
    "Arthur",
    "Jade",
    "Malo",
    "Rose",
    "Noah",
    "Alice",
    "Tom",
    "Léna",
    "Éric",
]
LAST = [
    "Dupont",
    "Moreau",
    "Lefebvre",
    "Garcia",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Lambert",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Mercier",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Perrin",
    "Morel",
    "Mathieu",
    "Clement",
    "Gauthier",
    "Dumont",
    "Lopez",
]
# What the desk types, in the clinic's language (CLINIC_LOCALE): data, not interface text.
SPECIALTIES_FR = {
    "General practice": "Médecine générale",
    "Paediatrics": "Pédiatrie",
    "Dermatology": "Dermatologie",
    "Cardiology": "Cardiologie",
}
REASONS_FR = [
    "Bilan de santé",
    "Consultation de suivi",
    "Vaccination",
    "Résultats d’analyses",
    "Mal de dos",
    "Éruption cutanée",
    "Renouvellement d’ordonnance",
    "Suivi douleur thoracique",
    "Mal de gorge",
    "Bilan annuel",
    "Consultation allergie",
    "Certificat de sport",
]
CANCEL_REASONS_FR = [
    "Le patient a appelé pour annuler",
    "Le patient est souffrant",
    "Médecin indisponible",
    "Réservé par erreur",
    "Le patient a trouvé un créneau plus tôt ailleurs",
]
REASONS = [
    "Check-up",
    "Follow-up visit",
    "Vaccination",
    "Blood test results",
    "Back pain",
    "Skin rash",
    "Prescription renewal",
    "Chest pain follow-up",
    "Sore throat",
    "Annual review",
    "Allergy consultation",
    "Sports certificate",
]
CANCEL_REASONS = [
    "Patient called to cancel",
    "Patient is unwell",
    "Doctor unavailable",
    "Booked by mistake",
    "Patient found an earlier slot elsewhere",
]


def words(locale: str) -> tuple[list[str], list[str]]:
    """The reasons for visit and for cancelling the demo clinic's desk types."""
    if locale == "fr":
        return REASONS_FR, CANCEL_REASONS_FR
    return REASONS, CANCEL_REASONS


def demo_id(*parts: object) -> UUID:
    """A stable id, so running the seed again finds what it made the first time."""
    return uuid5(NAMESPACE, ":".join(str(p) for p in parts))
