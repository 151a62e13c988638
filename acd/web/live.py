"""Live events for the browser: a small typed publish/subscribe hub fed by the engine's CDR stream.

The engine already reports everything an agent's screen needs through its CDR sink: every agent state
change (ringing, on call, wrap-up, ...) as an ``AgentEvent`` and every call milestone (arrived, scenario,
language, queued, connected, ended, topic) as a ``CallEvent``. ``LiveFeed`` wraps that sink (the daemon
hands the engine ``LiveFeed(writer, hub)``), so no line of the engine changes and the browser sees exactly
what the CDR records, in the same order.

The hub keeps a ``CallCard`` per live call (what a screen pop shows) and wakes the subscribers of the
agent a change is about. A subscriber is woken, not queued: it re-reads the whole desktop state when it
runs, so a slow browser never makes the hub buffer, and a burst of changes costs one message.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from aiohttp import web

from acd.events import AgentEvent, CallEvent, CdrRecord

log = structlog.get_logger("acd.web.live")

MAX_CARDS = 5000


@dataclass
class HistoryRow:
    """One earlier call of the same caller (from the CDR)."""

    call_id: str
    at: float | None
    agent: str | None
    topic: str | None
    outcome: str | None
    recording_id: int | None = None
    """The call's recording (``recordings.id``, finished), if any."""
    recording_agent: str | None = None
    """The agent of that recording: an agent may open only recordings of calls they took (R28)."""


@dataclass
class CallCard:
    """What the agent's screen shows about a call, gathered from its CDR events as they happen."""

    call_id: str
    caller: str | None = None
    caller_name: str | None = None
    dialled: str | None = None
    scenario: str | None = None
    language: str | None = None
    queue: str | None = None
    arrived_at: float | None = None
    queued_at: float | None = None
    agent: str | None = None
    ring_started_at: float | None = None
    ring_timeout_s: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    wrapup_started_at: float | None = None
    wrapup_s: float | None = None
    topic: str | None = None
    comment: str | None = None
    result: str | None = None
    history: list[HistoryRow] | None = None
    """Filled once per call by the desktop (a CDR query), then kept here."""


class QueueTimes(Protocol):
    """What the hub reads of a queue's configuration (``acd.core.config.QueueConfig`` has both)."""

    @property
    def ring_timeout_s(self) -> float: ...

    @property
    def wrapup_s(self) -> float: ...


class CdrSink(Protocol):
    def emit(self, record: CdrRecord) -> None: ...


@dataclass(eq=False)
class Subscription:
    agent_id: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> None:
        await self.wake.wait()
        self.wake.clear()


