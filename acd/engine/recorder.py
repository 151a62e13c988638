"""Keeps the ``recordings`` table (R14) in step with the recordings the engine asks ARI for.

Every change is a ``RecordingEvent`` (keyed by the recording's name) emitted into the CDR writer: it goes
through the writer's journal and fsync'd spool and is applied idempotently (``cdr.recording_rows``), so a
database outage or a restart (even ``kill -9``) delays a row, it never loses one, and
``calls.recording_status`` is derived from the same rows (one truth). The call path only emits; the file
of a finished recording is measured (size, sha256, WAV duration) in a thread before its event is emitted.

Rows left at ``recording`` because their end never came (a lost event, a process killed between the event
and its row) are finished from the file on disk at start-up and then every ``reconcile_every_s``, once
their call has ended (``recording.reconcile``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.events import CdrRecord, RecordingEvent
from cdr import recording_rows
from recording import store
from recording.layout import relative_path
from recording.reconcile import GRACE_S, MAX_AGE_S, stuck_recordings

log = structlog.get_logger(__name__)
RETRY_S = 2.0
RECONCILE_EVERY_S = 300.0
STOP_WAIT_S = 10.0
"""How long ``stop`` lets a reconciliation round that is under way finish before cancelling it."""


class RecordSink(Protocol):
    """Where the events go: the daemon's ``CdrWriter``."""

    def emit(self, record: CdrRecord) -> None: ...

    async def flush(self) -> None: ...


