"""Recording rows: register, finish, fail, find (R14).

The daemon calls ``register_started`` when it asks ARI to record a bridge, ``finish`` on
RecordingFinished (the file is measured and hashed here, once, so a later download can be checked), and
``mark_failed`` on RecordingFailed. Searches join the CDR's ``calls`` row of each recording for the caller
number, agent, queue and topic; dates are local days in the configured zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, false, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.schema import metadata
from recording.layout import UnsafePath, relative_path, resolve_inside
from recording.schema import recordings
from recording.wavinfo import NotWav, wav_duration

_CALL_COLUMNS = {
    "call_id": ("call_id", "id"),
    "caller": ("caller", "caller_number", "src"),
    "agent": ("agent", "agent_id"),
    "queue": ("queue",),
    "topic": ("topic",),
}


def calls_table() -> Table | None:
    """The CDR's ``calls`` table when cdr.schema defines it on the shared metadata."""
    return metadata.tables.get("calls")


def _call_col(calls: Table | None, what: str) -> ColumnElement[Any] | None:
    if calls is None:
        return None
    for name in _CALL_COLUMNS[what]:
        if name in calls.c:
            return calls.c[name]
    return None


async def register_started(db: AsyncEngine, *, call_id: str, name: str, fmt: str, started_at: datetime,
                           kind: str = "call", agent_id: str | None = None) -> int:
    """A recording ARI has been asked to make; returns its id."""
    async with db.begin() as conn:
        result = await conn.execute(recordings.insert().values(
            call_id=call_id, name=name, path=relative_path(name, fmt), format=fmt, kind=kind,
            agent_id=agent_id, started_at=started_at, status="recording", legal_hold=False))
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def _measure(path: Path, fmt: str) -> tuple[int, str, float | None]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
            size += len(block)
    duration = None
    if fmt == "wav":
        try:
            duration = round(wav_duration(path), 3)
        except NotWav:
            duration = None
    return size, digest.hexdigest(), duration


@dataclass(frozen=True)
class Measured:
    """What a recording's file says once it is finished: ``done`` with its facts, or ``missing``."""

    status: str
    """'done' or 'missing'."""
    size_bytes: int | None = None
    sha256: str | None = None
    duration_s: float | None = None
    """From the WAV header; None for other formats (the row then takes end - start)."""
    reason: str | None = None


def measure_file(root: Path, relative: str, fmt: str) -> Measured:
    """Measure a finished recording's file (blocking: run it in a thread). Never raises: a file that is
    not where it should be is ``missing`` with the reason, which the row and the call both show."""
    try:
        size, sha, duration = _measure(resolve_inside(root, relative), fmt)
    except (OSError, UnsafePath) as exc:
        return Measured("missing", reason=f"file not found after recording: {exc}")
    return Measured("done", size_bytes=size, sha256=sha, duration_s=duration)


def find_file(root: Path, name: str) -> str | None:
    """The relative path of a recording's file when its format is not known (e.g. after a restart): the
    first ``<name>.<ext>`` that exists, or None."""
    try:
        folder = resolve_inside(root, name).parent
        stem = Path(name).name
        for candidate in sorted(folder.glob(f"{stem}.*")):
            if candidate.is_file():
                return str(Path(name).parent / candidate.name)
    except (OSError, UnsafePath):
        return None
    return None


async def finish(db: AsyncEngine, recording_id: int, *, root: Path, ended_at: datetime) -> dict[str, Any]:
    """Measure the finished file (size, sha256, duration from the WAV header) and mark the row done.

    A file that is not where it should be marks the row ``missing`` rather than raising: the call is over
    and the CDR must still be written; the row tells an operator what to look for.
    """
    row = await get_recording(db, recording_id)
    if row is None:
        raise KeyError(f"no recording {recording_id}")
    values: dict[str, Any] = {"ended_at": ended_at}
    try:
        path = resolve_inside(root, row["path"])
        size, sha, duration = await asyncio.to_thread(_measure, path, row["format"])
    except (OSError, UnsafePath) as exc:
        values.update(status="missing", failure_reason=f"file not found after recording: {exc}")
    else:
        if duration is None:
            duration = max(0.0, (ended_at - row["started_at"]).total_seconds())
        values.update(status="done", size_bytes=size, sha256=sha, duration_s=duration)
    async with db.begin() as conn:
        await conn.execute(update(recordings).where(recordings.c.id == recording_id).values(**values))
    return {**row, **values}


async def mark_failed(db: AsyncEngine, recording_id: int, reason: str, *,
                      ended_at: datetime | None = None) -> None:
    async with db.begin() as conn:
        await conn.execute(update(recordings).where(recordings.c.id == recording_id)
                           .values(status="failed", failure_reason=reason, ended_at=ended_at))


