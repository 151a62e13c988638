"""The CDR writer: one task that turns call and agent events into SQL rows, never slowing a call.

``emit`` only appends to an in-memory queue. The task takes up to ``batch_size`` records (waiting at most
``batch_wait_s``, 0.25 s, for a batch to fill: a batch's cost is mostly fixed, and at 20 calls/s a 0.05 s
window made the writer half of the daemon's remaining CPU per call, docs/benchmarks.md; a row reaching the
database a quarter of a second later is not seen by anybody, and the journal keeps a killed daemon's
records), and in one transaction inserts the events (``ON CONFLICT DO
NOTHING`` on their unique event ids), re-folds the ``calls`` row of every call touched from ALL its stored
events (upsert), derives the Asterisk ``queue_log`` and ``cdr`` rows and the voicemail callbacks, and
fills agent-state durations; ``RecordingEvent``s keep the ``recordings`` rows (by recording name) and the
``recording_status`` of their calls. If a write fails for any reason but a bad value (the database
unreachable, locked, a time-out, a serialization failure), batches go to the disk spool (fsync'd), and are
replayed in order, with back-off, before anything newer. Only a record the schema cannot hold goes to the
spool's rejects file with the reason (nothing replays that file).

At the daemon's rate (about ten records every 50 ms batch) the fixed costs of a batch dominate, so the
writer keeps what it can know without asking (issue 11 §6): the statements are built once per writer (so
SQLAlchemy finds their compiled form by a memoized key), the stored events of the calls written lately are
kept in memory (a call this writer has not written yet, after a restart, a spool replay or a record for
an old call, is read from the database once), and so is each agent's last ``agent_state_log`` row (the
writer is the only writer of that table). Both memories change only after their transaction committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import structlog
from sqlalchemy import Table, bindparam, func, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.events import AgentEvent, Arrived, CallEvent, CdrRecord, RecordingEvent, Voicemail
from cdr import queue_log as qlog
from cdr import recording_rows
from cdr.db import make_engine, make_sync_sqlite_engine, migrate
from cdr.journal import Journal
from cdr.regions import RegionLookup, default_regions
from cdr.schema import agent_state_log, call_events, callbacks, calls, cdr, listen_audit, queue_log
from cdr.spool import Spool
from cdr.summary import fold
from cdr.types import utc

log = structlog.get_logger("cdr.writer")

CALLBACK_DUE = {"voicemail": timedelta(hours=24)}
CLOSE_WAIT_S = 10.0
"""How long close() lets the writing task finish its current operation before cancelling it."""
_LIMITS = {"call_id": 64, "kind": 32, "event_id": 64, "agent_id": 64, "state": 16, "previous": 16,
           "reason": 64, "by": 64}


class DatabaseUnavailable(Exception):
    """The database could not be reached (or refused to work): spool and retry later."""


def _unavailable(exc: BaseException) -> bool:
    """The database could not be reached at all (used where only reachability matters)."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, OSError | TimeoutError | ConnectionError | DisconnectionError | PoolTimeout)


