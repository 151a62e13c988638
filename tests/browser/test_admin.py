"""The administration console in a real Chromium against the real daemon and the ARI simulator (issue 14,
R24). One daemon and one browser for the module:

- an admin adds an agent with a skill in the form: agents.yaml grows by exactly that agent (comments and
  the other lines byte for byte), the page shows the diff written, and a simulated caller reaches the new
  agent at once (no restart);
- an invalid change (a skill level of 11) is refused with the loader's file:line message next to the
  field and nothing is written; a page read before another admin's change gets the 409 message;
- a user is created, signs in, is disabled (signed out at once, cannot sign in), enabled, and gets a new
  password (the old one stops working).

Screenshots: docs/img/admin-agents.png, admin-invalid.png, admin-users.png, admin-history.png,
admin-queues.png, admin-hours.png, admin-scenarios.png.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from acd.web.accounts import AccountStore
from tests.browser.conftest import CHROMIUM, HAVE_CHROMIUM, IMG, Desk, chromium, screenshot
from tests.e2e.harness import close_harness, eventually, make_harness

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
expect.set_options(timeout=30_000)
ROOT_PASSWORD = "Root-admin-2026!"
KK_DTMF = {"language_menu": "1", "main_menu": "1"}


class Console(Desk):
    """The desk's daemon and browser; its pages accept the confirm() of destructive forms."""

    async def page(self) -> Any:
        page = await self.new_page()
        page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
        return page


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def console(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    h = await make_harness(tmp_path_factory.mktemp("admin"), speed=10.0)
    try:
        await h.endpoint("agent9", state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.start_daemon(initial_agent_state="logged_out")  # nobody takes calls but the new agent
        assert h.daemon is not None
        store = AccountStore(h.daemon.db, h.clock.now)
        await store.add("root", "admin", None, ROOT_PASSWORD)
        async with chromium() as browser:
            yield Console(h, browser, store)
    finally:
        await close_harness(h)


async def test_an_agent_added_in_the_form_changes_only_its_lines_and_takes_a_call_at_once(
        console: Console) -> None:
    h = console.h
    agents_file = h.config_dir / "agents.yaml"
    before = agents_file.read_text(encoding="utf-8")
    page = await console.page()
    await console.login(page, "root", ROOT_PASSWORD)
    await page.goto(f"{console.url}/admin/agents")
    await expect(page.locator("#agents-table")).to_contain_text("agent8")
    await page.fill("#new-id", "agent9")
    await page.fill("#new-name", "Жанна")
    await page.fill("#new-endpoint", "PJSIP/agent9")
    await page.fill("#new-languages", "kk")
    await page.fill("#new-skills", "general:6")
    await page.fill("#new-queues", "general:1")
    await page.click("#new-submit")

    result = page.locator("#result-agent-new")
    await expect(result).to_have_class("adm-result ok-box")
    await expect(result.locator("pre.diff .add")).to_have_text([  # only added lines, only the agent's
        "+  - id: agent9", "+    name: Жанна", "+    endpoint: PJSIP/agent9", "+    languages: [kk]",
        "+    skills: {general: 6}", "+    queues: {general: 1}"])
    await expect(result.locator("pre.diff .del")).to_have_count(0)
    await expect(page.locator("#agents-table")).to_contain_text("general:6")
    after = agents_file.read_text(encoding="utf-8")  # noqa: ASYNC240
    assert after.startswith(before), "lines before the new agent changed (comments, order or format)"
    assert after[len(before):] == ("  - id: agent9\n    name: Жанна\n    endpoint: PJSIP/agent9\n"
                                   "    languages: [kk]\n    skills: {general: 6}\n"
                                   "    queues: {general: 1}\n")
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "admin-agents.png", also=IMG / "admin-agents.png")

    # no restart: the new agent logs in, and a caller choosing Kazakh reaches them
    status, reply = await h.api_post("/api/agents/agent9/state", {"state": "login"}, who="admin")
    assert status == 200, reply
    call = await h.call("193", "77015550009", language="kk", talk_s=2, patience_s=600, dtmf_on=KK_DTMF)
    await h.wait_gone(call, 60)
    row = await h.call_row(call)
    assert row["agent"] == "agent9" and row["outcome"] == "answered"

    await page.goto(f"{console.url}/admin/history")
    await expect(page.locator("#history-table")).to_contain_text("add agent agent9")
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "admin-history.png", also=IMG / "admin-history.png")
    await page.context.close()


