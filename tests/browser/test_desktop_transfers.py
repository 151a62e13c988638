"""Transfers and the conference from the agent desktop in a real Chromium (issue 13, R13), against the real
daemon and the ARI simulator: a call that ends as a three-way conference, and a blind transfer to an
external number of the directory. Each checks what a report reads afterwards: the CDR row and Asterisk's
classic CDR rows, ``queue_log`` as app_queue writes it, and one recording for the whole call."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Desk
from tests.e2e.harness import eventually

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]
expect.set_options(timeout=45_000)
CALLER = "77015550177"


async def _hears(desk: Desk) -> dict[str, list[str]]:
    return {c["id"]: c["hears"] for c in (await desk.h.state())["channels"]}


async def _on_a_call(desk: Desk) -> tuple[Any, str, str]:
    """agent1 (aigerim) talking to a Russian-speaking caller from the desktop; agent2 (who speaks only
    Kazakh, so the queue offers the call to agent1) ready for a consultation: (page, call id, agent1's
    channel). The trunk (the directory's external numbers) answers too."""
    h = desk.h
    for name in ("agent1", "agent2", "trunk"):
        await h.endpoint(name, state="online", behaviour="answer", answer_after_s=2, hangup="caller",
                         talk_s=3600)
    status, _ = await h.api_post("/api/agents/agent2/state", {"state": "ready"}, who="agent2")
    assert status == 200
    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    await page.click("#btn-ready")
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-ready"))
    call = await h.call("193", CALLER, language="ru", talk_s=3600,
                        dtmf_on={"language_menu": "2", "main_menu": "1"})
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-on_call"))
    await expect(page.locator("#callctl")).to_be_visible()
    state = await h.state()
    leg = next(c for c in state["channels"] if c["name"].startswith("PJSIP/agent1-"))
    assert leg["sip_headers"] == {"X-ACD-Call": call}  # the offer names its call (the browser phone's key)
    return page, call, str(leg["id"])


async def _end(desk: Desk, call: str) -> dict[str, Any]:
    await desk.h.sim_post(f"calls/{call}/hangup")
    await desk.h.wait_gone(call)

    async def ended() -> bool:
        row = await desk.h.call_row(call)
        return row is not None and row["outcome"] is not None and row["ended_at"] is not None

    await eventually(ended, 30, "the CDR row never ended")
    return await desk.h.call_row(call)


async def _queue_log(desk: Desk, call: str) -> list[tuple[str, str, str]]:
    rows = await desk.h.rows("SELECT event, agent, data1 FROM queue_log WHERE callid = :c ORDER BY id",
                             c=call)
    return [(r["event"], r["agent"], r["data1"]) for r in rows]


async def _classic(desk: Desk, call: str) -> list[tuple[str, str, str]]:
    rows = await desk.h.rows("SELECT dstchannel, disposition, userfield FROM cdr WHERE linkedid = :c "
                             "ORDER BY calldate", c=call)
    return [(r["dstchannel"], r["disposition"], r["userfield"]) for r in rows]


async def _recordings(desk: Desk, call: str) -> int:
    return len(await desk.h.rows("SELECT name FROM recordings WHERE call_id = :c", c=call))


async def test_a_call_ends_in_a_three_way_conference_from_the_desktop(desk: Desk) -> None:
    page, call, leg = await _on_a_call(desk)
    await page.select_option("#cc-target", "agent:agent2")
    await page.keyboard.press("Alt+KeyC")
    await expect(page.locator("#cc-status")).to_have_text("Talking to Нұрлан")
    await page.keyboard.press("Alt+KeyF")  # all three together
    await expect(page.locator("#cc-status")).to_have_text("Conference: three parties")

    async def three_way() -> bool:
        hears = await _hears(desk)
        others = [c for c in hears.get(call, []) if c != leg]
        return leg in hears.get(call, []) and len(others) == 1 and call in hears.get(others[0], [])

    await eventually(three_way, 30, "the caller never heard both agents")
    row = await _end(desk, call)
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-wrap_up"))
    assert row["agent"] == "agent1" and row["outcome"] == "answered" and row["transferred_to"] is None
    events = [e for e, _, _ in await _queue_log(desk, call)]
    assert events[-2:] == ["CONNECT", "COMPLETECALLER"]  # a conference is no transfer for app_queue
    assert not {"ATTENDEDTRANSFER", "BLINDTRANSFER"} & set(events)
    assert await _classic(desk, call) == [("agent1", "ANSWERED", "answered")]  # the caller never left agent1
    kinds = [r["kind"] for r in await desk.h.rows(
        "SELECT kind FROM call_events WHERE call_id = :c ORDER BY at, id", c=call)]
    assert "conference" in kinds and "transfer" not in kinds
    assert await _recordings(desk, call) == 1  # one recording across the consultation and conference


async def test_a_blind_transfer_to_an_external_number_from_the_directory(desk: Desk) -> None:
    page, call, leg = await _on_a_call(desk)
    options = await page.locator("#cc-target option").all_inner_texts()
    assert "Astana branch" in options  # the directory of acd.yaml, as the agent sees it
    await page.select_option("#cc-target", "directory:astana")
    await page.keyboard.press("Alt+KeyT")
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-wrap_up"))  # moved on at once
    await desk.h.wait_gone(leg)

    async def with_branch() -> bool:
        state = await desk.h.state()
        trunk = [c["id"] for c in state["channels"]
                 if c["name"].startswith("PJSIP/trunk") and c["id"] != call]
        return bool(trunk) and trunk[0] in (await _hears(desk)).get(call, [])

    await eventually(with_branch, 30, "the caller never reached the branch")
    row = await _end(desk, call)
    assert row["agent"] == "agent1" and row["transferred_to"] == "directory:astana"
    log = await _queue_log(desk, call)
    assert [e for e, _, _ in log][-2:] == ["CONNECT", "BLINDTRANSFER"]  # and no COMPLETE* after it
    assert log[-1][1:] == ("agent1", "directory:astana")
    assert await _classic(desk, call) == [  # as Asterisk's CDR engine: a row per party the caller talked to
        ("agent1", "ANSWERED", "answered"), ("directory:astana", "ANSWERED", "transfer:blind")]
    assert await _recordings(desk, call) == 1
