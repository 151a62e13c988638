"""Callbacks over HTTP (R25): escalate a call to the second line, the service desk's callbacks, the
agents' and supervisors' list, closing with an outcome.

- ``POST /api/calls/{id}/escalate`` (the call's agent, a supervisor, an admin) ``{topic?, comment?,
  ticket_id?}``: creates a ``second_line`` callback (due per ``config/callbacks.yaml``, 2 h by default)
  and, when a service-desk URL is configured, queues the signed webhook in the same transaction.
- ``POST /api/callbacks`` (reporting = the service-desk integration user, supervisor, admin)
  ``{number, ticket_id?, kind?: api|second_line|requested, topic?, comment?, agent?, call_id?}``.
- ``GET /api/callbacks`` (agent: their own; supervisor, admin: all) ``?status=open|done|failed``.
- ``POST /api/callbacks/{id}/close`` (agent: their own or unassigned; supervisor, admin) ``{outcome}``:
  one attempt's outcome; no_answer/busy keep it open for a retry until attempts run out.

The daemon installs its plan and outbox sender with ``install``; without them (tests of other parts) the
defaults apply (24 h / 2 h, no webhook).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.web.auth import Principal
from acd.web.context import CLOCK, DB, ENGINE, db_of
from acd.web.errors import ApiError, bad_request
from acd.web.inputs import optional_str, read_json_object
from acd.web.json import json_response
from acd.web.routes import route
from acd.yamlconf import ConfigError, ConfigProblem
from cdr.schema import calls, recordings
from cdr.writer import CdrWriter
from outbound import callback_store
from outbound.callbacks import DIAL_OUTCOMES, KINDS, OUTCOMES, CallbacksConfig, Plan, load_callbacks_config
from outbound.servicedesk import Escalation, OutboxSender, enqueue
from routing.numbers import BadNumber, normalise
from routing.schedule import Schedule


@dataclass
class CallbacksWiring:
    """What the daemon hands the routes: the deadline plan and the outbox (None: no webhook)."""

    plan: Plan
    webhook_url: str | None = None
    sender: OutboxSender | None = None
    agent_acted: Callable[[str], None] | None = None
    """The engine's end of an agent's hold for a kept place ("keep my place"): called when the agent takes
    or closes a callback, so inbound calls reach them again at once (acd/engine/keep_place.py)."""


log = structlog.get_logger(__name__)

CALLBACKS: web.AppKey[CallbacksWiring] = web.AppKey("callbacks", CallbacksWiring)


def install(app: web.Application, wiring: CallbacksWiring) -> None:
    app[CALLBACKS] = wiring


def _wiring(request: web.Request) -> CallbacksWiring:
    return request.app.get(CALLBACKS) or CallbacksWiring(Plan(CallbacksConfig(), None))


def acted(request: web.Request, agent: str | None) -> None:
    """The agent took callback work (claimed, dialled or closed one): a hold for a kept place ends."""
    hook = _wiring(request).agent_acted
    if hook is not None and agent:
        hook(agent)


def _user(user: Principal | None) -> Principal:
    assert user is not None
    return user


def _number(data: dict[str, Any], field: str, required: bool) -> str | None:
    raw = optional_str(data, field, max_len=64)
    if raw is None:
        if required:
            raise bad_request(field, "required")
        return None
    try:
        return normalise(raw)
    except BadNumber as exc:
        raise bad_request(field, str(exc)) from exc


async def _call_row(request: web.Request, call_id: str) -> dict[str, Any] | None:
    async with db_of(request).connect() as conn:
        row = (await conn.execute(select(calls.c.id, calls.c.caller, calls.c.agent, calls.c.topic,
                                         calls.c.comment).where(calls.c.id == call_id))).first()
        rec = (await conn.execute(select(recordings.c.id).where(recordings.c.call_id == call_id)
                                  .order_by(recordings.c.id).limit(1))).scalar()
    if row is None:
        return None
    return {**row._mapping, "recording_id": rec}


@route("POST", "/api/calls/{id}/escalate", roles={"agent", "supervisor", "admin"})
async def escalate(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    call_id = request.match_info["id"]
    data = await read_json_object(request)
    live = request.app[ENGINE].snapshot().get("calls", {}).get(call_id)
    stored = await _call_row(request, call_id)
    if live is None and stored is None:
        raise ApiError(404, f"no call {call_id}")
    agent = request.app[ENGINE].agent_of_call(call_id) or (stored or {}).get("agent")
    if who.role == "agent" and (agent is None or agent != who.agent):
        raise ApiError(403, f"call {call_id} is not yours to escalate")
    caller = (live or {}).get("caller") or (stored or {}).get("caller")
    topic = optional_str(data, "topic") or (stored or {}).get("topic")
    comment = optional_str(data, "comment", max_len=4000) or (stored or {}).get("comment")
    rec_id = (stored or {}).get("recording_id")
    recording_url = f"/api/recordings/{rec_id}/audio" if rec_id is not None else None
    wiring = _wiring(request)
    now = request.app[CLOCK]()
    new = callback_store.NewCallback(
        kind="second_line", number=caller, call_id=call_id,
        ticket_id=optional_str(data, "ticket_id", max_len=64),
        topic=topic, comment=comment, agent=agent, created_by=who.name)
    async with db_of(request).begin() as conn:
        row = await callback_store.create(conn, new, wiring.plan, now)
        delivery = None
        if wiring.webhook_url:
            esc = Escalation(callback_id=row["id"], call_id=call_id, caller=caller, topic=topic,
                             comment=comment,
                             recording_url=recording_url, agent=agent, escalated_by=who.name,
                             due_at=row["due_at"].isoformat())
            delivery = await enqueue(conn, wiring.webhook_url, "escalation", esc.body(),
                                     datetime.fromtimestamp(now, UTC))
    if wiring.sender is not None:
        wiring.sender.wake()
    return json_response({"callback": callback_store.public(row), "webhook_delivery": delivery}, status=201)


@route("POST", "/api/callbacks", roles={"reporting", "supervisor", "admin"})
async def create(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    data = await read_json_object(request)
    kind = next((k for k in KINDS if k == data.get("kind", "api") and k != "voicemail"), None)
    if kind is None:
        raise bad_request("kind", "one of api, second_line, requested (voicemail callbacks come from calls)")
    new = callback_store.NewCallback(
        kind=kind, number=_number(data, "number", True), call_id=optional_str(data, "call_id", max_len=64),
        ticket_id=optional_str(data, "ticket_id", max_len=64), topic=optional_str(data, "topic"),
        comment=optional_str(data, "comment", max_len=4000), agent=optional_str(data, "agent", max_len=64),
        created_by=who.name)
    async with db_of(request).begin() as conn:
        row = await callback_store.create(conn, new, _wiring(request).plan, request.app[CLOCK]())
    return json_response({"callback": callback_store.public(row)}, status=201)


@route("GET", "/api/callbacks", roles={"agent", "supervisor", "admin"})
async def listing(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    status = request.query.get("status") or None
    if status not in (None, "open", "done", "failed"):
        raise bad_request("status", "one of open, done, failed")
    own = (who.agent or "") if who.role == "agent" else None
    rows = await callback_store.listing(db_of(request), agent=own, status=status)
    return json_response({"callbacks": rows, "count": len(rows)})


@route("POST", "/api/callbacks/next", roles={"agent"})
async def next_callback(request: web.Request, user: Principal | None) -> web.Response:
    """The preview: the most urgent callback ready to dial is assigned to the asking agent and shown with
    its screen pop (earlier calls of the number, the voicemail or call recording, the ticket). The agent
    dials it (``POST /api/callbacks/{id}/dial``, acd/web/outbound.py); its outcome closes the attempt."""
    who = _user(user)
    db = db_of(request)
    cb_id = await callback_store.claim_next(db, who.agent or "", request.app[CLOCK]())
    cb = await callback_store.get(db, cb_id) if cb_id is not None else None
    if cb is None:
        return json_response({"callback": None, "screen_pop": None})
    acted(request, who.agent)
    return json_response({"callback": cb, "screen_pop": await callback_store.screen_pop(db, cb)})


@route("POST", "/api/callbacks/{id:.+}/close", roles={"agent", "supervisor", "admin"})
async def close(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    cb_id = request.match_info["id"]
    data = await read_json_object(request)
    chosen = next((o for o in OUTCOMES if o == data.get("outcome")), None)
    if chosen is None:
        raise bad_request("outcome", f"one of {', '.join(OUTCOMES)}")
    db = db_of(request)
    row = await callback_store.get(db, cb_id)
    if row is None or (who.role == "agent" and row["agent"] not in (None, who.agent)):
        raise ApiError(404, f"no callback {cb_id}")
    try:
        await callback_store.record_outcome(db, cb_id, chosen, _wiring(request).plan, request.app[CLOCK](),
                                            who.agent)
    except callback_store.NotOpen as exc:
        raise ApiError(409, f"callback {cb_id} is already closed") from exc
    except KeyError as exc:
        raise ApiError(404, f"no callback {cb_id}") from exc
    acted(request, who.agent or row["agent"])
    return json_response({"callback": await callback_store.get(db, cb_id)})


async def record_dial_outcome(app: web.Application, callback_id: str, dial_outcome: str, agent: str,
                              now: float) -> None:
    """A callback the daemon dialled (acd/web/outbound.py) ended: its outcome closes it (reached, wrong
    number) or schedules the retry (busy, no answer); an attempt that never reached the number changes
    nothing. A callback closed meanwhile by hand stays as it was."""
    outcome = DIAL_OUTCOMES.get(dial_outcome)
    if outcome is None or app.get(DB) is None:
        return
    wiring = app.get(CALLBACKS) or CallbacksWiring(Plan(CallbacksConfig(), None))
    db = app[DB]
    assert db is not None
    try:
        await callback_store.record_outcome(db, callback_id, outcome, wiring.plan, now, agent)
    except (callback_store.NotOpen, KeyError):
        log.info("callback_outcome_not_recorded", callback=callback_id, outcome=outcome)


def webhook_secret(env_name: str) -> str | None:
    """The HMAC secret from the environment (never from a file, never logged)."""
    return os.environ.get(env_name) or None


def start_callbacks(app: web.Application, config_dir: Path, schedules: Mapping[str, Schedule],
                    db: AsyncEngine, clock: Callable[[], float],
                    writer: CdrWriter | None = None,
                    agent_acted: Callable[[str], None] | None = None) -> list[asyncio.Task[None]]:
    """The daemon's hook: read ``config/callbacks.yaml`` (ConfigError with file:line stops the start),
    install the plan for the routes (and in the CDR ``writer`` for voicemail callbacks when their deadline
    counts business hours) and, when a service-desk URL is set, start the outbox sender.

    A URL without its secret in the environment is refused: an unsigned escalation would be accepted by
    nobody, or worse, by anybody."""
    path = config_dir / "callbacks.yaml"
    plan = load_callbacks_config(path, schedules)
    desk = plan.config.service_desk
    wiring = CallbacksWiring(plan, desk.url, agent_acted=agent_acted)
    if writer is not None and plan.config.deadlines["voicemail"].business_hours:
        writer.voicemail_due = lambda created: plan.due_at("voicemail", created)
    tasks: list[asyncio.Task[None]] = []
    if desk.url is not None:
        secret = webhook_secret(desk.secret_env)
        if secret is None:
            raise ConfigError([ConfigProblem(str(path), None, "service_desk.secret_env",
                                             f"set the environment variable {desk.secret_env} to the "
                                             "webhook's HMAC secret")])
        wiring.sender = OutboxSender(db, desk, secret, clock=clock)
        tasks.append(asyncio.create_task(wiring.sender.run(), name="servicedesk-outbox"))
    install(app, wiring)
    return tasks
