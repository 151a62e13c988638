"""The ``callbacks`` rows: create (escalation, service desk, API), list, record an attempt's outcome.

The voicemail callbacks are written by the CDR writer (cdr/writer.py, kind ``voicemail``); this module
writes the others and closes all of them. Due times come from ``outbound.callbacks.Plan``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.events import Arrived, LeftQueue, parse_fact
from cdr.schema import call_events, callbacks, calls, recordings
from outbound.callbacks import AfterAttempt, Kind, Outcome, Plan, after_attempt


@dataclass(frozen=True)
class NewCallback:
    kind: Kind
    number: str | None
    call_id: str | None = None
    ticket_id: str | None = None
    topic: str | None = None
    comment: str | None = None
    agent: str | None = None
    created_by: str | None = None
    recording: str | None = None


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


async def create(conn: AsyncConnection, new: NewCallback, plan: Plan, now: float) -> dict[str, Any]:
    """Insert an open callback due per its kind; returns the row as written."""
    row = {"id": f"cb-{uuid.uuid4().hex[:20]}", "call_id": new.call_id, "number": new.number,
           "reason": new.kind, "recording": new.recording, "due_at": _utc(plan.due_at(new.kind, now)),
           "status": "open", "created_at": _utc(now), "attempts": 0, "notes": None, "updated_at": _utc(now),
           "ticket_id": new.ticket_id, "topic": new.topic, "comment": new.comment, "agent": new.agent,
           "created_by": new.created_by, "next_attempt_at": None, "outcome": None, "closed_at": None}
    await conn.execute(callbacks.insert().values(**row))
    return row


def kept_place_id(call_id: str) -> str:
    """The one ``callbacks`` row a kept place ever gets (written when its turn comes, or at a restart)."""
    return f"cb-kept-{call_id}"[:64]


async def create_kept_place(db: AsyncEngine, *, call_id: str, number: str, agent: str | None, queue: str,
                            language: str | None, waited_s: float, now: float, why: str | None = None) -> str:
    """"Keep my place": the caller's turn has come. An open ``requested`` callback, due now and assigned to
    the agent the turn reached (their next ``claim_next`` returns it first); ``agent`` None (a place not put
    back after a restart, ``why``): an ordinary callback due now for any agent. Idempotent per call: a second
    write for the same call returns the first row's id."""
    cb_id = kept_place_id(call_id)
    notes = f"kept place in queue {queue}" + (f", language {language}" if language else "") + \
        f", waited {round(waited_s)} s before asking" + (f"; {why}" if why else "")
    async with db.begin() as conn:
        if (await conn.execute(select(callbacks.c.id).where(callbacks.c.id == cb_id))).first() is None:
            await conn.execute(callbacks.insert().values(
                id=cb_id, call_id=call_id, number=number, reason="requested", recording=None,
                due_at=_utc(now), status="open", created_at=_utc(now), attempts=0, notes=notes,
                updated_at=_utc(now), agent=agent, created_by=None, topic=None, comment=None))
    return cb_id


@dataclass(frozen=True)
class StoredPlace:
    """A kept place as the CDR holds it (the ``left_queue`` fact with reason ``callback``)."""

    call_id: str
    number: str
    language: str | None
    queue: str
    entered_at: float
    pressed_at: float
    priority: int
    hold_s: float | None


async def pending_kept_places(db: AsyncEngine, since: float) -> list[StoredPlace]:
    """The places kept since ``since`` whose turn never came: calls whose outcome is ``callback_requested``
    and that have no ``callbacks`` row (``kept_place_id``), with the key's fact."""
    c, e = calls.c, call_events.c
    async with db.connect() as conn:
        found = {r.id: r for r in (await conn.execute(
            select(c.id, c.caller, c.language, c.queued_at)
            .where(c.arrived_at >= _utc(since), c.outcome == "callback_requested"))).all()}
        if not found:
            return []
        done = set((await conn.execute(select(callbacks.c.call_id).where(
            callbacks.c.id.in_([kept_place_id(i) for i in found])))).scalars())
        todo = [i for i in found if i not in done]
        if not todo:
            return []
        facts = (await conn.execute(select(e.call_id, e.kind, e.at, e.data).where(
            e.call_id.in_(todo), e.kind.in_(("arrived", "left_queue"))).order_by(e.at, e.id))).all()
    out: dict[str, StoredPlace] = {}
    number: dict[str, str] = {}  # as the caller's channel gave it (the live path's number), not normalised
    for ev in facts:
        fact = parse_fact(ev.kind, ev.data)
        if isinstance(fact, Arrived) and fact.caller:
            number[ev.call_id] = fact.caller
        if not isinstance(fact, LeftQueue) or fact.reason != "callback" or not fact.queue:
            continue
        row = found[ev.call_id]
        pressed = ev.at.timestamp()
        entered = fact.entered_at if fact.entered_at is not None else (
            row.queued_at.timestamp() if row.queued_at is not None else pressed)
        caller = number.get(ev.call_id) or row.caller or ""
        out[ev.call_id] = StoredPlace(ev.call_id, caller, row.language or None, fact.queue, entered, pressed,
                                      fact.priority or 0, fact.hold_s)
    return list(out.values())