def is_data_error(exc: BaseException) -> bool:
    """True only when the database refused a VALUE: a constraint it violates (IntegrityError), a value the
    column cannot hold (DataError), or a bind conversion that raised ValueError/TypeError."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return isinstance(exc.orig, ValueError | TypeError | OverflowError)
    return False


def is_transient(exc: BaseException) -> bool:
    """The write failed for a reason that says nothing about the records: retry (spool), never reject.

    Lock time-outs, "database is locked", serialization failures and deadlocks, lost connections, a
    statement time-out, a schema not migrated yet: any database error but a data error (issue 12 item 3:
    valid records were written to ``rejects.jsonl``, which nothing replays, while a lock was held).
    """
    if is_data_error(exc):
        return False
    if isinstance(exc, DBAPIError):
        return True
    return isinstance(exc, OSError | TimeoutError | ConnectionError | DisconnectionError | PoolTimeout)


LIVE_CALLS = 2000
"""Calls whose stored events the writer keeps in memory (least recently written dropped first): the calls
in progress and those just ended (a wrap-up, a topic, a recording's end come after the end)."""


class _Statements:
    """The writer's statements for one dialect, built once: a statement object reused keeps its cache key
    (SQLAlchemy memoizes it), where one built per batch is walked and hashed again, and an upsert's
    ``excluded`` columns are proxied again, on every batch."""

    def __init__(self, dialect: str) -> None:
        ins = pg_insert if dialect == "postgresql" else sqlite_insert

        def ignore(table: Table, key: str) -> Any:
            return ins(table).on_conflict_do_nothing(index_elements=[key])

        def upsert(table: Table, key: str) -> Any:
            stmt = ins(table)
            cols = [c.name for c in table.columns if c.name != key]
            return stmt.on_conflict_do_update(index_elements=[key], set_={c: stmt.excluded[c] for c in cols})

        self.call_events = ignore(call_events, "event_id")
        self.listen_audit = ignore(listen_audit, "event_id")
        self.agent_state_log = ignore(agent_state_log, "event_id")
        self.queue_log = ignore(queue_log, "event_id")
        self.callbacks = ignore(callbacks, "id")
        self.calls = upsert(calls, "id")
        self.cdr = upsert(cdr, "uniqueid")
        self.calls_columns = [c.name for c in calls.columns if c.name != "id"]
        e = call_events.c
        self.events_of_calls = (select(e.call_id, e.kind, e.at, e.data, e.event_id)
                                .where(e.call_id.in_(bindparam("ids", expanding=True)))
                                .order_by(e.call_id, e.at, e.id))
        t = agent_state_log.c
        self.duration = (update(agent_state_log).where(t.event_id == bindparam("b_eid"))
                         .values(duration_s=bindparam("b_dur")))


@dataclass(frozen=True)
class _LastState:
    """An agent's last stored ``agent_state_log`` row (by time, then id): the one whose duration the
    agent's next state change sets."""

    event_id: str
    at: datetime
    duration_s: float | None


def _at(epoch: float) -> datetime:
    """An epoch time as the database stores it (aware UTC, microseconds)."""
    return datetime.fromtimestamp(epoch, UTC)


def _merged(stored: list[CallEvent], new: Iterable[tuple[CallEvent, datetime]]) -> list[CallEvent]:
    """A call's stored events (ordered by time, then by arrival, as ``ORDER BY at, id`` reads them) with
    the batch's new ones (each with its stored time) as the database hands them back: the time at
    microseconds, ``data`` through JSON. An event id already stored is ignored, as the insert ignores it."""
    out = list(stored)
    ids = {e.event_id for e in out}
    for e, at in new:
        if e.event_id in ids:
            continue
        ids.add(e.event_id)
        data = orjson.loads(orjson.dumps(e.data)) if e.data else {}
        kept = CallEvent(e.call_id, e.kind, at.timestamp(), data, e.event_id)
        out.insert(bisect_right(out, kept.at, key=lambda x: x.at), kept)
    return out


def _bad_time(at: Any) -> str | None:
    if not isinstance(at, int | float) or not math.isfinite(at):
        return f"at must be epoch seconds, got {at!r}"
    try:
        utc(at)
    except (ValueError, OverflowError, OSError):
        return f"at is out of range: {at!r}"
    return None


def check_record(record: Any) -> str | None:
    """Why the schema cannot hold ``record``, or None."""
    if isinstance(record, RecordingEvent):
        reason = recording_rows.check_recording_event(record)
        if reason is None:
            reason = _bad_time(record.at)
        return reason
    if not isinstance(record, CallEvent | AgentEvent):
        return f"not a CallEvent, AgentEvent or RecordingEvent: {type(record).__name__}"
    required = ("call_id", "kind", "event_id") if isinstance(record, CallEvent) else ("agent_id", "state",
                                                                                     "event_id")
    for name, limit in _LIMITS.items():
        if not hasattr(record, name):
            continue
        value = getattr(record, name)
        if value is None:
            if name in required:
                return f"{name} is missing"
            continue
        if not isinstance(value, str) or not value:
            return f"{name} must be a non-empty string, got {value!r}"
        if len(value) > limit:
            return f"{name} longer than {limit} characters"
    bad = _bad_time(record.at)
    if bad is not None:
        return bad
    if isinstance(record, CallEvent):
        if not isinstance(record.data, dict):
            return "data must be a mapping"
        try:
            orjson.dumps(record.data)
        except TypeError as exc:
            return f"data is not JSON: {exc}"
    return None


class CdrWriter:
    def __init__(self, db_url: str, spool_dir: Path | str, *, short_abandon_s: float = 5.0,
                 clock: Callable[[], float] = time.time, regions: RegionLookup | None = None,
                 batch_size: int = 2000, batch_wait_s: float = 0.25, retry_min_s: float = 0.5,
                 retry_max_s: float = 30.0, lock_timeout_s: float = 10.0) -> None:
        self.db_url = db_url
        self.spool = Spool(spool_dir)
        self.journal = Journal(spool_dir)
        self.short_abandon_s = short_abandon_s
        self.voicemail_due: Callable[[float], float] | None = None
        """Set by the daemon when config/callbacks.yaml counts voicemail deadlines in business hours:
        creation time -> due time; it then wins over the scenario's ``callback_within_h``."""
        self.clock = clock
        self.regions = regions or default_regions()
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.retry_min_s, self.retry_max_s = retry_min_s, retry_max_s
        extra: dict[str, Any] = {}
        if db_url.startswith("postgresql"):
            # A table lock (a migration, a manual LOCK TABLE) makes a write fail after this long and the
            # batch spool, instead of holding the writer until the statement time-out.
            extra["connect_args"] = {"server_settings": {"lock_timeout": str(int(lock_timeout_s * 1000))}}
        self.engine: AsyncEngine = make_engine(db_url, json_serializer=_json_dumps,
                                               json_deserializer=orjson.loads, **extra)
        self._sync: Engine | None = make_sync_sqlite_engine(db_url, json_serializer=_json_dumps,
                                                            json_deserializer=orjson.loads)
        """SQLite: the writer's own engine on the same file, used from its own thread (see _write_tx)."""
        self._executor: ThreadPoolExecutor | None = None
        self._st = _Statements(self.engine.dialect.name)
        self._calls: OrderedDict[str, list[CallEvent]] = OrderedDict()
        """The stored events of the calls written lately (``LIVE_CALLS``), in ``ORDER BY at, id`` order."""
        self._agents: dict[str, _LastState] = {}
        self.live_calls = LIVE_CALLS
        """How many calls' events to keep in memory; 0: none, and no agent's last row either."""
        self._queue: deque[CdrRecord] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._healthy = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._migrated = False
        self._db_ok = True
        self._retry_delay = retry_min_s
        self._retry_at = 0.0
        self.written = 0
        """Records written to the database so far (for tests and metrics)."""
        self.rejected = 0

    # -- public interface -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Create/migrate the schema and replay the spool; an unreachable database is not an error here:
        records spool until it is back."""
        recovered = self.journal.recover()
        if recovered:  # accepted by a process that died before storing them: replay (idempotent)
            log.warning("cdr.journal_recovered", records=len(recovered))
            self.spool.append(recovered)
        self.journal.open()
        try:
            await self._ensure_schema()
            await self._replay()
        except Exception as exc:
            if not _unavailable(exc):
                raise
            self._down(exc)
        self._task = asyncio.create_task(self._run(), name="cdr-writer")

    def emit(self, record: CdrRecord) -> None:
        """Queue a record. Never blocks, never raises. After ``close()`` a record goes straight to the spool
        (replayed at the next start) rather than being lost."""
        try:
            if self._closed and (self._task is None or self._task.done()):
                reason = check_record(record)
                if reason is not None:
                    self._reject(record, reason)
                else:
                    self._to_spool([record])
                return
            self._queue.append(record)
            self.journal.write(record)
            self._idle.clear()
            self._wake.set()
        except Exception:  # pragma: no cover - emit must never take a call down
            log.exception("cdr.emit_failed")

    async def flush(self) -> None:
        """Return when everything emitted so far is in the database or in the spool."""
        if self._task is None or self._task.done():
            await self._drain_without_task()
            return
        self._wake.set()
        while self._queue or not self._idle.is_set():
            self._flush_requested = True
            self._wake.set()
            await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        try:
            if self._task is not None:
                await self.flush()
                # let the task end by itself between two operations (see _run): cancelling it during a
                # connect or a query leaves aiosqlite finishing it after the event loop has ended
                self._wake.set()
                await asyncio.wait({self._task}, timeout=CLOSE_WAIT_S)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                self._task = None
            await self._drain_without_task()
            self.journal.close()
        finally:  # whatever failed above, no connection may outlive the event loop (a hang at its end)
            await self.engine.dispose()
            if self._sync is not None:
                if self._executor is not None:  # after any transaction still running in it
                    await asyncio.get_running_loop().run_in_executor(self._executor, self._sync.dispose)
                    self._executor.shutdown()
                    self._executor = None
                else:
                    self._sync.dispose()

    async def agent_totals(self, since_utc: float) -> dict[str, tuple[float, int]]:
        """Talk seconds and connected calls per agent since ``since_utc`` (e.g. local midnight); {} if the
        database is unreachable."""
        stmt = (select(calls.c.agent, func.coalesce(func.sum(calls.c.talk_s), 0.0), func.count())
                # ended calls only: a call still talking is adopted by the restarted daemon and counted
                # when it ends (counting it here too made calls_today one higher: issue 12 item 9)
                .where(calls.c.connected_at >= utc(since_utc), calls.c.agent.is_not(None),
                       calls.c.ended_at.is_not(None))
                .group_by(calls.c.agent))
        try:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        except Exception as exc:
            if not _unavailable(exc):
                raise
            # Start-up must not wait for the database: fairness starts from zero instead.
            log.warning("cdr.agent_totals_unavailable", error=str(exc)[:300])
            return {}
        return {agent: (float(talk or 0.0), int(n)) for agent, talk, n in rows}

    @property
    def db_writable(self) -> bool:
        """False from a failed write (unreachable, locked, timed out) until a write or a spool replay
        succeeds again: what ``/health`` reports as ``db_writable``. Reads may still work meanwhile."""
        return self._db_ok

    @property
    def spooled(self) -> int:
        return self.spool.count()

    # -- the task ---------------------------------------------------------------------------------------
    _flush_requested = False

    async def _run(self) -> None:
        while True:
            if self._closed and not self._queue:
                self._idle.set()
                return  # ends between two operations; close() drains what comes later
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                if self._db_ok and not self.spool.pending():
                    await self._wake.wait()
                else:  # wake for new records, or at the next retry to replay the spool
                    delay = max(0.0, self._retry_at - time.monotonic())
                    timer = asyncio.get_running_loop().call_later(delay, self._wake.set)
                    try:
                        await self._wake.wait()
                    finally:
                        timer.cancel()
                    if not self._queue:
                        await self._try_replay()
                        continue
            if len(self._queue) < self.batch_size and not self._flush_requested and not self._closed:
                await asyncio.sleep(self.batch_wait_s)
            self._flush_requested = False
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
                await self._handle(batch)
            self.journal.reset()  # every accepted record is in the database or the spool

    async def _drain_without_task(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            await self._handle(batch)
        self.journal.reset()
        self._idle.set()

    async def _try_replay(self) -> bool:
        try:
            await self._ensure_schema()
            await self._replay()
            return True
        except Exception as exc:
            if not _unavailable(exc):
                log.exception("cdr.replay_failed")
            self._down(exc)
            return False

    async def _handle(self, batch: list[CdrRecord]) -> None:
        try:
            behind = not self._db_ok or self.spool.pending()
            if behind and (time.monotonic() < self._retry_at or not await self._try_replay()):
                self._to_spool(batch)
                return
            try:
                await self._write(batch)
            except DatabaseUnavailable as exc:
                self._down(exc)
                self._to_spool(batch)
        except Exception:
            log.exception("cdr.batch_failed", records=len(batch))
            self._to_spool(batch)

    def _to_spool(self, batch: list[CdrRecord]) -> None:
        try:
            self.spool.append(batch)
        except OSError:
            log.exception("cdr.spool_write_failed", records=len(batch), spool=str(self.spool.path))

    async def wait_healthy(self) -> None:
        """Return once the database is reachable and the spool is empty (for start-up checks and tests)."""
        await self._healthy.wait()

    def _down(self, exc: BaseException) -> None:
        self._healthy.clear()
        if self._db_ok:
            log.warning("cdr.database_unavailable", error=str(exc)[:300])
        else:
            self._retry_delay = min(self.retry_max_s, self._retry_delay * 2)
        self._db_ok = False
        self._retry_at = time.monotonic() + self._retry_delay

    def _up(self) -> None:
        if not self._db_ok:
            log.info("cdr.database_back")
        self._db_ok = True
        self._retry_delay = self.retry_min_s
        if not self.spool.pending():
            self._healthy.set()

    async def _ensure_schema(self) -> None:
        if not self._migrated:
            await migrate(self.engine)
            self._migrated = True

    async def _replay(self) -> None:
        """Write the spool in order; clear it only when all of it is in."""
        if not self.spool.pending():
            self._up()
            return
        n = 0
        for chunk in self.spool.read(self.batch_size):
            try:
                await self._write(chunk)
            except DatabaseUnavailable as exc:
                raise OperationalError("replay", None, exc) from exc
            n += len(chunk)
        self.spool.clear()
        self._up()
        log.info("cdr.spool_replayed", records=n)

    # -- writing ----------------------------------------------------------------------------------------
    async def _write(self, batch: Sequence[CdrRecord]) -> None:
        good: list[CdrRecord] = []
        for rec in batch:
            reason = check_record(rec)
            if reason is None:
                good.append(rec)
            else:
                self._reject(rec, reason)
        if not good:
            return
        try:
            await self._write_tx(good)
        except Exception as exc:
            if is_transient(exc):  # locked, timed out, gone...: the records are fine, retry later
                if not _unavailable(exc):
                    log.warning("cdr.write_failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")
                raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc
            if len(good) == 1:
                self._reject(good[0], f"{type(exc).__name__}: {str(exc)[:500]}")
                return
            for rec in good:  # isolate the record(s) the database refuses
                await self._write([rec])
            return
        self.written += len(good)

    def _reject(self, record: Any, reason: str) -> None:
        self.rejected += 1
        log.error("cdr.record_rejected", reason=reason, event_id=getattr(record, "event_id", None))
        try:
            if isinstance(record, CallEvent | AgentEvent | RecordingEvent):
                self.spool.reject(record, reason)
            else:
                self.spool.reject({"repr": repr(record)}, reason)
        except (OSError, TypeError):
            log.exception("cdr.reject_write_failed")

    async def _write_tx(self, batch: Sequence[CdrRecord]) -> None:
        """One transaction for the batch. On SQLite it runs whole in the writer's own thread on a plain
        sqlite3 connection: one hand-over a batch instead of three or four per statement through
        aiosqlite's thread (2.5 ms of CPU a batch of nine statements, 0.5 ms this way). Elsewhere it runs
        on the async connection. The memories change only after the commit; after a failure (or a
        cancellation, while the thread may still commit) they are dropped and rebuilt from the database."""
        now = self.clock()
        try:
            if self._sync is not None:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(1, thread_name_prefix="cdr-writer")
                folded, lasts = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._tx_on_sqlite, batch, now)
            else:
                async with self.engine.begin() as conn:
                    folded, lasts = await conn.run_sync(self._tx, batch, now)
        except BaseException:
            self._calls.clear()
            self._agents.clear()
            raise
        if self.live_calls <= 0:  # no memory: every batch reads its calls and agents back
            return
        for cid, evs in folded.items():
            self._calls[cid] = evs
            self._calls.move_to_end(cid)
        while len(self._calls) > self.live_calls:
            self._calls.popitem(last=False)
        self._agents.update(lasts)

    def _tx_on_sqlite(self, batch: Sequence[CdrRecord],
                      now: float) -> tuple[dict[str, list[CallEvent]], dict[str, _LastState]]:
        assert self._sync is not None
        with self._sync.begin() as conn:
            return self._tx(conn, batch, now)

    def _tx(self, conn: Connection, batch: Sequence[CdrRecord],
            now: float) -> tuple[dict[str, list[CallEvent]], dict[str, _LastState]]:
        """The batch's statements in one transaction; what the memories will say once it committed."""
        st = self._st
        call_rows: list[dict[str, Any]] = []
        new_events: dict[str, list[tuple[CallEvent, datetime]]] = {}
        for r in batch:
            if isinstance(r, CallEvent):
                at = _at(r.at)
                call_rows.append({"event_id": r.event_id, "call_id": r.call_id, "kind": r.kind, "at": at,
                                  "data": r.data})
                new_events.setdefault(r.call_id, []).append((r, at))
        agent_events = [r for r in batch if isinstance(r, AgentEvent)]
        agent_rows = [{"event_id": r.event_id, "agent": r.agent_id, "state": r.state, "previous": r.previous,
                       "reason": r.reason, "by_user": r.by, "call_id": r.call_id, "at": utc(r.at)}
                      for r in agent_events]
        rec_events = [r for r in batch if isinstance(r, RecordingEvent)]
        folded: dict[str, list[CallEvent]] = {}
        lasts: dict[str, _LastState] = {}
        refold: set[str] = set()
        if rec_events:  # before the calls' re-fold: calls.recording_status is derived from these rows
            refold |= recording_rows.apply_sync(conn, rec_events)
        if call_rows:
            conn.execute(st.call_events, call_rows)
            refold |= new_events.keys()
            audit = [_listen_row(r) for r in batch if isinstance(r, CallEvent) and r.kind == "listen"]
            if audit:
                conn.execute(st.listen_audit, audit)
        ql_rows: list[dict[str, Any]] = []
        if refold:
            folded = self._refold(conn, sorted(refold), new_events, ql_rows, now)
        if agent_rows:
            conn.execute(st.agent_state_log, agent_rows)
            ql_rows.extend(row for row in map(qlog.agent_row, agent_events) if row is not None)
        if ql_rows:
            conn.execute(st.queue_log, ql_rows)
        if agent_rows:
            lasts = self._durations(conn, agent_events)
        return folded, lasts

    def _refold(self, conn: Connection, call_ids: list[str],
                new_events: dict[str, list[tuple[CallEvent, datetime]]],
                ql_rows: list[dict[str, Any]], clock_now: float) -> dict[str, list[CallEvent]]:
        """Re-fold the touched calls from all their stored events; derive the queue_log rows of the events
        in this batch (earlier ones were derived when they came; added to ``ql_rows``), the classic cdr row
        of ended calls. A call in memory is folded from it and the batch's new events; any other from the
        database (its events of this batch are inserted by then). Returns every call's stored events."""
        st = self._st
        now = utc(clock_now)
        stored: dict[str, list[CallEvent]] = {}
        missing: list[str] = []
        for cid in call_ids:
            known = self._calls.get(cid)
            if known is None:
                missing.append(cid)
            else:
                stored[cid] = _merged(known, new_events.get(cid, ()))
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            for cid in chunk:
                stored[cid] = []
            for cid, kind, at, data, eid in conn.execute(st.events_of_calls, {"ids": chunk}).all():
                stored[cid].append(CallEvent(cid, kind, at.timestamp(), data or {}, eid))
        recs = recording_rows.statuses_by_call(conn, call_ids)
        new_ids = {e.event_id for evs in new_events.values() for e, _ in evs}
        summaries: list[dict[str, Any]] = []
        cdr_rows: list[dict[str, Any]] = []
        cb_rows: list[dict[str, Any]] = []
        cols = st.calls_columns
        for cid in call_ids:
            evs = stored[cid]
            if not evs:  # a recording alone makes no calls row
                continue
            row = fold(cid, evs, short_abandon_s=self.short_abandon_s, regions=self.regions,
                       recordings=recs.get(cid))
            row["updated_at"] = now
            for c in cols:
                row.setdefault(c, None)
            summaries.append(row)
            ql_rows.extend(q for q in qlog.call_rows(cid, evs, row.get("caller"))
                           if q["event_id"].rpartition(":")[0] in new_ids)
            if row.get("ended_at") is not None:
                cdr_rows.extend(_classic_cdrs(row, evs))
            cb_rows.extend(_callbacks(row, evs, self.voicemail_due))
        if summaries:
            conn.execute(st.calls, summaries)
        if cdr_rows:
            conn.execute(st.cdr, cdr_rows)
        if cb_rows:
            conn.execute(st.callbacks, cb_rows)
        return stored

    def _durations(self, conn: Connection, events: list[AgentEvent]) -> dict[str, _LastState]:
        """Each state row's duration is the time to the agent's next state row. An agent whose last stored
        row is in memory and whose records in the batch are all later than it needs no query: its rows
        follow that one. The others (a restart, a spool replay out of order, an unknown agent) are read:
        each one's last row before the earliest of their records, then every row from there on. Returns
        each agent's last row after the batch."""
        updates: list[dict[str, Any]] = []
        lasts: dict[str, _LastState] = {}
        mine: dict[str, list[AgentEvent]] = {}
        for e in events:
            mine.setdefault(e.agent_id, []).append(e)
        unknown: list[str] = []
        for agent, evs in mine.items():
            last = self._agents.get(agent)
            rows = sorted(((e.event_id, _at(e.at), None) for e in evs), key=lambda r: r[1])
            if last is None or rows[0][1] <= last.at:
                unknown.append(agent)
                continue
            seq: list[tuple[str, datetime, float | None]] = [(last.event_id, last.at, last.duration_s)]
            seen = {last.event_id}
            for row in rows:  # sorted() is stable: records of one instant keep their order, as their ids do
                if row[0] not in seen:  # the same record twice in a batch: the insert kept the first
                    seen.add(row[0])
                    seq.append(row)
            self._chain(seq, updates, lasts, agent)
        if unknown:
            t = agent_state_log.c
            since = utc(min(e.at for a in unknown for e in mine[a]))
            cols = (t.id, t.agent, t.at, t.duration_s, t.event_id)
            lasts_q = [select(*cols).where(t.agent == agent, t.at < since).order_by(t.at.desc(), t.id.desc())
                       .limit(1).subquery() for agent in sorted(unknown)]
            before = conn.execute(union_all(*(select(*q.c) for q in lasts_q))).all()
            after = conn.execute(select(*cols).where(t.agent.in_(sorted(unknown)), t.at >= since)
                                 .order_by(t.agent, t.at, t.id)).all()
            by_agent: dict[str, list[tuple[str, datetime, float | None]]] = {a: [] for a in unknown}
            for row in [*before, *after]:  # before: at most one row an agent, earlier than all of ``after``
                by_agent[row.agent].append((row.event_id, row.at, row.duration_s))
            for agent, seq in by_agent.items():
                self._chain(seq, updates, lasts, agent)
        if updates:
            conn.execute(self._st.duration, updates)
        return lasts

    @staticmethod
    def _chain(seq: list[tuple[str, datetime, float | None]], updates: list[dict[str, Any]],
               lasts: dict[str, _LastState], agent: str) -> None:
        """The durations of one agent's rows in order (event id, time, stored duration), and its last."""
        for cur, nxt in zip(seq, seq[1:], strict=False):
            dur = round((nxt[1] - cur[1]).total_seconds(), 3)
            if cur[2] != dur:
                updates.append({"b_eid": cur[0], "b_dur": dur})
        if seq:
            lasts[agent] = _LastState(*seq[-1])


def _json_dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _classic_cdr(row: dict[str, Any], events: list[CallEvent]) -> dict[str, Any]:
    """Asterisk's classic ``cdr`` table, one row a call (disposition from the system's answer)."""
    arrived = next((f for f in (e.fact for e in events) if isinstance(f, Arrived)), Arrived())
    start = row.get("arrived_at") or utc(min(e.at for e in events))
    end, answered = row.get("ended_at"), row.get("answered_at")
    name, num = row.get("caller_name") or "", row.get("caller") or ""
    return {
        "uniqueid": row["id"], "calldate": start,
        "clid": (f'"{name}" <{num}>' if name else num)[:80], "src": num[:80],
        "dst": (row.get("dialled") or "")[:80],
        "dcontext": qlog.CONTEXT, "channel": (arrived.channel or "")[:80],
        "dstchannel": (row.get("agent") or "")[:80],
        "lastapp": "Queue" if row.get("queued_at") else "Stasis",
        "lastdata": (row.get("queue") or row.get("scenario") or "")[:80],
        "duration": int((end - start).total_seconds()) if end and start else 0,
        "billsec": int((end - answered).total_seconds()) if end and answered else 0,
        "disposition": "ANSWERED" if answered or row.get("connected_at") else "NO ANSWER",
        "amaflags": 3, "accountcode": "", "userfield": row.get("outcome") or "",
        "linkedid": (row.get("linked_id") or row["id"])[:150],
    }


def _classic_cdrs(row: dict[str, Any], events: list[CallEvent]) -> list[dict[str, Any]]:
    """The classic rows of a call: as Asterisk's CDR engine does on a transfer, the first row ends at the
    agent's transfer and each transfer by an agent starts a row of its own (``<call id>-<n>``, same
    ``linkedid``) for the caller with the party it was transferred to (docs/call-control.md)."""
    first = _classic_cdr(row, events)
    agent_made = row.get("connected_at") is not None
    transfers = [e for e in events if agent_made and e.kind == "transfer"
                 and (e.data or {}).get("by", "scenario") != "scenario"]
    if not transfers:
        return [first]
    end = row.get("ended_at")
    start, answered = first["calldate"], row.get("answered_at")
    cut = utc(transfers[0].at)
    first["duration"] = int((cut - start).total_seconds()) if start else 0
    first["billsec"] = int((cut - answered).total_seconds()) if answered else 0
    out = [first]
    failed = any(e.kind == "step" and (e.data or {}).get("step") == "transfer_failed" for e in events)
    for n, t in enumerate(transfers, start=1):
        d = t.data or {}
        begin = utc(t.at)
        stop: datetime | None = utc(transfers[n].at) if n < len(transfers) else end
        target = str(d.get("agent") or d.get("target") or "")[:80]
        answered_leg = not (failed and n == len(transfers) and d.get("kind") == "blind")
        secs = int((stop - begin).total_seconds()) if stop is not None and begin is not None else 0
        out.append({**first, "uniqueid": f"{row['id']}-{n}"[:150], "calldate": begin,
                    "dst": str(d.get("target") or "")[:80], "dstchannel": target,
                    "lastapp": "Transfer", "lastdata": str(d.get("kind") or "")[:80],
                    "duration": secs, "billsec": secs if answered_leg else 0,
                    "disposition": "ANSWERED" if answered_leg else "NO ANSWER",
                    "userfield": f"transfer:{d.get('kind') or ''}"[:255]})
    return out


def _listen_row(e: CallEvent) -> dict[str, Any]:
    """A ``listen`` event (one period of a supervisor in one mode) as its listen_audit row (R23)."""
    d = e.data or {}
    return {"event_id": e.event_id, "session_id": str(d.get("session") or "")[:64],
            "supervisor": str(d.get("supervisor") or "")[:64], "agent": d.get("agent"),
            "call_id": e.call_id, "mode": str(d.get("mode") or "listen"),
            "from_at": utc(float(d.get("from") or e.at)), "to_at": utc(e.at)}


def _callbacks(row: dict[str, Any], events: list[CallEvent],
               voicemail_due: Callable[[float], float] | None = None) -> list[dict[str, Any]]:
    out = []
    for e in events:
        f = e.fact
        if isinstance(f, Voicemail) and f.callback_id:
            due = (voicemail_due(e.at) if voicemail_due is not None
                   else f.callback_due_at or e.at + CALLBACK_DUE["voicemail"].total_seconds())
            out.append({"id": f.callback_id[:64], "call_id": row["id"],
                        "number": row.get("caller"), "reason": "voicemail",
                        "recording": f.recording,
                        "due_at": utc(due),
                        "status": "open",
                        "created_at": utc(e.at), "attempts": 0, "notes": None, "updated_at": utc(e.at)})
    return out

