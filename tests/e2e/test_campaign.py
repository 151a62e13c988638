"""A predictive campaign dialled by the daemon through the simulator (issue 15): 200 contacts, simulated
called parties on the trunk, the agents' phones answering, over real sockets on an accelerated clock.

What a supervisor and an auditor would check: nothing reached the trunk outside the calling window or on
the do-not-call list; every answered call was bridged to an agent and recorded, or heard the drop message;
the CDR and the campaign's own figures agree; the agents' answers are stored per attempt, refused when a
question is unknown, and counted as productive by the form's rule.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cdr.db import make_engine, migrate
from cdr.reports.aggregate import counts_by_hour
from outbound.config import load_campaign
from outbound.contacts import Contact, ImportReport, store_contacts
from tests.e2e.harness import ALMATY, TOKENS, Harness, close_harness, eventually, make_harness

CONTACTS = 200
DNC = [f"701{i:07d}" for i in range(0, 25, 5)]  # 5 contacts put on the do-not-call list after the import
CAMPAIGN = f"""
name: poll
queue: general
caller_id: +7 727 258 15 00
window: {{days: [tue], hours: ["10:00-10:07"]}}
attempts: {{max: 2, retry: {{busy: 1m, no_answer: 1m, congestion: 1m, unreachable: null, dropped: 1m}}}}
dialing: {{mode: predictive, ring_timeout_s: 15, drop_after_s: 2, max_lines_per_agent: 3, trunk_channels: 20}}
do_not_call: [{", ".join(f'"+7{n}"' for n in DNC)}]
script:
  ru: "Здравствуйте, {{name}}! Опрос службы 193."
  kk: "Сәлеметсіз бе, {{name}}! 193 қызметінің сауалнамасы."
form:
  questions:
    - {{id: consent, type: yes_no, required: true, text: {{ru: "Согласны?", kk: "Келісесіз бе?"}}}}
    - {{id: score, type: rating, text: {{ru: "Оценка", kk: "Баға"}}}}
  productive:
    - {{question: consent, in: [true]}}
"""
WINDOW = (datetime(2026, 11, 24, 10, 0, tzinfo=ALMATY).timestamp(),
          datetime(2026, 11, 24, 10, 7, tzinfo=ALMATY).timestamp())


def _only_campaign(config_dir: Path, name: str, text: str) -> Path:
    """The test's campaign file, alone in ``campaigns/`` (the sample campaigns are taken out)."""
    folder = config_dir / "campaigns"
    for old in folder.glob("*.yaml"):
        old.unlink()
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def _import(db: Any, path: Path, contacts: list[Contact], now: datetime | None = None) -> None:
    """Contacts imported into the campaign of ``path`` as ``acd campaign import`` stores them."""
    report = ImportReport("contacts.csv", rows=len(contacts))
    report.contacts = contacts
    await store_contacts(db, load_campaign(path), report, now=now)


async def _ended_attempts(h: Harness, what: str) -> list[dict[str, object]]:
    """The campaign's attempts that have an outcome, once there is one (``what`` names the wait)."""

    async def ended() -> list[dict[str, object]] | None:
        rows = await h.rows("SELECT * FROM campaign_attempts WHERE outcome IS NOT NULL")
        return rows or None

    found: list[dict[str, object]] = await eventually(ended, 30, what)
    return found


async def _seed(h: Harness) -> None:
    path = _only_campaign(h.config_dir, "poll", CAMPAIGN)
    from acd.settings import load_settings

    db = make_engine(load_settings(h.config_dir / "acd.yaml").database.url.get_secret_value())
    try:
        await migrate(db)
        await _import(db, path, [Contact(f"701{i:07d}", f"Контакт {i}", "ru" if i % 3 else "kk", {}, i + 2)
                                 for i in range(CONTACTS)], now=datetime(2026, 11, 23, tzinfo=UTC))
    finally:
        await db.dispose()


