"""``acd demo``: the ARI simulator, the real daemon and simulated traffic, over real sockets.

Three processes, as in production: the simulator stands where Asterisk would (``python -m acd.ari_sim``),
the daemon is ``acd run`` with a generated config folder under ``var/demo/``, and this process plays the
callers through the simulator's control API (``/_sim/``). Both processes share one virtual clock (start at
10:00 local today, accelerated by ``--speed``), so the tenders' business hours are open.

Traffic follows CONVENTIONS.md: Poisson arrivals, exponential handling time with a 300 s mean, patience
180 s, half Kazakh and half Russian callers, 8 agents. The load is set at 85 % of the agents' capacity.

``--by-hand`` (what ``make demo`` runs) is the demo for a person at a browser: the clock runs at wall-clock
speed, calls keep coming until Ctrl-C, and agent1 is the person's: logged out until they sign in and go
ready, with a simulated phone that rings until they press *Answer* on its web page (acd/demo_phone.py).
See docs/decisions/engine-09-demo-agent-by-hand.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.live import Live
from rich.table import Table

from acd.clock import Clock

AHT_S = 300.0
BY_HAND_AHT_S = 120.0
"""Shorter calls when a person watches at wall-clock speed: a call every ~20 s with 8 agents."""
BY_HAND_QUEUES = {"wrapup_s: 10": "wrapup_s: 45", "ring_timeout_s: 15": "ring_timeout_s: 60",
                  "ring_timeout_s: 20": "ring_timeout_s: 60"}
"""A person needs time to see the call ring, switch to the phone's tab and answer, and to pick a topic."""
BY_HAND_TOPICS = "    topics: [Tax refund, Declaration, Cash register, Certificate, Complaint]\n"
PATIENCE_S = 180.0
LOAD = 0.85
PREFIXES = ["701", "705", "747", "777", "727", "717"]
"""Mobile operators and Almaty/Astana landlines, so the regions report has something to show."""
ROOT = Path.cwd()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def demo_agents_yaml(n: int) -> str:
    """agent1..agentN: odd ones speak Kazakh and Russian, even ones one of them; the last two: second line."""
    lines = ["agents:"]
    for i in range(1, n + 1):
        langs = "[kk, ru]" if i % 2 else ("[kk]" if i % 4 == 0 else "[ru]")
        second = i > n - 2 and n >= 4
        queues = "{second_line: 1, general: 2}" if second else "{general: 1}"
        level = 3 + i % 6
        skills = f"{{general: {level}, technical: 6}}" if second else f"{{general: {level}}}"
        lines.append(
            f"  - {{id: agent{i}, name: Agent {i}, endpoint: PJSIP/agent{i}, languages: {langs}, "
            f"skills: {skills}, queues: {queues}}}"
        )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DemoUser:
    """A user of the demo's API; the token is made per run and printed, so the API can be tried at once."""

    name: str
    role: str
    token: str
    agent: str | None = None

    @property
    def token_env(self) -> str:
        return f"ACD_DEMO_TOKEN_{self.name.upper()}"


def demo_users() -> list[DemoUser]:
    """One user per role: a supervisor, an admin, a reporting user, and agent1 as an agent."""
    return [DemoUser(name, role, secrets.token_urlsafe(16), agent)
            for name, role, agent in (("supervisor", "supervisor", None), ("admin", "admin", None),
                                      ("reporting", "reporting", None), ("agent1", "agent", "agent1"))]


def users_banner(api: str, users: list[DemoUser]) -> str:
    """What the demo prints once the daemon answers: where its API is and how to log in."""
    width = max(len(u.name) for u in users)
    lines = [f"API {api} (while the demo runs; /health and /metrics need no token). Users:"]
    for u in users:
        who = f"agent {u.agent}" if u.agent else u.role
        lines.append(f"  {u.name:<{width}}  token {u.token}  ({who})")
    first = users[0]
    lines.append(f"  e.g. curl -H 'Authorization: Bearer {first.token}' {api}/api/queues")
    return "\n".join(lines)


