"""The supervisor's wallboard in a real Chromium against the real daemon and the ARI simulator (issue 14).

A supervisor signs in and opens the wallboard; forcing an agent ready changes the agent's row; a simulated
caller arrives (the agent's row turns to ringing, the call appears in the live calls), is answered (on a
call, one answered in the queue's tile), a second caller waits, is moved to another queue by the
supervisor, and hangs up there (one lost in that queue). Each
change is awaited in the DOM (the page is fed by its WebSocket, never polled). A TV link opens without a
login and goes dark when revoked; an agent is refused the wallboard. Screenshots go to docs/img/.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.conftest import IMG, VIEWPORT, Desk
from tests.e2e.harness import TOKENS, eventually

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
expect.set_options(timeout=45_000)
MENUS = {"language_menu": "2", "main_menu": "1"}


def _seconds_apart(shown: str, at: float, zone: str) -> int:
    """How far the clock's HH:MM:SS is from ``at`` in ``zone``, in seconds, across midnight too."""
    h, m, s = (int(x) for x in shown.split(":"))
    local = datetime.fromtimestamp(at, ZoneInfo(zone))
    apart = abs(h * 3600 + m * 60 + s - (local.hour * 3600 + local.minute * 60 + local.second))
    return min(apart, 86_400 - apart)


async def test_the_wallboard_follows_calls_live_and_a_supervisor_forces_an_agent_ready(desk: Desk) -> None:
    h = desk.h
    # The browser sits in New York (UTC-5); the centre is in Almaty (UTC+5): the clock shows Almaty.
    abroad = await desk.browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="America/New_York")
    page = await desk.new_page(abroad)
    await desk.login(page, "boss")
    await page.goto(f"{desk.url}/wallboard?lang=en")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    shown, at = await page.locator("#clock").text_content() or "", h.clock.now()
    assert _seconds_apart(shown, at, "Asia/Almaty") < 120, (shown, at)
    assert _seconds_apart(shown, at, "America/New_York") > 3600, (shown, at)
    agent1 = page.locator('#agents tr[data-agent="agent1"]')
    await expect(agent1).to_have_attribute("data-state", "logged_out")

    await agent1.locator('button[data-force="ready"]').click()
    await expect(agent1).to_have_attribute("data-state", "ready")
    rows = await h.rows("SELECT state, by_user FROM agent_state_log WHERE agent = 'agent1' ORDER BY at, id")
    assert rows[-1] == {"state": "ready", "by_user": "boss"}
    audit = await h.rows("SELECT user_name, action, agent, to_value FROM supervisor_audit")
    assert audit == [{"user_name": "boss", "action": "force_state", "agent": "agent1", "to_value": "ready"}]

    general = page.locator('.tile[data-queue="general"]')
    first = await h.call("193", "77015550123", language="ru", talk_s=600, dtmf_on=MENUS)
    await expect(agent1).to_have_attribute("data-state", "ringing")
    await expect(page.locator(f'#calls tr[data-call="{first}"]')).to_be_visible()
    await expect(agent1).to_have_attribute("data-state", "on_call")  # the simulated phone answered
    await expect(general.locator('[data-fig="answered"]')).to_have_text("1")
    await expect(page.locator(f'#calls tr[data-call="{first}"]')).to_have_attribute("data-state", "talking")

    second = await h.call("193", "77015550199", language="ru", talk_s=600, patience_s=600, dtmf_on=MENUS)
    await expect(general.locator('[data-fig="waiting"]')).to_have_text("1")
    await expect(page.locator(f'#calls tr[data-call="{second}"]')).to_have_attribute("data-state", "waiting")
    await page.screenshot(path=str(IMG / "wallboard.png"))

    waiting_row = page.locator(f'#calls tr[data-call="{second}"]')
    await waiting_row.locator("select").select_option("second_line")
    await waiting_row.locator("button[data-move]").click()  # the supervisor moves the caller
    second_line = page.locator('.tile[data-queue="second_line"]')
    await expect(second_line.locator('[data-fig="waiting"]')).to_have_text("1")
    await expect(general.locator('[data-fig="waiting"]')).to_have_text("0")
    await expect(waiting_row.locator("td").nth(1)).to_have_text("second_line")
    audit = await h.rows("SELECT action, call_id, from_value, to_value FROM supervisor_audit ORDER BY id")
    assert audit[-1] == {"action": "move_call", "call_id": second, "from_value": "general",
                         "to_value": "second_line"}

    await h.sim_post(f"calls/{second}/hangup")
    await expect(second_line.locator('[data-fig="lost"]')).to_have_text("1")
    await expect(second_line.locator('[data-fig="waiting"]')).to_have_text("0")
    await expect(waiting_row).to_have_count(0)
    row = await h.call_row(second)
    assert row["queue"] == "second_line" and row["outcome"] in ("abandoned", "short_abandoned"), row


