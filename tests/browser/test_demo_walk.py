"""What a newcomer does after ``make demo`` (issues 13 and 14, "done when"): read the printed URL and
passwords, sign in as the demo agent and as the supervisor, take a call by hand and watch it on the
wallboard.

The test starts ``acd demo --by-hand`` as ``make demo`` does (its own process, its own simulator and daemon,
the output parsed as a person reads it), with four agents (the fewest the demo's queues accept; the three
simulated ones are logged out, so the call is the person's), no random traffic and a x2 clock (the 45 s
wrap-up lasts 22 s), and places one caller through the simulator. agent1's simulated phone does not
answer by itself: the call rings on the desktop and the wallboard until the phone's page is answered, and
ends when the phone hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.conftest import CHROMIUM, HAVE_CHROMIUM, IMG, ROOT, VIEWPORT

pytestmark = [pytest.mark.timeout(150)]
expect.set_options(timeout=30_000)


@dataclass
class Printed:
    """What the demo printed, as a person would copy it."""

    url: str
    sim: str
    phone: str
    passwords: dict[str, str]
    token: str
    """The supervisor's API token."""


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Printed]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    (tmp_path / "var").mkdir()
    (tmp_path / "config").symlink_to(ROOT / "config")  # the demo copies config/ from its working folder
    if (ROOT / "var" / "sounds").exists():
        (tmp_path / "var" / "sounds").symlink_to(ROOT / "var" / "sounds")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "acd.cli", "demo", "--by-hand", "--calls", "0", "--agents", "4",
        "--speed", "2", cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, COLUMNS="200"))
    assert proc.stdout is not None
    out = ""
    drain: asyncio.Task[bytes] | None = None
    try:
        async with asyncio.timeout(60):
            while "desk phone" not in out:
                line = await proc.stdout.readline()
                assert line, f"the demo exited before printing its phone:\n{out}"
                out += line.decode()
        drain = asyncio.create_task(proc.stdout.read())  # the live table must never block the demo
        url = re.search(r"^\s+(http://\S+)/login$", out, re.M)
        sim = re.search(r"simulator on :(\d+)", out)
        phone = re.search(r"desk phone.*: (http://\S+)", out)
        assert url and sim and phone, out
        passwords = dict(re.findall(r"user (\w+)\s+password (\S+)", out))
        assert set(passwords) == {"agent1", "supervisor", "admin"}, out
        token = re.search(r"supervisor\s+token (\S+)", out)
        assert token, out
        yield Printed(url[1], f"http://127.0.0.1:{sim[1]}", phone[1], passwords, token[1])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: the demo stops its daemon and simulator
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if drain is not None:
            with contextlib.suppress(Exception):
                await drain


async def test_a_newcomer_takes_a_demo_call_by_hand_and_the_supervisor_sees_it(demo: Printed) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            agent_ctx = await browser.new_context(viewport=VIEWPORT, locale="en-GB")
            desk, phone = await agent_ctx.new_page(), await agent_ctx.new_page()
            boss = await (await browser.new_context(viewport=VIEWPORT, locale="en-GB")).new_page()
            for page, who in ((desk, "agent1"), (boss, "supervisor")):
                page.set_default_timeout(30_000)
                await page.goto(f"{demo.url}/login?lang=en")
                await page.fill("#user", who)
                await page.fill("#password", demo.passwords[who])
                await page.click("button[type=submit]")
            await expect(desk.locator("#state-badge")).to_have_class(re.compile("state-logged_out"))
            await desk.click("#btn-ready")
            await expect(desk.locator("#state-badge")).to_have_class(re.compile("state-ready"))
            await boss.goto(f"{demo.url}/wallboard?lang=en")
            row = boss.locator('#agents tr[data-agent="agent1"]')
            await expect(row).to_have_attribute("data-state", "ready")
            await phone.goto(demo.phone)

            async with aiohttp.ClientSession() as http:
                for other in ("agent2", "agent3", "agent4"):
                    async with http.post(f"{demo.url}/api/agents/{other}/state", json={"state": "logout"},
                                         headers={"Authorization": f"Bearer {demo.token}"}) as r:
                        assert r.status == 200, await r.text()
                async with http.post(f"{demo.sim}/_sim/calls", json={
                        "number": "193", "caller": "77015550123", "language": "ru", "talk_s": 3600,
                        "patience_s": 3600, "dtmf_on": {"language_menu": "2", "main_menu": "1"}}) as r:
                    call = (await r.json())["id"]
            await expect(desk.locator("#answer-hint")).to_be_visible()  # rings, nobody answers for us
            await expect(row).to_have_attribute("data-state", "ringing")
            await expect(phone.locator("#answer")).to_be_enabled()
            await phone.set_viewport_size({"width": 640, "height": 400})
            await phone.screenshot(path=str(IMG / "demo-phone.png"))  # docs/agent-desktop.md, The demo

            await phone.click("#answer")
            await expect(row).to_have_attribute("data-state", "on_call")
            await expect(boss.locator(f'#calls tr[data-call="{call}"]')).to_have_attribute("data-state",
                                                                                           "talking")
            await expect(desk.locator("#btn-hold")).to_be_enabled()

            await phone.click("#hangup")
            await expect(desk.locator("#wrapup")).to_be_visible()
            await expect(boss.locator(f'#calls tr[data-call="{call}"]')).to_have_count(0)
            await expect(row).to_have_attribute("data-state", "wrap_up")
            await desk.fill("#topic", "Demo")
            await desk.click("#btn-topic")
            await expect(desk.locator("#topic-saved")).to_be_visible()
        finally:
            await browser.close()
