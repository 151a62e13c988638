"""The campaign tables as the running dialer and the web routes use them (outbound/schema.py).

One function per thing that happens: a contact is picked and an attempt starts, an attempt ends (the
contact's fate from ``outbound.attempts.after_attempt``), the agent saves the form, a supervisor reads the
progress or exports the contacts. Each is one short transaction, so the contact's state in the database is
always what the dialer last decided: a daemon that stops finds ``in_progress`` contacts at start and puts
them back (``recover``), the call they were on being lost with the daemon.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from outbound.attempts import after_attempt
from outbound.config import Campaign, Outcome
from outbound.schema import campaign_answers, campaign_attempts, campaign_contacts, campaign_row, campaigns


def _dt(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


@dataclass(frozen=True)
class DueContact:
    id: int
    phone: str
    name: str
    language: str
    fields: dict[str, Any]

    def view(self) -> dict[str, str]:
        """Every field the script and the desktop may show."""
        return {**{k: str(v) for k, v in self.fields.items()}, "phone": self.phone, "name": self.name,
                "language": self.language}


async def campaign_id(db: AsyncEngine, campaign: Campaign, now: float) -> int:
    """The campaign's row (created when it has none yet: a campaign without contacts yet)."""
    async with db.begin() as conn:
        return await campaign_row(conn, campaign.name, campaign.description, _dt(now))


async def recover(db: AsyncEngine, cid: int, now: float) -> int:
    """Contacts a stopped daemon left ``in_progress``: pending again, due now; their open attempts end as
    ``congestion`` (the call was lost on our side, not the contact's). Returns how many."""
    async with db.begin() as conn:
        await conn.execute(update(campaign_attempts).where(
            campaign_attempts.c.campaign_id == cid, campaign_attempts.c.outcome.is_(None)).values(
            outcome="congestion", ended_at=_dt(now)))
        res = await conn.execute(update(campaign_contacts).where(
            campaign_contacts.c.campaign_id == cid, campaign_contacts.c.status == "in_progress").values(
            status="pending", next_attempt_at=None))
        return int(res.rowcount or 0)


async def contact(db: AsyncEngine, contact_id: int) -> DueContact | None:
    """One contact, for a line a restarted daemon adopts (its channel names the contact)."""
    c = campaign_contacts.c
    async with db.connect() as conn:
        r = (await conn.execute(select(c.id, c.phone, c.name, c.language, c.fields)
                                .where(c.id == contact_id))).first()
    return None if r is None else DueContact(int(r.id), r.phone, r.name or "", r.language or "",
                                             dict(r.fields or {}))


async def recover_lost(db: AsyncEngine, campaign: Campaign, cid: int, now: float,
                       followed: set[int]) -> int:
    """After a restart, once the dialer has adopted the lines Asterisk still holds (``followed``): the
    other open attempts lost their channel while no daemon listened. What the CDR says decides them: a
    call connected to an agent ended ``answered`` (its contact is not called again unless the rules say
    so), an answered call that reached no agent ``dropped``; without a ``calls`` row the line ended
    unseen (rang out, busy, or answered while no daemon could take it): ``congestion`` and the contact
    is due again at once, as before. Returns how many attempts were closed."""
    from cdr.schema import calls

    a = campaign_attempts.c
    async with db.connect() as conn:
        rows = (await conn.execute(select(a.id, a.contact_id, a.call_id).where(
            a.campaign_id == cid, a.outcome.is_(None)))).all()
        lost = [r for r in rows if int(r.id) not in followed]
        ids = [str(r.call_id) for r in lost if r.call_id]
        cdr = {str(r.id): r for r in (await conn.execute(
            select(calls.c.id, calls.c.agent, calls.c.answered_at, calls.c.arrived_at)
            .where(calls.c.id.in_(ids)))).all()} if ids else {}
    for r in lost:
        row = cdr.get(str(r.call_id or ""))
        if row is None:
            async with db.begin() as conn:
                await conn.execute(update(campaign_attempts).where(a.id == r.id).values(
                    outcome="congestion", ended_at=_dt(now)))
                await conn.execute(update(campaign_contacts).where(
                    campaign_contacts.c.id == r.contact_id,
                    campaign_contacts.c.status == "in_progress").values(status="pending",
                                                                       next_attempt_at=None))
            continue
        answered = row.answered_at or row.arrived_at
        if row.agent:
            await set_agent(db, int(r.id), str(row.agent), None)
        await finish_attempt(db, campaign, int(r.id), int(r.contact_id),
                             "answered" if row.agent else "dropped", now=now,
                             answered_at=answered.timestamp() if answered is not None else None)
    return len(lost)


