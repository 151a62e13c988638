"""The supervisor's live wallboard (issue 14, R23): the page, a TV mode behind a read-only link, live calls
and the supervisor's actions (force an agent ready or logged out, move a waiting caller), all audited.

Where the figures come from (docs/supervisor.md): the engine's snapshot (``Acd.snapshot``: waiting,
longest wait, the estimator's expected wait of the next caller, answered and lost since local midnight,
service level against the queue's ``sl_threshold_s``, agents' state, reason, since, calls and talk time
today); short-lost calls are counted here from the CDR stream (a caller who leaves the queue within the
``short_abandon_s`` of the settings). A restart does not zero the wall: the daemon reads today's answered,
lost, short-lost and service level back from the CDR at start (``today_from_cdr``; "today" is the local
day of the settings' time zone) and seeds the core's figures and this board's short-lost count with them.
The board is rebuilt from the snapshot whole, never patched, so a
browser that reconnects is right by construction.

Fan-out: the live hub (``acd.web.live``) tells the board of every CDR record; the board bumps a version
and wakes its sockets. Each socket sends the board of the newest version; the JSON of one version is
built once and shared by every socket, so 50 open wallboards cost one build per burst of events, not 50.
Durations (time in state, longest wait) tick in the browser from the ``since`` timestamps and the
server's ``now``: nothing is sent while nothing happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

import orjson
import structlog
from aiohttp import WSMsgType, web
from sqlalchemy import Column, Integer, MetaData, String, Table, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.events import CallEvent, CdrRecord
from acd.settings import Role
from acd.web.auth import Principal
from acd.web.context import CLOCK, DB, ENGINE, SETTINGS
from acd.web.errors import ApiError, PageError
from acd.web.inputs import optional_str, read_json_object, required_str
from acd.web.json import json_response
from acd.web.live import LIVE, CallCard, LiveHub
from acd.web.pages import render
from acd.web.routes import route
from acd.web.sessions import WEB_SESSION
from cdr.schema import calls
from cdr.types import UtcDateTime

log = structlog.get_logger("acd.web.wallboard")

FRAME_S = 0.1
"""At most one board this often (real seconds): a burst of changes (50 a second at peak) costs ten
boards a second, each built once and sent as the same bytes to every socket (bench ``wallboard``)."""
SUPERVISORS: frozenset[Role] = frozenset(("supervisor", "admin"))
MAX_LIVE_CALLS = 500
"""The live calls list shows at most this many (the longest waiting first)."""

metadata = MetaData()
supervisor_audit = Table(
    "supervisor_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("agent", String(64)),
    Column("call_id", String(128)),
    Column("mode", String(16)),
    Column("from_value", String(128)),
    Column("to_value", String(128)),
    Column("remote", String(64)),
)
wallboard_links = Table(
    "wallboard_links", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)


# ---- what the board needs of the daemon beyond the snapshot ------------------------------------------
@dataclass(frozen=True)
class QueueBoardConfig:
    sl_threshold_s: float
    thresholds: dict[str, float | None]
    """``acd.core.config.WallboardThresholds`` as a dict: the browser colours with it."""


@dataclass(frozen=True)
class Roster:
    queues: dict[str, QueueBoardConfig] = field(default_factory=dict)
    teams: dict[str, list[str]] = field(default_factory=dict)
    """agent id -> the agent's teams (agents.yaml ``teams``)."""
    member_of: dict[str, list[str]] = field(default_factory=dict)
    """agent id -> the queues the agent serves (the queue filter of the board)."""
    short_abandon_s: float = 5.0


class SupervisorPort(Protocol):
    """The daemon's side (``acd.daemon.EnginePortAdapter``); absent in a bare API (moves answer 503)."""

    def roster(self) -> Roster: ...

    def move_call(self, call_id: str, queue: str, *, to_head: bool, by: str) -> None:
        """ValueError with a user-facing message when refused (not waiting, unknown queue)."""
        ...