@pytest.mark.timeout(150)
async def test_a_predictive_campaign_keeps_its_window_and_list_and_agrees_with_the_cdr(
        tmp_path: Path) -> None:
    h = await make_harness(tmp_path, start_local="2026-11-24T09:57:30", speed=30)
    try:
        await _seed(h)
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.sim_post("trunk/parties", {"answer_rate": 0.6, "answer_after_s": 4, "busy_rate": 0.1,
                                           "congestion_rate": 0.05, "unavailable_rate": 0.05, "talk_s": 8})
        await h.start_daemon(initial_agent_state="ready")
        ready_at = h.clock.now()

        async def window_over() -> bool:
            if h.clock.now() < WINDOW[1] + 25:
                return False
            _, progress = await h.api_get("/api/campaigns/poll")
            return progress["in_progress"] == 0

        await eventually(window_over, 60, "the campaign's window did not end with every line closed")
        async with h.http.get(f"{h.sim_url}/_sim/trunk/parties") as r:
            trunk = await r.json()
        dialled = trunk["dialled"]

        # the trunk saw calls only inside the window, and never a number of the do-not-call list
        assert dialled, "nothing was dialled"
        # (the daemon checks the window right before each originate; the request's transit, a few real
        # milliseconds, is up to a virtual second at x30)
        late = [d["at"] - WINDOW[1] for d in dialled if not WINDOW[0] <= d["at"] < WINDOW[1] + 1.0]
        assert not late, late
        numbers = {d["number"] for d in dialled}
        assert not numbers & {f"+7{n}" for n in DNC}
        attempts = await h.rows("SELECT * FROM campaign_attempts")
        assert len(attempts) == len(dialled)
        dnc_rows = await h.rows("SELECT status FROM campaign_contacts WHERE phone IN "
                                f"({', '.join(repr(n) for n in DNC)})")
        assert [r["status"] for r in dnc_rows] == ["do_not_call"] * len(DNC)

        # most of the list was worked, with retries, and every answered call found an agent or was dropped
        outcomes = [a["outcome"] for a in attempts]
        assert outcomes.count("answered") >= 40, (Counter(outcomes), ready_at - WINDOW[0])
        assert None not in outcomes
        assert {"busy", "no_answer"} <= set(outcomes)
        assert max(a["attempt"] for a in attempts) == 2
        answered = [a for a in attempts if a["outcome"] == "answered"]
        assert all(a["agent"] for a in answered)

        # the CDR: one outbound row per answered attempt (connected or dropped), outcome answered when
        # an agent talked to the contact; the recording of each conversation (R14)
        rows = {r["id"]: r for r in await h.rows("SELECT * FROM calls WHERE direction = 'outbound'")}
        reached = {a["call_id"] for a in attempts if a["outcome"] in ("answered", "dropped")}
        assert set(rows) == reached
        assert {i for i, r in rows.items() if r["outcome"] == "answered"} == {a["call_id"] for a in answered}
        assert all(rows[a["call_id"]]["agent"] == a["agent"] for a in answered)
        recorded = await h.rows("SELECT DISTINCT call_id FROM recordings WHERE kind = 'call'")
        assert {a["call_id"] for a in answered} <= {r["call_id"] for r in recorded}
        hours = await counts_by_hour(h.daemon.db, date(2026, 11, 24), date(2026, 11, 24), ALMATY, None)
        assert sum(x.outbound for x in hours) == len(rows)

        # the agent's form: an unknown question is refused, a required one is enforced, then stored
        first, second = answered[0], answered[1]
        agent = f"t-{first['agent']}"
        status, body = await _post(h, first["call_id"], {"consent": True, "mood": 3}, agent)
        assert status == 400 and body["problems"] == {"mood": "no such question in the form"}
        status, body = await _post(h, first["call_id"], {"score": 4}, agent)
        assert status == 400 and "consent" in body["problems"]
        other = next(t for t in TOKENS.values() if t.startswith("t-agent") and t != agent)
        status, _ = await _post(h, first["call_id"], {"consent": True}, other)
        assert status == 403
        assert await _post(h, first["call_id"], {"consent": True, "score": 4}, agent) == (
            200, {"saved": True, "productive": True})
        assert (await _post(h, second["call_id"], {"consent": False}, f"t-{second['agent']}"))[1][
            "productive"] is False
        stored = await h.rows("SELECT question, value FROM campaign_answers WHERE attempt_id = :a",
                              a=first["id"])
        assert sorted((r["question"], str(r["value"])) for r in stored) == [
            ("consent", "true"), ("score", "4")]

        # the campaign's report agrees with the tables
        _, progress = await h.api_get("/api/campaigns/poll")
        assert progress["contacts"] == CONTACTS
        assert progress["productive"] == 1
        assert progress["reached"] == len({a["contact_id"] for a in answered})
        assert progress["done"] + progress["remaining"] == CONTACTS
        assert progress["outcomes"]["answered"] == len(answered)
        assert progress["answers"]["consent"]["counts"] == {"true": 1, "false": 1}
        assert progress["agents"][first["agent"]]["productive"] == 1
        async with h.http.get(f"{h.api}/api/campaigns/poll/export?format=csv",
                              headers={"Authorization": f"Bearer {TOKENS['supervisor']}"}) as r:
            exported = list(csv.DictReader(io.StringIO((await r.read()).decode("utf-8-sig"))))
        assert len(exported) == CONTACTS
        assert sum(1 for e in exported if e["consent"] == "yes") == 1
    finally:
        await close_harness(h)