async def due_contacts(db: AsyncEngine, cid: int, now: float, limit: int,
                       exclude: set[int]) -> list[DueContact]:
    """Pending contacts whose next attempt is due: retries whose time has come first (the longest-due
    first: a retry after 15 minutes should not wait for the whole list), then first calls in list order."""
    c = campaign_contacts.c
    stmt = (select(c.id, c.phone, c.name, c.language, c.fields)
            .where(c.campaign_id == cid, c.status == "pending",
                   or_(c.next_attempt_at.is_(None), c.next_attempt_at <= _dt(now)))
            .order_by(c.next_attempt_at.is_(None), c.next_attempt_at, c.id).limit(limit + len(exclude)))
    async with db.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    out = [DueContact(int(r.id), r.phone, r.name or "", r.language or "", dict(r.fields or {}))
           for r in rows if int(r.id) not in exclude]
    return out[:limit]


async def mark_do_not_call(db: AsyncEngine, contact_id: int) -> None:
    async with db.begin() as conn:
        await conn.execute(update(campaign_contacts).where(campaign_contacts.c.id == contact_id)
                           .values(status="do_not_call", next_attempt_at=None))


async def start_attempt(db: AsyncEngine, cid: int, contact: DueContact, *, mode: str, call_id: str | None,
                        now: float, agent: str | None = None) -> int:
    """The contact is being called: ``in_progress``, one more attempt; returns the attempt's id."""
    c = campaign_contacts.c
    async with db.begin() as conn:
        made = (await conn.execute(select(c.attempts).where(c.id == contact.id))).scalar() or 0
        await conn.execute(update(campaign_contacts).where(c.id == contact.id).values(
            status="in_progress", attempts=made + 1))
        res = await conn.execute(campaign_attempts.insert().values(
            contact_id=contact.id, campaign_id=cid, attempt=made + 1, call_id=call_id, mode=mode, agent=agent,
            started_at=_dt(now)))
        return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0


async def set_call(db: AsyncEngine, attempt_id: int, call_id: str) -> None:
    """A preview attempt is dialled: its call (the agent's channel, ``calls.id``)."""
    async with db.begin() as conn:
        await conn.execute(update(campaign_attempts).where(campaign_attempts.c.id == attempt_id)
                           .values(call_id=call_id))


async def cancel_attempt(db: AsyncEngine, attempt_id: int, contact_id: int) -> None:
    """An attempt that was never dialled (the window closed meanwhile): as if it had not been started."""
    c = campaign_contacts.c
    async with db.begin() as conn:
        await conn.execute(campaign_attempts.delete().where(campaign_attempts.c.id == attempt_id))
        await conn.execute(update(campaign_contacts).where(c.id == contact_id).values(
            status="pending", attempts=c.attempts - 1))


async def set_agent(db: AsyncEngine, attempt_id: int, agent: str, answered_at: float | None) -> None:
    values: dict[str, Any] = {"agent": agent}
    if answered_at is not None:
        values["answered_at"] = _dt(answered_at)
    async with db.begin() as conn:
        await conn.execute(update(campaign_attempts).where(campaign_attempts.c.id == attempt_id)
                           .values(**values))


async def finish_attempt(db: AsyncEngine, campaign: Campaign, attempt_id: int, contact_id: int,
                         outcome: Outcome, *, now: float, answered_at: float | None = None) -> str:
    """The attempt ended with ``outcome``: the attempt's row, then the contact's fate (closed, or due again
    at the next open moment of the window); returns the contact's new status. A form saved already counts:
    a productive attempt closes the contact."""
    a, c = campaign_attempts.c, campaign_contacts.c
    async with db.begin() as conn:
        productive = bool((await conn.execute(select(a.productive).where(a.id == attempt_id))).scalar())
        earlier = Counter(str(o) for o in (await conn.execute(select(a.outcome).where(
            a.contact_id == contact_id, a.id != attempt_id, a.outcome.is_not(None)))).scalars())
        values: dict[str, Any] = {"outcome": outcome, "ended_at": _dt(now)}
        if answered_at is not None:
            values["answered_at"] = _dt(answered_at)
        await conn.execute(update(campaign_attempts).where(a.id == attempt_id).values(**values))
        fate = after_attempt(campaign, earlier, outcome, productive, now)
        await conn.execute(update(campaign_contacts).where(c.id == contact_id).values(
            status=fate.status, last_outcome=outcome, productive=productive,
            next_attempt_at=None if fate.next_attempt_at is None else _dt(fate.next_attempt_at)))
        return fate.status