class DirectRows:
    """A sink without a CDR writer (tools, tests): the same idempotent upsert straight to the database,
    retried in order. Not durable across a restart: the daemon always passes its writer."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self._pending: deque[RecordingEvent] = deque()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def emit(self, record: CdrRecord) -> None:
        if not isinstance(record, RecordingEvent):
            return
        self._pending.append(record)
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="recording-rows")

    async def flush(self) -> None:
        await self._idle.wait()

    async def _run(self) -> None:
        while self._pending:
            batch = list(self._pending)
            try:
                async with self.db.begin() as conn:
                    await recording_rows.apply(conn, batch)
            except Exception as exc:  # the database is down: keep the order, try again
                log.warning("recording_rows_retry", records=len(batch), error=str(exc)[:300])
                await asyncio.sleep(RETRY_S)
                continue
            for _ in batch:
                self._pending.popleft()
        self._idle.set()


class RecordingIndex:
    def __init__(self, db: AsyncEngine, root: Path, writer: RecordSink | None = None, *,
                 clock: Callable[[], float] | None = None, reconcile_every_s: float = RECONCILE_EVERY_S,
                 grace_s: float = GRACE_S, max_age_s: float = MAX_AGE_S) -> None:
        self.db = db
        self.root = root
        self.sink: RecordSink = writer if writer is not None else DirectRows(db)
        self.clock: Callable[[], float] = clock or time.time
        self.reconcile_every_s = reconcile_every_s
        self.grace_s, self.max_age_s = grace_s, max_age_s
        self._known: dict[str, tuple[str, str]] = {}
        """name -> (call_id, format) of the recordings started by this process and not ended yet."""
        self._measuring: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self.reconciled = 0
        """Rows finished by reconciliation so far (tests, metrics)."""
        self.round_done = asyncio.Event()
        """Set after each reconciliation round (tests wait for the start-up one)."""
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Start reconciling stuck rows (now, then periodically)."""
        self._task = asyncio.create_task(self._reconcile_loop(), name="recording-reconcile")

    async def stop(self) -> None:
        """Stop reconciling between two rounds, never during one: a cancelled aiosqlite query makes
        SQLAlchemy close its connection in the background, after the engine is disposed and possibly after
        the event loop has ended ("Event loop is closed" in the aiosqlite thread, or a hang at the end of
        the loop). The finishes being measured are emitted first (the writer is flushed after)."""
        if self._task is not None:
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_WAIT_S)
            except TimeoutError:  # a round stuck on a dead database: give up on it
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self._wait_measuring()
        if isinstance(self.sink, DirectRows):  # without a writer the rows are ours to write before the end
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.sink.flush(), STOP_WAIT_S)

    def started(self, name: str, at: float, *, call_id: str, fmt: str, kind: str, agent: str | None) -> None:
        self._known[name] = (call_id, fmt)
        self.sink.emit(RecordingEvent(name=name, kind="started", at=at, call_id=call_id, fmt=fmt,
                                      recording_kind=kind, agent=agent))

    def finished(self, name: str, at: float) -> None:
        call_id, fmt = self._known.pop(name, (None, None))
        task = asyncio.create_task(self._finish(name, at, call_id, fmt), name=f"recording-measure-{name}")
        self._measuring.add(task)
        task.add_done_callback(self._measuring.discard)

    def failed(self, name: str, at: float, reason: str) -> None:
        call_id, _ = self._known.pop(name, (None, None))
        self.sink.emit(RecordingEvent(name=name, kind="failed", at=at, call_id=call_id, reason=reason[:500]))

    def missing(self, name: str, at: float, reason: str) -> None:
        """Its end was never reported and Asterisk stored no file under its name (issue 11 §3)."""
        call_id, _ = self._known.pop(name, (None, None))
        self.sink.emit(RecordingEvent(name=name, kind="finished", at=at, call_id=call_id, status="missing",
                                      reason=reason[:500]))

    async def drain(self) -> None:
        """Wait until every change so far is written (tests, shutdown)."""
        await self._wait_measuring()
        await self.sink.flush()

    async def reconcile(self) -> int:
        """Finish the rows stuck at ``recording`` whose call is over, from their files; how many."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        stuck = await stuck_recordings(self.db, now, grace_s=self.grace_s, max_age_s=self.max_age_s)
        for row in stuck:
            facts = await asyncio.to_thread(store.measure_file, self.root, row.path, row.fmt)
            reason = f"no end reported; at reconciliation: {facts.reason}" if facts.reason else None
            self.sink.emit(self._finished_event(row.name, row.ended_at.timestamp(), row.call_id, facts,
                                                reason=reason))
            log.warning("recording_reconciled", recording=row.name, call_id=row.call_id, status=facts.status)
        self.reconciled += len(stuck)
        return len(stuck)

    # -- internals ---------------------------------------------------------------------------------------
    async def _wait_measuring(self) -> None:
        while self._measuring:
            await asyncio.gather(*list(self._measuring), return_exceptions=True)

    async def _finish(self, name: str, at: float, call_id: str | None, fmt: str | None) -> None:
        try:
            if fmt is not None:
                rel: str | None = relative_path(name, fmt)
                fmt_of_file = fmt
            else:  # started by an earlier process: find the file whatever its format
                rel = await asyncio.to_thread(store.find_file, self.root, name)
                fmt_of_file = rel.rsplit(".", 1)[-1] if rel else ""
            if rel is None:
                facts = store.Measured("missing", reason=f"file not found after recording: {name}.*")
            else:
                facts = await asyncio.to_thread(store.measure_file, self.root, rel, fmt_of_file)
        except Exception as exc:  # never lose the finish: the row says why it has no facts
            log.exception("recording_measure_failed", recording=name)
            facts = store.Measured("missing", reason=f"could not measure the file: {exc}")
        if facts.status == "missing":
            log.error("recording_file_missing", recording=name, reason=facts.reason)
        self.sink.emit(self._finished_event(name, at, call_id, facts))

    @staticmethod
    def _finished_event(name: str, at: float, call_id: str | None, facts: store.Measured, *,
                        reason: str | None = None) -> RecordingEvent:
        why = reason or facts.reason
        return RecordingEvent(name=name, kind="finished", at=at, call_id=call_id, status=facts.status,
                              size_bytes=facts.size_bytes, sha256=facts.sha256, duration_s=facts.duration_s,
                              reason=why[:500] if why else None)

    async def _reconcile_loop(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception as exc:  # the database is down: the next round tries again
                log.warning("recording_reconcile_failed", error=str(exc)[:300])
            self.round_done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.reconcile_every_s)
            if self._stopping.is_set():
                return
