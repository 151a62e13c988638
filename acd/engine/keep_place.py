""""Keep my place" (issue 15, R25): a waiting caller presses the queue step's ``callback_key`` to be called
back instead of waiting, and keeps their place.

The path:
1. the key arrives while the caller waits (not while an agent's phone rings for them: that offer decides
   first): the core is asked (``Acd.keep_place``); the entry stays in the queue with its entry time,
   priority, language and skills, marked virtual. The CDR gets ``left_queue`` (reason ``callback``), so the
   call's wait stops at the key and its outcome is ``callback_requested``. The scenario confirms and hangs up.
2. when the entry's turn comes (the core would have offered it to an agent), the core answers
   ``AssignCallback``: a ``callbacks`` row of kind ``requested`` is written, due now and assigned to that
   agent, who is held from inbound offers for the step's ``callback_hold_s`` or until they act. The
   agent's next ``POST /api/callbacks/next`` returns it first (outbound/callback_store.py). Dialling is
   the desktop's.

A restart keeps them (docs/decisions/outbound-09-kept-places-survive-a-restart.md): the key's CDR fact
(``left_queue`` reason ``callback`` with the entry time, priority and hold) is journaled at once and survives
a kill and a database outage as every CDR record does. At start the daemon reads the places that have no
``callbacks`` row yet (``recover``) and, at the first resync, puts them back into the core at their place
(``after_resync``) before any adopted caller re-enters a queue. A place older than ``RESTORE_WITHIN_S``
becomes an ordinary callback, due now, for any agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from acd import events as ev
from acd.core import AssignCallback
from routing.control import QueueResult

if TYPE_CHECKING:
    from acd.engine.engine import Engine
    from acd.engine.session import CallSession, QueueWait

log = structlog.get_logger(__name__)

RETRY_MAX_S = 60.0
"""A callbacks row that cannot be written is tried again, the delay doubling from 1 s up to this (real s)."""
RESTORE_WITHIN_S = 3600.0
"""At start, a kept place whose key was pressed longer ago than this is not put back in its queue but becomes
an ordinary callback, due now, that any agent's preview may take (docs/outbound.md)."""
LOOKBACK_S = 7 * 86400.0
"""How far back in the CDR the start looks for kept places without a callback."""
DEFAULT_HOLD_S = 30.0
"""The hold of a place whose fact does not say it (written by a daemon before 0.x)."""


@dataclass(frozen=True)
class KeptPlace:
    """What the engine keeps of a caller who pressed the key: what the callback needs."""

    call_id: str
    number: str
    language: str | None
    queue: str
    entered_at: float
    pressed_at: float
    priority: int = 0
    hold_s: float = DEFAULT_HOLD_S


@dataclass(frozen=True)
class RequestedCallback:
    """The ``callbacks`` row to write when the kept place reaches an agent."""

    call_id: str
    number: str
    agent: str
    queue: str
    language: str | None
    entered_at: float
    pressed_at: float
    due_at: float


class CallbackRows(Protocol):
    """Where requested callbacks are written: the ``callbacks`` table (``CallbackRowsInDb``) or a test's
    list. Returns the callback's id."""

    async def requested(self, cb: RequestedCallback) -> str: ...


class KeptPlaceSource(Protocol):
    """Where a restarted daemon finds the kept places of the previous one (the CDR, ``CallbackRowsInDb``)."""

    async def pending(self, since: float) -> list[KeptPlace]:
        """Places kept since ``since`` (epoch s) that have no ``callbacks`` row yet."""
        ...

    async def release(self, place: KeptPlace, now: float, why: str) -> str:
        """Write the place as an ordinary callback, due ``now``, for any agent; its id."""
        ...


