"""The administration API against the real daemon and the ARI simulator (R24): an admin adds an agent and the
agent takes a call at once; agents.yaml changes only where it should; an invalid change is refused with the
loader's file:line message and nothing is written; a stale version is a 409; a rollback restores the file
byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import TOKENS, Harness, close_harness, eventually, make_harness

KK_DTMF = {"language_menu": "1", "main_menu": "1"}
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}
NEW_AGENT = {"id": "agent9", "name": "Жанна", "endpoint": "PJSIP/agent9", "languages": ["kk"],
             "skills": {"general": 6}, "queues": {"general": 1}}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path)
    try:
        yield h
    finally:
        await close_harness(h)


async def send(h: Harness, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with h.http.request(method, f"{h.api}{path}", json=body, headers=ADMIN) as r:
        return r.status, await r.json(content_type=None)


async def test_an_added_agent_takes_a_waiting_call_at_once_and_the_file_only_grows_by_that_agent(
    harness: Harness,
) -> None:
    async with asyncio.timeout(90):
        await harness.endpoint("agent9", state="online", behaviour="answer", answer_after_s=1,
                               hangup="caller")
        await harness.start_daemon(initial_agent_state="not_ready")  # logged in, nobody ready: callers wait
        call = await harness.call("193", "77015550009", language="kk", talk_s=3, patience_s=600,
                                  dtmf_on=KK_DTMF)

        async def in_queue() -> bool:
            rows = await harness.rows("SELECT queued_at FROM calls WHERE id = :id", id=call)
            return bool(rows and rows[0]["queued_at"] is not None)

        await eventually(in_queue, 20, "the call never reached the queue")
        agents_file = harness.config_dir / "agents.yaml"
        before = agents_file.read_text(encoding="utf-8")

        status, listed = await send(harness, "GET", "/api/admin/agents")
        assert status == 200 and "agent9" not in {a["id"] for a in listed["agents"]}
        status, body = await send(harness, "POST", "/api/admin/agents",
                                  {"version": listed["version"], "agent": NEW_AGENT})
        assert status == 201, body
        assert body["reloaded"] is True

        after = agents_file.read_text(encoding="utf-8")
        assert after.startswith(before), "lines before the new agent changed (comments, order or format)"
        assert after[len(before):] == ("  - id: agent9\n    name: Жанна\n    endpoint: PJSIP/agent9\n"
                                       "    languages: [kk]\n    skills: {general: 6}\n"
                                       "    queues: {general: 1}\n")
        assert body["change"]["diff"].count("\n+  - id: agent9") == 1
        assert body["change"]["who"] == "admin" and body["change"]["action"] == "add agent agent9"
        assert await harness.channel_alive(call), "the reload dropped the waiting caller"

        # no restart: the new agent logs in and the waiting caller is theirs
        status, reply = await harness.api_post("/api/agents/agent9/state", {"state": "login"}, who="admin")
        assert status == 200, reply
        await harness.wait_gone(call, 60)
        row = await harness.call_row(call)
        assert row["agent"] == "agent9" and row["outcome"] == "answered"

        status, history = await send(harness, "GET", "/api/admin/history?file=agents.yaml")
        assert status == 200 and [c["action"] for c in history["changes"]] == ["add agent agent9"]


async def test_invalid_stale_and_rolled_back_changes(harness: Harness) -> None:
    async with asyncio.timeout(90):
        await harness.start_daemon(initial_agent_state="logged_out")
        agents_file = harness.config_dir / "agents.yaml"
        original = agents_file.read_bytes()
        _, listed = await send(harness, "GET", "/api/admin/agents")
        version = listed["version"]

        # invalid: a queue that does not exist; the loader's own message, with file and line
        bad = {**NEW_AGENT, "queues": {"genral": 1}}
        status, body = await send(harness, "POST", "/api/admin/agents", {"version": version, "agent": bad})
        assert status == 422, body
        assert "nothing was written" in body["error"]
        line = original.decode().count("\n") + 6  # the new item's queues line, after the file's last line
        assert body["problems"] == [f"config/agents.yaml:{line}: agents[8].queues.genral: unknown queue "
                                    "'genral' (did you mean 'general'?)"]
        assert agents_file.read_bytes() == original
        _, history = await send(harness, "GET", "/api/admin/history")
        assert history["changes"] == []

        # a good change, then a second admin still holding the old version
        status, body = await send(harness, "POST", "/api/admin/agents",
                                  {"version": version, "agent": NEW_AGENT})
        assert status == 201, body
        assert "agent9" in harness.daemon.config.agents  # type: ignore[union-attr]
        added = agents_file.read_bytes()
        status, body = await send(harness, "PUT", "/api/admin/agents/agent1",
                                  {"version": version, "changes": {"skills": {"general": 9}}})
        assert status == 409, body
        assert "has changed since you read it" in body["error"] and "add agent agent9" in body["error"]
        assert body["current_version"] != version
        assert agents_file.read_bytes() == added

        # rollback: the file as it was, byte for byte, and the running daemon without the agent
        change = (await send(harness, "GET", "/api/admin/history"))[1]["changes"][0]
        status, body = await send(harness, "POST", f"/api/admin/history/{change['id']}/rollback")
        assert status == 200, body
        assert body["reloaded"] is True and body["change"]["rollback_of"] == change["id"]
        assert agents_file.read_bytes() == original
        assert body["version"] == version
        assert "agent9" not in harness.daemon.config.agents  # type: ignore[union-attr]
        _, history = await send(harness, "GET", "/api/admin/history")
        assert [c["who"] for c in history["changes"]] == ["admin", "admin"]


async def test_scenarios_show_their_problems_and_a_refused_reload_keeps_the_running_config(
    harness: Harness,
) -> None:
    async with asyncio.timeout(60):
        await harness.start_daemon(initial_agent_state="logged_out")
        status, body = await send(harness, "GET", "/api/admin/scenarios")
        assert status == 200 and body["valid"] is True
        assert {s["name"] for s in body["scenarios"]} >= {"line-193", "line-8800"}
        assert all(s["valid"] and s["problems"] == [] for s in body["scenarios"])

        path = harness.config_dir / "scenarios" / "88000800193.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("name: general,", "name: genral,"),
                        encoding="utf-8")
        line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                    if "genral" in text)
        running = harness.daemon.config  # type: ignore[union-attr]
        status, body = await send(harness, "GET", "/api/admin/scenarios")
        broken = {s["name"]: s for s in body["scenarios"]}["line-8800"]
        assert broken["valid"] is False
        assert len(broken["problems"]) == 1
        assert broken["problems"][0].startswith(f"config/scenarios/88000800193.yaml:{line}: ")
        assert "unknown queue 'genral'" in broken["problems"][0]
        assert {s["name"]: s for s in body["scenarios"]}["line-193"]["valid"] is True

        status, body = await send(harness, "POST", "/api/admin/reload")
        assert status == 422 and body["reloaded"] is False
        assert any(f"88000800193.yaml:{line}" in p for p in body["problems"])
        assert harness.daemon.config is running  # type: ignore[union-attr]


async def test_every_admin_write_needs_the_version_it_changes(harness: Harness) -> None:
    async with asyncio.timeout(60):
        await harness.start_daemon(initial_agent_state="logged_out")
        status, body = await send(harness, "PUT", "/api/admin/queues/general", {"changes": {"wrapup_s": 5}})
        assert status == 400 and body["field"] == "version"
        status, body = await send(harness, "PUT", "/api/admin/queues/general",
                                  {"version": "x", "changes": {"wrapup": 5}})
        assert status == 400 and "wrapup" in body["error"]
        status, body = await send(harness, "PUT", "/api/admin/queues/nosuch",
                                  {"version": None, "changes": {"wrapup_s": 5}})
        assert status == 409  # the file exists: its version is not null
        _, queues = await send(harness, "GET", "/api/admin/queues")
        status, body = await send(harness, "PUT", "/api/admin/queues/nosuch",
                                  {"version": queues["version"], "changes": {"wrapup_s": 5}})
        assert status == 404 and body["error"] == "no queue 'nosuch'"


async def test_a_new_not_ready_reason_is_usable_at_once(harness: Harness) -> None:
    async with asyncio.timeout(60):
        await harness.start_daemon(initial_agent_state="ready")
        status, reply = await harness.api_post("/api/agents/agent1/state",
                                               {"state": "not_ready", "reason": "coaching"}, who="agent1")
        assert status == 400 and "unknown reason" in reply["error"]
        status, current = await send(harness, "GET", "/api/admin/not-ready-reasons")
        assert status == 200 and "coaching" not in current["reasons"]
        status, body = await send(harness, "PUT", "/api/admin/not-ready-reasons",
                                  {"version": current["version"],
                                   "reasons": [*current["reasons"], "coaching"]})
        assert status == 200 and body["reloaded"] is True, body
        # the test's acd.yaml holds literal tokens beside the changed line: the diff shown hides them
        diff = body["change"]["diff"]
        assert "+not_ready_reasons: [break, lunch, training, meeting, no_answer, coaching]" in diff
        assert "token: ***" in diff and not any(token in diff for token in TOKENS.values())
        status, reply = await harness.api_post("/api/agents/agent1/state",
                                               {"state": "not_ready", "reason": "coaching"}, who="agent1")
        assert status == 200, reply