async def _post(h: Harness, call_id: str, answers: dict[str, object], token: str) -> tuple[int, object]:
    async with h.http.post(f"{h.api}/api/calls/{call_id}/campaign/answers", json={"answers": answers},
                           headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json(content_type=None)


DROP_CAMPAIGN = """
name: drop
queue: general
caller_id: +7 727 258 15 00
window: {days: [mon, tue, wed, thu, fri, sat, sun], hours: ["00:00-23:59"]}
attempts: {max: 3, retry: {dropped: 30m}}
dialing: {mode: progressive, drop_after_s: 2}
script: {ru: "Здравствуйте!"}
form:
  questions:
    - {id: consent, type: yes_no, required: true, text: {ru: "Согласны?"}}
"""


@pytest.mark.timeout(60)
async def test_an_answered_call_with_no_agent_left_hears_the_drop_message_and_is_called_again_later(
        tmp_path: Path) -> None:
    """Progressive dials one line for the one ready agent; she goes on a break while it rings: the
    contact who answers hears the short message in their language, the attempt is ``dropped``, the contact
    is due again after the retry delay, and the supervisors' page counts it."""
    h = await make_harness(tmp_path, speed=20)
    try:
        path = _only_campaign(h.config_dir, "drop", DROP_CAMPAIGN)
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 20, "talk_s": 600})
        await h.start_daemon(initial_agent_state="logged_out")
        assert h.daemon is not None
        await _import(h.daemon.db, path, [Contact("7011234567", "Асель", "kk", {}, 2)])
        status, _ = await h.api_post("/api/agents/agent1/state", {"state": "ready"}, who="agent1")
        assert status == 200

        async def dialled() -> bool:
            async with h.http.get(f"{h.sim_url}/_sim/trunk/parties") as r:
                return bool((await r.json())["dialled"])

        await eventually(dialled, 20, "the contact was never dialled")
        status, _ = await h.api_post("/api/agents/agent1/state", {"state": "not_ready", "reason": "break"},
                                     who="agent1")
        assert status == 200

        attempt = (await _ended_attempts(h, "the attempt never ended"))[0]
        assert attempt["outcome"] == "dropped" and attempt["agent"] is None
        contact = (await h.rows("SELECT * FROM campaign_contacts"))[0]
        assert contact["status"] == "pending" and contact["last_outcome"] == "dropped"
        assert _epoch(contact["next_attempt_at"]) - _epoch(attempt["ended_at"]) == pytest.approx(1800, abs=1)
        async with h.http.get(f"{h.sim_url}/_sim/events") as r:
            events = [e["event"] for e in await r.json()]
        played = [e for e in events if e["type"] == "PlaybackStarted"
                  and e["playback"]["target_uri"] == f"channel:{attempt['call_id']}"]
        assert [(e["playback"]["media_uri"], e["playback"]["language"]) for e in played] == [
            ("sound:acd/outbound_drop", "kk")]
        row = await h.call_row(str(attempt["call_id"]))
        assert row["direction"] == "outbound" and row["agent"] is None and row["outcome"] != "answered"

        _, progress = await h.api_get("/api/campaigns/drop")
        assert progress["outcomes"] == {"dropped": 1} and progress["drop_rate"] == 1.0
        async with h.http.get(f"{h.api}/campaigns",
                              headers={"Authorization": f"Bearer {TOKENS['supervisor']}"}) as r:
            page = await r.text()
        assert r.status == 200 and 'id="campaign-drop"' in page
    finally:
        await close_harness(h)


