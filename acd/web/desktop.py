"""The agent desktop (issue 13): the page, its state as JSON, and one WebSocket per browser tab.

The state the page shows is always built here, on the server, from the engine's snapshot and the live
hub's call card (``build_state``); the WebSocket sends it whole when it opens and again after every change
that concerns the agent. A tab that reconnects (network blip, daemon restart) therefore resynchronises by
construction, and two tabs of one agent show the same thing. Changes go through the existing API routes
(``POST /api/agents/{id}/state``, ``POST /api/calls/{id}/topic``) with the session's CSRF token, so the
agent state log and the CDR are written exactly as for any other client.

The agent's day (issue 13) adds: the queues worked today (``POST /api/agents/{id}/queues``, optional queues
only, the core's membership follows), more wrap-up time (``POST /api/agents/{id}/wrapup/extend``), the
call's result and a required topic in wrap-up (the state carries ``results``, ``topic_required``), the
script in the call's language, the recording link in the caller's history where the agent may hear it,
and the personal panel (``GET /api/agents/{id}/panel``: callbacks assigned, today's recordings with QA
scores, read on demand, audited as a recording search). The page's side is ``static/desktop-day.js``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from aiohttp import WSMsgType, web
from sqlalchemy import desc, select

from acd.core.config import QueueConfig
from acd.web.auth import Principal
from acd.web.callback_offers import OFFERS
from acd.web.context import CLOCK, DB, ENGINE, SETTINGS, now_utc, remote_of
from acd.web.errors import ApiError, PageError, bad_request
from acd.web.inputs import read_json_object
from acd.web.json import dumps, json_response
from acd.web.live import LIVE, CallCard, HistoryRow
from acd.web.pages import render
from acd.web.routes import route
from acd.web.sessions import ACCOUNTS, COOKIE, WEB_SESSION
from acd.web.softphone import allow_softphone_socket, softphone_embedded
from acd.web.wallboard import BOARD
from cdr.regions import RegionLookup, default_regions, normalise_number

log = structlog.get_logger("acd.web")

REGIONS: web.AppKey[RegionLookup] = web.AppKey("regions", RegionLookup)
HISTORY_LIMIT = 10
SESSION_CHECK_S = 30.0
"""A quiet socket re-checks its session this often (real seconds): log-out everywhere reaches it."""
CALL_STATES = ("ringing", "on_call", "wrap_up")
CONSULT_CHECK_S = 1.0
"""While a consultation is under way the socket re-reads the engine's (in-memory) call state this often:
the consulted party answering or hanging up is no event of the agent's, yet the buttons depend on it."""


_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])"), r"<em>\1</em>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
)


def _inline(text: str) -> str:
    out = html.escape(text, quote=True)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def render_script(text: str | None) -> str | None:
    """The queue's agent script (Markdown from the config) as HTML the page may insert as is.

    A deliberately small subset: ``#``..``###`` headings, ``-``/``*`` and ``1.`` lists, paragraphs,
    ``**bold**``, ``*italic*`` and ``code``. Everything is HTML-escaped first, and no links or images are
    made, so whoever edits the config cannot put markup or scripts into every agent's browser."""
    if not text or not text.strip():
        return None
    blocks: list[str] = []
    para: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if para:
            blocks.append("<p>" + "<br>".join(_inline(p) for p in para) + "</p>")
            para.clear()
        if items:
            blocks.append(f"<{list_tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items)
                          + f"</{list_tag}>")
            items.clear()
            list_tag = ""

    for raw in text.splitlines():
        line = raw.strip()
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        bullet = re.match(r"^[-*]\s+(.*)$", line)
        number = re.match(r"^\d+[.)]\s+(.*)$", line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 3  # h4..h6: under the page's own headings
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or number:
            tag = "ul" if bullet else "ol"
            if para or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or number).group(1))  # type: ignore[union-attr]
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return "".join(blocks)


