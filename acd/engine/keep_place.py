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

The kept places live in the core's memory (docs/decisions/outbound-04-keep-my-place.md says what a restart
does to them).
"""

from __future__ import annotations

import asyncio
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

WRITE_ATTEMPTS = 8
"""Tries to write the callbacks row (the database may be briefly down); the delay doubles from 1 s."""


@dataclass(frozen=True)
class KeptPlace:
    """What the engine keeps of a caller who pressed the key: what the callback needs."""

    call_id: str
    number: str
    language: str | None
    queue: str
    entered_at: float
    pressed_at: float


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


class CallbackRowsInDb:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

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
        self.written: list[str] = []
        """Ids of the callbacks rows written (for tests and logs)."""

    def __len__(self) -> int:
        return len(self._kept)

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
        self._kept[cid] = KeptPlace(cid, session.info.caller, session.info.language or None, wait.queue,
                                    wait.entered_at, now)
        session.emit(ev.LeftQueue(queue=wait.queue, reason="callback"))
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
        delay = 1.0
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                self.written.append(await store.requested(cb))
                return
            except Exception as exc:  # the database is down: try again, the agent is held meanwhile
                log.warning("callback_write_failed", call_id=cb.call_id, attempt=attempt,
                            error=str(exc)[:300])
                await asyncio.sleep(delay)
                delay *= 2
        log.error("callback_lost", call_id=cb.call_id, number=cb.number, agent=cb.agent)