def write_demo_config(
    work: Path, *, ari_port: int, http_port: int, db_url: str, agents: int, users: list[DemoUser],
    by_hand: bool = False,
) -> Path:
    src = ROOT / "config"
    cfg = work / "config"
    shutil.copytree(src, cfg, ignore=shutil.ignore_patterns("acd.yaml", "agents.yaml"))
    if by_hand:
        queues = cfg / "queues.yaml"
        text = queues.read_text(encoding="utf-8")
        for old, new in BY_HAND_QUEUES.items():
            text = text.replace(old, new)
        if "topics:" not in text:  # something to pick in wrap-up (R16's topic report)
            text = text.replace("  - name: general\n", "  - name: general\n" + BY_HAND_TOPICS, 1)
        queues.write_text(text, encoding="utf-8")
    (cfg / "agents.yaml").write_text(demo_agents_yaml(agents), encoding="utf-8")
    (cfg / "acd.yaml").write_text(
        f"""# Generated by `acd demo`.
ari: {{url: "http://127.0.0.1:{ari_port}/ari", app: acd, user: acd}}
database: {{url: "{db_url}", spool_dir: {work / "spool"}}}
paths: {{var: {work}, recordings: {work / "recordings"}, sounds: {ROOT / "var" / "sounds"}}}
timezone: Asia/Almaty
log: {{format: json, level: info}}
http: {{host: 127.0.0.1, port: {http_port}}}
users:
""" + "".join(f"  - {{name: {u.name}, role: {u.role}, token_env: {u.token_env}"
              + (f", agent: {u.agent}}}\n" if u.agent else "}\n") for u in users),
        encoding="utf-8",
    )
    return cfg


def demo_clock(speed: float) -> Clock:
    tz = ZoneInfo("Asia/Almaty")
    today = datetime.now(tz).date()
    start = datetime(today.year, today.month, today.day, 10, 0, tzinfo=tz)
    return Clock(start=start.timestamp(), anchor=time.time(), speed=speed)


async def wait_http(
    session: aiohttp.ClientSession, url: str, proc: Any, what: str, timeout_s: float = 30
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the {what} exited with code {proc.returncode} (see its log)")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(url) as r:
                if r.status < 500:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the {what} did not answer at {url} within {timeout_s:.0f} s")


async def start_simulator(work: Path, root: Path, *, port: int, password: str, clock: Clock, log: IO[bytes],
                          env: dict[str, str], own_session: bool = False) -> asyncio.subprocess.Process:
    """The ARI simulator as a process of its own (the demo and the daemon bench run the three processes of
    a real site): sounds from ``root``/var/sounds and Asterisk's, recordings under ``work``.
    ``own_session``: Ctrl-C in the terminal reaches only the caller, which stops the processes in order."""
    sounds = [str(root / "var" / "sounds"), "/usr/share/asterisk/sounds"]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "acd.ari_sim", "--port", str(port), "--user", "acd", "--password", password,
        "--app", "acd", "--clock", clock.spec(), "--sounds", ",".join(sounds),
        "--recordings", str(work / "recordings"), stdout=log, stderr=log, env=env,
        start_new_session=own_session)


