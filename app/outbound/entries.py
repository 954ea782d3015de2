"""The outbound stream's format: the fields of an entry, and the relay's checkpoint.

This is the contract with consumers (docs/relay.md lists the fields): change it as you
would an API, never in place.
"""

from __future__ import annotations

import orjson

from app.eventstore import START, Checkpoint, EventCodec, RecordedEvent


def parse_checkpoint(raw: str | None) -> Checkpoint:
    """A checkpoint as stored in Redis ("tx_id:position"); START when there is none."""
    if not raw:
        return START
    tx_id, position = raw.split(":")
    return (int(tx_id), int(position))


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """A checkpoint as stored in Redis."""
    return f"{checkpoint[0]}:{checkpoint[1]}"


def entry(record: RecordedEvent, codec: EventCodec) -> dict[str, str | int]:
    """The stream entry of one event: flat fields, payloads as JSON text."""
    # Encoded again from the event as read, so `data` has the current shape (old payloads
    # were upcast on read) and `schema_version` says which shape that is.
    event_type, schema_version, data = codec.encode(record.event)
    return {
        "position": record.position,
        "tx_id": record.tx_id,
        "stream_id": str(record.stream_id),
        "stream_type": record.stream_type,
        "version": record.version,
        "event_type": event_type,
        "schema_version": schema_version,
        "data": orjson.dumps(data).decode(),
        "metadata": orjson.dumps(record.metadata).decode(),
        "recorded_at": record.recorded_at.isoformat(),
    }
