"""Reports from calls made through the simulator (issue 4, part 4): a known day of calls (answered fast,
answered late, short and long abandons, an information branch, a hang-up in the IVR) gives the daily
(R17) and monthly (R19) figures computed by hand below."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cdr.reports import run_report
from tests.e2e.harness import Harness, close_harness, eventually, make_harness

RU = {"language_menu": "2", "main_menu": "1"}


async def _agents_state(h: Harness, state: str, reason: str | None = None) -> None:
    for i in range(1, 9):
        body = {"state": state, **({"reason": reason} if reason else {})}
        status, answer = await h.api_post(f"/api/agents/agent{i}/state", body, who=f"agent{i}")
        assert status == 200, answer


async def queued(h: Harness, call: str) -> None:
    async def in_queue() -> bool:
        rows = await h.rows("SELECT queued_at FROM calls WHERE id = :id", id=call)
        return bool(rows and rows[0]["queued_at"] is not None)

    await eventually(in_queue, 20, f"call {call} never reached the queue")


async def test_a_known_day_gives_the_hand_computed_daily_and_monthly_figures(
    tmp_path: Path, db_url: str
) -> None:
    """On SQLite, and on PostgreSQL when ACD_TEST_PG_URL is set (CI)."""
    # The short abandon is made by an event, not by a patience that would race the IVR: the caller hangs up
    # as soon as the CDR shows them queued, and a short abandon counts up to 20 s here (5 s by default),
    # room for two real seconds of a busy machine at x10.
    h = await make_harness(tmp_path, start_local="2026-11-24T10:00:00", speed=10, db_url=db_url,
                           extra_config="reports: {short_abandon_s: 20}")
    try:
        for i in range(1, 9):
            await h.endpoint(
                f"agent{i}", state="online", behaviour="answer", answer_after_s=2, hangup="caller"
            )
        await h.start_daemon(initial_agent_state="ready")
        await _agents_state(h, "not_ready", "break")  # nobody free: callers wait

        late = await h.call("193", "77011110001", language="ru", patience_s=600, talk_s=30, dtmf_on=RU)
        await queued(h, late)
        short = await h.call("193", "77011110002", language="ru", patience_s=600, dtmf_on=RU)
        await queued(h, short)
        long_ = await h.call("193", "77011110003", language="ru", patience_s=60, dtmf_on=RU)
        await queued(h, long_)
        await h.sim_post(f"calls/{short}/hangup")
        info = await h.call(
            "193", "77011110004", language="ru", talk_s=5, dtmf_on={"language_menu": "2", "main_menu": "3"}
        )
        ivr_hangup = await h.call("193", "77011110005", language="ru", patience_s=1)  # no key: hangs up
        for c in (short, long_, info, ivr_hangup):
            await h.wait_gone(c, 30)
        # the late caller has waited more than the 30 s threshold; now agent3 comes back
        status, _ = await h.api_post("/api/agents/agent3/state", {"state": "ready"}, who="agent3")
        assert status == 200
        await h.wait_gone(late, 30)
        row_late = await h.call_row(late)
        assert row_late["agent"] == "agent3" and row_late["wait_s"] > 30  # beyond the SL threshold

        async def agent3_ready() -> bool:  # wrap-up (10 s) over: agent3 takes the next call at once
            _, body = await h.api_get("/api/agents")
            agents = body.get("agents", body)
            a3 = (
                agents["agent3"]
                if isinstance(agents, dict)
                else next(a for a in agents if a["id"] == "agent3")
            )
            return bool(a3.get("state") == "ready")

        await eventually(agent3_ready, 20, "agent3 never finished wrap-up")
        fast = await h.call("193", "77011110006", language="ru", talk_s=10, dtmf_on=RU)
        await h.wait_gone(fast, 30)
        rows = {c: await h.call_row(c) for c in (late, short, long_, info, ivr_hangup, fast)}
        enter = await h.rows("SELECT callid, data3 FROM queue_log WHERE event = 'ENTERQUEUE'")
        positions = {r["callid"]: r["data3"] for r in enter}
        # late, short and long queued one behind the other (1, 2, 3 in the order they arrived there);
        # fast came to an empty queue (1)
        assert sorted(positions[c] for c in (late, short, long_)) == ["1", "2", "3"]
        assert positions[fast] == "1"
        assert [rows[c]["outcome"] for c in (late, short, long_, info, ivr_hangup, fast)] == [
            "answered",
            "short_abandoned",
            "abandoned",
            "handled_in_ivr",
            "missed_in_ivr",
            "answered",
        ]

        assert h.daemon is not None
        await h.daemon.writer.flush()
        day = date(2026, 11, 24)
        daily = (await run_report(h.daemon.db, "daily", day, day)).to_json()
        [d] = [r for r in daily["rows"] if str(r["date"]).startswith("2026-11-24")]
        w = {c: rows[c]["wait_s"] for c in rows}
        # By hand: offered = the 4 callers who reached the queue (late, short, long, fast);
        # answered 2 (late after the 30 s threshold, fast within it); lost 2 (long after the threshold,
        # short under 5 s); lost % = 2/4; service level = answered within 30 s / offered = 1/4.
        assert (d["offered"], d["answered"], d["answered_late"], d["transferred"]) == (4, 2, 1, 0)
        assert (d["lost"], d["lost_late"], d["lost_short"]) == (2, 1, 1)
        assert d["lost_pct"] == pytest.approx(50.0)
        assert d["sl_pct"] == pytest.approx(25.0)
        assert d["avg_wait_answered_s"] == pytest.approx((w[late] + w[fast]) / 2, abs=0.1)
        assert d["avg_wait_lost_s"] == pytest.approx((w[short] + w[long_]) / 2, abs=0.1)
        assert d["max_wait_answered_s"] == pytest.approx(w[late], abs=0.1)
        assert d["max_wait_lost_s"] == pytest.approx(w[long_], abs=0.1)
        assert d["avg_talk_s"] == pytest.approx((rows[late]["talk_s"] + rows[fast]["talk_s"]) / 2, abs=0.1)
        assert 0 < rows[fast]["talk_s"] < rows[late]["talk_s"]  # 10 s and 30 s conversations

        monthly = (await run_report(h.daemon.db, "monthly", date(2026, 11, 1), date(2026, 11, 30))).to_json()
        figures = {r["key"]: r["value"] for r in monthly["rows"]}
        # R19 invariant: total 6 = answered by an operator 2 + handled in IVR 1 (info) + missed in IVR 3
        # (one before any queue, the two abandons in the queue)
        assert (
            figures["total"],
            figures["answered_by_operator"],
            figures["handled_in_ivr"],
            figures["missed_in_ivr"],
        ) == (6, 2, 1, 3)
        assert (figures["missed_in_ivr.before_queue"], figures["missed_in_ivr.in_queue"]) == (1, 2)
        assert not monthly.get("warnings"), monthly.get("warnings")
        assert figures["talk_total_s"] == pytest.approx(rows[late]["talk_s"] + rows[fast]["talk_s"], abs=0.2)
        regions = next(s for s in monthly["sections"] if s["key"] == "region")
        assert regions["rows"] == [{"region": "mobile", "count": 6}]  # 7701... numbers are Kcell mobiles
    finally:
        await close_harness(h)
