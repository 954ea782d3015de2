"""Write-side tables that guard invariants in the same transaction as the events:
doctor-time reservations (no double booking) and the processed-command log (idempotency)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.domain.clinic_time import to_utc

from .decisions import Hold, Release
from .errors import DuplicateCommandError, ReservationConflictError
from .records import CommandRecord

if TYPE_CHECKING:
    from .statements import Statements


class Reservations:
    """The doctor's time held by appointments; overlaps are refused."""

    conn: Connection

    @property
    def sql(self) -> Statements:  # the transaction's store provides them
        raise NotImplementedError

    def find_overlap(
        self, doctor_id: UUID, starts_at: datetime, ends_at: datetime, *, exclude: UUID
    ) -> UUID | None:
        """Another appointment holding this doctor's time between starts_at and ends_at."""
        params = {
            "doctor_id": doctor_id,
            "starts_at": to_utc(starts_at),
            "ends_at": to_utc(ends_at),
            "appointment_id": exclude,
        }
        return self.conn.execute(self.sql.overlap, params).scalar()

    def reserve(
        self,
        appointment_id: UUID,
        doctor_id: UUID,
        starts_at: datetime,
        ends_at: datetime,
        *,
        new: bool,
    ) -> None:
        """Hold the doctor's time for a new appointment, or move an existing one's.

        Raises ReservationConflictError when another appointment holds an overlapping time.
        Looking first suffices where writers take turns (SQLite); on PostgreSQL the
        exclusion constraint also refuses an overlap that a concurrent transaction commits.
        """
        starts, ends = to_utc(starts_at), to_utc(ends_at)
        if self.find_overlap(doctor_id, starts, ends, exclude=appointment_id):
            raise ReservationConflictError(f"overlap for doctor {doctor_id}")
        try:
            moved = (
                not new
                and self.conn.execute(
                    self.sql.move_reservation,
                    {
                        "held_by": appointment_id,
                        "new_doctor_id": doctor_id,
                        "new_starts_at": starts,
                        "new_ends_at": ends,
                    },
                ).rowcount
            )
            if not moved:  # a new hold, or a move whose hold had gone missing
                self.conn.execute(
                    self.sql.insert_reservation,
                    {
                        "appointment_id": appointment_id,
                        "doctor_id": doctor_id,
                        "starts_at": starts,
                        "ends_at": ends,
                    },
                )
        except sa.exc.IntegrityError as exc:
            raise ReservationConflictError(str(exc.orig)) from exc

    def release(self, appointment_id: UUID) -> None:
        """Give the doctor's time back."""
        self.conn.execute(self.sql.release, {"held_by": appointment_id})

    def change_reservation(self, change: Hold | Release | None) -> None:
        """Apply a decision's change of held time, if it has one."""
        if isinstance(change, Hold):
            self.reserve(
                change.appointment_id,
                change.doctor_id,
                change.starts_at,
                change.ends_at,
                new=change.new,
            )
        elif isinstance(change, Release):
            self.release(change.appointment_id)


class CommandLog:
    """Processed command ids, written with the command's events."""

    conn: Connection

    @property
    def sql(self) -> Statements:  # the transaction's store provides them
        raise NotImplementedError

    def find_command(self, command_id: UUID) -> CommandRecord | None:
        row = self.conn.execute(self.sql.find_command, {"command_id": command_id}).first()
        if row is None:
            return None
        return CommandRecord(
            row.command_id, row.command_type, row.stream_id, row.version, row.position, row.actor
        )

    def record_command(self, record: CommandRecord, processed_at: datetime) -> None:
        """Remember a command's outcome; a second record of the same id is refused."""
        try:
            self.conn.execute(
                self.sql.record_command,
                {
                    "command_id": record.command_id,
                    "command_type": record.command_type,
                    "stream_id": record.stream_id,
                    "version": record.version,
                    "position": record.position,
                    "processed_at": to_utc(processed_at),
                    "actor": record.actor,
                },
            )
        except sa.exc.IntegrityError as exc:
            raise DuplicateCommandError(str(record.command_id)) from exc
