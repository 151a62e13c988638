"""``python -m bench.chaos [probe ...] [--quick]`` (``make chaos``): the fault campaign of issue 12.

Each probe starts real processes (the ARI simulator ``python -m acd.ari_sim`` and the daemon ``acd run``,
``bench.chaos_rig``), makes traffic through the simulator, applies one fault from outside as it happens in
production, lets the calls finish and reads what an operator would read. It prints its figures: calls
placed, CDR rows complete and stuck, rejects, recordings rows complete and stuck, audit rows, the daemon's
resident memory, the recovery time; then the losses it found. The command exits 1 on any loss.

Probes (``--quick``: the short CI sizes, seconds to a minute each):

- ``burst``: N callers at once on M agents; every caller served once, none connected twice or cut off.
- ``stall``: the daemon frozen (SIGSTOP) past the ring time-out while the agent's phone answers (loop lag).
- ``kill9``: SIGKILL of the daemon in each phase of a call (IVR, queued, ringing, talking, wrap-up), then
  a restart; the call goes on and its rows complete.
- ``db-stop``: PostgreSQL unreachable for a while (``ACD_TEST_PG_URL``; cut through ``bench.cdr.TcpProxy``).
- ``db-lock``: the database locked (SQLite ``BEGIN IMMEDIATE`` held; PostgreSQL ``LOCK TABLE`` too when
  ``ACD_TEST_PG_URL`` is set).
- ``ws-drop`` and ``ws-flap``: the ARI WebSocket dropped once, and dropped again soon after every reconnect.
- ``fuzz``: malformed and unknown ARI events injected into the stream; the daemon stays up, /metrics, the
  log and memory stay bounded, no CDR row for a channel Asterisk does not have.
- ``range``: recordings downloaded with every form of HTTP Range; each access session audited once.

Not a section of ``python -m bench`` (that one measures speed against goals in var/bench.json; this one
counts losses and fails), so it is its own entry point.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import string
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.chaos_rig import ADMIN, SUPERVISOR, Rig, RigOptions, close_rig, open_rig, until

PHASES = ("ivr", "queued", "ringing", "talking", "wrapup", "ended-while-down")
"""Where a call is when the daemon is killed; ``ended-while-down``: killed while talking, and the call ends
before the daemon is back (its rows must be closed at start-up from what Asterisk no longer has)."""
SETTLE_S = {False: 60.0, True: 30.0}
"""Real seconds the rows get to complete after the last caller left, before they count as stuck
(``--quick``: 30)."""


@dataclass
class Figures:
    """What one probe measured; ``losses`` says what was lost or wrong (empty: the probe passed)."""

    probe: str
    calls: int = 0
    cdr_complete: int = 0
    cdr_stuck: int = 0
    rejects: int = 0
    rec_complete: int = 0
    rec_stuck: int = 0
    audit_rows: int = 0
    rss_mib: float = 0.0
    recovery_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    losses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.losses

    def line(self) -> str:
        rec = "-" if self.recovery_s is None else f"{self.recovery_s:.1f}s"
        return (f"{self.probe:<16} calls {self.calls:>4}  cdr {self.cdr_complete:>4} ok/{self.cdr_stuck} "
                f"stuck  "
                f"rejects {self.rejects}  rec {self.rec_complete} ok/{self.rec_stuck} stuck  "
                f"audit {self.audit_rows}  rss {self.rss_mib:.0f} MiB  recovery {rec}")

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


# ---- shared steps ------------------------------------------------------------------------------------
async def callers(rig: Rig) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in (await rig.sim_state())["callers"]}


async def wait_callers_gone(rig: Rig, timeout_s: float) -> bool:
    """Every placed caller has left the line (hung up, served or not). False after ``timeout_s``."""
    async def gone() -> bool:
        cs = await callers(rig)
        return all(cs[c]["ended_at"] is not None for c in rig.placed if c in cs)

    try:
        await until(gone, timeout_s, "callers still on the line")
        return True
    except TimeoutError:
        return False


async def settle(rig: Rig, f: Figures, *, line_timeout_s: float, expect_alive: bool = True) -> None:
    settle_s = SETTLE_S[rig.opts.quick]
    """Let the calls finish, then count rows (complete, stuck, fake, rejects, recordings, audit) and
    judge the common losses."""
    if not await wait_callers_gone(rig, line_timeout_s):
        cs = await callers(rig)
        left = [c for c in rig.placed if cs.get(c, {}).get("ended_at") is None]
        f.losses.append(f"{len(left)} caller(s) still on the line after {line_timeout_s:.0f} s")
    cs = await callers(rig)
    fallback = {c for c in rig.placed if cs.get(c, {}).get("fallback")}
    expected = [c for c in rig.placed if c not in fallback]
    f.calls = len(rig.placed)
    f.extra["dialplan_fallback"] = len(fallback)

    async def complete_rows() -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in await rig.rows("SELECT id, ended_at, outcome, agent, talk_s FROM calls")}

    async def all_complete() -> bool:
        rows = await complete_rows()
        return all(c in rows and rows[c]["ended_at"] is not None for c in expected)

    with contextlib.suppress(TimeoutError):
        await until(all_complete, settle_s, "CDR rows complete")

    async def no_recording() -> bool:
        return not await rig.rows("SELECT id FROM recordings WHERE status = 'recording'")

    with contextlib.suppress(TimeoutError):
        await until(no_recording, settle_s, "recordings rows complete")
    rows = await complete_rows()
    f.cdr_complete = sum(1 for c in expected if c in rows and rows[c]["ended_at"] is not None)
    f.cdr_stuck = len(expected) - f.cdr_complete
    missing = sum(1 for c in expected if c not in rows)
    fake = [r for r in rows if r not in set(rig.placed)]
    f.extra["cdr_missing"] = missing
    f.extra["fake_rows"] = len(fake)
    f.extra["outcomes"] = _count(str(r["outcome"]) for r in rows.values())
    rona = await rig.rows("SELECT coalesce(sum(ring_no_answers), 0) AS n FROM calls")
    f.extra["ring_no_answers"] = int(rona[0]["n"])
    recs = await rig.rows("SELECT call_id, status FROM recordings")
    f.rec_complete = sum(1 for r in recs if r["status"] == "done")
    f.rec_stuck = sum(1 for r in recs if r["status"] == "recording")
    answered = {c for c, r in rows.items() if r["outcome"] == "answered"}
    rec_missing = len(answered - {r["call_id"] for r in recs})
    f.extra["rec_failed"] = sum(1 for r in recs if r["status"] in ("failed", "missing"))
    f.extra["rec_missing"] = rec_missing
    f.audit_rows = (await rig.rows("SELECT count(*) AS n FROM recording_access_log"))[0]["n"]
    f.rejects = rig.rejects()
    f.rss_mib = round(rig.rss_mib(), 1)
    if f.cdr_stuck:
        f.losses.append(f"{f.cdr_stuck} CDR row(s) incomplete or missing ({missing} missing)")
    if fake:
        f.losses.append(f"{len(fake)} calls row(s) for no caller (e.g. {fake[0]})")
    if f.rejects:
        f.losses.append(f"{f.rejects} record(s) in rejects.jsonl")
    if f.rec_stuck:
        f.losses.append(f"{f.rec_stuck} recordings row(s) stuck at 'recording'")
    if rec_missing:
        f.losses.append(f"{rec_missing} answered call(s) without a recordings row")
    if expect_alive and not rig.alive():
        f.losses.append("the daemon is not running")
    await _connections(rig, f)


async def _connections(rig: Rig, f: Figures) -> None:
    """Double connects (a caller bridged with two agents' legs) and callers cut off after being connected,
    from the simulator's own record of bridges and hang-ups."""
    members: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for e in await rig.sim_events():
        if e.get("type") == "ChannelEnteredBridge":
            ch = e["channel"]
            members.setdefault(e["bridge"]["id"], set()).add(ch["id"])
            names[ch["id"]] = ch.get("name", "")
    placed = set(rig.placed)
    agents_of: dict[str, set[str]] = {}
    for chans in members.values():
        for c in chans & placed:
            legs = {x for x in chans if names.get(x, "").startswith("PJSIP/agent")}
            agents_of.setdefault(c, set()).update(legs)
    doubles = [c for c, a in agents_of.items() if len(a) > 1]
    cs = await callers(rig)
    # "control": the probe hung the caller up itself (a caller hanging up), not the daemon
    cut = [c for c in rig.placed if cs.get(c, {}).get("bridged_at") is not None
           and cs[c].get("end") not in ("talk_done", "control", None)]
    f.extra["double_connects"] = len(doubles)
    f.extra["cut_off"] = len(cut)
    if doubles:
        f.losses.append(f"{len(doubles)} caller(s) connected to two agents (e.g. {doubles[0]})")
    if cut:
        f.losses.append(f"{len(cut)} caller(s) cut off after being connected "
                        f"(e.g. {cut[0]}: {cs[cut[0]]['end']})")


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


async def _with_rig(name: str, opts: RigOptions, body: Callable[[Rig], Awaitable[Figures]],
                    keep: Path | None) -> Figures:
    """Run one probe body in a fresh rig; a body that cannot finish (a time-out, the daemon gone) is a
    probe with a loss, and the campaign goes on with the next one."""
    rig = await open_rig(opts, keep)
    started = time.monotonic()
    try:
        f = await body(rig)
    except Exception as e:
        f = Figures(name, losses=[f"probe failed: {type(e).__name__}: {e} (folder {rig.work})"])
        f.rss_mib = round(rig.rss_mib(), 1)
        f.calls = len(rig.placed)
    finally:
        await close_rig(rig, keep_files=keep is not None)
    f.extra["probe_s"] = round(time.monotonic() - started, 1)
    return f


async def steady(rig: Rig, n: int, interval_s: float, *, talk_s: float = 20.0) -> None:
    """n callers, one every ``interval_s`` real seconds, alternating Kazakh and Russian."""
    for i in range(n):
        await rig.call(talk_s=talk_s, lang="kk" if i % 2 == 0 else "ru")
        await asyncio.sleep(interval_s)


# ---- probes ------------------------------------------------------------------------------------------
async def burst(quick: bool, keep: Path | None = None, *, callers_n: int | None = None,
                agents: int | None = None) -> list[Figures]:
    """N callers at once on M agents (timers 10x faster)."""
    n = callers_n or (50 if quick else 300)
    m = agents or (10 if quick else 30)

    async def body(rig: Rig) -> Figures:
        f = Figures(f"burst-{n}x{m}")
        rng = random.Random(12)
        await rig.agents_online(answer_after_s=2.0)
        await rig.start_daemon()
        started = time.monotonic()
        await asyncio.gather(*(rig.call(talk_s=round(rng.uniform(15, 40), 1), lang=rng.choice(["kk", "ru"]))
                               for _ in range(n)))
        rss_peak = 0.0

        async def drained() -> bool:
            nonlocal rss_peak
            rss_peak = max(rss_peak, rig.rss_mib())
            cs = await callers(rig)
            return all(cs[c]["ended_at"] is not None for c in rig.placed if c in cs)

        with contextlib.suppress(TimeoutError):
            await until(drained, 60 + n * 2.0, "burst drained")
        f.recovery_s = round(time.monotonic() - started, 1)  # here: time to drain the burst
        await settle(rig, f, line_timeout_s=5)
        # Not a loss: an agent whose phone rang past ring_timeout_s is made not ready (RONA), which is the
        # rule, even when the ring was long only because the machine lagged; the figure shows the lag.
        agents_state = (await rig.api_get("/api/agents"))["agents"]
        f.extra |= {"agents": m, "drain_s": f.recovery_s, "rss_peak_mib": round(rss_peak, 1),
                    "agents_not_ready": sum(1 for s in agents_state.values() if s["state"] == "not_ready")}
        return f

    return [await _with_rig(f"burst-{n}x{m}", RigOptions(quick=quick, agents=m, speed=10), body, keep)]


async def kill9(quick: bool, keep: Path | None = None, *, phases: tuple[str, ...] = PHASES) -> list[Figures]:
    """SIGKILL of the daemon in each phase of a call, then a restart (one rig per phase)."""
    return [await _with_rig(f"kill9-{phase}", RigOptions(quick=quick, agents=2, speed=10, wrapup_s=60),
                            _kill_in(phase), keep)
            for phase in phases]


def _kill_in(phase: str) -> Callable[[Rig], Awaitable[Figures]]:
    async def body(rig: Rig) -> Figures:
        f = Figures(f"kill9-{phase}")
        answer_after = 8.0 if phase == "ringing" else 2.0
        await rig.agents_online(answer_after_s=answer_after)
        await rig.start_daemon()
        if phase == "queued":  # both agents busy with long calls, the third caller waits
            for _ in range(2):
                await rig.call(talk_s=80)
        talk_s = {"wrapup": 10.0, "ended-while-down": 20.0, "talking": 120.0}.get(phase, 40.0)
        target = await rig.call(talk_s=talk_s)
        await until(_phase_reached(rig, phase, target), 60, f"the call never reached {phase}")
        killed = time.monotonic()
        await rig.kill_daemon()
        if phase == "ended-while-down":
            await until(_caller_gone(rig, target), 60, "the call did not end while the daemon was down")
        await rig.start_daemon()
        f.recovery_s = round(time.monotonic() - killed, 2)
        await settle(rig, f, line_timeout_s=120)
        agents_state = (await rig.api_get("/api/agents"))["agents"]

        async def agents_ready() -> bool:
            nonlocal agents_state
            agents_state = (await rig.api_get("/api/agents"))["agents"]
            return all(s["state"] == "ready" for s in agents_state.values())

        with contextlib.suppress(TimeoutError):
            await until(agents_ready, 30, "agents ready again")
        not_ready = {a: s["state"] for a, s in agents_state.items() if s["state"] != "ready"}
        answered = (await rig.rows("SELECT count(*) AS n FROM calls WHERE outcome = 'answered'"))[0]["n"]
        counted = sum(int(s.get("calls_today") or 0) for s in agents_state.values())
        f.extra |= {"agents_not_ready": not_ready, "calls_today": counted, "cdr_answered": answered}
        if not_ready:
            f.losses.append(f"agent(s) not ready after the restart: {not_ready}")
        if counted != answered:
            f.losses.append(f"/api/agents counts {counted} calls today, the CDR {answered}")
        return f

    return body


def _caller_gone(rig: Rig, call: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await callers(rig))[call]["ended_at"] is not None

    return check


def _phase_reached(rig: Rig, phase: str, call: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        st = await rig.sim_state()
        me = next(c for c in st["callers"] if c["id"] == call)
        if phase == "ivr":
            return bool(me["state"] == "waiting")
        if phase == "queued":
            q = (await rig.api_get("/api/queues"))["queues"]
            return any(v.get("waiting", 0) >= 1 for v in q.values())
        if phase == "ringing":
            return any(ch["name"].startswith("PJSIP/agent") and ch["state"] == "Ringing"
                       for ch in st["channels"])
        if phase in ("talking", "ended-while-down"):
            return bool(me["state"] == "talking")
        agents = (await rig.api_get("/api/agents"))["agents"]  # wrapup
        return me["ended_at"] is not None and any(a["state"] == "wrap_up" for a in agents.values())

    return check


async def stall(quick: bool, keep: Path | None = None) -> list[Figures]:
    """The daemon's event loop lags past the ring time-out while an agent's phone rings (SIGSTOP for 3 s,
    then SIGCONT: what a 1,000-caller burst does to a busy machine, made exact); the phone answers during
    the stall. One truth must come out: the late answer connected and the ring time-out cancelled, or the
    late leg hung up; never both, never a caller connected to two agents. Which of the two the resumed
    loop handles first is up to asyncio's scheduling, so the fault shows in about one run of five."""

    async def body(rig: Rig) -> Figures:
        f = Figures("stall-ringing")
        await rig.agents_online(answer_after_s=8.0)  # answers in 0.8 s real; ring_timeout_s 15 = 1.5 s
        await rig.start_daemon()
        target = await rig.call(talk_s=30)
        await until(_phase_reached(rig, "ringing", target), 60, "the call never rang an agent")
        assert rig.daemon is not None
        rig.daemon.send_signal(signal.SIGSTOP)
        await asyncio.sleep(3.0)
        rig.daemon.send_signal(signal.SIGCONT)
        stalled = time.monotonic()
        await rig.wait_ari_connected(60)
        f.recovery_s = round(time.monotonic() - stalled, 2)
        await settle(rig, f, line_timeout_s=120)
        agents_state = (await rig.api_get("/api/agents"))["agents"]
        f.extra["agent_states"] = {a: s["state"] for a, s in agents_state.items()}
        return f

    return [await _with_rig("stall-ringing", RigOptions(quick=quick, agents=2), body, keep)]


async def _db_outage(rig: Rig, f: Figures, *, outage_s: float, calls_n: int,
                     start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
    """Steady traffic; the fault from ``start`` for ``outage_s`` in its middle; then settle. Recovery: from
    the fault's end to /health saying the database is writable again."""
    await rig.agents_online()
    await rig.start_daemon()
    interval = max(0.2, (outage_s + 10) / calls_n)
    traffic = asyncio.create_task(steady(rig, calls_n, interval))
    await asyncio.sleep(5)
    await start()
    degraded = False
    spooled = 0.0

    async def said_degraded() -> bool:
        nonlocal degraded, spooled
        h = await rig.health()
        degraded = degraded or h.get("db_writable") is False or h.get("db_reachable") is False
        spooled = max(spooled, await rig.metric("acd_cdr_spooled"))
        return False

    fault_end = time.monotonic() + outage_s
    while time.monotonic() < fault_end:
        await said_degraded()
        await asyncio.sleep(0.5)
    await stop()
    ended = time.monotonic()

    async def writable() -> bool:
        h = await rig.health()
        return h.get("http_status") == 200 and h.get("db_writable") is not False

    with contextlib.suppress(TimeoutError):
        await until(writable, 120, "the database writable again")
    f.recovery_s = round(time.monotonic() - ended, 2)
    await traffic
    await settle(rig, f, line_timeout_s=120)
    f.extra["outage_s"] = outage_s
    f.extra["health_said_degraded"] = degraded
    f.extra["max_spooled"] = int(spooled)


async def db_lock(quick: bool, keep: Path | None = None,
                  databases: tuple[str, ...] = ("sqlite", "pg")) -> list[Figures]:
    """The database locked: SQLite's writer lock held (``BEGIN IMMEDIATE``); PostgreSQL's tables locked
    (``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE``) when ``ACD_TEST_PG_URL`` is set."""
    outage = 5.0 if quick else 30.0
    n = 20 if quick else 60
    out = []

    async def sqlite_body(rig: Rig) -> Figures:
        f = Figures("db-lock-sqlite")
        path = rig.db_url.split("///", 1)[1]
        holder: list[sqlite3.Connection] = []

        async def lock() -> None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")
            holder.append(conn)

        async def unlock() -> None:
            holder[0].execute("ROLLBACK")
            holder[0].close()

        await _db_outage(rig, f, outage_s=outage, calls_n=n, start=lock, stop=unlock)
        return f

    if "sqlite" in databases:
        out.append(await _with_rig("db-lock-sqlite", RigOptions(quick=quick), sqlite_body, keep))
    pg = os.environ.get("ACD_TEST_PG_URL")
    if pg and "pg" in databases:
        opts = RigOptions(quick=quick, db_url=pg)
        out.append(await _with_rig("db-lock-pg", opts, _pg_lock_body(outage, n), keep))
    return out


def _pg_lock_body(outage: float, n: int) -> Callable[[Rig], Awaitable[Figures]]:
    async def body(rig: Rig) -> Figures:
        from cdr.db import make_engine

        f = Figures("db-lock-pg")
        locker = make_engine(rig.db_url)
        held: list[Any] = []

        async def lock() -> None:
            conn = await locker.connect()
            await conn.begin()
            from sqlalchemy import text

            await conn.execute(text("LOCK TABLE call_events, calls, recordings IN ACCESS EXCLUSIVE MODE"))
            held.append(conn)

        async def unlock() -> None:
            await held[0].rollback()
            await held[0].close()

        try:
            await _db_outage(rig, f, outage_s=outage, calls_n=n, start=lock, stop=unlock)
        finally:
            await locker.dispose()
        return f

    return body


async def db_stop(quick: bool, keep: Path | None = None) -> list[Figures]:
    """PostgreSQL unreachable (every connection cut, new ones refused) for a while, as when the server is
    stopped; needs ``ACD_TEST_PG_URL`` (``bash scripts/start-postgres.sh`` prints one)."""
    pg = os.environ.get("ACD_TEST_PG_URL")
    if not pg:
        return [Figures("db-stop-pg", extra={"skipped": "ACD_TEST_PG_URL is not set"})]
    outage = 5.0 if quick else 45.0

    async def body(rig: Rig) -> Figures:
        f = Figures("db-stop-pg")
        assert rig.db_proxy is not None
        proxy = rig.db_proxy
        await _db_outage(rig, f, outage_s=outage, calls_n=20 if quick else 60, start=proxy.close,
                         stop=proxy.open)
        return f

    return [await _with_rig("db-stop-pg", RigOptions(quick=quick, db_url=pg, db_proxy=True), body, keep)]


async def ws_drop(quick: bool, keep: Path | None = None) -> list[Figures]:
    """The ARI WebSocket dropped once in the middle of traffic, while five or more callers talk; they hang
    up in the gap (the resync then meets their agents' legs being hung up)."""
    body = _ws_body("ws-drop", flap_s=0.0, n=20 if quick else 60, hang_up_in_gap=True)
    return [await _with_rig("ws-drop", RigOptions(quick=quick), body, keep)]


async def ws_flap(quick: bool, keep: Path | None = None) -> list[Figures]:
    """The ARI WebSocket dropped 1.5 s after each reconnect, for a while (flapping)."""
    body = _ws_body("ws-flap", flap_s=6.0 if quick else 20.0, n=20 if quick else 60)
    return [await _with_rig("ws-flap", RigOptions(quick=quick), body, keep)]


def _talking(rig: Rig, at_least: int) -> Callable[[], Awaitable[list[str]]]:
    async def check() -> list[str]:
        cs = await callers(rig)
        found = [c for c in rig.placed if cs.get(c, {}).get("state") == "talking"]
        return found if len(found) >= at_least else []

    return check


def _ws_body(name: str, *, flap_s: float, n: int, hang_up_in_gap: bool = False
             ) -> Callable[[Rig], Awaitable[Figures]]:
    async def body(rig: Rig) -> Figures:
        f = Figures(name)
        await rig.agents_online()
        await rig.start_daemon()
        traffic = asyncio.create_task(steady(rig, n, max(0.2, (flap_s + 10) / n), talk_s=30))
        await asyncio.sleep(4)
        recoveries: list[float] = []
        talking: list[str] = []
        if hang_up_in_gap:
            with contextlib.suppress(TimeoutError):
                talking = await until(_talking(rig, 5), 30, "callers talking")
        end = time.monotonic() + flap_s
        while True:
            await rig.ws_drop()
            dropped = time.monotonic()
            # callers who hang up in the gap: the resync finds their agents' legs still up, being hung up
            await asyncio.gather(*(rig.hangup(c) for c in talking))
            talking = []
            await asyncio.sleep(0.2)  # the daemon notices the close
            await rig.wait_ari_connected(60)
            recoveries.append(round(time.monotonic() - dropped, 2))
            if time.monotonic() >= end:
                break
            await asyncio.sleep(1.5)
        f.recovery_s = max(recoveries)
        f.extra["drops"] = len(recoveries)
        f.extra["recoveries_s"] = recoveries
        await traffic
        await settle(rig, f, line_timeout_s=120)
        # talk time of calls against the simulator's truth (bridged -> ended on the caller's side)
        cs = await callers(rig)
        rows = {r["id"]: r for r in await rig.rows("SELECT id, talk_s FROM calls WHERE talk_s IS NOT NULL")}
        errors = [abs(float(rows[c]["talk_s"]) - (cs[c]["ended_at"] - cs[c]["bridged_at"]))
                  for c in rows if c in cs and cs[c].get("bridged_at") is not None and cs[c]["ended_at"]]
        worst = round(max(errors, default=0.0), 1)
        f.extra["talk_s_worst_error"] = worst
        # At 10x a real 0.3 s of event latency is 3 virtual seconds: only an error beyond 15 s says a gap
        # was counted as talk (issue 12 item 7: a 60 s call recorded as 212 s).
        if worst > 15.0:
            f.losses.append(f"a call's talk_s is off by {worst} s (the gap counted as talk)")
        return f

    return body


def fuzz_messages(n: int, seed: int = 7) -> list[str]:
    """Hostile ARI frames: broken JSON, non-objects, unknown types (random names), known types with
    missing or wrongly typed fields, StasisStart for channels Asterisk does not have, huge strings."""
    rng = random.Random(seed)

    def word(k: int) -> str:
        return "".join(rng.choice(string.ascii_letters) for _ in range(k))

    known = ["StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelStateChange", "ChannelDtmfReceived",
             "PlaybackFinished", "RecordingFinished", "ChannelEnteredBridge", "ChannelLeftBridge",
             "EndpointStateChange", "ChannelHangupRequest", "ChannelVarset"]
    out: list[str] = []
    for i in range(n):
        kind = i % 8
        if kind == 0:
            out.append("{" + word(rng.randint(1, 40)))  # broken JSON
        elif kind == 1:
            out.append(orjson.dumps(rng.choice([[1, 2], "x", 42, None, True])).decode())
        elif kind == 2:
            out.append(orjson.dumps({"type": word(rng.randint(3, 30)), "application": "acd"}).decode())
        elif kind == 3:
            out.append(orjson.dumps({"type": rng.choice(known), "application": "acd"}).decode())
        elif kind == 4:
            out.append(orjson.dumps({"type": rng.choice(known), "application": "acd",
                                     "channel": rng.choice([None, 5, "x", [], {"id": 7}]),
                                     "timestamp": word(5)}).decode())
        elif kind == 5:
            cid = f"fuzz.{i}"
            out.append(orjson.dumps({
                "type": "StasisStart", "application": "acd", "args": ["inbound", "193"],
                "timestamp": "2026-11-30T05:00:00.000+0000",
                "channel": {"id": cid, "name": f"PJSIP/trunk-{i:08x}", "state": "Ring",
                            "caller": {"name": "", "number": "77019999999"}, "connected": {},
                            "dialplan": {"context": "from-trunk", "exten": "193", "priority": 2},
                            "creationtime": "2026-11-30T05:00:00.000+0000", "language": "kk"}}).decode())
        elif kind == 6:
            out.append(orjson.dumps({"type": word(8) * 2000, "reason": "x" * 100_000}).decode())
        else:
            deep: Any = {}
            for _ in range(200):
                deep = {"a": deep}
            out.append(orjson.dumps({"type": "ChannelVarset", "application": "acd", "variable": deep,
                                     "channel": {"id": word(20)}}).decode())
    return out


async def fuzz(quick: bool, keep: Path | None = None, *, messages: int | None = None) -> list[Figures]:
    """Hostile events injected into the ARI stream while real calls run."""
    n = messages or (2_000 if quick else 30_000)

    async def body(rig: Rig) -> Figures:
        f = Figures(f"fuzz-{n}")
        assert rig.ari_proxy is not None
        await rig.agents_online()
        await rig.start_daemon()
        metrics_before = await rig.metrics_bytes()
        log_before = rig.daemon_log.stat().st_size
        rss_before = rig.rss_mib()
        traffic = asyncio.create_task(steady(rig, 10, 0.5))
        sent = 0
        for i, msg in enumerate(fuzz_messages(n)):
            sent += await rig.ari_proxy.inject(msg)
            if i % 200 == 199:
                await asyncio.sleep(0.05)  # let the daemon breathe as a real peer's pace would
        await traffic
        await settle(rig, f, line_timeout_s=120)
        with contextlib.suppress(TimeoutError):
            await rig.wait_ari_connected(30)
        metrics_after = await rig.metrics_bytes() if rig.alive() else 0
        log_growth = rig.daemon_log.stat().st_size - log_before
        longest = max((len(line) for line in rig.daemon_log.read_bytes().splitlines()), default=0)
        f.extra |= {"injected": sent, "metrics_bytes_before": metrics_before,
                    "metrics_bytes_after": metrics_after, "log_bytes_growth": log_growth,
                    "log_bytes_per_message": round(log_growth / max(1, n), 1), "longest_log_line": longest,
                    "rss_before_mib": round(rss_before, 1)}
        if metrics_after - metrics_before > 64 * 1024:
            f.losses.append(f"/metrics grew by {metrics_after - metrics_before} bytes")
        if longest > 64 * 1024:
            f.losses.append(f"a log line of {longest} bytes")
        if log_growth > 2048 * n:
            f.losses.append(f"the log grew {log_growth} bytes for {n} messages")
        if f.rss_mib - rss_before > 64:
            f.losses.append(f"memory grew {f.rss_mib - rss_before:.0f} MiB")
        return f

    return [await _with_rig(f"fuzz-{n}", RigOptions(quick=quick, ari_proxy=True), body, keep)]


RANGES = [None, "bytes=0-43", "bytes=0-", "bytes=1-", "bytes=44-", "bytes=-100000000", "bytes=-100",
          "bytes=100-200", "bytes=0-1,5-6", "bytes=abc", "bytes=99999999-", "bytes=44-43"]
"""Every form a player or a scraper may send; the first request of each access session must be audited."""


async def range_probe(quick: bool, keep: Path | None = None) -> list[Figures]:
    """Recordings downloaded with every Range form: each form opens a fresh access session (another user,
    action or file) and is sent twice (a seek); the session must have exactly one audit row."""

    async def body(rig: Rig) -> Figures:
        f = Figures("range")
        await rig.agents_online()
        await rig.start_daemon()
        for i in range(3):
            await rig.call(talk_s=15, lang="kk" if i % 2 else "ru")
        await settle(rig, f, line_timeout_s=120)
        recs = (await rig.api_get("/api/recordings"))["recordings"]
        sessions = [(user, token, action, rec["id"]) for rec in recs
                    for user, token in (("supervisor", SUPERVISOR), ("admin", ADMIN))
                    for action in ("listen", "download")]
        unaudited, doubled, served = [], [], 0
        statuses: dict[str, int] = {}
        for form, (user, token, action, rec_id) in zip(RANGES, sessions, strict=False):
            headers = {"Authorization": f"Bearer {token}"} | ({"Range": form} if form else {})
            url = f"{rig.api}/api/recordings/{rec_id}/audio" + ("?download=1" if action == "download" else "")
            got = 0
            for _ in range(2):
                async with rig.http.get(url, headers=headers) as r:
                    body_bytes = await r.read()
                    statuses[form or "(none)"] = r.status
                    if r.status in (200, 206):
                        got += len(body_bytes)
            audits = (await rig.rows(
                "SELECT count(*) AS n FROM recording_access_log WHERE user_name = :u AND action = :a "
                "AND recording_id = :r", u=user, a=action, r=rec_id))[0]["n"]
            served += got > 0
            if got and audits == 0:
                unaudited.append(form or "(none)")
            if audits > 1:
                doubled.append(form or "(none)")
        f.audit_rows = (await rig.rows("SELECT count(*) AS n FROM recording_access_log"))[0]["n"]
        f.extra |= {"forms": min(len(RANGES), len(sessions)), "served": served, "unaudited": unaudited,
                    "audited_twice": doubled, "statuses": statuses}
        if len(sessions) < len(RANGES):
            f.losses.append(f"only {len(sessions)} fresh sessions for {len(RANGES)} Range forms")
        if unaudited:
            f.losses.append(f"audio served without an audit row for Range {', '.join(unaudited)}")
        if doubled:
            f.losses.append(f"one session audited more than once for Range {', '.join(doubled)}")
        return f

    return [await _with_rig("range", RigOptions(quick=quick), body, keep)]


PROBES: dict[str, Callable[..., Awaitable[list[Figures]]]] = {
    "burst": burst, "stall": stall, "kill9": kill9, "db-stop": db_stop, "db-lock": db_lock,
    "ws-drop": ws_drop, "ws-flap": ws_flap, "fuzz": fuzz, "range": range_probe,
}


async def campaign(names: list[str], quick: bool, keep: Path | None) -> list[Figures]:
    results: list[Figures] = []
    for name in names:
        print(f"== {name}{' (quick)' if quick else ''}", flush=True)
        started = time.monotonic()
        try:
            found = await PROBES[name](quick, keep)
        except Exception as e:  # a probe that cannot finish is a failed probe, and the campaign goes on
            found = [Figures(name, losses=[f"probe failed: {type(e).__name__}: {e}"])]
        for f in found:
            f.extra.setdefault("probe_s", round(time.monotonic() - started, 1))
            print("  " + f.line())
            print("  " + orjson.dumps(f.extra).decode())
            for loss in f.losses:
                print(f"  LOSS {loss}")
        results += found
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probes", nargs="*", help=f"probes to run (default all): {', '.join(PROBES)}")
    parser.add_argument("--quick", action="store_true", help="the short CI sizes")
    parser.add_argument("--out", type=Path, default=Path("var/chaos.json"), help="figures as JSON")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep each probe's folder (logs, database, recordings) under this directory")
    args = parser.parse_args(argv)
    unknown = [p for p in args.probes if p not in PROBES]
    if unknown:
        parser.error(f"unknown probe(s) {', '.join(unknown)}; known: {', '.join(PROBES)}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(campaign(args.probes or list(PROBES), args.quick, args.keep))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps([r.as_dict() for r in results], option=orjson.OPT_INDENT_2) + b"\n")
    lost = [r.probe for r in results if not r.ok]
    print(f"wrote {args.out}; {len(results)} probe run(s), {len(lost)} with losses"
          + (f": {', '.join(lost)}" if lost else ""))
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