async def start_daemon(cfg: Path, *, log: IO[bytes], env: dict[str, str],
                       own_session: bool = False) -> asyncio.subprocess.Process:
    """``acd run`` on ``cfg``/acd.yaml with every agent ready, as a process of its own."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "acd.cli", "run", "-c", str(cfg / "acd.yaml"), "--agents-ready",
        stdout=log, stderr=log, env=env, start_new_session=own_session)


async def stop_processes(*procs: asyncio.subprocess.Process | None) -> None:
    """Terminate what is still running, in the order given (the daemon before its simulator)."""
    for proc in procs:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 10)


def how_to_try(api: str, logins: list[Any], phone: str | None) -> str:
    """What a newcomer reads first: where to click and with which password."""
    lines = ["", "Open the consoles in a browser (while the demo runs):", f"  {api}/login"]
    for login in logins:
        what = {"agent": "agent desktop: go ready, take calls",
                "admin": "admin console: users, agents, queues"}.get(login.role,
                                                                     "wallboard, reports, recordings")
        lines.append(f"  {login.role:<10}  user {login.name:<10}  password {login.password}   ({what})")
    if phone is not None:
        lines.append(f"  agent1's desk phone (answer and hang up here): {phone}")
        lines.append("Calls keep coming until Ctrl-C; the summary from the CDR is printed then.")
    return "\n".join(lines) + "\n"


async def run_demo(*, calls: int | None, agents: int, speed: float | None, db_url: str | None, seed: int,
                   by_hand: bool = False, campaign: int = 0) -> int:
    """``calls``/``speed`` None: 40 calls at x40, or, ``by_hand``, endless calls at wall-clock speed."""
    speed = speed if speed is not None else (1.0 if by_hand else 40.0)
    console = Console()
    work = ROOT / "var" / "demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_url = db_url or f"sqlite+aiosqlite:///{work / 'acd.db'}"
    ari_port, http_port = free_port(), free_port()
    users = demo_users()
    token = users[0].token  # the supervisor's: the live table reads /api/queues with it
    cfg = write_demo_config(
        work, ari_port=ari_port, http_port=http_port, db_url=db_url, agents=agents, users=users,
        by_hand=by_hand,
    )
    if campaign:
        write_demo_campaign(cfg)
    clock = demo_clock(speed)
    env = dict(os.environ, ACD_ARI_PASSWORD="demo", ACD_CLOCK=clock.spec(),
               **{u.token_env: u.token for u in users})
    env.pop("ACD_DB_URL", None)
    sim_log = (work / "simulator.log").open("wb")
    daemon_log = (work / "daemon.log").open("wb")
    sim = await start_simulator(work, ROOT, port=ari_port, password="demo", clock=clock, log=sim_log, env=env,
                                own_session=True)
    daemon = None
    runner: web.AppRunner | None = None
    rng = random.Random(seed)
    sim_url = f"http://127.0.0.1:{ari_port}"
    api = f"http://127.0.0.1:{http_port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_http(http, f"{sim_url}/_sim/state", sim, "ARI simulator")
            for i in range(1, agents + 1):
                await (
                    await http.put(
                        f"{sim_url}/_sim/endpoints/PJSIP/agent{i}",
                        json={
                            "state": "online",
                            # the person's phone rings until they answer on its page (or the time-out)
                            "behaviour": "no_answer" if by_hand and i == 1 else "answer",
                            "answer_after_s": round(rng.uniform(2, 6), 1),
                            "hangup": "caller",
                        },
                    )
                ).release()
            daemon = await start_daemon(cfg, log=daemon_log, env=env, own_session=True)
            await wait_http(http, f"{api}/health", daemon, "daemon")
            from acd.web.demo_users import create_demo_users

            logins = await create_demo_users(db_url, api)  # the agent desktop's logins (issue 13)
            phone: str | None = None
            if by_hand:  # agent1 is the person's: not ready before they sign in
                async with http.post(f"{api}/api/agents/agent1/state", headers={
                        "Authorization": f"Bearer {token}"}, json={"state": "logout"}) as r:
                    r.raise_for_status()
                from acd.demo_phone import phone_app

                runner = web.AppRunner(phone_app(http, sim_url, "agent1"), access_log=None)
                await runner.setup()
                phone_port = free_port()
                await web.TCPSite(runner, "127.0.0.1", phone_port).start()
                phone = f"http://127.0.0.1:{phone_port}/"
            how_many = "calls until Ctrl-C" if calls is None else f"{calls} calls"
            calls = calls if calls is not None else (10**9 if by_hand else 40)
            console.print(
                f"[bold]acd demo[/]: simulator on :{ari_port}, daemon API on :{http_port}, "
                f"{agents} agents, {how_many}, speed x{speed:g} (logs in {work})"
            )
            console.print(users_banner(api, users), markup=False, highlight=False, soft_wrap=True)
            console.print(how_to_try(api, logins, phone), markup=False, highlight=False, soft_wrap=True)
            if campaign:
                await start_demo_campaign(http, sim_url, db_url, cfg, campaign, rng, console)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await _traffic(http, console, sim_url, api, token, clock, calls=calls, agents=agents, rng=rng,
                           aht_s=BY_HAND_AHT_S if by_hand else AHT_S, stop=stop, wait_for_stop=by_hand)
            if campaign:
                await campaign_summary(http, api, token, console)
            daemon.send_signal(signal.SIGTERM)
            await asyncio.wait_for(daemon.wait(), 30)
    finally:
        if runner is not None:
            await runner.cleanup()
        await stop_processes(daemon, sim)
    return await _summary(console, db_url, work)


async def _traffic(
    http: aiohttp.ClientSession,
    console: Console,
    sim_url: str,
    api: str,
    token: str,
    clock: Clock,
    *,
    calls: int,
    agents: int,
    rng: random.Random,
    aht_s: float = AHT_S,
    stop: asyncio.Event | None = None,
    wait_for_stop: bool = False,
) -> None:
    """Place the calls and show the live table; end when all calls are over (or, ``wait_for_stop``, at
    Ctrl-C: a person may still be working in the consoles)."""
    stop = stop or asyncio.Event()
    rate = LOAD * agents / aht_s  # calls per virtual second
    placed = 0
    headers = {"Authorization": f"Bearer {token}"}
    next_at = clock.now()

    async def place() -> None:
        nonlocal placed, next_at
        while placed < calls:
            await clock.sleep_until(next_at)
            lang = "kk" if rng.random() < 0.5 else "ru"
            body = {
                "number": rng.choice(["193", "88000800193", "+77272581500"]),
                "caller": f"7{rng.choice(PREFIXES)}{rng.randrange(10**7):07d}",
                "name": "",
                "language": lang,
                "patience_s": round(rng.expovariate(1 / PATIENCE_S), 1),
                "talk_s": round(min(rng.expovariate(1 / aht_s), 4 * aht_s), 1),
                "dtmf_on": {"language_menu": "1" if lang == "kk" else "2", "main_menu": "1"},
            }
            await (await http.post(f"{sim_url}/_sim/calls", json=body)).release()
            placed += 1
            next_at += rng.expovariate(rate)

    placer = asyncio.create_task(place())
    table_state: dict[str, Any] = {}
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with http.get(f"{sim_url}/_sim/state") as r:
                    table_state["sim"] = await r.json()
                async with http.get(f"{api}/api/queues", headers=headers) as r:
                    if r.status == 200:
                        table_state["queues"] = await r.json()
            live.update(_progress_table(table_state, placed, calls, clock))
            active = sum(
                1 for c in table_state.get("sim", {}).get("callers", []) or [] if c.get("ended_at") is None
            )
            if stop.is_set() or (placer.done() and active == 0 and not wait_for_stop):
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)
    placer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await placer


def _progress_table(state: dict[str, Any], placed: int, calls: int, clock: Clock) -> Table:
    local = datetime.fromtimestamp(clock.now(), ZoneInfo("Asia/Almaty")).strftime("%H:%M:%S")
    of = f"/{calls}" if calls < 10**9 else ""
    t = Table(title=f"virtual time {local} Asia/Almaty · calls placed {placed}{of}")
    t.add_column("queue")
    t.add_column("waiting", justify="right")
    t.add_column("agents ready", justify="right")
    t.add_column("on call", justify="right")
    queues = state.get("queues", {}).get("queues", {})
    items = queues.items() if isinstance(queues, dict) else ((q.get("name"), q) for q in queues)
    for name, q in items:
        t.add_row(
            str(name),
            str(q.get("waiting", 0)),
            str(q.get("agents_ready", q.get("ready", ""))),
            str(q.get("agents_busy", q.get("busy", ""))),
        )
    callers = state.get("sim", {}).get("callers", []) or []
    on_line = sum(1 for c in callers if c.get("ended_at") is None)
    t.caption = f"callers on the line: {on_line}, finished: {len(callers) - on_line}"
    return t


async def _summary(console: Console, db_url: str, work: Path) -> int:
    from sqlalchemy import text

    from cdr.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT outcome, count(*), avg(wait_s), max(wait_s), avg(talk_s) "
                        "FROM calls GROUP BY outcome"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    total = sum(r[1] for r in rows)
    t = Table(title=f"CDR summary ({total} calls, read back from the calls table)")
    for col in ("outcome", "calls", "avg wait s", "max wait s", "avg talk s"):
        t.add_column(col, justify="right" if col != "outcome" else "left")
    for outcome, n, avg_w, max_w, avg_t in rows:
        t.add_row(str(outcome), str(n), f"{avg_w or 0:.1f}", f"{max_w or 0:.1f}", f"{avg_t or 0:.1f}")
    console.print(t)
    day = datetime.now(ZoneInfo("Asia/Almaty")).date().isoformat()
    console.print(f"Reports: acd report daily --db '{db_url}' --from {day} --to {day}; logs in {work}")
    return 0 if total else 1


# ---- `acd demo --campaign N`: a small outbound campaign next to the inbound traffic (issue 15) -----------
DEMO_CAMPAIGN = """# Generated by `acd demo --campaign N` (docs/outbound.md).
name: demo
description: "Demo survey next to the inbound traffic"
queue: general
caller_id: +7 727 258 15 00
window: {days: [mon, tue, wed, thu, fri, sat, sun], hours: ["00:00-23:59"]}
attempts: {max: 2, retry: {busy: 5m, no_answer: 10m, congestion: 5m, unreachable: null, dropped: 10m}}
dialing: {mode: predictive, drop_rate_target: 3%, max_lines_per_agent: 2, trunk_channels: 10}
contact_fields: [first_name]
script:
  ru: "**Здравствуйте, {first_name}!** Вас беспокоит служба 193. Ответьте, пожалуйста, на два вопроса."
  kk: "**Сәлеметсіз бе, {first_name}!** Сізді 193 қызметі мазалап тұр. Екі сұраққа жауап беріңізші."