async def _channels(desk: Desk) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in (await desk.h.state())["channels"]}


async def test_a_supervisor_listens_then_whispers_then_barges_in_one_session(desk: Desk) -> None:
    """One call to the supervisor's phone (sup1), three modes switched from the wallboard; the simulator's
    channels show the snoop's directions and who is in which bridge, as Asterisk has them."""
    h = desk.h
    for name in ("agent1", "sup1"):
        await h.endpoint(name, state="online", behaviour="answer", answer_after_s=2, hangup="caller",
                         talk_s=3600)
    status, _ = await h.api_post("/api/agents/agent1/state", {"state": "ready"}, who="agent1")
    assert status == 200
    page = await desk.new_page()
    await desk.login(page, "boss")
    await page.goto(f"{desk.url}/wallboard?lang=en")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    call = await h.call("193", "77015550123", language="ru", talk_s=3600, dtmf_on=MENUS)
    row = page.locator(f'#calls tr[data-call="{call}"]')
    await expect(row).to_have_attribute("data-state", "talking")
    chans = await _channels(desk)
    leg = next(i for i, c in chans.items() if c["name"].startswith("PJSIP/agent1-"))
    call_bridge = chans[call]["bridge"]
    assert call_bridge and chans[leg]["bridge"] == call_bridge

    bar = page.locator("#listen-bar")
    await row.locator('button[data-listen="listen"]').click()
    await expect(bar).to_have_attribute("data-state", "active")  # sup1 answered
    await expect(bar.locator('button[data-mode="listen"]')).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#listen-hint")).to_have_text(
        "Listen: you hear the agent and the caller; nobody hears you")
    sup = next(i for i, c in (await _channels(desk)).items() if c["name"].startswith("PJSIP/sup1-"))

    async def mode_is(spy: str, whisper: str | None) -> bool:
        chans = await _channels(desk)
        snoops = [c for c in chans.values() if c["snoop"] is not None and c["snoop"]["of"] == leg]
        if whisper is None:  # barge: no snoop; the supervisor is in the call's own bridge
            return not snoops and chans[sup]["bridge"] == call_bridge
        return (len(snoops) == 1 and snoops[0]["snoop"] == {"of": leg, "spy": spy, "whisper": whisper}
                and snoops[0]["bridge"] is not None and snoops[0]["bridge"] == chans[sup]["bridge"]
                and chans[sup]["bridge"] != call_bridge and sup in chans)

    await eventually(lambda: mode_is("both", "none"), 30, "listen: no snoop (spy both) bridged with sup1")
    chans = await _channels(desk)
    assert {call, leg} <= set(chans[sup]["hears"]) and sup not in chans[call]["hears"] + chans[leg]["hears"]

    await bar.locator('button[data-mode="whisper"]').click()
    await expect(bar).to_have_attribute("data-mode", "whisper")
    await eventually(lambda: mode_is("both", "out"), 30, "whisper: no snoop whispering out to the agent")
    chans = await _channels(desk)
    assert sup in chans[leg]["hears"] and sup not in chans[call]["hears"]  # only the agent hears them

    await row.locator('button[data-listen="barge"]').click()  # the row's button switches, never redials
    await expect(bar).to_have_attribute("data-mode", "barge")
    await expect(row.locator('button[data-listen="barge"]')).to_have_attribute("aria-pressed", "true")
    await eventually(lambda: mode_is("both", None), 30, "barge: sup1 never joined the call's bridge")
    chans = await _channels(desk)
    assert sup in chans[leg]["hears"] and sup in chans[call]["hears"]  # a three-way call
    assert [c for c in chans.values() if c["name"].startswith("PJSIP/sup1-")] == [chans[sup]]  # one call
    await page.screenshot(path=str(IMG / "wallboard-listen.png"))

    await page.click("#listen-end")
    await expect(bar).to_be_hidden()
    await h.wait_gone(sup)
    await h.sim_post(f"calls/{call}/hangup")
    await h.wait_gone(call)

    async def audited() -> list[dict[str, Any]] | None:
        rows = await h.rows("SELECT session_id, supervisor, agent, call_id, mode, from_at, to_at "
                            "FROM listen_audit ORDER BY from_at, id")
        return rows if len(rows) == 3 else None

    rows = await eventually(audited, 30, "listen_audit never had one row per mode")
    assert [(r["supervisor"], r["agent"], r["call_id"], r["mode"]) for r in rows] == [
        ("boss", "agent1", call, "listen"), ("boss", "agent1", call, "whisper"),
        ("boss", "agent1", call, "barge")]
    assert len({r["session_id"] for r in rows}) == 1
    assert all(r["from_at"] <= r["to_at"] for r in rows)
    assert rows[0]["to_at"] <= rows[1]["from_at"] and rows[1]["to_at"] <= rows[2]["from_at"]


