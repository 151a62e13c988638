""""Keep my place" over the simulator (issue 15): a waiting caller presses * and hangs up; when their turn
comes, the agent it reaches gets the callback (assigned, first in their preview) and no inbound call until
they act; a caller who came later does not pass the kept place."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, eventually

pytestmark = pytest.mark.timeout(120)
SCENARIOS = Path(__file__).parent / "scenarios"


async def _only_agent1(h: Harness) -> None:
    await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    for i in range(2, 9):
        await h.endpoint(f"agent{i}", state="offline")


async def _waiting(h: Harness, n: int) -> bool:
    _, q = await h.api_get("/api/queues")
    return bool(q["queues"]["general"]["waiting"] == n)


async def test_a_caller_who_presses_star_keeps_their_place_and_the_freed_agent_gets_the_callback(
    harness: Harness,
) -> None:
    h = harness
    shutil.copy(SCENARIOS / "keep_place_5553.yaml", h.config_dir / "scenarios" / "keep_place_5553.yaml")
    await _only_agent1(h)
    await h.start_daemon(initial_agent_state="not_ready")  # agent1 on a break: callers wait
    assert h.daemon is not None
    kept = await h.call("5553", "77015550102", talk_s=600)
    await eventually(lambda: _waiting(h, 1), 30, "the first caller never waited")
    await h.sim_post(f"calls/{kept}/dtmf", {"digits": "*"})
    await h.wait_gone(kept, 30)  # confirmed, then hung up by the daemon
    later = await h.call("5553", "77015550103", talk_s=5)
    await eventually(lambda: _waiting(h, 2), 30, "the kept place and the later caller are not both queued")
    async with h.daemon.db.begin() as conn:  # an overdue voicemail callback: the kept place still goes first
        from cdr.schema import callbacks

        long_ago = datetime.fromtimestamp(h.clock.now() - 3600, UTC)
        await conn.execute(callbacks.insert().values(
            id="cb-old-voicemail", number="77015550999", reason="voicemail", due_at=long_ago,
            status="open", created_at=long_ago, attempts=0))

    await h.api_post("/api/agents/agent1/state", {"state": "ready"}, who="agent1")  # back from the break
    rows = await eventually(lambda: h.rows("SELECT * FROM callbacks WHERE reason = 'requested'"), 60,
                            "no callback for the kept place")
    [cb] = rows
    assert (cb["call_id"], cb["number"], cb["agent"], cb["status"]) == (kept, "77015550102", "agent1", "open")
    assert "general" in cb["notes"]
    # agent1 is held for it: the later caller waits, not offered, although agent1 is ready
    assert await _waiting(h, 1)
    assert not await h.rows("SELECT id FROM calls WHERE id = :c AND offered_at IS NOT NULL", c=later)
    # the agent takes it in the preview: that ends the hold, inbound calls come again, the later one first
    status, body = await h.api_post("/api/callbacks/next", {}, who="agent1")
    assert status == 200 and body["callback"]["id"] == cb["id"]
    await eventually(lambda: h.rows("SELECT id FROM calls WHERE id = :c AND offered_at IS NOT NULL",
                                    c=later), 30, "the later caller was never offered after the claim")

    row = await h.call_row(kept)
    assert row["outcome"] == "callback_requested" and row["agent"] is None
    assert row["wait_s"] is not None and row["wait_s"] < 60  # up to the key, not up to the callback