class AnswerError(ValueError):
    """The answers cannot be saved: ``problems`` per question id (unknown ids included)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(problems.items())))
        self.problems = problems


@dataclass(frozen=True)
class AttemptRef:
    attempt_id: int
    contact_id: int
    campaign: str
    agent: str | None
    ended: bool


async def attempt_of_call(db: AsyncEngine, call_id: str) -> AttemptRef | None:
    a = campaign_attempts.c
    stmt = (select(a.id, a.contact_id, a.agent, a.outcome, campaigns.c.name)
            .join(campaigns, campaigns.c.id == a.campaign_id).where(a.call_id == call_id))
    async with db.connect() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return AttemptRef(int(row.id), int(row.contact_id), str(row.name), row.agent, row.outcome is not None)


async def save_answers(db: AsyncEngine, campaign: Campaign, ref: AttemptRef, answers: dict[str, Any],
                       now: float, agent: str | None = None) -> bool:
    """Store the form of one attempt (replacing an earlier save of it); AnswerError when a question is
    unknown, a value does not fit or a required one is missing. Returns whether the call is productive;
    a productive call closes its contact."""
    problems = campaign.form.check_answers(answers)
    if problems:
        raise AnswerError(problems)
    productive = campaign.form.is_productive(answers)
    ans = campaign_answers.c
    async with db.begin() as conn:
        await conn.execute(campaign_answers.delete().where(ans.attempt_id == ref.attempt_id))
        rows = [dict(attempt_id=ref.attempt_id, contact_id=ref.contact_id, question=q.id, value=answers[q.id],
                     saved_at=_dt(now))
                for q in campaign.form.questions if answers.get(q.id) not in (None, "", [])]
        if rows:
            await conn.execute(campaign_answers.insert(), rows)
        attempt: dict[str, Any] = {"productive": productive}
        if ref.agent is None and agent is not None:  # saved during the call: the dialer names the agent
            attempt["agent"] = agent  # at its end
        await conn.execute(update(campaign_attempts).where(campaign_attempts.c.id == ref.attempt_id)
                           .values(**attempt))
        contact = {"productive": productive}
        if productive:
            contact.update(status="done", next_attempt_at=None)  # type: ignore[call-overload]
        await conn.execute(update(campaign_contacts).where(campaign_contacts.c.id == ref.contact_id)
                           .values(**contact))
    return productive


# ---- results --------------------------------------------------------------------------------------------
@dataclass
class AgentFigures:
    calls: int = 0
    productive: int = 0
    talk_s: float = 0.0


@dataclass
class Progress:
    """What a supervisor follows live: contacts done / reached / productive / remaining, per agent, per
    question."""

    campaign: str
    contacts: int = 0
    done: int = 0
    """Closed contacts: productive, closed after an answer, failed out of attempts, or do-not-call."""
    reached: int = 0
    """Contacts with at least one attempt answered by the called party and connected to an agent."""
    productive: int = 0
    remaining: int = 0
    in_progress: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    drop_rate: float = 0.0
    agents: dict[str, AgentFigures] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


async def progress(db: AsyncEngine, campaign: Campaign) -> Progress:
    out = Progress(campaign.name)
    c, a, ans = campaign_contacts.c, campaign_attempts.c, campaign_answers.c
    async with db.connect() as conn:
        cid = (await conn.execute(select(campaigns.c.id).where(campaigns.c.name == campaign.name))).scalar()
        if cid is None:
            return out
        for status, n in (await conn.execute(select(c.status, func.count()).where(c.campaign_id == cid)
                                             .group_by(c.status))).all():
            out.statuses[str(status)] = int(n)
        out.productive = int((await conn.execute(select(func.count()).where(
            c.campaign_id == cid, c.productive.is_(True)))).scalar() or 0)
        out.reached = int((await conn.execute(select(func.count(func.distinct(a.contact_id))).where(
            a.campaign_id == cid, a.outcome == "answered"))).scalar() or 0)
        for outcome, n in (await conn.execute(select(a.outcome, func.count()).where(
                a.campaign_id == cid, a.outcome.is_not(None)).group_by(a.outcome))).all():
            out.outcomes[str(outcome)] = int(n)
        rows = (await conn.execute(select(a.agent, a.productive, a.answered_at, a.ended_at).where(
            a.campaign_id == cid, a.outcome == "answered", a.agent.is_not(None)))).all()
        for agent, productive, answered_at, ended_at in rows:
            fig = out.agents.setdefault(str(agent), AgentFigures())
            fig.calls += 1
            fig.productive += bool(productive)
            if answered_at is not None and ended_at is not None:
                fig.talk_s += max(0.0, (ended_at - answered_at).total_seconds())
        values = (await conn.execute(select(ans.question, ans.value).join(
            campaign_attempts, campaign_attempts.c.id == ans.attempt_id).where(a.campaign_id == cid))).all()
    out.contacts = sum(out.statuses.values())
    out.in_progress = out.statuses.get("in_progress", 0)
    out.remaining = out.statuses.get("pending", 0) + out.in_progress
    out.done = out.contacts - out.remaining
    out.attempts = sum(out.outcomes.values())
    answered = out.outcomes.get("answered", 0) + out.outcomes.get("dropped", 0)
    out.drop_rate = out.outcomes.get("dropped", 0) / answered if answered else 0.0
    out.answers = summarise(campaign, [(str(q), v) for q, v in values])
    return out


def summarise(campaign: Campaign, values: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per question: how many answered it; counts per option (choice, yes/no) or the average (number,
    rating)."""
    out: dict[str, dict[str, Any]] = {}
    for q in campaign.form.questions:
        vals = [v for qid, v in values if qid == q.id]
        entry: dict[str, Any] = {"type": q.type, "answered": len(vals)}
        if q.type in ("single_choice", "yes_no"):
            entry["counts"] = {str(k).lower(): n for k, n in Counter(vals).items()}
        elif q.type == "multiple_choice":
            entry["counts"] = dict(Counter(str(o) for v in vals if isinstance(v, list) for o in v))
        elif q.type in ("number", "rating"):
            nums = [float(v) for v in vals if isinstance(v, int | float) and not isinstance(v, bool)]
            entry["average"] = round(sum(nums) / len(nums), 2) if nums else None
        out[q.id] = entry
    return out