async def test_a_tv_link_opens_without_login_and_goes_dark_when_revoked(desk: Desk) -> None:
    page = await desk.new_page()
    await desk.login(page, "boss")
    await page.goto(f"{desk.url}/wallboard?lang=en")
    await page.click("#btn-tv")
    link = page.locator("#tv-url")
    await expect(link).to_be_visible()
    url = await link.get_attribute("href")
    assert url and url.startswith("/tv/")

    for agent in ("agent1", "agent2", "agent3"):  # a wall with something on it
        status, _ = await desk.h.api_post(f"/api/agents/{agent}/state", {"state": "ready"})
        assert status == 200
    status, _ = await desk.h.api_post("/api/agents/agent4/state", {"state": "not_ready", "reason": "lunch"},
                                      who="agent4")
    assert status == 200
    tv_context = await desk.browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB")
    tv = await desk.new_page(tv_context)
    await tv.goto(f"{desk.url}{url}?lang=en")
    await expect(tv.locator("#conn")).to_have_attribute("data-state", "live")
    await expect(tv.locator("body")).to_have_class(re.compile(r"\btv\b"))
    await expect(tv.locator('#agents tr[data-agent="agent3"]')).to_have_attribute("data-state", "ready")
    assert await tv.locator("#agents button").count() == 0  # no controls on a wall
    assert await tv.locator("#calls").count() == 0  # no callers' numbers on a wall
    await tv.screenshot(path=str(IMG / "wallboard-tv.png"))

    async with desk.h.http.get(f"{desk.url}/api/wallboard/links",
                               headers={"Authorization": f"Bearer {TOKENS['supervisor']}"}) as r:
        link_id = (await r.json())["links"][0]["id"]
    async with desk.h.http.delete(f"{desk.url}/api/wallboard/links/{link_id}",
                                  headers={"Authorization": f"Bearer {TOKENS['supervisor']}"}) as r:
        assert r.status == 200
    await expect(tv.locator("#conn")).to_have_attribute("data-state", "lost")
    await expect(tv.locator("#conn-text")).to_have_text("This wallboard link was revoked")
    response = await tv.goto(f"{desk.url}{url}")
    assert response is not None and response.status == 403
    await tv_context.close()


async def test_an_agent_is_refused_the_wallboard(desk: Desk) -> None:
    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    response = await page.goto(f"{desk.url}/wallboard")
    assert response is not None and response.status == 403