async def get_recording(db: AsyncEngine, recording_id: int) -> dict[str, Any] | None:
    """The row with its call's details (caller, agent, queue, topic) when the CDR has them."""
    query = _joined_select().where(recordings.c.id == recording_id)
    async with db.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def set_legal_hold(db: AsyncEngine, recording_id: int, hold: bool) -> bool:
    """Put on (or lift) a legal hold; False when there is no such recording."""
    async with db.begin() as conn:
        query = update(recordings).where(recordings.c.id == recording_id).values(legal_hold=hold)
        result = await conn.execute(query)
        return bool(result.rowcount)


async def delete_file(db: AsyncEngine, recording_id: int, *, root: Path, now: datetime) -> dict[str, Any]:
    """Delete a recording's file and keep the row as ``purged`` (the CDR and the audit trail still point
    at it). Refused (PermissionError) while on legal hold."""
    row = await get_recording(db, recording_id)
    if row is None:
        raise KeyError(f"no recording {recording_id}")
    if row["legal_hold"]:
        raise PermissionError("recording is on legal hold; lift the hold first")
    with contextlib.suppress(UnsafePath):  # a row pointing outside the directory never deletes anything
        resolve_inside(root, row["path"]).unlink(missing_ok=True)
    async with db.begin() as conn:
        await conn.execute(update(recordings).where(recordings.c.id == recording_id)
                           .values(status="purged", purged_at=now))
    return {**row, "status": "purged", "purged_at": now}


@dataclass(frozen=True)
class SearchFilter:
    """What a supervisor knows about a call: any combination narrows the search (R14)."""

    caller: str | None = None
    """Digits anywhere in the caller number (a partial number finds every format it was stored in)."""
    date_from: date | None = None
    date_to: date | None = None
    """Local dates, both inclusive."""
    agent: str | None = None
    queue: str | None = None
    topic: str | None = None
    call_id: str | None = None
    only_agent: str | None = None
    """Access restriction: an agent sees only calls they took."""
    limit: int = 500

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"impossible date range: from {self.date_from} is after to {self.date_to}")

    def as_dict(self) -> dict[str, str]:
        hidden = ("limit", "only_agent")
        return {k: str(v) for k, v in self.__dict__.items() if v is not None and k not in hidden}


def local_day_bounds(day_from: date | None, day_to: date | None,
                     tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    """UTC [start, end) covering local days ``day_from``..``day_to`` inclusive."""
    start = datetime.combine(day_from, time(0), tz).astimezone(UTC) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time(0), tz).astimezone(UTC) if day_to else None
    return start, end


def _joined_select() -> Select[Any]:
    calls = calls_table()
    cols: list[Any] = [recordings]
    source: Any = recordings
    call_key = _call_col(calls, "call_id")
    if calls is not None and call_key is not None:
        for what in ("caller", "queue", "topic"):
            col = _call_col(calls, what)
            if col is not None:
                cols.append(col.label(what))
        agent = _call_col(calls, "agent")
        if agent is not None:
            cols.append(agent.label("call_agent"))
        source = recordings.outerjoin(calls, call_key == recordings.c.call_id)
    return select(*cols).select_from(source)


def _matches_agent(agent: str) -> ColumnElement[bool]:
    call_agent = _call_col(calls_table(), "agent")
    if call_agent is None:
        return recordings.c.agent_id == agent
    return or_(recordings.c.agent_id == agent, call_agent == agent)


async def search(db: AsyncEngine, flt: SearchFilter, tz: tzinfo) -> list[dict[str, Any]]:
    """Recordings matching every given filter, newest first."""
    calls = calls_table()
    conds: list[ColumnElement[bool]] = []
    start, end = local_day_bounds(flt.date_from, flt.date_to, tz)
    if start is not None:
        conds.append(recordings.c.started_at >= start)
    if end is not None:
        conds.append(recordings.c.started_at < end)
    if flt.call_id:
        conds.append(recordings.c.call_id == flt.call_id)
    if flt.agent:
        conds.append(_matches_agent(flt.agent))
    if flt.only_agent is not None:
        conds.append(_matches_agent(flt.only_agent))
    for what, value in (("caller", flt.caller), ("queue", flt.queue), ("topic", flt.topic)):
        if not value:
            continue
        col = _call_col(calls, what)
        if col is None:
            conds.append(false())  # the CDR cannot answer this filter: nothing matches rather than everything
        elif what == "caller":
            conds.append(col.contains(value, autoescape=True))
        else:
            conds.append(col == value)
    query = (_joined_select().where(and_(true(), *conds))
             .order_by(recordings.c.started_at.desc()).limit(flt.limit))
    async with db.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


def may_access(row: Mapping[str, Any], *, role: str, agent: str | None) -> bool:
    """R28: supervisors and admins see every recording, an agent only those of calls they took."""
    if role in ("supervisor", "admin"):
        return True
    if role == "agent" and agent:
        return agent in (row.get("agent_id"), row.get("call_agent"))
    return False