def public(row: Any) -> dict[str, Any]:
    """A row as the API shows it (``kind`` for the ``reason`` column)."""
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    m["kind"] = m.pop("reason")
    return m


async def get(db: AsyncEngine, callback_id: str) -> dict[str, Any] | None:
    async with db.connect() as conn:
        row = (await conn.execute(select(callbacks).where(callbacks.c.id == callback_id))).first()
    return public(row) if row is not None else None


async def listing(db: AsyncEngine, *, agent: str | None = None, status: str | None = None,
                  limit: int = 500) -> list[dict[str, Any]]:
    """Callbacks by due time (open first when no status is given); ``agent`` limits to one agent's."""
    t = callbacks.c
    stmt = select(callbacks).order_by(t.due_at, t.id).limit(limit)
    if agent is not None:
        stmt = stmt.where(t.agent == agent)
    if status is not None:
        stmt = stmt.where(t.status == status)
    async with db.connect() as conn:
        return [public(r) for r in (await conn.execute(stmt)).all()]


class NotOpen(Exception):
    """The callback is already closed."""


async def record_outcome(db: AsyncEngine, callback_id: str, outcome: Outcome, plan: Plan, now: float,
                         by_agent: str | None) -> AfterAttempt:
    """Apply one attempt's outcome (the retry rules of ``plan``); KeyError if unknown, NotOpen if closed."""
    t = callbacks.c
    async with db.begin() as conn:
        row = (await conn.execute(select(t.status, t.attempts, t.agent).where(t.id == callback_id))).first()
        if row is None:
            raise KeyError(callback_id)
        if row.status != "open":
            raise NotOpen(callback_id)
        nxt = after_attempt(outcome, row.attempts, now, plan.config.retries)
        await conn.execute(update(callbacks).where(t.id == callback_id).values(
            status=nxt.status, attempts=nxt.attempts, outcome=outcome,
            next_attempt_at=_utc(nxt.next_attempt_at) if nxt.next_attempt_at is not None else None,
            closed_at=_utc(now) if nxt.status != "open" else None, updated_at=_utc(now),
            agent=row.agent or by_agent))
    return nxt


async def claim_next(db: AsyncEngine, agent: str, now: float) -> str | None:
    """Assign the most urgent callback that is ready to dial (open, no retry pending) and free or already
    this agent's; None when there is none. Two agents asking at once never get the same one: the update
    only succeeds while the row is still free (retried a few times if another agent took it first)."""
    t = callbacks.c
    at = _utc(now)
    free_or_mine = or_(t.agent.is_(None), t.agent == agent)
    # a kept place that reached this agent ("keep my place") comes before anything else due
    kept_for_me = case((and_(t.agent == agent, t.reason == "requested", t.due_at <= at), 0), else_=1)
    for _ in range(5):
        async with db.begin() as conn:
            cand = (await conn.execute(
                select(t.id).where(t.status == "open", free_or_mine,
                                   or_(t.next_attempt_at.is_(None), t.next_attempt_at <= at))
                .order_by(kept_for_me, t.due_at, t.id).limit(1))).scalar()
            if cand is None:
                return None
            res = await conn.execute(update(callbacks).where(t.id == cand, free_or_mine)
                                     .values(agent=agent, updated_at=at))
            if res.rowcount == 1:
                return str(cand)
    return None


async def screen_pop(db: AsyncEngine, cb: dict[str, Any], earlier: int = 5) -> dict[str, Any]:
    """What the agent sees before dialling: the number's earlier calls and the voicemail or call recording."""
    rec_id = None
    history: list[dict[str, Any]] = []
    async with db.connect() as conn:
        if cb.get("call_id"):
            rec_id = (await conn.execute(select(recordings.c.id).where(recordings.c.call_id == cb["call_id"])
                                         .order_by(recordings.c.id.desc()).limit(1))).scalar()
        if cb.get("number"):
            c = calls.c
            rows = (await conn.execute(select(c.id, c.arrived_at, c.queue, c.topic, c.outcome, c.agent)
                                       .where(c.caller == cb["number"]).order_by(c.arrived_at.desc())
                                       .limit(earlier))).all()
            history = [dict(r._mapping) for r in rows]
    return {"recording_url": f"/api/recordings/{rec_id}/audio" if rec_id is not None else None,
            "ticket_id": cb.get("ticket_id"), "earlier_calls": history}