def _epoch(value: object) -> float:
    """A timestamp column read with raw SQL: a datetime (PostgreSQL) or its text (SQLite), UTC."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC).timestamp()


PREVIEW_CAMPAIGN = DROP_CAMPAIGN.replace("name: drop", "name: prev").replace(
    "dialing: {mode: progressive, drop_after_s: 2}", "dialing: {mode: preview}")


@pytest.mark.timeout(60)
async def test_preview_the_agent_takes_a_contact_skips_one_dials_the_next_and_it_is_recorded(
        tmp_path: Path) -> None:
    """Preview mode, agent first: the agent takes the next contact (skipping gives it back untouched),
    presses Dial, their phone rings first, then the contact's; the conversation is recorded and the CDR
    row is an outbound call of that agent."""
    h = await make_harness(tmp_path, speed=20)
    try:
        path = _only_campaign(h.config_dir, "prev", PREVIEW_CAMPAIGN)
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 3, "talk_s": 10})
        await h.start_daemon(initial_agent_state="ready")
        assert h.daemon is not None
        await _import(h.daemon.db, path, [Contact("7011234567", "Асель", "kk", {}, 2),
                                          Contact("7011234568", "Ivan", "ru", {}, 3)])

        status, first = await h.api_post("/api/campaigns/prev/preview", {}, who="agent1")
        assert status == 200 and first["contact"]["phone"] == "7011234567", first
        status, again = await h.api_post("/api/campaigns/prev/preview", {}, who="agent1")
        assert again["attempt"] == first["attempt"]  # the contact the agent holds
        base = f"/api/campaigns/prev/preview/{first['attempt']}"
        status, _ = await h.api_post(f"{base}/dial", {}, who="agent2")
        assert status == 409  # not agent2's
        assert (await h.api_post(f"{base}/skip", {}, who="agent1"))[0] == 200
        status, nxt = await h.api_post("/api/campaigns/prev/preview", {}, who="agent1")
        assert status == 200 and nxt["contact"]["phone"] == "7011234567"  # skipped: due again, first

        status, dialled = await h.api_post(f"/api/campaigns/prev/preview/{nxt['attempt']}/dial", {},
                                           who="agent1")
        assert status == 200, dialled
        call_id = dialled["call_id"]

        attempt = (await _ended_attempts(h, "the preview call never ended"))[0]
        assert (attempt["outcome"], attempt["agent"], attempt["mode"], attempt["call_id"]) == (
            "answered", "agent1", "preview", call_id)
        count = await h.rows("SELECT count(*) AS n FROM campaign_attempts")
        assert count[0]["n"] == 1  # the skipped attempt left nothing
        row = await h.call_row(call_id)
        assert (row["direction"], row["agent"], row["outcome"]) == ("outbound", "agent1", "answered")
        assert await h.rows("SELECT * FROM recordings WHERE call_id = :c AND kind = 'call'", c=call_id)
        states = await h.rows("SELECT state, reason FROM agent_state_log WHERE agent = 'agent1' "
                              "AND call_id = :c ORDER BY id", c=call_id)
        assert [s["state"] for s in states][:2] == ["on_call", "wrap_up"], states
    finally:
        await close_harness(h)


@pytest.mark.timeout(60)
async def test_a_preview_call_connected_before_a_restart_is_followed_to_its_end_and_its_attempt_closed(
        tmp_path: Path) -> None:
    """R27: a preview call is the daemon's agent-first outbound call, so the next daemon adopts it once
    connected (the agent stays on call for the ACD) and closes its attempt as answered when it ends."""
    h = await make_harness(tmp_path, speed=20)
    try:
        folder = h.config_dir / "campaigns"
        for old in folder.glob("*.yaml"):
            old.unlink()
        (folder / "prev.yaml").write_text(PREVIEW_CAMPAIGN, encoding="utf-8")
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 1, "talk_s": 120})
        await h.start_daemon(initial_agent_state="ready")
        assert h.daemon is not None
        report = ImportReport("contacts.csv", rows=1)
        report.contacts = [Contact("7011234567", "Асель", "kk", {}, 2)]
        await store_contacts(h.daemon.db, load_campaign(folder / "prev.yaml"), report)
        status, taken = await h.api_post("/api/campaigns/prev/preview", {}, who="agent1")
        assert status == 200, taken
        status, dialled = await h.api_post(f"/api/campaigns/prev/preview/{taken['attempt']}/dial", {},
                                           who="agent1")
        assert status == 200, dialled
        call_id = dialled["call_id"]
        await eventually(lambda: h.rows("SELECT * FROM recordings WHERE call_id = :c", c=call_id), 30,
                         "the preview call never connected")
        await h.stop_daemon()
        await h.start_daemon()
        status, desk = await h.api_get("/api/agents/agent1/desktop", who="agent1")
        assert desk["agent"]["state"] == "on_call", desk  # adopted: still on the call for the ACD

        async def ended() -> list[dict[str, object]] | None:
            rows = await h.rows("SELECT * FROM campaign_attempts WHERE outcome IS NOT NULL")
            return rows or None

        [attempt] = await eventually(ended, 40, "the adopted preview call never ended")
        assert (attempt["outcome"], attempt["agent"], attempt["call_id"]) == ("answered", "agent1", call_id)
        [contact] = await h.rows("SELECT status FROM campaign_contacts")
        assert contact["status"] != "pending"  # not offered again while (or after) the call lasted
        row = await h.call_row(call_id)
        assert (row["direction"], row["agent"], row["outcome"]) == ("outbound", "agent1", "answered")
    finally:
        await close_harness(h)


RESTART_CAMPAIGN = """
name: rs
queue: general
caller_id: +7 727 258 15 00
window: {days: [mon, tue, wed, thu, fri, sat, sun], hours: ["00:00-23:59"]}
attempts: {max: 1}
dialing: {mode: progressive, ring_timeout_s: 120}
script: {kk: "Сәлеметсіз бе!"}
form:
  questions:
    - {id: consent, type: yes_no, required: true, text: {kk: "Келісесіз бе?"}}