class CallbackRowsInDb:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def pending(self, since: float) -> list[KeptPlace]:
        from outbound.callback_store import pending_kept_places

        return [KeptPlace(r.call_id, r.number, r.language, r.queue, r.entered_at, r.pressed_at, r.priority,
                          r.hold_s if r.hold_s is not None else DEFAULT_HOLD_S)
                for r in await pending_kept_places(self.db, since)]

    async def release(self, place: KeptPlace, now: float, why: str) -> str:
        from outbound.callback_store import create_kept_place

        return await create_kept_place(
            self.db, call_id=place.call_id, number=place.number, agent=None, queue=place.queue,
            language=place.language, waited_s=max(0.0, place.pressed_at - place.entered_at), now=now,
            why=why)

    async def requested(self, cb: RequestedCallback) -> str:
        from outbound.callback_store import create_kept_place

        waited = max(0.0, cb.pressed_at - cb.entered_at)
        return await create_kept_place(
            self.db, call_id=cb.call_id, number=cb.number, agent=cb.agent, queue=cb.queue,
            language=cb.language, waited_s=waited, now=cb.due_at)


class KeptPlaces:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store: CallbackRows | None = None
        """Set by the daemon; None: the assignment is only logged (tests of the core path)."""
        self._kept: dict[str, KeptPlace] = {}
        self._seen: set[str] = set()
        """Every call whose place this process kept or put back: never put back twice."""
        self._found: list[KeptPlace] | None = None
        """Read at start, waiting for the first resync to be put back."""
        self._source: KeptPlaceSource | None = None
        self._resynced = False
        self.written: list[str] = []
        """Ids of the callbacks rows written (for tests and logs)."""
        self.restored: list[str] = []
        """Calls whose place was put back after a restart (for tests and logs)."""

    def __len__(self) -> int:
        return len(self._kept)

    def knows(self, call_id: str) -> bool:
        """The call's place is (or was) kept by this process: an adopted channel of it is only let go."""
        return call_id in self._seen

    async def watch(self, session: CallSession, wait: QueueWait, key: str) -> None:
        """While the caller waits: the key turns the wait into a kept place."""
        session.clear_dtmf()
        while wait.open():
            digit = await session.dtmf.get()
            if digit == key and self.request(session, wait):
                return

    def request(self, session: CallSession, wait: QueueWait) -> bool:
        """The caller pressed the key: True when the core kept the place (the wait ends ``callback``)."""
        if not session.waiting() or session.ringing():
            return False  # an agent's phone rings for them, or they are being connected: that goes first
        engine = self.engine
        now = engine.clock.now()
        cid = session.channel_id
        if not engine.decide(
            "keep_place", lambda: engine.acd.keep_place(cid, now, hold_s=wait.hold.callback_hold_s)
        ):
            return False
        priority = session.saved.priority
        hold_s = wait.hold.callback_hold_s
        self._kept[cid] = KeptPlace(cid, session.info.caller, session.info.language or None, wait.queue,
                                    wait.entered_at, now, priority, hold_s)
        self._seen.add(cid)
        # the CDR fact is the durable record of the place (journaled now, spooled if the database is down)
        session.emit(ev.LeftQueue(queue=wait.queue, reason="callback", entered_at=wait.entered_at,
                                  priority=priority, hold_s=hold_s))
        # a daemon started while the confirmation plays lets the caller go instead of queueing them again
        engine.spawn(session.save(phase="kept"), f"kept-state-{cid}")
        log.info("place_kept", call_id=cid, queue=wait.queue, waited_s=round(now - wait.entered_at, 1))
        session.overflowed(QueueResult("callback"))
        return True

    def assigned(self, d: AssignCallback) -> None:
        """The kept place reached ``d.agent_id``: write its callback, assigned to them, due now."""
        kept = self._kept.pop(d.call_id, None)
        now = self.engine.clock.now()
        if kept is None:
            log.warning("kept_place_unknown", call_id=d.call_id, agent=d.agent_id)
            return
        cb = RequestedCallback(d.call_id, kept.number, d.agent_id, d.queue, d.language, d.entered_at,
                               kept.pressed_at, now)
        log.info("kept_place_reached", call_id=d.call_id, agent=d.agent_id, hold_s=d.hold_s)
        if self.store is not None:
            self.engine.spawn(self._write(self.store, cb), f"callback-{d.call_id}")

    def agent_acted(self, agent_id: str) -> None:
        """The held agent took (or dialled, or gave up) their kept-place callback: inbound calls may come
        again. For the desktop's callback path; any change of state the agent asks for does the same."""
        now = self.engine.clock.now()
        self.engine.decide("end_hold", lambda: self.engine.acd.end_hold(agent_id, now))

    async def _write(self, store: CallbackRows, cb: RequestedCallback) -> None:
        await self._until_written(lambda: store.requested(cb), cb.call_id)

    async def _until_written(self, write: Callable[[], Awaitable[str]], call_id: str) -> None:
        """Write until the database takes it. A process that dies meanwhile loses nothing: without its
        ``callbacks`` row the place is found again in the CDR at the next start."""
        delay = 1.0
        attempt = 0
        while True:
            attempt += 1
            try:
                self.written.append(await write())
                return
            except Exception as exc:  # the database is down: try again (the agent is held meanwhile)
                log.warning("callback_write_failed", call_id=call_id, attempt=attempt, error=str(exc)[:300])
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)

    # ---- after a restart ---------------------------------------------------------------------------------
    async def recover(self, source: KeptPlaceSource, *, ready: Callable[[], bool],
                      wait_ready: Callable[[], Awaitable[None]]) -> None:
        """At start, before the event stream (the daemon awaits it): read the places the previous daemon
        kept that got no callback. ``ready``: the CDR is all in the database (reachable, spool empty); if
        not, the places are read in the background once it is (``wait_ready``) and put back then (callers
        who arrive meanwhile may pass them: docs/outbound.md)."""
        self._source = source
        if ready():
            try:
                self._loaded(await source.pending(self.engine.clock.now() - LOOKBACK_S))
                return
            except Exception as exc:
                log.warning("kept_places_unreadable", error=str(exc)[:300])
        self.engine.spawn(self._recover_later(source, wait_ready), "kept-places-recovery")

    async def _recover_later(self, source: KeptPlaceSource,
                             wait_ready: Callable[[], Awaitable[None]]) -> None:
        delay = 1.0
        while True:
            await wait_ready()
            try:
                places = await source.pending(self.engine.clock.now() - LOOKBACK_S)
            except Exception as exc:
                log.warning("kept_places_unreadable", error=str(exc)[:300])
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                continue
            self._loaded(places)
            return

    def _loaded(self, places: list[KeptPlace]) -> None:
        self._found = [p for p in places if p.call_id not in self._seen]
        log.info("kept_places_found", count=len(self._found))
        if self._resynced:
            self.after_resync()

    def after_resync(self) -> None:
        """From the resync, once the calls being talked are back in the core and before adopted waiting
        callers re-enter their queue: the places found at start go back to their place (a free agent they
        fit gets the callback at once); one older than ``RESTORE_WITHIN_S``, or of a queue that is gone,
        becomes an ordinary callback. Later calls do nothing."""
        self._resynced = True
        found, self._found = self._found, None
        if not found:
            return
        engine = self.engine
        now = engine.clock.now()
        for p in sorted(found, key=lambda p: (p.entered_at, p.call_id)):
            if p.call_id in self._seen:
                continue
            self._seen.add(p.call_id)
            if now - p.pressed_at > RESTORE_WITHIN_S:
                self._release(p, now, f"the daemon came back {round((now - p.pressed_at) / 60)} min after "
                                      "the key: not put back in the queue")
                continue
            self._kept[p.call_id] = p
            if self._put_back(p, now):
                self.restored.append(p.call_id)
                log.info("kept_place_restored", call_id=p.call_id, queue=p.queue,
                         age_s=round(now - p.pressed_at, 1))
            elif self._kept.pop(p.call_id, None) is not None:  # its queue is gone
                self._release(p, now, f"queue {p.queue} no longer exists")

    def _put_back(self, p: KeptPlace, now: float) -> bool:
        acd = self.engine.acd
        return self.engine.decide("restore_kept_place", lambda: acd.restore_kept_place(
            p.call_id, p.queue, now, entered_at=p.entered_at, hold_s=p.hold_s, priority=p.priority,
            language=p.language))

    def _release(self, p: KeptPlace, now: float, why: str) -> None:
        source = self._source
        log.info("kept_place_released", call_id=p.call_id, queue=p.queue, why=why)
        if source is not None:
            self.engine.spawn(self._until_written(lambda: source.release(p, now, why), p.call_id),
                              f"callback-{p.call_id}")
