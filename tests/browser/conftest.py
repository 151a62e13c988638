"""Browser tests: Debian's chromium driven by Playwright, against the real daemon and the ARI simulator
over real sockets (tests/e2e/harness.py). ``playwright install`` cannot download here, so the browser is
``/usr/bin/chromium`` (``apt-get install chromium``, in scripts/install-debian-deps.sh); without it these
tests are skipped with that message.

The clock runs 4x faster than the wall clock (the call's IVR takes seconds, not a minute), with a 60 s
ring time-out and a 600 s wrap-up in the test's queues.yaml, so a loaded machine still has many real
seconds to see the ringing call and to type the topic.

Two kinds of fixture: ``desk`` runs the daemon and the simulator for the consoles' tests; ``browsers`` and
``open_page`` (the softphone's tests) give a page that fails the test on anything a product page must not
do: load from outside loopback (intercepted and aborted) or log a console error / throw an uncaught
exception (collected; the test asserts on them, and may allow a known message).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright
from sqlalchemy import insert

from acd.daemon import Daemon
from acd.settings import Role
from acd.web.accounts import AccountStore
from cdr.schema import calls
from tests.e2e.harness import Harness, close_harness, make_harness

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
PASSWORDS = {"aigerim": "Aigerim-2026!", "nurlan": "Nurlan-2026!", "boss": "Supervisor-1!"}
ACCOUNTS: dict[str, tuple[Role, str | None]] = {"aigerim": ("agent", "agent1"), "nurlan": ("agent", "agent2"),
                                               "boss": ("supervisor", None)}
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
DESK_EXTRA = """  - {name: boss, role: supervisor, token: t-boss-api, endpoint: PJSIP/sup1}
directory:
  - {id: astana, name: Astana branch, endpoint: PJSIP/7172555000@trunk, kind: branch}
"""
"""acd.yaml: the supervisor's phone (listening is a call to it) and an external number of the directory."""


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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, closed at the end (the consoles' fixtures share it)."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


def roomy_queues(h: Harness, general: str = GENERAL_DESK) -> None:
    """queues.yaml for a person at the keyboard: a 600 s wrap-up, a 60 s ring time-out, and ``general``
    (topics, script...) added to the general queue."""
    queues = h.config_dir / "queues.yaml"
    queues.write_text(queues.read_text().replace("wrapup_s: 10", "wrapup_s: 600", 1)
                      .replace("ring_timeout_s: 15", "ring_timeout_s: 60", 1)
                      .replace("  - name: general\n", "  - name: general\n" + general, 1))


async def desk_accounts(h: Harness, *names: str) -> AccountStore:
    """The consoles' accounts (``PASSWORDS``): aigerim works as agent1, nurlan as agent2, boss supervises."""
    assert h.daemon is not None
    store = AccountStore(h.daemon.db, h.clock.now)
    for name in names:
        role, agent = ACCOUNTS[name]
        await store.add(name, role, agent, PASSWORDS[name])
    return store


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    h = await make_harness(tmp_path, speed=4.0, extra_config=DESK_EXTRA)
    roomy_queues(h)
    try:
        await h.all_agents(state="online", behaviour="answer", answer_after_s=40, hangup="caller")
        await h.start_daemon(initial_agent_state="logged_out")
        store = await desk_accounts(h, "aigerim", "nurlan", "boss")
        async with chromium() as browser:
            yield Desk(h, browser, store)
    finally:
        await close_harness(h)


# ---- pages that fail on outside requests and console errors (the softphone's tests)
FAKE_MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost", "::1", "[::1]"))
PAGE_TIMEOUT_MS = 20_000
ARTEFACTS = Path(os.environ.get("ACD_TEST_ARTEFACTS", "var/test-artefacts"))
"""Screenshots taken by the tests land here (CI uploads the folder)."""



def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass
class WatchedPage:
    """A page with what it did wrong: console errors, uncaught exceptions, requests beyond loopback."""

    page: Page
    context: BrowserContext
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    """``status url`` of every answer >= 400: a console's "Failed to load resource" does not say which."""

    def assert_clean(self, allow: Sequence[str] = ()) -> None:
        """No external request, no uncaught exception, no console error except those containing ``allow``."""
        assert self.external_requests == [], f"requests beyond loopback: {self.external_requests}"
        assert self.page_errors == [], f"uncaught exceptions: {self.page_errors}"
        unexpected = [m for m in self.console_errors if not any(a in m for a in allow)]
        assert unexpected == [], f"console errors: {unexpected}; failed responses: {self.failed_responses}"


OpenPage = Callable[..., Awaitable[WatchedPage]]


@dataclass
class Browsers:
    """Chromium launched on demand: ``granting`` with the fake media UI (every microphone prompt accepted) and
    ``asking`` without it (a prompt nobody answers is refused, as when an agent clicks "Block"); both with the
    fake microphone device. Chromium's fake UI accepts whatever a context's permissions say, so a refusal
    needs the second launch."""

    pw: Playwright
    launched: dict[bool, Browser] = field(default_factory=dict)

    async def get(self, fake_ui: bool) -> Browser:
        if fake_ui not in self.launched:
            args = FAKE_MEDIA_ARGS if fake_ui else [a for a in FAKE_MEDIA_ARGS if "fake-ui" not in a]
            self.launched[fake_ui] = await self.pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                                   args=args)
        return self.launched[fake_ui]


@pytest.fixture
async def browsers() -> AsyncIterator[Browsers]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    async with async_playwright() as pw:
        found = Browsers(pw)
        try:
            yield found
        finally:
            for launched in found.launched.values():
                await launched.close()


@pytest.fixture
async def open_page(browsers: Browsers) -> AsyncIterator[OpenPage]:
    """``await open_page(microphone=True, locale="en-US")`` -> a WatchedPage in a fresh context.

    ``microphone=False``: a context without the microphone permission in a browser whose prompts are not
    accepted (getUserMedia fails with NotAllowedError, as when an agent blocks the microphone)."""
    contexts: list[BrowserContext] = []

    async def make(*, microphone: bool = True, locale: str = "en-US",
                   viewport: tuple[int, int] = (1366, 768)) -> WatchedPage:
        browser = await browsers.get(fake_ui=microphone)
        context = await browser.new_context(locale=locale,
                                            viewport={"width": viewport[0], "height": viewport[1]},
                                            permissions=["microphone"] if microphone else [])
        contexts.append(context)
        context.set_default_timeout(PAGE_TIMEOUT_MS)  # every wait and action of a test is bounded
        page = await context.new_page()
        watched = WatchedPage(page, context)

        async def guard(route: Route) -> None:
            if is_loopback(route.request.url):
                await route.continue_()
            else:
                watched.external_requests.append(route.request.url)
                await route.abort("blockedbyclient")

        await context.route("**/*", guard)
        page.on("console", lambda m: watched.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watched.page_errors.append(str(e)))
        page.on("response", lambda r: watched.failed_responses.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        page.on("websocket",
                lambda ws: None if is_loopback(ws.url) else watched.external_requests.append(ws.url))
        return watched

    yield make
    for context in contexts:
        await context.close()


async def screenshot(page: Page, name: str, *, also: Path | None = None) -> Path:
    """Save a screenshot in the test artefacts (and, with ``also``, e.g. docs/img/..., for the docs)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  (tests: a blocking mkdir is fine)
    path = ARTEFACTS / name
    image = await page.screenshot(path=str(path), full_page=True)
    if also is not None:
        also.parent.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        also.write_bytes(image)  # noqa: ASYNC240
    return path
