"""The patient's own link to one appointment: a signed, expiring token that names the
appointment and the version the patient was told about. No account: whoever holds the link
may see that appointment's time, doctor and place, and confirm or cancel it.

itsdangerous signs with Flask's secret (SECRET_KEY) under a salt of its own, so a session
cookie or any other signed value can never pass for a link. The appointment id goes in as
16 bytes (base64), keeping links short enough for a text message.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

SALT = "rendezvous.patient-page"


@dataclass(frozen=True)
class PatientLink:
    appointment_id: UUID
    version: int


class PatientLinks:
    """Makes and reads patients' links; `max_age_days` is how long one lasts (PATIENT_LINK_DAYS)."""

    def __init__(
        self,
        secret: str | bytes,
        max_age_days: int,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        signer: type[TimestampSigner] = TimestampSigner
        if clock is not None:
            tick = clock

            # Signed and checked on the app's clock (the bus's), which tests move by hand.
            class ClockedSigner(TimestampSigner):
                def get_timestamp(self) -> int:
                    return int(tick().timestamp())

            signer = ClockedSigner
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT, signer=signer)
        self.max_age = max_age_days * 24 * 3600

    def make(self, appointment_id: UUID, version: int) -> str:
        packed = base64.urlsafe_b64encode(appointment_id.bytes).rstrip(b"=").decode()
        return self._serializer.dumps([packed, version])

    def read(self, token: str) -> PatientLink | None:
        """The link's appointment and version; None for a forged, expired or malformed
        one, alike: the page answers them the same way."""
        try:
            packed, version = self._serializer.loads(token, max_age=self.max_age)
            raw = base64.urlsafe_b64decode(str(packed) + "=" * (-len(str(packed)) % 4))
            return PatientLink(UUID(bytes=raw), int(version))
        except (BadData, ValueError, TypeError):
            return None