# ---- the board ---------------------------------------------------------------------------------------
class Board:
    """Wakes the open wallboards at most once per frame (``FRAME_S``) after CDR records, and builds each
    frame's JSON once for all of them (one for the supervisors' board, one for the TV mode's)."""

    def __init__(self, tz: tzinfo = UTC) -> None:
        self.tz = tz
        """The contact centre's time zone: short-lost counts restart at its midnight."""
        self.version = 0
        self.frame = 0
        self._waiters: set[asyncio.Event] = set()
        self._cached: dict[bool, tuple[int, bytes]] = {}
        self._flush_due: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._queued_at: dict[str, tuple[str, float]] = {}
        self.short_lost: dict[str, int] = {}
        self._day: str | None = None
        self.short_abandon_s = 5.0
        self.supervisor: SupervisorPort | None = None
        """The daemon's side (set by the daemon after ``create_app``); None in a bare API."""

    def observe(self, record: CdrRecord) -> None:
        if isinstance(record, CallEvent):
            self._count(record)
        self.version += 1
        if not self._waiters or self._flush_due is not None:
            return  # nobody watching, or a frame is already due: this change rides along
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - fed outside the loop (not the daemon's case)
            self._flush()
            return
        delay = max(0.0, self._last_flush + FRAME_S - loop.time())
        self._flush_due = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        self._flush_due = None
        with contextlib.suppress(RuntimeError):
            self._last_flush = asyncio.get_running_loop().time()
        self.frame += 1
        for event in self._waiters:
            event.set()

    def _roll(self, at: float) -> None:
        day = datetime.fromtimestamp(at, self.tz).date().isoformat()
        if day != self._day:
            self._day, self.short_lost = day, {}

    def seed_short_lost(self, counts: Mapping[str, int], at: float) -> None:
        """Today's short-lost calls per queue from the CDR (the daemon, at start), ``at`` being now."""
        self._roll(at)
        for queue, n in counts.items():
            self.short_lost[queue] = self.short_lost.get(queue, 0) + n

    def short_lost_today(self, now: float) -> dict[str, int]:
        """The counts, empty after local midnight even before the day's first event."""
        self._roll(now)
        return self.short_lost

    def _count(self, ev: CallEvent) -> None:
        self._roll(ev.at)
        if ev.kind == "queued":
            self._queued_at[ev.call_id] = (str(ev.data.get("queue") or ""), ev.at)
        elif ev.kind in ("connected", "left_queue"):
            self._queued_at.pop(ev.call_id, None)
        elif ev.kind == "ended":
            queued = self._queued_at.pop(ev.call_id, None)
            if queued is not None and ev.at - queued[1] < self.short_abandon_s:
                self.short_lost[queued[0]] = self.short_lost.get(queued[0], 0) + 1

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            yield event
        finally:
            self._waiters.discard(event)

    def poke(self) -> None:
        """Wake every socket now (a TV link was revoked: its sockets re-check)."""
        self._flush()

    def watchers(self) -> int:
        return len(self._waiters)

    def cached(self, build: Callable[[], dict[str, Any]], *, with_calls: bool = True) -> bytes:
        """The UTF-8 JSON of this frame, sent as a text frame as it is (no copy, no encoding per socket)."""
        hit = self._cached.get(with_calls)
        if hit is None or hit[0] != self.frame:
            hit = self._cached[with_calls] = (self.frame, orjson.dumps({"type": "board", "board": build()}))
        return hit[1]


@dataclass(frozen=True)
class TodayFigures:
    """One queue's figures of today in the CDR, in the core's terms (``Acd.seed_day_figures``): lost counts
    every hang-up in the queue, short or not; short_lost those under ``short_abandon_s`` too."""

    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    lost: int = 0
    short_lost: int = 0
    overflowed: int = 0


async def today_from_cdr(db: AsyncEngine, since_utc: float,
                         sl_threshold_s: Mapping[str, float]) -> dict[str, TodayFigures]:
    """Per queue, what the core counted today before a restart: queued calls connected since
    ``since_utc`` (local midnight), whether ended or still talking (an adopted call is not counted again
    when it ends), and those that ended lost or overflowed since then. A call within the queue's
    ``sl_threshold_s`` of waiting counts in the service level, as the core counts it."""
    c = calls.c
    since = datetime.fromtimestamp(since_utc, UTC)
    answered = c.connected_at >= since
    ended = and_(c.ended_at >= since, c.connected_at.is_(None))
    stmt = (select(c.queue, c.outcome, c.wait_s, c.queued_at, c.connected_at)
            .where(c.arrived_at >= since - timedelta(days=1),  # the index; nobody waits a day
                   c.queue.is_not(None), c.queued_at.is_not(None), c.direction == "inbound",
                   (answered) | (ended & c.outcome.in_(("abandoned", "short_abandoned", "overflowed")))))
    async with db.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    counts: dict[str, dict[str, int]] = {}
    for queue, outcome, wait_s, queued_at, connected_at in rows:
        f = counts.setdefault(str(queue), {k: 0 for k in TodayFigures.__dataclass_fields__})
        f["offered"] += 1
        if connected_at is not None and connected_at >= since:
            f["answered"] += 1
            wait = wait_s if wait_s is not None else (connected_at - queued_at).total_seconds()
            f["answered_in_sl"] += wait <= sl_threshold_s.get(str(queue), 20.0)
        elif outcome == "overflowed":
            f["overflowed"] += 1
        else:
            f["lost"] += 1
            f["short_lost"] += outcome == "short_abandoned"
    return {q: TodayFigures(**f) for q, f in counts.items()}


BOARD: web.AppKey[Board] = web.AppKey("wallboard", Board)


def install_wallboard(app: web.Application, supervisor: SupervisorPort | None = None) -> Board:
    """Called by ``create_app``; the daemon sets ``app[BOARD].supervisor`` afterwards."""
    board = Board(app[SETTINGS].tz)
    board.supervisor = supervisor
    app[BOARD] = board
    app[LIVE].observers.append(board.observe)
    return board


def _call_state(card: CallCard | None, queue: str | None, agent_state: str | None) -> str:
    if card is not None and card.connected_at is not None:
        return "wrap_up" if agent_state == "wrap_up" else "talking"
    if agent_state == "ringing":
        return "ringing"
    if queue:
        return "waiting"
    return "ivr"


def build_board(app: web.Application, *, with_calls: bool = True) -> dict[str, Any]:
    """Everything a wallboard shows, as JSON (the TV mode gets it without the callers' numbers)."""
    snap = app[ENGINE].snapshot()
    supervisor = app[BOARD].supervisor
    roster = supervisor.roster() if supervisor is not None else Roster()
    board = app[BOARD]
    board.short_abandon_s = roster.short_abandon_s
    short_lost = board.short_lost_today(app[CLOCK]())
    hub: LiveHub = app[LIVE]
    agents_snap: dict[str, Any] = snap.get("agents") or {}
    queues: list[dict[str, Any]] = []
    for name, q in sorted((snap.get("queues") or {}).items()):
        cfg = roster.queues.get(name)
        queues.append({
            "name": name,
            "waiting": int(q.get("waiting") or 0),
            "longest_wait_s": float(q.get("longest_wait_s") or 0.0),
            "ewt_s": q.get("ewt_s"), "ewt_known": bool(q.get("ewt_known")),
            "answered": int(q.get("answered_today") or 0),
            "lost": int(q.get("abandoned_today") or 0),
            "short_lost": short_lost.get(name, 0),
            "overflowed": int(q.get("overflowed_today") or 0),
            "offered": int(q.get("offered_today") or 0),
            "sl_pct": q.get("sl_pct"),
            "sl_threshold_s": cfg.sl_threshold_s if cfg else None,
            "ready": int(q.get("agents_ready") or 0), "busy": int(q.get("agents_busy") or 0),
            "logged_in": int(q.get("agents_logged_in") or 0),
            "thresholds": cfg.thresholds if cfg else {},
        })
    agents: list[dict[str, Any]] = []
    for agent_id, a in sorted(agents_snap.items()):
        if not isinstance(a, dict):
            continue
        agents.append({
            "id": agent_id, "name": a.get("name") or agent_id, "state": a.get("state") or "logged_out",
            "reason": a.get("reason"), "since": a.get("since"), "reachable": a.get("reachable"),
            "calls": int(a.get("calls_today") or 0), "talk_s": float(a.get("talk_today_s") or 0.0),
            "queue": a.get("queue"), "call_id": a.get("call_id"),
            "teams": roster.teams.get(agent_id, []),
            # the queues chosen at sign-in (the core's membership), else the configured ones
            "queues": list(a["queues"]) if isinstance(a.get("queues"), list)
            else roster.member_of.get(agent_id, []),
        })
    body: dict[str, Any] = {"now": app[CLOCK](), "queues": queues, "agents": agents,
                            "teams": sorted({t for ts in roster.teams.values() for t in ts})}
    if with_calls:
        body["calls"] = _live_calls(snap, hub, agents_snap)
    return body


def _live_calls(snap: dict[str, Any], hub: LiveHub, agents: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = snap.get("calls") or []
    items = raw.values() if isinstance(raw, dict) else raw
    by_call = {str(a.get("call_id")): (aid, a) for aid, a in agents.items()
               if isinstance(a, dict) and a.get("call_id")}
    out: list[dict[str, Any]] = []
    for c in items:
        if not isinstance(c, dict) or not c.get("id"):
            continue
        call_id = str(c["id"])
        card = hub.cards.get(call_id)
        agent_id, agent = by_call.get(call_id, (None, None))
        agent_id = agent_id or (card.agent if card else None)
        queue = c.get("queue") or (card.queue if card else None)
        state = _call_state(card, queue, agent.get("state") if agent else None)
        row = {
            "id": call_id, "caller": c.get("caller") or (card.caller if card else None),
            "queue": queue, "agent": agent_id,
            "agent_name": (agent or {}).get("name") or agent_id, "state": state,
            "arrived_at": card.arrived_at if card else None,
            "queued_at": card.queued_at if card else None,
            "connected_at": card.connected_at if card else None,
        }
        out.append({k: v for k, v in row.items() if v is not None})  # 500 waiting: a smaller frame
    out.sort(key=lambda c: c.get("arrived_at") or 0.0)
    return out[:MAX_LIVE_CALLS]


# ---- audit and TV links -------------------------------------------------------------------------------
async def audit(request: web.Request, user: str, action: str, *, agent: str | None = None,
                call_id: str | None = None, mode: str | None = None, from_value: str | None = None,
                to_value: str | None = None) -> None:
    db = request.app[DB]
    if db is None:
        return
    at = datetime.fromtimestamp(request.app[CLOCK](), UTC)
    async with db.begin() as conn:
        await conn.execute(insert(supervisor_audit).values(
            at=at, user_name=user, action=action, agent=agent, call_id=call_id, mode=mode,
            from_value=from_value, to_value=to_value, remote=request.remote))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _tv_link_valid(request: web.Request, token: str) -> bool:
    db = request.app[DB]
    if db is None or not token or len(token) > 128:
        return False
    async with db.connect() as conn:
        row = (await conn.execute(select(wallboard_links.c.revoked_at)
                                  .where(wallboard_links.c.token_hash == _hash(token)))).first()
    return row is not None and row.revoked_at is None


def _sup(user: Principal | None) -> Principal:
    assert user is not None
    return user


# ---- pages and sockets ----------------------------------------------------------------------------
def _boot(app: web.Application, data: dict[str, Any]) -> str:
    """The page's boot JSON, with the centre's time zone: the clock shows the centre's time (the board
    hangs in the centre; a supervisor abroad or a laptop on another zone must not shift it). ``tz_offset``
    (seconds east of UTC, now) is the fallback for a browser whose Intl lacks the zone."""
    tz = app[SETTINGS].tz
    offset = datetime.fromtimestamp(app[CLOCK](), tz).utcoffset() or timedelta(0)
    data = {**data, "tz": app[SETTINGS].timezone, "tz_offset": int(offset.total_seconds())}
    return orjson.dumps(data).decode().replace("<", "\\u003c")


def _listen_routes() -> bool:
    """The listen/whisper/barge buttons appear only where callctl's routes are installed."""
    from acd.web.routes import ROUTES

    return any(r.method == "POST" and r.path == "/api/calls/{id}/listen" for r in ROUTES)


@route("GET", "/wallboard", roles=SUPERVISORS, page=True)
async def wallboard_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    who = _sup(user)
    session = request.get(WEB_SESSION)
    board = build_board(request.app)
    return render(request, "wallboard.html", user=who, tv=False, csrf=session.csrf if session else "",
                  boot=_boot(request.app, {"board": board, "live": "/api/wallboard/live", "tv": False,
                              "listen": _listen_routes()}),
                  reasons=list(request.app[ENGINE].not_ready_reasons()))


@route("GET", "/tv/{token}", public=True)
async def tv_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    token = request.match_info["token"]
    if not await _tv_link_valid(request, token):
        raise PageError(403, "this wallboard link is not valid (revoked or mistyped)")
    board = build_board(request.app, with_calls=False)
    response = render(request, "wallboard.html", user=None, tv=True, csrf="", reasons=[],
                      boot=_boot(request.app, {"board": board, "live": f"/tv/{token}/live", "tv": True}))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@route("GET", "/api/wallboard", roles=SUPERVISORS)
async def wallboard_state(request: web.Request, user: Principal | None) -> web.Response:
    return json_response(build_board(request.app))


@route("GET", "/api/wallboard/live", roles=SUPERVISORS)
async def wallboard_socket(request: web.Request, user: Principal | None) -> web.StreamResponse:
    return await _socket(request, with_calls=True, still_valid=None)


@route("GET", "/tv/{token}/live", public=True)
async def tv_socket(request: web.Request, user: Principal | None) -> web.StreamResponse:
    token = request.match_info["token"]
    if not await _tv_link_valid(request, token):
        raise ApiError(403, "this wallboard link is not valid (revoked or mistyped)")

    async def valid() -> bool:
        return await _tv_link_valid(request, token)

    return await _socket(request, with_calls=False, still_valid=valid)


RECHECK_S = 30.0
"""A TV socket re-checks its link this often, and at every change: a revoked link goes dark."""


async def _socket(request: web.Request, *, with_calls: bool,
                  still_valid: Callable[[], Any] | None) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is not None and origin.split("://", 1)[-1] != request.host:
        raise ApiError(403, "cross-site WebSocket refused")
    # No per-message deflate: it would compress the same board once per socket, the fan-out's main cost
    # (bench ``wallboard``); a board is tens of kilobytes, on a LAN.
    ws = web.WebSocketResponse(heartbeat=20, compress=False)
    await ws.prepare(request)
    board = request.app[BOARD]
    app = request.app

    def frame() -> bytes:
        return board.cached(lambda: build_board(app, with_calls=with_calls), with_calls=with_calls)

    with board.watch() as wake:
        reader = asyncio.create_task(_drain(ws))
        try:
            board.frame += 1  # this socket's first board is of now, not of the last frame
            await ws.send_frame(frame(), WSMsgType.TEXT)
            while not reader.done():
                waiter = asyncio.create_task(wake.wait())
                done, _ = await asyncio.wait({reader, waiter}, timeout=RECHECK_S,
                                             return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    waiter.cancel()
                    break
                wake.clear()
                if still_valid is not None and not await still_valid():
                    await ws.close(code=4403, message=b"link revoked")
                    break
                if waiter not in done:
                    waiter.cancel()
                    continue
                await ws.send_frame(frame(), WSMsgType.TEXT)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break


# ---- actions -------------------------------------------------------------------------------------
FORCE = {"ready": "ready", "logout": "logged_out", "logged_out": "logged_out"}


@route("POST", "/api/wallboard/agents/{id}/force", roles=SUPERVISORS)
async def force_state(request: web.Request, user: Principal | None) -> web.Response:
    """R4: a supervisor forces an agent ready or logged out, through the engine's state path (by=user)."""
    who = _sup(user)
    agent_id = request.match_info["id"]
    data = await read_json_object(request)
    raw = required_str(data, "state", max_len=32)
    state = FORCE.get(raw)
    if state is None:
        raise ApiError(400, f"state: a supervisor may force ready or logout, not {raw!r}", field="state")
    engine = request.app[ENGINE]
    before = ((engine.snapshot().get("agents") or {}).get(agent_id) or {}).get("state")
    try:
        await engine.set_agent_state(agent_id, state, None, who.name)  # type: ignore[arg-type]
    except KeyError as exc:
        raise ApiError(404, f"unknown agent {agent_id!r}") from exc
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    await audit(request, who.name, "force_state", agent=agent_id, from_value=before, to_value=state)
    return json_response({"agent": agent_id, "state": state, "by": who.name})


@route("POST", "/api/wallboard/calls/{id}/move", roles=SUPERVISORS)
async def move_call(request: web.Request, user: Principal | None) -> web.Response:
    """Move a waiting caller to another queue (``queue``) and/or the head of its line (``to_head``)."""
    who = _sup(user)
    call_id = request.match_info["id"]
    data = await read_json_object(request)
    queue = optional_str(data, "queue", max_len=64)
    to_head = data.get("to_head", False)
    if not isinstance(to_head, bool):
        raise ApiError(400, "to_head: expected true or false", field="to_head")
    supervisor = request.app[BOARD].supervisor
    if supervisor is None:
        raise ApiError(503, "moving calls needs the running daemon")
    snap = request.app[ENGINE].snapshot()
    raw = snap.get("calls") or []
    items = raw.values() if isinstance(raw, dict) else raw
    current = next((c.get("queue") for c in items if isinstance(c, dict) and c.get("id") == call_id), None)
    if current is None:
        raise ApiError(404, f"no call {call_id!r} waiting in a queue")
    target = queue or str(current)
    try:
        supervisor.move_call(call_id, target, to_head=to_head, by=who.name)
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    await audit(request, who.name, "move_call", call_id=call_id, from_value=str(current),
                to_value=target + (" (head)" if to_head else ""))
    return json_response({"call": call_id, "queue": target, "to_head": to_head, "by": who.name})


# ---- TV links ------------------------------------------------------------------------------------
@route("GET", "/api/wallboard/links", roles=SUPERVISORS)
async def list_links(request: web.Request, user: Principal | None) -> web.Response:
    db = request.app[DB]
    if db is None:
        raise ApiError(503, "TV links need the database")
    async with db.connect() as conn:
        rows = (await conn.execute(select(wallboard_links).order_by(wallboard_links.c.id))).all()
    return json_response({"links": [
        {"id": r.id, "label": r.label, "created_by": r.created_by, "created_at": r.created_at,
         "revoked_at": r.revoked_at} for r in rows]})


@route("POST", "/api/wallboard/links", roles=SUPERVISORS)
async def create_link(request: web.Request, user: Principal | None) -> web.Response:
    """A read-only TV link: the token is shown once, only its hash is kept (docs/decisions/web-02)."""
    who = _sup(user)
    db = request.app[DB]
    if db is None:
        raise ApiError(503, "TV links need the database")
    data = await read_json_object(request)
    label = optional_str(data, "label", max_len=64) or "wallboard"
    token = secrets.token_urlsafe(32)
    at = datetime.fromtimestamp(request.app[CLOCK](), UTC)
    async with db.begin() as conn:
        result = await conn.execute(insert(wallboard_links).values(
            token_hash=_hash(token), label=label, created_by=who.name, created_at=at))
        link_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    await audit(request, who.name, "tv_link", to_value=label)
    return json_response({"id": link_id, "label": label, "url": f"/tv/{token}"}, status=201)


@route("DELETE", "/api/wallboard/links/{id}", roles=SUPERVISORS)
async def revoke_link(request: web.Request, user: Principal | None) -> web.Response:
    who = _sup(user)
    db = request.app[DB]
    if db is None:
        raise ApiError(503, "TV links need the database")
    try:
        link_id = int(request.match_info["id"])
    except ValueError as exc:
        raise ApiError(404, "no such link") from exc
    at = datetime.fromtimestamp(request.app[CLOCK](), UTC)
    async with db.begin() as conn:
        open_link = (wallboard_links.c.id == link_id) & wallboard_links.c.revoked_at.is_(None)
        result = await conn.execute(update(wallboard_links).where(open_link).values(revoked_at=at))
    if not result.rowcount:
        raise ApiError(404, "no such link, or already revoked")
    await audit(request, who.name, "tv_revoke", to_value=str(link_id))
    request.app[BOARD].poke()  # open TV sockets re-check their links now
    return json_response({"id": link_id, "revoked": True})

