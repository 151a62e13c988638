"""Keeps the ``recordings`` table (R14) in step with the recordings the engine asks ARI for.

The call path only enqueues; one task writes the rows (``recording.store``), measuring each finished file
(size, sha256, duration) off the event loop. A database outage delays the rows, it never delays a call:
operations wait in order and are retried. The CDR keeps its own ``recording_*`` events either way.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from recording import store

log = structlog.get_logger(__name__)
RETRY_S = 2.0
STOP_DRAIN_S = 5.0
"""How long ``stop`` waits for queued rows to be written before it cancels the task anyway."""


@dataclass(frozen=True)
class _Op:
    action: str  # started | finished | failed
    name: str
    at: float
    data: dict[str, Any]


class RecordingIndex:
    def __init__(self, db: AsyncEngine, root: Path) -> None:
        self.db = db
        self.root = root
        self.ids: dict[str, int] = {}
        self._queue: asyncio.Queue[_Op] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recording-index")

    async def stop(self) -> None:
        """Write what is queued, then end the task between two operations, never during one: a cancelled
        aiosqlite query makes SQLAlchemy close its connection in the background, after the engine is
        disposed and possibly after the event loop has ended ("Event loop is closed" in the aiosqlite
        thread, or a hang at the end of the loop). With the database down, give up after a while."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), STOP_DRAIN_S)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def started(self, name: str, at: float, *, call_id: str, fmt: str, kind: str, agent: str | None) -> None:
        self._queue.put_nowait(
            _Op("started", name, at, {"call_id": call_id, "fmt": fmt, "kind": kind, "agent": agent})
        )

    def finished(self, name: str, at: float) -> None:
        self._queue.put_nowait(_Op("finished", name, at, {}))

    def failed(self, name: str, at: float, reason: str) -> None:
        self._queue.put_nowait(_Op("failed", name, at, {"reason": reason}))

    async def drain(self) -> None:
        """Wait until every operation so far is written (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            op = await self._queue.get()
            while True:
                try:
                    await self._apply(op)
                    break
                except IntegrityError as exc:  # a row that cannot be: retrying would stall every later one
                    log.error("recording_row_refused", recording=op.name, error=str(exc))
                    break
                except Exception as exc:  # the database is down: keep the order, try again
                    log.warning("recording_index_retry", recording=op.name, error=str(exc))
                    await asyncio.sleep(RETRY_S)
            self._queue.task_done()

    async def _apply(self, op: _Op) -> None:
        at = datetime.fromtimestamp(op.at, UTC)
        if op.action == "started":
            d = op.data
            self.ids[op.name] = await store.register_started(
                self.db,
                call_id=d["call_id"],
                name=op.name,
                fmt=d["fmt"],
                started_at=at,
                kind=d["kind"],
                agent_id=d["agent"],
            )
            return
        rec_id = self.ids.pop(op.name, None)
        if rec_id is None:
            log.warning("recording_unknown", recording=op.name, action=op.action)
            return
        if op.action == "finished":
            row = await store.finish(self.db, rec_id, root=self.root, ended_at=at)
            if row.get("status") == "missing":
                log.error("recording_file_missing", recording=op.name, path=row.get("path"))
        else:
            await store.mark_failed(self.db, rec_id, op.data["reason"], ended_at=at)