async def export_rows(db: AsyncEngine, campaign: Campaign) -> tuple[list[str], list[list[Any]]]:
    """Contacts with their state and the answers of their last answered attempt: header and rows."""
    c, a, ans = campaign_contacts.c, campaign_attempts.c, campaign_answers.c
    header = ["phone", "name", "language", *campaign.contact_fields, "status", "attempts", "last_outcome",
              "productive", "agent", *[q.id for q in campaign.form.questions]]
    async with db.connect() as conn:
        cid = (await conn.execute(select(campaigns.c.id).where(campaigns.c.name == campaign.name))).scalar()
        if cid is None:
            return header, []
        contacts = (await conn.execute(
            select(c.id, c.phone, c.name, c.language, c.fields, c.status, c.attempts, c.last_outcome,
                   c.productive).where(c.campaign_id == cid).order_by(c.id))).all()
        answered = (await conn.execute(select(a.id, a.contact_id, a.agent).where(
            and_(a.campaign_id == cid, a.outcome == "answered")).order_by(a.id))).all()
        last = {int(r.contact_id): (int(r.id), r.agent) for r in answered}
        values: dict[int, dict[str, Any]] = {}
        stmt = (select(ans.attempt_id, ans.question, ans.value)
                .join(campaign_attempts, campaign_attempts.c.id == ans.attempt_id)
                .where(a.campaign_id == cid))
        for attempt_id, question, value in (await conn.execute(stmt)).all():
            values.setdefault(int(attempt_id), {})[str(question)] = value
    rows = []
    for r in contacts:
        attempt, agent = last.get(int(r.id), (None, None))
        got = values.get(attempt, {}) if attempt is not None else {}
        fields = dict(r.fields or {})
        rows.append([r.phone, r.name or "", r.language or "",
                     *[fields.get(f, "") for f in campaign.contact_fields],
                     r.status, r.attempts, r.last_outcome or "", bool(r.productive), agent or "",
                     *[_cell(got.get(q.id)) for q in campaign.form.questions]])
    return header, rows


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value
