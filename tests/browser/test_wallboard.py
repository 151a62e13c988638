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

import pytest
from playwright.async_api import expect

from tests.browser.conftest import IMG, Desk
from tests.e2e.harness import TOKENS

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
expect.set_options(timeout=45_000)
MENUS = {"language_menu": "2", "main_menu": "1"}


async def test_the_wallboard_follows_calls_live_and_a_supervisor_forces_an_agent_ready(desk: Desk) -> None:
    h = desk.h
    page = await desk.new_page()
    await desk.login(page, "boss")
    await page.goto(f"{desk.url}/wallboard?lang=en")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
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