def _control(request: web.Request, live: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
    """Call control as the engine reports it for the live call (hold, mute, consultation, conference),
    with the consulted party's name (the agent is no longer among the ready targets once they answer)."""
    consult = live.get("consult")
    if isinstance(consult, dict):
        consult = dict(consult)
        kind, _, value = str(consult.get("target") or "").partition(":")
        name = value
        if kind == "agent":
            name = str(names.get(value) or value)
        elif kind == "directory":
            settings = request.app.get(SETTINGS)
            for d in settings.directory if settings is not None else []:
                if d.id == value:
                    name = d.name or d.id
        consult["target_name"] = name
    return {
        "held": bool(live.get("held")),
        "muted": bool(live.get("muted")),
        "conference": bool(live.get("conference")),
        "consult": consult if isinstance(consult, dict) else None,
    }


def _targets(request: web.Request, agents: dict[str, Any], me: str) -> dict[str, list[dict[str, str]]]:
    """Where the agent may consult or transfer to: ready agents, queues, the directory of acd.yaml."""
    ready = [{"id": f"agent:{a}", "name": str(v.get("name") or a)} for a, v in sorted(agents.items())
             if a != me and isinstance(v, dict) and v.get("state") == "ready"]
    queues = [{"id": f"queue:{q}", "name": q} for q in sorted(request.app[LIVE].queues())]
    settings = request.app.get(SETTINGS)
    directory = [{"id": f"directory:{d.id}", "name": d.name or d.id, "kind": d.kind}
                 for d in (settings.directory if settings is not None else [])]
    return {"agents": ready, "queues": queues, "directory": directory}


def _own(user: Principal | None, agent_id: str, *, page: bool = False) -> Principal:
    assert user is not None
    if user.role == "agent" and user.agent != agent_id:
        error = PageError if page else ApiError
        raise error(403, "an agent may open only their own desktop")
    return user


def _live_call(snap: dict[str, Any], call_id: str) -> dict[str, Any]:
    calls = snap.get("calls") or {}
    if isinstance(calls, dict):
        found = calls.get(call_id)
        return dict(found) if isinstance(found, dict) else {}
    for c in calls:
        if isinstance(c, dict) and c.get("id") == call_id:
            return dict(c)
    return {}


async def _history(request: web.Request, card: CallCard) -> list[HistoryRow]:
    """The caller's last calls from the CDR, read once per call (then kept on the card)."""
    if card.history is not None:
        return card.history
    db = request.app[DB]
    number = normalise_number(card.caller)
    if db is None or not number:
        return []
    from cdr.schema import calls

    query = (select(calls.c.id, calls.c.arrived_at, calls.c.agent, calls.c.topic, calls.c.outcome)
             .where(calls.c.caller == number, calls.c.id != card.call_id)
             .order_by(desc(calls.c.arrived_at)).limit(HISTORY_LIMIT))
    try:
        async with db.connect() as conn:
            rows = (await conn.execute(query)).all()
    except Exception as exc:  # a database outage must not take the screen pop with it
        log.warning("desktop_history_unavailable", error=type(exc).__name__)
        return []
    recs: dict[str, tuple[int, str | None]] = {}
    if rows:
        from cdr.schema import recordings

        rq = (select(recordings.c.id, recordings.c.call_id, recordings.c.agent_id)
              .where(recordings.c.call_id.in_([r.id for r in rows]), recordings.c.status == "done",
                     recordings.c.kind == "call").order_by(recordings.c.id))
        try:
            async with db.connect() as conn:
                recs = {r.call_id: (int(r.id), r.agent_id) for r in (await conn.execute(rq)).all()}
        except Exception as exc:
            log.warning("desktop_history_recordings_unavailable", error=type(exc).__name__)
    card.history = [
        HistoryRow(r.id, r.arrived_at.astimezone(UTC).timestamp() if r.arrived_at else None,
                   r.agent, r.topic, r.outcome, *recs.get(r.id, (None, None)))
        for r in rows
    ]
    return card.history


def _history_json(h: HistoryRow, names: dict[str, Any], agent_id: str) -> dict[str, Any]:
    """An earlier call as the desktop shows it: the recording link only where the agent may open it (R28:
    an agent hears only the calls they took; ``/recordings/{id}`` checks it again and audits the view)."""
    out = {k: v for k, v in asdict(h).items() if k not in ("recording_id", "recording_agent")}
    out["agent_name"] = names.get(h.agent or "", h.agent)
    mine = agent_id in (h.agent, h.recording_agent)
    out["recording_url"] = f"/recordings/{h.recording_id}" if h.recording_id is not None and mine else None
    return out


def _queue_choice(request: web.Request, me: dict[str, Any]) -> list[dict[str, Any]]:
    """The agent's configured queues with the sign-in choice: ``on`` (worked now) and ``optional`` (the
    agent may leave it out: ``optional: true`` in queues.yaml)."""
    configs = request.app[LIVE].queues()
    on = [str(q) for q in me.get("queues") or []]
    off = [str(q) for q in me.get("skipped") or []]
    out = []
    for name in on + off:
        conf = configs.get(name)
        out.append({"name": name, "on": name in on,
                    "optional": bool(conf.optional) if isinstance(conf, QueueConfig) else False})
    return out


def _place(agents: dict[str, Any], agent_id: str) -> dict[str, int] | None:
    """The agent's place in the least-talked-today order among the agents signed in now (the core's talk
    seconds, the figures least_talked_today distributes by): 1 = talked least."""
    me = agents.get(agent_id)
    if not isinstance(me, dict) or me.get("state") in (None, "logged_out"):
        return None
    on = [(float(a.get("talk_today_s") or 0.0), aid) for aid, a in agents.items()
          if isinstance(a, dict) and a.get("state") not in (None, "logged_out")]
    on.sort()
    return {"place": 1 + [aid for _, aid in on].index(agent_id), "of": len(on)}


def _script(conf: QueueConfig | None, language: str | None) -> str | None:
    """The agent script in the call's language (``scripts``), else the queue's ``script``."""
    if conf is None:
        return None
    return conf.scripts.get(language or "") or conf.script


async def build_state(request: web.Request, agent_id: str) -> dict[str, Any]:
    """Everything the desktop shows, as JSON: the agent, today's figures, and the current call."""
    engine = request.app[ENGINE]
    snap = engine.snapshot()
    agents = snap.get("agents") or {}
    me = agents.get(agent_id)
    if me is None:
        raise ApiError(404, f"unknown agent {agent_id!r}")
    state = str(me.get("state") or "logged_out")
    names = {a: (v.get("name") or a) for a, v in agents.items() if isinstance(v, dict)}
    call: dict[str, Any] | None = None
    hub = request.app[LIVE]
    card = hub.current_call(agent_id) if state in CALL_STATES else None
    if card is None and state in CALL_STATES and me.get("call_id"):
        card = hub.card(str(me["call_id"]))  # e.g. after a daemon restart: what the snapshot knows
        card.agent = agent_id
    if card is not None:
        live = _live_call(snap, card.call_id)
        card.caller = card.caller or live.get("caller")
        card.dialled = card.dialled or live.get("dialled")
        card.queue = card.queue or live.get("queue") or me.get("queue")
        language = live.get("language") or card.language
        region, carrier = request.app[REGIONS].lookup(normalise_number(card.caller))
        history = await _history(request, card)
        times = hub.queues().get(card.queue or "")
        if times is not None:  # the queue may be known only after the offer (the core offers at once)
            card.ring_timeout_s = card.ring_timeout_s or times.ring_timeout_s
            card.wrapup_s = card.wrapup_s or times.wrapup_s
        queue_conf = times if isinstance(times, QueueConfig) else None
        call = {k: v for k, v in asdict(card).items() if k != "history"}
        call.update(
            caller=normalise_number(card.caller) or card.caller,
            language=language, region=region, carrier=carrier,
            history=[_history_json(h, names, agent_id) for h in history],
            ring_deadline=(card.ring_started_at + card.ring_timeout_s
                           if card.ring_started_at is not None and card.ring_timeout_s else None),
            wrapup_deadline=me.get("wrapup_due") or (
                card.wrapup_started_at + card.wrapup_s
                if card.wrapup_started_at is not None and card.wrapup_s else None),
            control=_control(request, live, names) if state == "on_call" else None,
            script_html=render_script(_script(queue_conf, language)),
            topics=list(queue_conf.topics) if queue_conf is not None else [],
            results=list(queue_conf.results) if queue_conf is not None else [],
            topic_required=bool(queue_conf.topic_required) if queue_conf is not None else False,
            wrapup_extend_s=queue_conf.wrapup_extend_s if queue_conf is not None else 0.0,
            wrapup_extended=bool(me.get("wrapup_extended")),
        )
    return {
        "agent": {"id": agent_id, "name": me.get("name") or agent_id, "state": state,
                  "reason": me.get("reason"), "since": me.get("since"), "reachable": me.get("reachable"),
                  "queues": _queue_choice(request, me)},
        "now": request.app[CLOCK](),
        "reasons": list(engine.not_ready_reasons()),
        "today": {"calls": int(me.get("calls_today") or 0), "talk_s": float(me.get("talk_today_s") or 0.0),
                  "rank": _place(agents, agent_id)},
        "call": call,
        "targets": _targets(request, agents, agent_id) if state == "on_call" else None,
        "callback_offer": offers.view(agent_id)  # acd/web/callback_offers.py
        if state == "ready" and (offers := request.app.get(OFFERS)) is not None else None,
    }


@route("GET", "/agent", roles={"agent"}, page=True)
async def my_desktop(request: web.Request, user: Principal | None) -> web.StreamResponse:
    assert user is not None
    if not user.agent:
        raise PageError(403, "this user has no agent id")
    raise web.HTTPSeeOther(f"/agent/{user.agent}")


@route("GET", "/agent/{id}", roles={"agent"}, page=True)
async def desktop_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    agent_id = request.match_info["id"]
    who = _own(user, agent_id, page=True)
    session = request.get(WEB_SESSION)
    try:
        state = await build_state(request, agent_id)
    except ApiError as exc:
        raise PageError(exc.status, exc.message) from exc
    boot = orjson.dumps({"agent": agent_id, "user": who.name, "state": state}).decode()
    boot = boot.replace("<", "\\u003c")  # never a "</script>" inside the JSON block
    embedded = softphone_embedded(request, agent_id)
    response = render(request, "desktop.html", user=who, agent_id=agent_id, boot=boot,
                      csrf=session.csrf if session else "", state=state, softphone=embedded)
    if embedded:
        allow_softphone_socket(request, response)
    return response


@route("GET", "/api/agents/{id}/desktop", roles={"agent", "supervisor", "admin"})
async def desktop_state(request: web.Request, user: Principal | None) -> web.Response:
    agent_id = request.match_info["id"]
    _own(user, agent_id)
    return json_response(await build_state(request, agent_id))


async def _still_signed_in(request: web.Request) -> bool:
    """A cookie-authenticated socket ends when its session does (log-out everywhere, user disabled)."""
    if request.get(WEB_SESSION) is None:
        return True
    store = request.app.get(ACCOUNTS)
    token = request.cookies.get(COOKIE)
    return store is not None and token is not None and await store.session(token) is not None


@route("GET", "/api/agents/{id}/live", roles={"agent", "supervisor", "admin"})
async def live_socket(request: web.Request, user: Principal | None) -> web.StreamResponse:
    agent_id = request.match_info["id"]
    _own(user, agent_id)
    origin = request.headers.get("Origin")
    if origin is not None and origin.split("://", 1)[-1] != request.host:
        raise ApiError(403, "cross-site WebSocket refused")
    await build_state(request, agent_id)  # 404 for an unknown agent, before the upgrade
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    hub = request.app[LIVE]
    with hub.subscribe(agent_id) as sub:
        reader = asyncio.create_task(_drain(ws, lambda: hub.wake(agent_id)))
        try:
            sent = await _send_state(ws, request, agent_id)
            quiet = 0.0
            while not reader.done():
                waiter = asyncio.create_task(sub.wait())
                consulting = bool(((sent.get("call") or {}).get("control") or {}).get("consult"))
                timeout = CONSULT_CHECK_S if consulting else SESSION_CHECK_S
                done, _ = await asyncio.wait({reader, waiter}, timeout=timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    waiter.cancel()
                    break
                if waiter not in done and consulting:
                    waiter.cancel()
                    fresh = await build_state(request, agent_id)
                    if _differs(fresh, sent):
                        sent = await _send_state(ws, request, agent_id, fresh)
                    quiet += timeout
                    if quiet < SESSION_CHECK_S:
                        continue
                if waiter not in done:  # quiet for a while: is the session still there?
                    waiter.cancel()
                    quiet = 0.0
                    if not await _still_signed_in(request):
                        await ws.close(code=4401, message=b"signed out")
                        break
                    continue
                if not await _still_signed_in(request):
                    await ws.close(code=4401, message=b"signed out")
                    break
                sent = await _send_state(ws, request, agent_id)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
    return ws


def _differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two states differ in more than the server's clock."""
    return {k: v for k, v in a.items() if k != "now"} != {k: v for k, v in b.items() if k != "now"}


async def _send_state(ws: web.WebSocketResponse, request: web.Request, agent_id: str,
                      state: dict[str, Any] | None = None) -> dict[str, Any]:
    sent = state if state is not None else await build_state(request, agent_id)
    await ws.send_str(dumps({"type": "state", "state": sent}).decode())
    return sent


async def _drain(ws: web.WebSocketResponse, refresh: Callable[[], None]) -> None:
    """Reading keeps pings answered and notices a close. The page sends ``refresh`` after a call-control
    command succeeded: hold or a consultation starting writes no CDR event, so nothing else would wake
    the agent's sockets (all their tabs, not only the one that clicked)."""
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break
        if msg.type == WSMsgType.TEXT and msg.data == "refresh":
            refresh()


# ---- the agent's day: queue choice, more wrap-up time, the personal panel (issue 13) -------------------
@route("POST", "/api/agents/{id}/queues", roles={"agent", "supervisor", "admin"})
async def choose_queues(request: web.Request, user: Principal | None) -> web.Response:
    """``{"queues": ["general", ...]}``: the queues the agent works today, chosen at sign-in. Only queues
    marked ``optional`` may be left out (422 otherwise); the choice lasts until the agent logs out."""
    agent_id = request.match_info["id"]
    who = _own(user, agent_id)
    data = await read_json_object(request)
    raw = data.get("queues")
    if not isinstance(raw, list) or not all(isinstance(q, str) and 0 < len(q) <= 64 for q in raw):
        raise bad_request("queues", "expected a list of queue names")
    try:
        await request.app[ENGINE].set_agent_queues(agent_id, [str(q) for q in raw],
                                                   None if who.role == "agent" else who.name)
    except KeyError as exc:
        raise ApiError(404, f"unknown agent {agent_id!r}") from exc
    except ValueError as exc:
        raise ApiError(422, str(exc), field="queues") from exc
    request.app[LIVE].wake(agent_id)
    board = request.app.get(BOARD)
    if board is not None:
        board.poke()  # the wallboard shows the agent's queues
    me = request.app[ENGINE].snapshot().get("agents", {}).get(agent_id, {})
    return json_response({"agent": agent_id, "queues": me.get("queues"), "skipped": me.get("skipped")})


@route("POST", "/api/agents/{id}/wrapup/extend", roles={"agent"})
async def extend_wrapup(request: web.Request, user: Principal | None) -> web.Response:
    """More time in wrap-up (the queue's ``wrapup_extend_s``, once per call); 409 when not allowed."""
    agent_id = request.match_info["id"]
    _own(user, agent_id)
    try:
        due = await request.app[ENGINE].extend_wrapup(agent_id)
    except KeyError as exc:
        raise ApiError(404, f"unknown agent {agent_id!r}") from exc
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    request.app[LIVE].wake(agent_id)
    return json_response({"agent": agent_id, "wrapup_until": due})


PANEL_RECORDINGS = 20


@route("GET", "/api/agents/{id}/panel", roles={"agent", "supervisor", "admin"})
async def personal_panel(request: web.Request, user: Principal | None) -> web.Response:
    """The personal panel: callbacks assigned to the agent (open, by due time; a list only) and their own
    recordings of today with a player link and their QA scores. The recordings are searched as the
    recordings API does (an agent sees only the calls they took; a ``search`` row in recording_access_log,
    R28); the page reads this when it opens and after each call, never on a timer."""
    agent_id = request.match_info["id"]
    who = _own(user, agent_id)
    db = request.app[DB]
    body: dict[str, Any] = {"callbacks": [], "recordings": []}
    if db is None:
        return json_response(body)
    from outbound import callback_store
    from recording import store
    from recording.audit import record_access
    from recording.evaluations import evaluations_of

    settings = request.app[SETTINGS]
    cbs = await callback_store.listing(db, agent=agent_id, status="open", limit=50)
    body["callbacks"] = [{k: cb.get(k) for k in ("id", "number", "due_at", "kind", "topic", "comment",
                                                  "attempts", "next_attempt_at")} for cb in cbs]
    today = datetime.fromtimestamp(request.app[CLOCK](), settings.tz).date()
    flt = store.SearchFilter(date_from=today, date_to=today, agent=agent_id, only_agent=agent_id,
                             limit=PANEL_RECORDINGS)
    await record_access(db, user=who.name, role=who.role, action="search", at=now_utc(request),
                        remote=remote_of(request),
                        detail="desktop panel " + " ".join(f"{k}={v}" for k, v in flt.as_dict().items()))
    for row in await store.search(db, flt, settings.tz):
        evals = await evaluations_of(db, recording_id=row["id"])
        body["recordings"].append({
            "id": row["id"], "call_id": row["call_id"], "caller": row.get("caller"),
            "topic": row.get("topic"), "started_at": row.get("started_at"),
            "duration_s": row.get("duration_s"),
            "status": row.get("status"), "url": f"/recordings/{row['id']}",
            "qa": [{"total": e["total"], "form": e["form_id"], "dispute": e["dispute"]} for e in evals],
        })
    return json_response(body)


def region_lookup(regions: RegionLookup | None) -> RegionLookup:
    return regions or default_regions()
