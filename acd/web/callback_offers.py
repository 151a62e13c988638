"""Due callbacks offered to free agents as a preview on their desktop (R25, issue 15).

Agents could only *pull* callbacks (``POST /api/callbacks/next``, the desktop's **Next callback**). This
loop also *pushes* them: every few seconds it reads the open callbacks ready to dial and the agents'
states, asks ``outbound.offers.plan_offers`` whom to offer which one (inbound first: only agents ready with
no caller waiting in their queues; a fitting agent; an agent held for a kept place gets theirs), and keeps
the offers in memory. The desktop's WebSocket sends its state again after each change; the state carries
``callback_offer`` (the callback and its screen pop), shown with **Dial** (``POST
/api/callbacks/{id}/dial``, acd/web/outbound.py) and **Skip** (``POST /api/callbacks/{id}/skip``, here).

Bounded: one offer per agent and per callback at a time. An offer not dialled within ``offers.timeout``
(``config/callbacks.yaml``) is withdrawn and goes to another fitting agent; the agent who skipped it or let
it time out is not offered it again for ``offers.again_after``. An offer is withdrawn without that mark when
its agent stops being free (an inbound call, a break) or the callback is closed or taken by another agent.
Offers live in memory only: a restart offers again what is still due (nothing is assigned by an offer).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.web.auth import Principal
from acd.web.errors import ApiError
from acd.web.json import json_response
from acd.web.live import LiveHub
from acd.web.routes import route
from cdr.schema import callbacks, calls
from outbound import callback_store
from outbound.callbacks import Offers
from outbound.offers import Candidate, FreeAgent, QueueNeeds, plan_offers

if TYPE_CHECKING:
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)

MAX_CANDIDATES = 200
"""Callbacks read per round, most urgent first: enough for every free agent of a large service."""
TICK_S = 5.0
"""Longest pause (virtual seconds) between two rounds; shorter when the time-out is short."""
MIN_PAUSE_REAL_S = 0.2
"""Shortest pause in real seconds (an accelerated clock in tests and the demo): at most 5 rounds a second."""


@dataclass
class Offer:
    agent: str
    callback: dict[str, Any]
    screen_pop: dict[str, Any]
    offered_at: float
    expires_at: float


class CallbackOffers:
    def __init__(self, db: AsyncEngine, engine: Engine, hub: LiveHub, settings: Offers) -> None:
        self.db = db
        self.engine = engine
        self.hub = hub
        self.settings = settings
        self.offers: dict[str, Offer] = {}
        """Agent id -> their one outstanding offer."""
        self.declined: dict[tuple[str, str], float] = {}
        """(callback id, agent id) -> until when that agent is not offered that callback again."""
        self._wake = asyncio.Event()

    def view(self, agent: str) -> dict[str, Any] | None:
        """The desktop state's ``callback_offer``."""
        o = self.offers.get(agent)
        if o is None:
            return None
        return {"callback": o.callback, "screen_pop": o.screen_pop, "offered_at": o.offered_at,
                "expires_at": o.expires_at}

    def skip(self, agent: str, callback_id: str) -> bool:
        """The agent pressed Skip: the offer goes to another agent. False: no such offer of theirs."""
        o = self.offers.get(agent)
        if o is None or o.callback["id"] != callback_id:
            return False
        self._withdraw(agent, self.engine.clock.now(), declined=True)
        self._wake.set()
        return True

    def _withdraw(self, agent: str, now: float, *, declined: bool) -> None:
        o = self.offers.pop(agent)
        if declined:
            self.declined[(str(o.callback["id"]), agent)] = now + self.settings.again_after
        log.info("callback_offer_withdrawn", agent=agent, callback=o.callback["id"], declined=declined)
        self.hub.wake(agent)

    async def run(self) -> None:
        tick = min(TICK_S, self.settings.timeout / 3)
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("callback_offers_step_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       max(MIN_PAUSE_REAL_S, self.engine.clock.real_seconds(tick)))

    async def step(self) -> None:
        """One round: withdraw what is stale, then offer what is due to whoever is free."""
        engine = self.engine
        now = engine.clock.now()
        snap = engine.acd.snapshot(now)
        agents: dict[str, Any] = snap.get("agents", {})
        waiting = {q: int(v.get("waiting", 0)) for q, v in snap.get("queues", {}).items()}
        self.declined = {k: until for k, until in self.declined.items() if until > now}
        free = [f for a, v in agents.items() if a not in self.offers
                and (f := self._free(a, v, waiting)) is not None]
        if not free and not self.offers:
            return  # nobody to offer to, nothing to withdraw: no need to read the callbacks
        candidates = await self._candidates(now)
        by_id = {c.id: c for c in candidates}
        for agent, o in list(self.offers.items()):
            c = by_id.get(str(o.callback["id"]))
            if o.expires_at <= now:
                self._withdraw(agent, now, declined=True)
            elif agents.get(agent, {}).get("state") != "ready" or c is None or c.agent not in (None, agent):
                self._withdraw(agent, now, declined=False)
        offered = {str(o.callback["id"]) for o in self.offers.values()}
        free = [f for f in free if f.id not in self.offers]
        if not free:
            return
        needs = {name: QueueNeeds(dict(q.required_skills), q.language_skill)
                 for name, q in engine.config.queues.items()}
        for c, agent in plan_offers([c for c in candidates if c.id not in offered], free, needs,
                                    set(self.declined)):
            cb = await callback_store.get(self.db, c.id)
            if cb is None:
                continue
            pop = await callback_store.screen_pop(self.db, cb)
            self.offers[agent] = Offer(agent, cb, pop, now, now + self.settings.timeout)
            log.info("callback_offered", agent=agent, callback=c.id, kind=cb.get("kind"))
            self.hub.wake(agent)

    def _free(self, agent: str, view: dict[str, Any], waiting: dict[str, int]) -> FreeAgent | None:
        """The agent as the planner sees them, or None when they are not free for callback work."""
        conf = self.engine.config.agents.get(agent)
        if conf is None or view.get("state") != "ready" or view.get("reachable") is False:
            return None
        if any(waiting.get(q, 0) for q in conf.queues):
            return None  # inbound first: a caller waits in one of their queues
        return FreeAgent(agent, float(view.get("since") or 0.0), frozenset(conf.languages),
                         frozenset(conf.queues), dict(conf.skills),
                         held=view.get("held_for_callback") is not None)

    async def _candidates(self, now: float) -> list[Candidate]:
        """Open callbacks with a number and no retry pending, most urgent first, with the language and
        queue of the call they came from."""
        t, c = callbacks.c, calls.c
        at = datetime.fromtimestamp(now, UTC)
        stmt = (select(t.id, t.due_at, t.agent, t.reason, c.language, c.queue)
                .select_from(callbacks.outerjoin(calls, calls.c.id == t.call_id))
                .where(and_(t.status == "open", t.number.is_not(None),
                            or_(t.next_attempt_at.is_(None), t.next_attempt_at <= at)))
                .order_by(t.due_at, t.id).limit(MAX_CANDIDATES))
        async with self.db.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        out = []
        for r in rows:
            due = r.due_at.timestamp() if r.due_at is not None else now
            out.append(Candidate(str(r.id), due, r.agent or None,
                                 kept_place=r.reason == "requested" and bool(r.agent) and due <= now,
                                 language=r.language or None, queue=r.queue or None))
        return out


OFFERS: web.AppKey[CallbackOffers] = web.AppKey("callback_offers", CallbackOffers)


def start_offers(app: web.Application, engine: Engine, db: AsyncEngine, hub: LiveHub,
                 settings: Offers) -> list[asyncio.Task[None]]:
    """The daemon's hook: the offer loop, unless ``offers.enabled`` is false in config/callbacks.yaml."""
    if not settings.enabled:
        return []
    offers = app[OFFERS] = CallbackOffers(db, engine, hub, settings)
    return [asyncio.create_task(offers.run(), name="callback-offers")]


@route("POST", "/api/callbacks/{id:.+}/skip", roles={"agent"})
async def skip(request: web.Request, user: Principal | None) -> web.Response:
    """The agent passes on the callback offered to them: it is offered to another fitting agent."""
    assert user is not None
    offers = request.app.get(OFFERS)
    cb_id = request.match_info["id"]
    if offers is None or not offers.skip(user.agent or "", cb_id):
        raise ApiError(404, f"no offer of callback {cb_id}")
    return json_response({"skipped": cb_id})