async def test_an_invalid_change_is_refused_with_the_loaders_message_and_a_stale_page_gets_409(
        console: Console) -> None:
    agents_file = console.h.config_dir / "agents.yaml"
    before = agents_file.read_text(encoding="utf-8")
    page = await console.page()
    await console.login(page, "root", ROOT_PASSWORD)
    await page.goto(f"{console.url}/admin/agents")
    stale = await console.page()
    await stale.context.add_cookies(await page.context.cookies())
    await stale.goto(f"{console.url}/admin/agents")

    await page.click("#agent-agent1 + tr summary")
    await page.fill("#a-agent1-skills", "general:11")
    await page.click("#a-agent1-submit")
    result = page.locator("#result-agent-agent1")
    await expect(result).to_have_class("adm-result alert")
    await expect(result).to_contain_text("Nothing was written")
    await expect(result).to_contain_text("config/agents.yaml:4")
    await expect(page.locator("#a-agent1-skills")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#a-agent1-skills-err")).to_contain_text("agents.yaml:4")
    await expect(page.locator("#a-agent1-skills")).to_have_value("general:11")  # the admin's input kept
    assert agents_file.read_text(encoding="utf-8") == before  # noqa: ASYNC240
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "admin-invalid.png", also=IMG / "admin-invalid.png")

    await page.fill("#a-agent1-skills", "general:8")  # a valid change from the first page ...
    await page.click("#a-agent1-submit")
    await expect(page.locator("#result-agent-agent1")).to_have_class("adm-result ok-box")
    written = agents_file.read_text(encoding="utf-8")  # noqa: ASYNC240
    await stale.click("#agent-agent2 + tr summary")  # ... then one from the page read before it
    await stale.fill("#a-agent2-name", "Nurlan")
    await stale.click("#a-agent2-submit")
    conflict = stale.locator("#result-agent-agent2")
    await expect(conflict).to_have_attribute("data-status", "409")
    await expect(conflict).to_contain_text("someone else changed this file")
    await expect(conflict).to_contain_text("by root")
    assert agents_file.read_text(encoding="utf-8") == written  # noqa: ASYNC240

    for section in ("queues", "hours", "scenarios"):  # the other pages the docs show
        await page.goto(f"{console.url}/admin/{section}")
        await expect(page.locator(f"#admin-{section} h1")).to_be_visible()
        await screenshot(page, f"admin-{section}.png", also=IMG / f"admin-{section}.png")
    await page.context.close()
    await stale.context.close()


async def test_a_user_is_created_disabled_enabled_and_given_a_new_password(console: Console) -> None:
    admin = await console.page()
    await console.login(admin, "root", ROOT_PASSWORD)
    await admin.goto(f"{console.url}/admin/users")
    await admin.fill("#u-name", "dana")
    await admin.select_option("#u-role", "reporting")
    await expect(admin.locator("#u-agent")).to_be_hidden()  # the agent id is only for role agent
    await admin.fill("#u-password", "Dana-first-1")
    await admin.click("#u-submit")
    await expect(admin.locator("#result-add-user")).to_contain_text("User dana created")
    await expect(admin.locator("#user-dana")).to_contain_text("Reporting")

    dana = await console.page()
    await console.login(dana, "dana", "Dana-first-1")
    await expect(dana).to_have_url(f"{console.url}/reports")

    await admin.click("#disable-dana")
    await expect(admin.locator("#user-dana")).to_contain_text("disabled")
    await dana.goto(f"{console.url}/reports")  # her open session ended at once
    await expect(dana).to_have_url(re.compile(r"/login\?next="))
    await console.login(dana, "dana", "Dana-first-1")
    await expect(dana.locator(".alert")).to_contain_text("Wrong user name or password")

    await admin.click("#disable-dana")  # enable again
    await expect(admin.locator("#user-dana")).to_contain_text("active")
    await admin.click("#user-dana summary >> text=Reset password")
    await admin.fill("#pw-dana", "Dana-second-2")
    await admin.click("#pw-submit-dana")
    await expect(admin.locator("#result-user-dana")).to_contain_text("New password set for dana")
    await admin.evaluate("window.scrollTo(0, 0)")
    await screenshot(admin, "admin-users.png", also=IMG / "admin-users.png")
    await console.login(dana, "dana", "Dana-first-1")
    await expect(dana.locator(".alert")).to_contain_text("Wrong user name or password")
    await console.login(dana, "dana", "Dana-second-2")
    await expect(dana).to_have_url(f"{console.url}/reports")
    await eventually(lambda: console.store.count_sessions("dana"), 10, "no session for dana")
    await admin.context.close()
    await dana.context.close()
