"""Browser tests: Debian's chromium driven by Playwright, against the real daemon and the ARI simulator
over real sockets (tests/e2e/harness.py). ``playwright install`` cannot download here, so the browser is
``/usr/bin/chromium`` (``apt-get install chromium``, in scripts/install-debian-deps.sh); without it these
tests are skipped with that message.

The clock runs 4x faster than the wall clock (the call's IVR takes seconds, not a minute), with a 60 s
ring time-out and a 600 s wrap-up in the test's queues.yaml, so a loaded machine still has many real
seconds to see the ringing call and to type the topic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from acd.daemon import Daemon
from acd.web.accounts import AccountStore
from cdr.schema import calls
from tests.e2e.harness import Harness, close_harness, make_harness

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
PASSWORDS = {"aigerim": "Aigerim-2026!", "nurlan": "Nurlan-2026!", "boss": "Supervisor-1!"}
VIEWPORT = {"width": 1366, "height": 768}
HAVE_CHROMIUM = Path(CHROMIUM).exists()
GENERAL_DESK = """    topics: [Tax refund, Cash register, Declaration]
    script: |
      ### Greeting
      Say **your name** and ask for the caller's *IIN*.
      - check the <b>declaration</b> number
      - offer an SMS with the answer
"""
"""The general queue's topic list and agent script (with markup the desktop must escape)."""


@dataclass
class Desk:
    h: Harness
    browser: Any
    store: AccountStore

    @property
    def url(self) -> str:
        return self.h.api

    async def new_page(self, context: Any | None = None) -> Any:
        ctx = context or await self.browser.new_context(viewport=VIEWPORT, locale="en-GB")
        page = await ctx.new_page()
        page.set_default_timeout(30_000)
        return page

    async def login(self, page: Any, name: str, password: str | None = None, lang: str = "en") -> None:
        await page.goto(f"{self.url}/login?lang={lang}")
        await page.fill("#user", name)
        await page.fill("#password", password or PASSWORDS[name])
        await page.click("button[type=submit]")

    async def restart_daemon(self) -> None:
        """Stop the daemon and start a new one on the same HTTP port (what a page sees of a restart)."""
        assert self.h.daemon is not None
        port = self.h.daemon.port
        await self.h.stop_daemon()
        self.h.daemon = Daemon(self.h.config_dir, clock=self.h.clock, initial_agent_state="logged_out",
                               http_port=port, configure_logs=False)
        await self.h.daemon.start()


async def add_earlier_call(h: Harness, call_id: str, caller: str, *, agent: str, topic: str,
                           outcome: str = "answered", at: datetime | None = None) -> None:
    assert h.daemon is not None
    values = dict(id=call_id, caller=caller, agent=agent, queue="general", topic=topic, outcome=outcome,
                  arrived_at=at or datetime(2026, 11, 20, 6, 30, tzinfo=UTC), direction="inbound",
                  offers=1, ring_no_answers=0)
    async with h.daemon.db.begin() as conn:
        await conn.execute(insert(calls).values(**values))


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.async_api import async_playwright

    h = await make_harness(tmp_path, speed=4.0)
    queues = h.config_dir / "queues.yaml"
    queues.write_text(queues.read_text().replace("wrapup_s: 10", "wrapup_s: 600", 1)
                      .replace("ring_timeout_s: 15", "ring_timeout_s: 60", 1)
                      .replace("  - name: general\n", "  - name: general\n" + GENERAL_DESK, 1))
    try:
        await h.all_agents(state="online", behaviour="answer", answer_after_s=40, hangup="caller")
        await h.start_daemon(initial_agent_state="logged_out")
        assert h.daemon is not None
        store = AccountStore(h.daemon.db, h.clock.now)
        await store.add("aigerim", "agent", "agent1", PASSWORDS["aigerim"])
        await store.add("nurlan", "agent", "agent2", PASSWORDS["nurlan"])
        await store.add("boss", "supervisor", None, PASSWORDS["boss"])
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                yield Desk(h, browser, store)
            finally:
                await browser.close()
    finally:
        await close_harness(h)
