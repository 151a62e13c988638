"""Click-to-call from the agent desktop in a real Chromium (issue 15): a callback the daemon offers shows with
Dial and Skip; an emergency number is refused with
its reason, a customer's number rings the agent's phone first, then the number; the agent talks, types the
topic in wrap-up, and the CDR row is an outbound call with that topic."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Desk
from tests.e2e.harness import eventually

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]
expect.set_options(timeout=45_000)


async def test_click_to_call_from_the_desktop(desk: Desk) -> None:
    h = desk.h
    await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=2, hangup="caller")
    await h.endpoint("trunk", called={"7015550123": {"behaviour": "answer", "answer_after_s": 2,
                                                     "talk_s": 12}})
    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    await expect(page.locator("#btn-out-call")).to_be_disabled()  # logged out: nobody to ring
    await page.click("#btn-ready")
    await expect(page.locator("#btn-out-call")).to_be_enabled()

    # a due callback is pushed to the free agent's desktop (Dial / Skip); skipped, it leaves the desktop
    status, created = await h.api_post("/api/callbacks", {"number": "87015550199", "kind": "api"})
    assert status == 201, created
    await expect(page.locator("#out-offer")).to_be_visible()
    await expect(page.locator("#out-offer-number")).to_have_text("7015550199")
    await page.click("#btn-offer-skip")
    await expect(page.locator("#out-offer")).to_be_hidden()

    await page.fill("#out-number", "112")
    await page.click("#btn-out-call")
    await expect(page.locator("#out-error")).to_contain_text("112 is an emergency number")

    await page.fill("#out-number", "8 701 555 01 23")
    await page.click("#btn-out-call")
    await expect(page.locator("#out-status")).to_contain_text("7015550123")
    badge = page.locator("#state-badge")
    await expect(badge).to_have_class(re.compile("state-on_call"))
    await expect(page.locator("#pop-caller")).to_have_text("+77015550123")  # whom the agent calls
    await expect(badge).to_have_class(re.compile("state-wrap_up"))  # the called party hung up
    await page.fill("#topic", "Callback about refund")
    await page.click("#btn-topic")
    await expect(page.locator("#topic-saved")).to_be_visible()

    async def written() -> dict[str, object] | None:
        rows = await h.rows("SELECT * FROM calls WHERE direction = 'outbound'")
        return rows[0] if rows and rows[0]["topic"] == "Callback about refund" else None

    row = await eventually(written, 20, "the outbound call's topic never reached the CDR")
    assert row["agent"] == "agent1" and row["dialled"] == "+77015550123" and row["outcome"] == "answered"