"""


@pytest.mark.timeout(90)
async def test_a_daemon_killed_mid_campaign_follows_its_lines_and_calls_nobody_twice(tmp_path: Path) -> None:
    """R27 for campaigns, with real processes: SIGKILL while one contact talks to agent1, one answered
    contact waits for an agent (agent3's phone rings for it) and one contact's phone still rings. The
    restarted daemon follows all three: the conversation goes on and ends ``answered``, the waiting contact
    is offered again and served, the ringing line ends ``no_answer``; one attempt and one CDR row each, and
    nobody is dialled a second time (before, their attempts ended ``congestion`` and all were rung again)."""
    import signal

    import aiohttp

    from tests.e2e.test_restart import _Procs

    async with aiohttp.ClientSession() as http:
        p = _Procs(tmp_path, http)  # x10
        _only_campaign(p.cfg, "rs", RESTART_CAMPAIGN)
        queues = (p.cfg / "queues.yaml").read_text()
        (p.cfg / "queues.yaml").write_text(queues.replace("ring_timeout_s: 15", "ring_timeout_s: 900", 1))
        try:
            async with asyncio.timeout(80):
                await _restart_campaign(p, http, signal.SIGKILL)
        finally:
            await p.close()


async def _restart_campaign(p: Any, http: Any, sig: int) -> None:
    await p.start_sim()

    async def phone(agent: str, answer_after_s: float) -> None:
        async with http.put(f"{p.sim_url}/endpoints/PJSIP/{agent}",
                            json={"state": "online", "behaviour": "answer", "answer_after_s": answer_after_s,
                                  "hangup": "caller"}) as r:
            assert r.status < 300

    async def parties(**conf: float) -> None:
        async with http.post(f"{p.sim_url}/trunk/parties", json=conf) as r:
            assert r.status < 300

    async def dialled() -> list[dict[str, Any]]:
        async with http.get(f"{p.sim_url}/trunk/parties") as r:
            return list((await r.json())["dialled"])

    for agent, after in (("agent2", 1), ("agent3", 100000)):  # agent1 answers on a Local channel
        await phone(agent, after)
    daemon = await p.start_daemon()
    db = make_engine(p.db_url)
    try:
        await _import(db, p.cfg / "campaigns" / "rs.yaml",
                      [Contact(f"70100000{i}0", f"Контакт {i}", "kk", {}, i + 2) for i in range(3)])
    finally:
        await db.dispose()

    # contact 0 answers and talks to agent1
    await parties(answer_rate=1.0, answer_after_s=2, talk_s=3600)
    await p.agent_state("agent1", "ready")
    await eventually(lambda: _agent_is(p, "agent1", "on_call"), 30, "agent1 never talked to contact 0")
    # contact 1 answers and waits for an agent: agent3's phone rings for it (and would ring for ever)
    await parties(answer_rate=1.0, answer_after_s=2, talk_s=10)
    await p.agent_state("agent3", "ready")
    await eventually(lambda: _agent_is(p, "agent3", "ringing"), 30, "contact 1 was never offered to agent3")
    await phone("agent3", 1)  # the next offer is answered
    # contact 2's phone rings, nobody answers; agent2, for whom it was dialled, goes on a break
    await parties(answer_rate=0.0, busy_rate=0.0, unavailable_rate=0.0)
    await p.agent_state("agent2", "ready")
    await eventually(lambda: _count(dialled, 3), 20, "contact 2 was never dialled")
    await p.agent_state("agent2", "not_ready", "break")
    attempts = await p.rows("SELECT id, call_id FROM campaign_attempts ORDER BY id")
    talking, waiting, ringing = (str(a["call_id"]) for a in attempts)
    daemon.send_signal(sig)
    await daemon.wait()
    await p.start_daemon()

    # the conversation is followed (agent1 on it again); the contact hangs up
    await eventually(lambda: _agent_is(p, "agent1", "on_call"), 20, "the conversation was not adopted")
    async with http.post(f"{p.sim_url}/calls/{talking}/hangup") as r:
        assert r.status < 300

    async def all_ended() -> list[dict[str, Any]] | None:
        rows = await p.rows("SELECT * FROM campaign_attempts ORDER BY id")
        return rows if all(r["outcome"] for r in rows) else None

    rows = await eventually(all_ended, 40, "the attempts never ended after the restart")
    assert [(r["call_id"], r["outcome"], r["agent"]) for r in rows] == [
        (talking, "answered", "agent1"), (waiting, "answered", "agent3"), (ringing, "no_answer", None)]
    contacts = await p.rows("SELECT status FROM campaign_contacts ORDER BY id")
    assert [c["status"] for c in contacts] == ["done", "done", "failed"]
    assert len(await dialled()) == 3  # nobody called again

    async def cdr_complete() -> list[dict[str, Any]] | None:
        calls = await p.rows("SELECT id, outcome, agent, ended_at FROM calls WHERE direction = 'outbound'")
        return calls if len(calls) == 2 and all(c["ended_at"] for c in calls) else None

    calls = await eventually(cdr_complete, 20, "the CDR rows of the campaign calls never completed")
    assert sorted((c["id"], c["outcome"], c["agent"]) for c in calls) == sorted(
        [(talking, "answered", "agent1"), (waiting, "answered", "agent3")])
    arrived = await p.rows("SELECT call_id FROM call_events WHERE kind = 'arrived'")
    assert Counter(a["call_id"] for a in arrived) == {talking: 1, waiting: 1}


async def _agent_is(p: Any, agent: str, state: str) -> bool:
    return (await p.agents())[agent]["state"] == state


async def _count(dialled: Any, n: int) -> bool:
    return len(await dialled()) >= n


ONLY_CAMPAIGN = DROP_CAMPAIGN.replace("name: drop", "name: only").replace(
    "queue: general", "queue: general\nagents: [agent2]")


@pytest.mark.timeout(60)
async def test_a_campaign_call_is_offered_only_to_the_campaigns_agents(tmp_path: Path) -> None:
    """``agents: [agent2]``: agent1, more skilled and ready as well (the core's strategy would pick her),
    is never offered the campaign's call; agent2 takes it."""
    h = await make_harness(tmp_path, speed=20)
    try:
        path = _only_campaign(h.config_dir, "only", ONLY_CAMPAIGN)
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 2, "talk_s": 5})
        await h.start_daemon(initial_agent_state="logged_out")
        assert h.daemon is not None
        for agent in ("agent1", "agent2"):
            assert (await h.api_post(f"/api/agents/{agent}/state", {"state": "ready"}, who=agent))[0] == 200
        await _import(h.daemon.db, path, [Contact("7011234567", "Асель", "kk", {}, 2)])

        attempt = (await _ended_attempts(h, "the campaign call never ended"))[0]
        assert (attempt["outcome"], attempt["agent"]) == ("answered", "agent2")
        offered = await h.rows("SELECT data FROM call_events WHERE call_id = :c AND kind = 'offered'",
                               c=attempt["call_id"])
        assert offered and all("agent2" in str(o["data"]) for o in offered), offered
    finally:
        await close_harness(h)


