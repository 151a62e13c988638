"""Calls that ended while no daemon listened: close their CDR rows and finish their recordings (R27, R14).

A call that ends while the daemon is down (killed, restarting) or between the start-up resync's list of
channels and its adoption leaves nothing in Asterisk to adopt: no channel, no ``ACD_STATE``. Whatever the
killed daemon knew only in memory is gone too. What survives is the CDR (the ``calls`` row, still open, and
its ``call_events``), the ``recordings`` rows still at ``recording``, and what Asterisk answers over REST (an
orphaned bridge still recording, a stored recording). So once per process, after the first resync that can
read the database, every call still open in the CDR that began before this process started, that this
process has not adopted and whose channel Asterisk no longer has, is closed here:

- its recordings: a recording still live in Asterisk (its bridge outlived the channels) is stopped and its
  ``RecordingFinished`` awaited, bounded; any other is reconciled from ``GET /recordings/stored/{name}``
  (done if stored, missing if not). Its bridge is destroyed.
- its end: typed facts with ``end_estimated=True`` at the last moment known of the call (its last event, or
  the end of its stored recording measured from the file), so no gap counts as talk or wait; a caller still
  queued then left the queue (abandoned); a caller leaving a message left it (``voicemail``) if Asterisk
  stored the file. The outcome is then the CDR's usual fold of what was known
  (docs/decisions/engine-08-closing-calls-that-ended-unseen.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd import events as ev
from acd.ari.errors import AriError, AriNotFound
from acd.events import parse_fact
from cdr.schema import call_events, calls, recordings
from recording.store import measure_file

if TYPE_CHECKING:
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)

RETRY_FIRST_S = 2.0
"""Real seconds before the database is asked again when it did not answer; doubled up to ``RETRY_MAX_S``."""
RETRY_MAX_S = 60.0
MAX_CALLS = 2000
"""At most this many open calls are looked at per process (a backlog larger than that is a bigger fault)."""


@dataclass(frozen=True)
class OpenRecording:
    """A ``recordings`` row of the call still at ``recording``."""

    name: str
    fmt: str
    path: str
    started_at: float
    kind: str


@dataclass(frozen=True)
class OpenCall:
    """What the CDR knows of a call it never saw end."""

    call_id: str
    first_at: float
    """Its first event (arrival)."""
    last_at: float
    """Its last event: the last moment the call is known to have been alive."""
    dialled: str | None = None
    caller: str | None = None
    queue: str | None = None
    """The queue it was waiting in (queued, not connected, not left): it abandoned."""
    connected: bool = False
    agent: str | None = None
    """The agent it was connected to (the last one), and since when (``connected_at``)."""
    connected_at: float | None = None
    bridge: str | None = None
    voicemail: str | None = None
    """The caller was leaving this message (started, not filed as a ``voicemail`` fact)."""
    recordings: tuple[OpenRecording, ...] = ()


def summarise(call_id: str, evs: list[tuple[str, float, dict[str, Any]]],
              recs: tuple[OpenRecording, ...]) -> OpenCall:
    """An open call's state from its stored events, ``(kind, at, data)`` in time order (pure)."""
    first = evs[0][1] if evs else 0.0
    last = evs[-1][1] if evs else 0.0
    dialled = caller = queue = bridge = voicemail = agent = None
    connected = False
    connected_at: float | None = None
    for kind, at, data in evs:
        match parse_fact(kind, data):
            case ev.Arrived() as f:
                dialled, caller = f.dialled, f.caller
            case ev.Queued() as f:
                queue = f.queue
            case ev.LeftQueue() | ev.Overflow() | ev.Transfer():
                queue = None
            case ev.Connected() as f:
                connected, queue, bridge = True, None, f.bridge or bridge
                agent, connected_at = f.agent or agent, at
            case ev.RecordingStarted() as f if f.kind == "voicemail":
                voicemail = f.recording
            case ev.Voicemail():
                voicemail = None
            case _:
                pass
    return OpenCall(call_id, first, last, dialled=dialled, caller=caller, queue=queue, connected=connected,
                    agent=agent, connected_at=connected_at, bridge=bridge, voicemail=voicemail,
                    recordings=recs)


class OpenCallSource(Protocol):
    """Where open calls are read from: the CDR database (``OpenCallsInDb``), or a test's list."""

    async def open_calls(self, before: float) -> list[OpenCall]: ...