class LiveHub:
    def __init__(self, queues: Callable[[], Mapping[str, QueueTimes]] | None = None) -> None:
        self.queues = queues or dict
        """The live queue configuration (re-read at every use: a reload may change it)."""
        self.cards: OrderedDict[str, CallCard] = OrderedDict()
        self._current: dict[str, str] = {}
        """agent id -> the call id the agent is ringing for, talking on or wrapping up."""
        self._subs: dict[str, set[Subscription]] = {}
        self.observers: list[Callable[[CdrRecord], None]] = []
        """Also told of every record after the hub (the supervisor's wallboard, acd.web.wallboard)."""

    # ---- subscribers ---------------------------------------------------------------------------------
    @contextmanager
    def subscribe(self, agent_id: str) -> Iterator[Subscription]:
        sub = Subscription(agent_id)
        self._subs.setdefault(agent_id, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(agent_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[agent_id]

    def subscribers(self, agent_id: str) -> int:
        return len(self._subs.get(agent_id, ()))

    def wake(self, agent_id: str | None) -> None:
        if agent_id is None:
            return
        for sub in self._subs.get(agent_id, ()):
            sub.wake.set()

    # ---- what an agent's screen reads ----------------------------------------------------------------
    def current_call(self, agent_id: str) -> CallCard | None:
        call_id = self._current.get(agent_id)
        return self.cards.get(call_id) if call_id else None

    def card(self, call_id: str) -> CallCard:
        card = self.cards.get(call_id)
        if card is None:
            card = self.cards[call_id] = CallCard(call_id)
            while len(self.cards) > MAX_CARDS:
                self.cards.popitem(last=False)
        return card

    # ---- the feed ------------------------------------------------------------------------------------
    def observe(self, record: CdrRecord) -> None:
        """Never raises: the engine's sink must not fail because of the browser side."""
        try:
            if isinstance(record, AgentEvent):
                self._agent(record)
            elif isinstance(record, CallEvent):
                self._call(record)
            for observer in self.observers:
                observer(record)
        except Exception:  # pragma: no cover - defensive: a bug here must never reach the engine
            log.exception("live_hub_observe_failed", record=type(record).__name__)

    def _agent(self, ev: AgentEvent) -> None:
        if ev.previous == ev.state:  # a row that is no change of state (phone reachability, queue choice)
            self.wake(ev.agent_id)
            return
        if ev.call_id and ev.state in ("ringing", "on_call", "wrap_up"):
            card = self.card(ev.call_id)
            card.agent = ev.agent_id
            self._current[ev.agent_id] = ev.call_id
            if ev.state == "ringing":
                card.ring_started_at = ev.at
                card.connected_at = card.ended_at = card.wrapup_started_at = None
                times = self.queues().get(card.queue or "")
                card.ring_timeout_s = times.ring_timeout_s if times else None
            elif ev.state == "wrap_up":
                card.wrapup_started_at = ev.at
                times = self.queues().get(card.queue or "")
                card.wrapup_s = times.wrapup_s if times else None
        else:
            self._current.pop(ev.agent_id, None)
        self.wake(ev.agent_id)

    def _call(self, ev: CallEvent) -> None:
        d: dict[str, Any] = ev.data
        if ev.kind == "arrived":
            card = self.card(ev.call_id)
            card.caller, card.dialled = _s(d.get("caller")), _s(d.get("dialled"))
            card.caller_name, card.arrived_at = _s(d.get("caller_name")), ev.at
            if d.get("direction") == "outbound":  # the agent's own call: the pop shows whom they call
                card.caller, card.caller_name = card.dialled, None
            return
        card_or_none = self.cards.get(ev.call_id)
        if card_or_none is None:
            if ev.kind not in ("scenario", "language", "queued"):
                return
            card_or_none = self.card(ev.call_id)
        card = card_or_none
        if ev.kind == "scenario":
            card.scenario = _s(d.get("name"))
        elif ev.kind == "language":
            card.language = _s(d.get("lang"))
        elif ev.kind == "queued":
            card.queue, card.queued_at = _s(d.get("queue")), ev.at
        elif ev.kind == "connected":
            card.connected_at = ev.at
            card.agent = _s(d.get("agent")) or card.agent
        elif ev.kind == "ended":
            card.ended_at = ev.at
            if card.agent is None:
                self.cards.pop(ev.call_id, None)
        elif ev.kind == "topic":
            card.topic, card.comment = _s(d.get("topic")), _s(d.get("comment"))
            if "result" in d:
                card.result = _s(d.get("result"))
        else:
            return
        self.wake(card.agent)


def _s(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


LIVE: web.AppKey[LiveHub] = web.AppKey("live", LiveHub)


class LiveFeed:
    """The engine's CDR sink, teed into the hub: ``Engine(writer=LiveFeed(writer, hub))``."""

    def __init__(self, inner: CdrSink, hub: LiveHub) -> None:
        self.inner = inner
        self.hub = hub

    def emit(self, record: CdrRecord) -> None:
        self.inner.emit(record)
        self.hub.observe(record)

    def __getattr__(self, name: str) -> Any:
        """Anything else (flush, spooled, ...) is the writer's."""
        return getattr(self.inner, name)