RELOAD_CAMPAIGN = DROP_CAMPAIGN.replace("name: drop", "name: rl")


@pytest.mark.timeout(60)
async def test_a_reload_pauses_a_campaign_starts_a_new_one_keeps_calls_and_refuses_a_broken_file(
        tmp_path: Path) -> None:
    """Campaign files follow the config's reload (R11): a broken campaign file is refused with its
    file:line and the running campaign goes on; ``paused: true`` stops new lines of that campaign while its
    conversation in progress goes on to its end (``answered``); a campaign file added is dialled."""
    from tests.e2e.test_reload import reload_now

    h = await make_harness(tmp_path, speed=20)
    try:
        path = _only_campaign(h.config_dir, "rl", RELOAD_CAMPAIGN)
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 2, "talk_s": 3600})
        await h.start_daemon(initial_agent_state="logged_out")
        assert h.daemon is not None
        await _import(h.daemon.db, path, [Contact("7011234567", "Асель", "kk", {}, 2),
                                          Contact("7011234568", "Ivan", "kk", {}, 3)])
        assert (await h.api_post("/api/agents/agent1/state", {"state": "ready"}, who="agent1"))[0] == 200

        async def talking() -> list[dict[str, object]] | None:
            rows = await h.rows("SELECT id FROM calls WHERE direction = 'outbound' AND agent = 'agent1'")
            return rows or None

        call_id = str((await eventually(talking, 30, "the first contact never talked to agent1"))[0]["id"])
        # a broken campaign file: refused with its file:line, the running campaign and call go on
        path.write_text(RELOAD_CAMPAIGN.replace("mode: progressive", "mode: sideways"), encoding="utf-8")
        assert not await reload_now(h)
        error = str(h.daemon.reloader.last_error)
        assert re.search(r"rl\.yaml:\d+: dialing", error), error
        # paused, and a new campaign: the pause holds rl's second contact back, the new one is dialled
        path.write_text(RELOAD_CAMPAIGN.replace("drop_after_s: 2}", "drop_after_s: 2, paused: true}"),
                        encoding="utf-8")
        fresh = path.parent / "rl2.yaml"
        fresh.write_text(RELOAD_CAMPAIGN.replace("name: rl", "name: rl2"), encoding="utf-8")
        await _import(h.daemon.db, fresh, [Contact("7011234569", "Дана", "kk", {}, 2)])
        assert await reload_now(h), h.daemon.reloader.last_error
        await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 2, "talk_s": 5})
        assert (await h.api_post("/api/agents/agent2/state", {"state": "ready"}, who="agent2"))[0] == 200

        async def rl2_done() -> list[dict[str, object]] | None:
            rows = await h.rows("SELECT a.outcome, a.agent FROM campaign_attempts a JOIN campaigns c "
                                "ON c.id = a.campaign_id WHERE c.name = 'rl2' AND a.outcome IS NOT NULL")
            return rows or None

        assert [(r["outcome"], r["agent"]) for r in await eventually(rl2_done, 30, "rl2 was never dialled")] \
            == [("answered", "agent2")]
        assert await h.channel_alive(call_id), "the reload dropped the conversation in progress"
        await h.sim_post(f"calls/{call_id}/hangup")

        async def rl_ended() -> list[dict[str, object]] | None:
            rows = await h.rows("SELECT outcome, agent FROM campaign_attempts WHERE call_id = :c "
                                "AND outcome IS NOT NULL", c=call_id)
            return rows or None

        assert [(r["outcome"], r["agent"]) for r in await eventually(rl_ended, 30, "the call never ended")] \
            == [("answered", "agent1")]
        async with h.http.get(f"{h.sim_url}/_sim/trunk/parties") as r:
            numbers = [d["number"] for d in (await r.json())["dialled"]]
        assert sorted(numbers) == ["+77011234567", "+77011234569"]  # rl's second contact: paused
    finally:
        await close_harness(h)