class OpenCallsInDb:
    """Calls whose ``calls`` row has no end and whose first event is older than ``before``."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def open_calls(self, before: float) -> list[OpenCall]:
        async with self.db.connect() as conn:
            ids = [r[0] for r in (await conn.execute(
                select(calls.c.id).where(calls.c.ended_at.is_(None)).limit(MAX_CALLS))).all()]
            if not ids:
                return []
            e = call_events.c
            rows = (await conn.execute(
                select(e.call_id, e.kind, e.at, e.data).where(e.call_id.in_(ids)).order_by(e.at, e.id))).all()
            r = recordings.c
            rec_rows = (await conn.execute(
                select(r.call_id, r.name, r.format, r.path, r.started_at, r.kind)
                .where(r.call_id.in_(ids), r.status == "recording"))).all()
        evs: dict[str, list[tuple[str, float, dict[str, Any]]]] = {}
        for call_id, kind, at, data in rows:
            evs.setdefault(call_id, []).append((kind, _epoch(at), dict(data or {})))
        recs: dict[str, list[OpenRecording]] = {}
        for call_id, name, fmt, path, started, kind in rec_rows:
            recs.setdefault(call_id, []).append(OpenRecording(name, fmt, path, _epoch(started), kind))
        return [summarise(cid, evs[cid], tuple(recs.get(cid, ()))) for cid in ids
                if cid in evs and evs[cid][0][1] < before]


def _epoch(at: datetime | float) -> float:
    return at.timestamp() if isinstance(at, datetime) else float(at)


@dataclass
class _Owner:
    """Stands for the ended call as the owner of its recordings, so their end events reach it."""

    channel_id: str
    ended: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    def expect(self, name: str) -> asyncio.Future[dict[str, Any]]:
        return self.ended.setdefault(name, asyncio.get_running_loop().create_future())

    def recording_done(self, name: str, info: dict[str, Any]) -> None:
        fut = self.expect(name)
        if not fut.done():
            fut.set_result(info)


class OrphanSweep:
    """Runs once per process, after the first resync (``after_resync``), retried until the database
    answers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.source: OpenCallSource | None = None
        """Set by the daemon (``OpenCallsInDb``); None: nothing is swept."""
        self.started_at = engine.clock.now()
        self.adopted: set[str] = set()
        """Calls this process has had a session for (adopted or live) until the sweep is done: never an
        orphan, even once ended (their own end may not be written yet)."""
        self.done = False
        self.closed: list[str] = []
        self._task: asyncio.Task[Any] | None = None

    def after_resync(self) -> asyncio.Task[Any] | None:
        """Called at the end of every resync: the first one starts the sweep (a task, since waiting for a
        recording's end needs the events that flow only once the resync has returned)."""
        if self.done or self.source is None:
            return None
        self.adopted |= {s.channel_id for s in self.engine.registry.sessions()}
        if self._task is not None and not self._task.done():
            return self._task
        self._task = self.engine.spawn(self._run(self.source), "orphan-calls")
        return self._task

    async def _run(self, source: OpenCallSource) -> None:
        delay = RETRY_FIRST_S
        while True:
            try:
                found = await source.open_calls(self.started_at)
                break
            except Exception as exc:  # the database is down: the calls wait, nothing is lost
                log.warning("orphan_calls_unreadable", error=str(exc)[:300])
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
        for call in found:
            self.adopted |= {s.channel_id for s in self.engine.registry.sessions()}
            if call.call_id in self.adopted or self.engine.registry.knows_channel(call.call_id):
                continue
            try:
                await self.engine.ari.channels.get(call.call_id)
                continue  # Asterisk still has it: not ended (a later resync adopts it, or its row ends)
            except AriNotFound:
                pass
            except AriError as exc:
                log.warning("orphan_call_unknown", call_id=call.call_id, error=str(exc)[:300])
                continue
            await self.close(call)
        self.done = True
        self.adopted.clear()

    async def close(self, call: OpenCall) -> None:
        """Finish the call's recordings, then write its end (estimated)."""
        engine = self.engine
        owner = _Owner(call.call_id)
        end = call.last_at
        stored_voicemail: str | None = None
        for rec in call.recordings:
            live = True
            try:
                await engine.ari.recordings.get_live(rec.name)
            except AriNotFound:
                live = False
            except AriError:
                pass  # unknown: stopped and awaited like a live one, then reconciled
            if live:  # its bridge outlived the call: stop it, await its end (bounded), else reconcile
                fut = owner.expect(rec.name)
                engine.registry.add_recording(rec.name, owner)
                await engine.finish_recording(owner, rec.name, fut)
            else:
                await engine.reconcile_recording(owner, rec.name)
                info = owner.ended.get(rec.name)
                if info is not None and info.done() and info.result().get("state") == "done":
                    if rec.name == call.voicemail:
                        stored_voicemail = rec.name
                    end = max(end, await self._file_end(rec))
            engine.registry.drop_recording(rec.name)
        if call.bridge and engine.registry.bridge_owner(call.bridge) is None:
            await engine.destroy_bridge(call.bridge)
        cid = call.call_id
        if stored_voicemail is not None:
            loaded = engine.config.scenario_for(call.dialled or "")
            vm = loaded.scenario.voicemail if loaded is not None else None
            within_h = vm.callback_within_h if vm is not None else 24
            path = engine.recording_path(stored_voicemail, engine.settings.recording.format)
            engine.emit_milestone(cid, ev.Voicemail(
                recording=stored_voicemail, callback_id=f"cb-{stored_voicemail}"[:64],
                path=str(path) if path.exists() else None, caller=call.caller,
                callback_due_at=end + within_h * 3600), end)
        elif call.queue is not None:
            engine.emit_milestone(cid, ev.LeftQueue(queue=call.queue, reason="abandoned"), end)
        engine.emit_milestone(cid, ev.Ended(end_estimated=True), end)
        if call.agent and call.connected_at is not None and call.agent in engine.config.agents:
            # today's totals were read from the CDR before this call had its end: count it now
            engine.acd.count_unseen_call(call.agent, call.connected_at, end)
        self.closed.append(cid)
        log.info("orphan_call_closed", call_id=cid, ended_at=end, queue=call.queue, connected=call.connected,
                 recordings=len(call.recordings))

    async def _file_end(self, rec: OpenRecording) -> float:
        """When a stored recording ended: its start plus the duration its file says (its start if unknown)."""
        root: Path = self.engine.settings.paths.recordings
        with contextlib.suppress(Exception):
            measured = await asyncio.to_thread(measure_file, root, rec.path, rec.fmt)
            if measured.duration_s is not None:
                # stopped before this process started (by the previous daemon at the call's end, or with
                # its bridge): never later than that start
                return min(rec.started_at + measured.duration_s, self.started_at)
        return rec.started_at