form:
  questions:
    - {id: consent, type: yes_no, required: true, text: {ru: "Согласны ответить?", kk: "Жауап бересіз бе?"}}
    - {id: score, type: rating, text: {ru: "Оценка от 1 до 5", kk: "1-ден 5-ке дейін баға"}}
  productive:
    - {question: consent, in: [true]}
"""


def write_demo_campaign(cfg: Path) -> Path:
    """The demo's campaign file; the shipped example (survey.yaml) has no contacts and stays as it is."""
    path = cfg / "campaigns" / "demo.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEMO_CAMPAIGN, encoding="utf-8")
    return path


async def start_demo_campaign(http: aiohttp.ClientSession, sim_url: str, db_url: str, cfg: Path,
                              contacts: int, rng: random.Random, console: Console) -> None:
    """Called parties on the simulator's trunk, then ``contacts`` contacts imported (the daemon created
    the tables at start); the dialer picks them up on its next tick."""
    from cdr.db import make_engine
    from outbound.config import load_campaign
    from outbound.contacts import Contact, ImportReport, store_contacts

    parties = {"answer_rate": 0.4, "answer_after_s": 12, "busy_rate": 0.1, "unavailable_rate": 0.05,
               "talk_s": 120, "seed": rng.randrange(1000)}
    await (await http.post(f"{sim_url}/_sim/trunk/parties", json=parties)).release()
    report = ImportReport("demo-contacts.csv", rows=contacts)
    report.contacts = [Contact(f"{rng.choice(PREFIXES)}{i:07d}", f"Contact {i}", rng.choice(["kk", "ru"]),
                               {"first_name": f"Contact {i}"}, i + 2) for i in range(contacts)]
    engine = make_engine(db_url)
    try:
        await store_contacts(engine, load_campaign(cfg / "campaigns" / "demo.yaml"), report)
    finally:
        await engine.dispose()
    console.print(f"[bold]campaign[/] demo: {contacts} contacts, predictive; progress at /campaigns")


async def campaign_summary(http: aiohttp.ClientSession, api: str, token: str, console: Console) -> None:
    async with http.get(f"{api}/api/campaigns/demo", headers={"Authorization": f"Bearer {token}"}) as r:
        if r.status != 200:
            return
        p = await r.json()
    console.print(f"[bold]campaign demo[/]: {p['contacts']} contacts, {p['done']} done, "
                  f"{p['reached']} reached, {p['remaining']} remaining; outcomes {p['outcomes']}, "
                  f"drop rate {100 * p['drop_rate']:.1f} %")
