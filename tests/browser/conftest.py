"""Browser tests: Playwright for Python driving Debian's chromium (``playwright install`` cannot download).

Shared by every browser test (softphone, agent desktop): ``browsers`` launches /usr/bin/chromium headless with
a fake microphone; ``open_page`` makes a context whose page fails the test on anything a product page must
not do: load from outside loopback (intercepted and aborted, so nothing leaves the machine) or log a console
error / throw an uncaught exception (collected; the test asserts on them, and may allow a known message).
Skipped, with the reason, where chromium is missing; CI installs it (scripts/install-debian-deps.sh);
playwright comes with the dev extra.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright

CHROMIUM = os.environ.get("ACD_CHROMIUM", "/usr/bin/chromium")
FAKE_MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost", "::1", "[::1]"))
PAGE_TIMEOUT_MS = 20_000
ARTEFACTS = Path(os.environ.get("ACD_TEST_ARTEFACTS", "var/test-artefacts"))
"""Screenshots taken by the tests land here (CI uploads the folder)."""

if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


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

    def assert_clean(self, allow: Sequence[str] = ()) -> None:
        """No external request, no uncaught exception, no console error except those containing ``allow``."""
        assert self.external_requests == [], f"requests beyond loopback: {self.external_requests}"
        assert self.page_errors == [], f"uncaught exceptions: {self.page_errors}"
        unexpected = [m for m in self.console_errors if not any(a in m for a in allow)]
        assert unexpected == [], f"console errors: {unexpected}"


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
