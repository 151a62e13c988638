"""The agent desktop in a real Chromium against the real daemon and the ARI simulator (issue 13).

An agent signs in, goes ready, a simulated caller rings through, the screen pop shows who calls and the
caller's earlier call from the CDR, the agent's (simulated) phone answers, the caller hangs up, the agent
types the topic in wrap-up and the CDR row has it. Screenshots of each main screen go to docs/img/.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import IMG, Desk, add_earlier_call
from tests.e2e.harness import eventually

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]
expect.set_options(timeout=45_000)
CALLER = "77015550123"


async def test_an_agent_takes_a_call_from_ready_to_wrap_up_with_screen_pop_and_topic(desk: Desk) -> None:
    h = desk.h
    await add_earlier_call(h, "earlier-call-1", "+" + CALLER, agent="agent3", topic="Tax refund")
    page = await desk.new_page()
    await page.goto(f"{desk.url}/login?lang=en")
    await expect(page.locator("h1")).to_have_text("Sign in")
    await page.screenshot(path=str(IMG / "agent-login.png"))
    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    badge = page.locator("#state-badge")
    await expect(badge).to_have_text("Logged out")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")

    await page.click("#btn-ready")
    await expect(badge).to_have_class(re.compile("state-ready"))
    await expect(page.locator("#idle-title")).to_have_text("Waiting for a call")
    rows = await h.rows("SELECT state, by_user FROM agent_state_log WHERE agent = 'agent1' ORDER BY at")
    assert rows[-1] == {"state": "ready", "by_user": None}  # as POST /api/agents/{id}/state writes it
    await page.screenshot(path=str(IMG / "agent-desktop-ready.png"))

    call = await h.call("193", CALLER, language="ru", talk_s=80,
                        dtmf_on={"language_menu": "2", "main_menu": "1"})
    await expect(badge).to_have_class(re.compile("state-ringing"))
    await expect(page).to_have_title(re.compile("☎"))
    await expect(page.locator("#pop-caller")).to_have_text("+" + CALLER)
    history = page.locator("#history tbody tr")
    await expect(history).to_have_count(1)
    await page.screenshot(path=str(IMG / "agent-desktop-ringing.png"))
    fits = await page.evaluate("""() => [document.documentElement.scrollWidth,
        document.querySelector('#callview').getBoundingClientRect().bottom]""")
    assert fits[0] <= 1366 and fits[1] <= 768, fits  # the whole screen pop on a 1366x768 screen
    await expect(page.locator("#answer-hint")).to_be_visible()
    await expect(page.locator("#countdown")).to_be_visible()
    await expect(page.locator("#countdown-label")).to_have_text("Ring time-out in")
    await expect(page.locator("#pop-language")).to_have_text("Russian")
    await expect(page.locator("#pop-queue")).to_have_text("general")
    await expect(page.locator("#pop-dialled")).not_to_have_text("—")
    await expect(page.locator("#pop-region")).not_to_have_text("—")
    await expect(history.first).to_contain_text("Tax refund")
    await expect(history.first).to_contain_text("Ольга")  # agent3's name from agents.yaml
    await expect(history.first).to_contain_text("answered")

    await expect(badge).to_have_class(re.compile("state-on_call"))  # the simulated phone answered
    await expect(page.locator("#pop-wait-label")).to_have_text("Talk time")
    await expect(badge).to_have_class(re.compile("state-wrap_up"))  # the caller hung up
    await expect(page.locator("#wrapup")).to_be_visible()
    await page.fill("#topic", "Tax refund status")
    await page.fill("#comment", "asked about form 270")
    await page.click("#btn-topic")
    await expect(page.locator("#topic-saved")).to_be_visible()
    await expect(page.locator("#today-calls")).to_have_text("1")
    await page.screenshot(path=str(IMG / "agent-wrapup.png"))

    async def topic_written() -> bool:
        row = await h.call_row(call)
        return row["topic"] == "Tax refund status" and row["comment"] == "asked about form 270"

    await eventually(topic_written, 20, "the topic typed in the browser never reached the CDR row")
    row = await h.call_row(call)
    assert row["agent"] == "agent1" and row["outcome"] == "answered"
    states = [r["state"] for r in await h.rows(
        "SELECT state FROM agent_state_log WHERE agent = 'agent1' ORDER BY at, id")]
    assert states[-4:] == ["ready", "ringing", "on_call", "wrap_up"]


async def test_csrf_role_and_password_refusals_in_the_browser(desk: Desk) -> None:
    page = await desk.new_page()
    for _ in range(5):
        await desk.login(page, "nurlan", "not-my-password")
        await expect(page.locator("#login-error")).to_have_text("Wrong user name or password")
    await desk.login(page, "nurlan")  # the right password, but too late
    await expect(page.locator("#login-error")).to_contain_text("Too many attempts")
    assert "/login" in page.url

    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    status = await page.evaluate("""async () => (await fetch('/api/agents/agent1/state', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({state: 'ready'})})).status""")
    assert status == 403  # no CSRF token
    await expect(page.locator("#state-badge")).to_have_text("Logged out")
    response = await page.goto(f"{desk.url}/agent/agent2")
    assert response is not None and response.status == 403
    response = await page.goto(f"{desk.url}/api/agents")
    assert response is not None and response.status == 403
    rows = await desk.h.rows("SELECT outcome FROM web_login_log WHERE user_name = 'nurlan' ORDER BY id")
    assert [r["outcome"] for r in rows] == ["bad_password"] * 5 + ["rate_limited"]
    assert not await desk.h.rows("SELECT * FROM agent_state_log WHERE agent IN ('agent1', 'agent2')")


async def test_two_tabs_follow_each_other_and_heal_after_a_daemon_restart(desk: Desk) -> None:
    first = await desk.new_page()
    await desk.login(first, "aigerim")
    await first.wait_for_url(re.compile(r"/agent/agent1$"))
    second = await desk.new_page(first.context)  # same browser, same session: a second tab
    await second.goto(f"{desk.url}/agent/agent1?lang=kk")
    await expect(second.locator("#conn")).to_have_attribute("data-state", "live")
    await first.click("#btn-ready")
    await expect(second.locator("#state-badge")).to_have_class(re.compile("state-ready"))
    await expect(second.locator("#state-badge")).to_have_text("Дайын")
    await second.screenshot(path=str(IMG / "agent-desktop-kk.png"))
    await second.select_option("#reason", "lunch")
    await second.click("#btn-not-ready")
    await expect(first.locator("#state-badge")).to_have_class(re.compile("state-not_ready"))
    await expect(first.locator("#state-reason")).to_contain_text("Lunch")

    await first.evaluate("window.__no_reload = true")
    await desk.restart_daemon()  # a restart changes no agent's state (issue 10): still on lunch
    await expect(first.locator("#conn")).to_have_attribute("data-state", "live")
    await expect(first.locator("#state-badge")).to_have_class(re.compile("state-not_ready"))
    await expect(first.locator("#state-reason")).to_contain_text("Lunch")
    assert await first.evaluate("window.__no_reload === true")  # healed without a reload
    await first.click("#btn-ready")
    await expect(second.locator("#state-badge")).to_have_class(re.compile("state-ready"))

    other = await desk.new_page()  # another computer of the same agent
    await desk.login(other, "aigerim")
    await other.wait_for_url(re.compile(r"/agent/agent1$"))
    await other.click("#logout-all")
    await other.wait_for_url(re.compile(r"/login"))
    await second.wait_for_url(re.compile(r"/login"))  # the open tabs notice at once and go to sign-in


async def test_a_missed_call_sets_the_agent_not_ready_and_the_desktop_says_why(desk: Desk) -> None:
    await desk.h.endpoint("agent1", state="online", behaviour="no_answer")
    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    await page.click("#btn-ready")
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-ready"))
    await desk.h.call("193", CALLER, language="ru", talk_s=30,
                      dtmf_on={"language_menu": "2", "main_menu": "1"})
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-ringing"))
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-not_ready"), timeout=90_000)
    await expect(page.locator("#idle-hint")).to_have_text("You missed a call and were set not ready.")
    await expect(page.locator("#state-reason")).to_contain_text("Missed a call")
