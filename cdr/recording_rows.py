"""The ``recordings`` rows, kept by the CDR writer from ``RecordingEvent``s: idempotent by recording name.

The rows used to be written by a separate in-memory queue that kept the database ids of the rows it had
inserted; an outage or a restart lost the ids and the later updates with them (rows stuck at
``recording``, issue 12 item 2). Here every event names its recording, so applying it needs nothing but
the database, and applying the same events twice (a spool replay, a journal recovered after ``kill -9``)
gives the same rows:

- ``started``: insert the row (status ``recording``), or nothing if it exists (a replay must not take a
  finished row back to ``recording``);
- ``finished`` / ``failed``: set the outcome on the row found by name; a row that does not exist yet (its
  ``started`` never reached us) is created from the event when it names its call;
- a row that retention or a user has ``purged`` is never changed again.

``calls.recording_status`` is folded from the rows of the call (``cdr.summary.fold``), in the same
transaction, so the two never disagree (issue 9 §4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.events import RecordingEvent
from cdr.schema import RECORDING_KINDS, recordings
from cdr.types import utc

log = structlog.get_logger("cdr.recordings")

_LIMITS = {"name": 255, "call_id": 64, "agent": 64, "fmt": 16, "sha256": 64}


def relative_path(name: str, fmt: str) -> str:
    """The file of a recording, relative to the recordings directory (as ``recording.layout`` names it)."""
    return f"{name}.{fmt}"


def check_recording_event(ev: RecordingEvent) -> str | None:
    """Why the ``recordings`` table cannot hold this event, or None."""
    if ev.kind not in ("started", "finished", "failed"):
        return f"kind must be started, finished or failed, got {ev.kind!r}"
    for attr, limit in _LIMITS.items():
        value = getattr(ev, attr)
        if value is not None and (not isinstance(value, str) or len(value) > limit or not value):
            return f"{attr} must be a non-empty string of at most {limit} characters"
    if not ev.name:
        return "name is missing"
    if ev.kind == "started" and not ev.call_id:
        return "call_id is missing"
    if ev.kind == "finished" and ev.status not in ("done", "missing"):
        return f"status of a finished recording must be done or missing, got {ev.status!r}"
    if ev.recording_kind is not None and ev.recording_kind not in RECORDING_KINDS:
        return f"recording_kind must be one of {RECORDING_KINDS}"
    return None


_INSERT_IGNORE = {name: ins(recordings).on_conflict_do_nothing(index_elements=["name"])
                  for name, ins in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
"""Built once (the CDR writer runs them on every batch: a reused statement keeps its cache key)."""
_BY_NAME = select(recordings.c.id, recordings.c.call_id, recordings.c.status, recordings.c.started_at).where(
    recordings.c.name == bindparam("name"))
_UPDATE = update(recordings).where(recordings.c.id == bindparam("b_id"))
"""Sets the columns its parameters name."""
_STATUSES = select(recordings.c.call_id, recordings.c.name, recordings.c.status).where(
    recordings.c.call_id.in_(bindparam("ids", expanding=True)))


def _insert_ignore(conn: Connection) -> Any:
    return _INSERT_IGNORE["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]


def _new_row(ev: RecordingEvent, started_at: float) -> dict[str, Any]:
    fmt = ev.fmt or "wav"
    return {"call_id": ev.call_id, "name": ev.name, "path": relative_path(ev.name, fmt), "format": fmt,
            "kind": ev.recording_kind or "call", "agent_id": ev.agent, "started_at": utc(started_at),
            "status": "recording", "legal_hold": False}


def _outcome(ev: RecordingEvent, started_at: float | None) -> dict[str, Any]:
    values: dict[str, Any] = {"ended_at": utc(ev.at)}
    if ev.kind == "failed":
        values.update(status="failed", failure_reason=ev.reason or "failed")
    elif ev.status == "missing":
        values.update(status="missing", failure_reason=ev.reason or "file not found after recording")
    else:
        duration = ev.duration_s
        if duration is None and started_at is not None:
            duration = max(0.0, ev.at - started_at)
        values.update(status="done", size_bytes=ev.size_bytes, sha256=ev.sha256, duration_s=duration,
                      failure_reason=None)
    return values


async def apply(conn: AsyncConnection, events: Sequence[RecordingEvent]) -> set[str]:
    """Apply the events in order; the ids of the calls whose recordings changed (to re-fold)."""
    return await conn.run_sync(apply_sync, events)


def apply_sync(conn: Connection, events: Sequence[RecordingEvent]) -> set[str]:
    """``apply`` on a synchronous connection (the CDR writer runs its whole transaction as one call)."""
    touched: set[str] = set()
    for ev in events:
        if ev.kind == "started":
            conn.execute(_insert_ignore(conn), [_new_row(ev, ev.at)])
            touched.add(str(ev.call_id))
            continue
        row = conn.execute(_BY_NAME, {"name": ev.name}).first()
        if row is None:
            if not ev.call_id:
                log.warning("recording_unknown", recording=ev.name, kind=ev.kind)
                continue
            start = ev.at - (ev.duration_s or 0.0)
            conn.execute(_insert_ignore(conn), [{**_new_row(ev, start), **_outcome(ev, start)}])
            touched.add(ev.call_id)
            continue
        touched.add(row.call_id)
        if row.status == "purged":  # retention or a user deleted the file: the row stays as it is
            continue
        values = _outcome(ev, row.started_at.timestamp())
        if ev.agent:
            values["agent_id"] = ev.agent
        conn.execute(_UPDATE, {"b_id": row.id, **values})
    return touched


def statuses_by_call(conn: Connection, call_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """For each call, its recordings' statuses by name (what ``fold`` derives ``recording_status`` from)."""
    ids = sorted(set(call_ids))
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(ids), 500):
        for cid, name, status in conn.execute(_STATUSES, {"ids": ids[i:i + 500]}).all():
            out.setdefault(cid, {})[name] = status
    return out
