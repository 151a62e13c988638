"""The browser softphone (issue 13) in a real Chromium, against the daemon's aiohttp app and local fake SIP
servers over real sockets: it loads with nothing from outside, asks for the microphone and says clearly when
it is refused, says clearly why a registration failed (WebSocket refused, 403, no answer), and registers
against a registrar that answers 200 OK after a digest challenge checked against the agent's password."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, Response, expect
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from acd.settings import Settings, SoftphoneSettings, User
from acd.web.accounts import AccountStore
from acd.web.app import create_app
from tests.browser.conftest import OpenPage, WatchedPage, screenshot
from tests.e2e.harness import close_harness, make_harness
from tests.web.conftest import FakeEngine

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tok-agent-a1"
SIP_PASSWORD = "s3cret-a1"
DESK_PASSWORD = "Aigerim-2026!"
REALM = "acd.test"
NONCE = "4a1c0ffee"
WS_REFUSED_CONSOLE = "WebSocket connection to"
"""Chromium itself logs a refused WebSocket as a console error; only the tests of that case allow it."""

Behaviour = Literal["close", "forbid", "register", "silent"]


# ------------------------------------------------------------------ a fake registrar over SIP WebSocket

def _headers(message: str) -> tuple[str, list[tuple[str, str]]]:
    head = message.split("\r\n\r\n", 1)[0].split("\r\n")
    pairs = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    return head[0], pairs


def _get(pairs: list[tuple[str, str]], name: str) -> str | None:
    short = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m"}.get(name.lower())
    for key, value in pairs:
        if key.lower() == name.lower() or (short and key.lower() == short):
            return value
    return None


def sip_response(request: str, status: int, reason: str, extra: Sequence[str] = ()) -> str:
    """The minimal response RFC 3261 8.2.6 asks for: Via, From, To (with a tag), Call-ID, CSeq copied."""
    _, pairs = _headers(request)
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {v}" for k, v in pairs if k.lower() in ("via", "v")]
    to = _get(pairs, "To") or ""
    if ";tag=" not in to:
        to += ";tag=fake-registrar"
    lines += [f"From: {_get(pairs, 'From')}", f"To: {to}", f"Call-ID: {_get(pairs, 'Call-ID')}",
              f"CSeq: {_get(pairs, 'CSeq')}", *extra, "Content-Length: 0"]
    return "\r\n".join(lines) + "\r\n\r\n"


def _digest_ok(authorization: str, method: str, password: str) -> bool:
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', authorization))
    ha1 = hashlib.md5(f"{fields.get('username')}:{REALM}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{fields.get('uri')}".encode()).hexdigest()
    if fields.get("qop"):
        chain = f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}"
        expected = hashlib.md5(chain.encode()).hexdigest()
    else:
        expected = hashlib.md5(f"{ha1}:{fields.get('nonce')}:{ha2}".encode()).hexdigest()
    return fields.get("response") == expected


@dataclass
class FakeRegistrar:
    behaviour: Behaviour
    requests: list[str] = field(default_factory=list)
    subprotocols: list[str | None] = field(default_factory=list)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    ws: web.WebSocketResponse | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    contact: str | None = None
    """The registered browser's Contact URI: where an INVITE goes (``register`` behaviour)."""

    async def wait_for(self, start: str, contains: str = "", timeout_s: float = 20) -> str:
        """The first message from the browser starting with ``start`` (and containing ``contains``)."""
        async with asyncio.timeout(timeout_s):
            while True:
                found = next((m for m in self.requests if m.startswith(start) and contains in m), None)
                if found is not None:
                    return found
                self.received.clear()
                await self.received.wait()

    async def invite(self, call_id: str, caller: str, acd_call: str | None) -> None:
        """What Asterisk sends the browser for an offer: an INVITE (late SDP: no body) with X-ACD-Call."""
        assert self.ws is not None and self.contact is not None
        extra = [f"X-ACD-Call: {acd_call}"] if acd_call else []
        await self.ws.send_str("\r\n".join([
            f"INVITE {self.contact} SIP/2.0", f"Via: SIP/2.0/WS 127.0.0.1;branch=z9hG4bK-{call_id}",
            "Max-Forwards: 70", f'From: "{caller}" <sip:{caller}@{REALM}>;tag=ast-{call_id}',
            f"To: <sip:agent1@{REALM}>", f"Call-ID: {call_id}", "CSeq: 1 INVITE",
            "Contact: <sip:asterisk@127.0.0.1;transport=ws>", *extra, "Content-Length: 0"]) + "\r\n\r\n")

    async def bye(self, call_id: str, answer: str) -> None:
        """The caller hangs up a call the browser answered (``answer``: its 200 OK)."""
        assert self.ws is not None
        _, pairs = _headers(answer)
        target = re.search(r"<([^>]+)>", _get(pairs, "Contact") or "")
        assert target is not None
        await self.ws.send_str("\r\n".join([
            f"BYE {target.group(1)} SIP/2.0", f"Via: SIP/2.0/WS 127.0.0.1;branch=z9hG4bK-bye-{call_id}",
            "Max-Forwards: 70", f"From: {_get(pairs, 'From')}", f"To: {_get(pairs, 'To')}",
            f"Call-ID: {call_id}", "CSeq: 2 BYE", "Content-Length: 0"]) + "\r\n\r\n")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("sip",))
        await ws.prepare(request)
        self.sockets.append(ws)
        self.subprotocols.append(ws.ws_protocol)
        if self.behaviour == "close":
            await ws.close()
            return ws
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            self.requests.append(msg.data)
            self.received.set()
            start, pairs = _headers(msg.data)
            if not start.startswith("REGISTER "):
                continue
            if self.behaviour == "forbid":
                await ws.send_str(sip_response(msg.data, 403, "Forbidden"))
            elif self.behaviour == "register":
                authorization = _get(pairs, "Authorization")
                if authorization is None:
                    await ws.send_str(sip_response(msg.data, 401, "Unauthorized", [
                        f'WWW-Authenticate: Digest realm="{REALM}", nonce="{NONCE}", algorithm=MD5']))
                elif _digest_ok(authorization, "REGISTER", SIP_PASSWORD):
                    contact = _get(pairs, "Contact") or ""
                    uri = re.search(r"<([^>]+)>", contact)
                    self.ws, self.contact = ws, uri.group(1) if uri else None
                    await ws.send_str(sip_response(msg.data, 200, "OK", [f"Contact: {contact};expires=300"]))
                else:
                    await ws.send_str(sip_response(msg.data, 403, "Wrong password"))
        return ws


@pytest.fixture
async def registrar_server() -> AsyncIterator[Callable[[Behaviour], Awaitable[tuple[FakeRegistrar, str]]]]:
    servers: list[TestServer] = []
    registrars: list[FakeRegistrar] = []

    async def start(behaviour: Behaviour) -> tuple[FakeRegistrar, str]:
        registrar = FakeRegistrar(behaviour)
        registrars.append(registrar)
        app = web.Application()
        app.router.add_get("/ws", registrar.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return registrar, f"ws://127.0.0.1:{server.port}/ws"

    yield start
    for registrar in registrars:  # the pages are still open: close their sockets, or close() waits a minute
        for ws in registrar.sockets:
            await ws.close()
    for server in servers:
        await server.close()


# ------------------------------------------------------------------ the daemon's app with a softphone

@pytest.fixture
async def daemon(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Callable[[str, float], Awaitable[str]]]:
    servers: list[TestServer] = []
    monkeypatch.setenv("ACD_SIP_PASSWORD_A1", SIP_PASSWORD)

    async def start(ws_url: str, register_timeout_s: float = 15.0) -> str:
        settings = Settings(
            users=[User(name="agent1", role="agent", agent="a1", token=SecretStr(TOKEN))],
            softphone=SoftphoneSettings(ws_url=ws_url, domain=REALM, register_timeout_s=register_timeout_s))
        app = create_app(settings=settings, engine=FakeEngine(), db=None, metrics=CollectorRegistry(),
                         clock=lambda: 0.0)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.close()


async def start_softphone(watched: WatchedPage, base: str, lang: str = "en") -> None:
    page = watched.page
    await page.goto(f"{base}/softphone")
    await page.select_option("#sp-lang", lang)
    await page.fill("#sp-token", TOKEN)
    await page.click("#sp-connect")


async def error_code(watched: WatchedPage) -> str:
    await watched.page.wait_for_function("document.body.dataset.error || document.querySelector('#sp-status')"
                                         ".dataset.state === 'registered'")
    return str(await watched.page.evaluate("document.body.dataset.error"))


# ------------------------------------------------------------------ tests

async def test_page_loads_with_nothing_from_outside_and_no_console_errors(
        open_page: OpenPage, daemon: Callable[..., Awaitable[str]]) -> None:
    base = await daemon("ws://127.0.0.1:9/ws")
    watched = await open_page()
    response = await watched.page.goto(f"{base}/softphone")
    assert response is not None and response.status == 200
    assert await watched.page.text_content("#sp-status") == "Softphone off"
    await watched.page.select_option("#sp-lang", "kk")
    assert await watched.page.text_content("#sp-status") == "Софтфон өшірулі"
    assert await watched.page.evaluate("typeof AcdSoftphone.create") == "function"
    # The vendored JsSIP is served by the daemon, from the folder next to softphone.js.
    jssip_url = f"{base}/softphone/static/vendor/jssip/jssip.min.js"
    assert await watched.page.evaluate("AcdSoftphone.jssipUrl") == jssip_url
    await watched.page.evaluate("""() => new Promise((ok, ko) => { const s = document.createElement('script');
        s.src = AcdSoftphone.jssipUrl; s.onload = ok; s.onerror = ko; document.head.appendChild(s); })""")
    assert await watched.page.evaluate("JsSIP.version") == (
        REPO / "acd/web/static/vendor/jssip/VERSION").read_text().strip()
    watched.assert_clean()
    # The guard is live: a page that tried to load from a CDN would be caught (and the request aborted).
    await watched.page.evaluate("fetch('https://cdn.example.com/x.js').catch(() => null)")
    assert watched.external_requests == ["https://cdn.example.com/x.js"]


async def test_registers_against_a_registrar_that_challenges_and_answers_200(
        open_page: OpenPage, daemon: Callable[..., Awaitable[str]],
        registrar_server: Callable[[Behaviour], Awaitable[tuple[FakeRegistrar, str]]]) -> None:
    registrar, ws_url = await registrar_server("register")
    base = await daemon(ws_url)
    watched = await open_page()
    await start_softphone(watched, base)
    await watched.page.wait_for_selector("#sp-status[data-state=registered]")
    assert await watched.page.text_content("#sp-status") == "Registered: ready for calls"
    assert await watched.page.text_content("#sp-mic") == "ready"
    assert await watched.page.is_hidden("#sp-error")
    assert registrar.subprotocols == ["sip"]
    registers = [r for r in registrar.requests if r.startswith("REGISTER ")]
    assert len(registers) == 2  # the challenge, then the answer with the agent's password
    assert "sip:a1@acd.test" in registers[0] and "Authorization:" in registers[1]
    watched.assert_clean()
    await screenshot(watched.page, "softphone-registered.png", also=REPO / "docs/img/softphone.png")


async def test_a_refused_microphone_is_said_clearly_and_nothing_registers(
        open_page: OpenPage, daemon: Callable[..., Awaitable[str]],
        registrar_server: Callable[[Behaviour], Awaitable[tuple[FakeRegistrar, str]]]) -> None:
    registrar, ws_url = await registrar_server("register")
    base = await daemon(ws_url)
    watched = await open_page(microphone=False)
    await start_softphone(watched, base, lang="ru")
    assert await error_code(watched) == "microphone_denied"
    assert "Доступ к микрофону запрещён" in (await watched.page.text_content("#sp-error") or "")
    assert await watched.page.text_content("#sp-mic") == "запрещён"
    assert registrar.requests == []
    watched.assert_clean()


@pytest.mark.parametrize(("behaviour", "code", "words"), [
    ("close", "websocket_failed", "Cannot connect to the phone server at ws://127.0.0.1:"),
    ("forbid", "forbidden", "does not allow this softphone to register (403)"),
])
async def test_a_failed_registration_is_said_clearly(
        open_page: OpenPage, daemon: Callable[..., Awaitable[str]],
        registrar_server: Callable[[Behaviour], Awaitable[tuple[FakeRegistrar, str]]],
        behaviour: Behaviour, code: str, words: str) -> None:
    registrar, ws_url = await registrar_server(behaviour)
    base = await daemon(ws_url)
    watched = await open_page()
    await start_softphone(watched, base)
    assert await error_code(watched) == code
    assert words in (await watched.page.text_content("#sp-error") or "")
    assert await watched.page.text_content("#sp-mic") == "ready"
    assert await watched.page.text_content("#sp-reg") == "error"
    watched.assert_clean(allow=[WS_REFUSED_CONSOLE])
    if behaviour == "forbid":
        await screenshot(watched.page, "softphone-forbidden.png")


async def test_a_websocket_nobody_listens_on_is_said_clearly_in_kazakh(
        open_page: OpenPage, daemon: Callable[..., Awaitable[str]]) -> None:
    base = await daemon("ws://127.0.0.1:9/ws")  # discard port: connection refused
    watched = await open_page()
    await start_softphone(watched, base, lang="kk")
    assert await error_code(watched) == "websocket_failed"
    assert "телефон серверіне қосылу мүмкін емес" in (await watched.page.text_content("#sp-error") or "")
    watched.assert_clean(allow=[WS_REFUSED_CONSOLE])
    await screenshot(watched.page, "softphone-websocket-failed-kk.png")


async def test_a_registrar_that_never_answers_times_out_with_a_clear_message(
        open_page: OpenPage, daemon: Callable[..., Awaitable[str]],
        registrar_server: Callable[[Behaviour], Awaitable[tuple[FakeRegistrar, str]]]) -> None:
    registrar, ws_url = await registrar_server("silent")
    base = await daemon(ws_url, 1.0)
    watched = await open_page()
    await start_softphone(watched, base)
    assert await error_code(watched) == "registrar_timeout"
    assert registrar.received.is_set()
    assert "did not answer the registration in time" in (await watched.page.text_content("#sp-error") or "")
    watched.assert_clean()


# ------------------------------------------------------------------ embedded in the agent desktop

@pytest.mark.timeout(120)
async def test_the_desktop_of_a_browser_agent_embeds_the_phone_and_says_why_it_cannot_register(
        tmp_path: Path, open_page: OpenPage, monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent listed in softphone.agents signs in: the desktop asks for the microphone and registers at
    once; with no SIP WebSocket server listening the phone card says so in red, with a way to try again.
    An agent with a desk phone gets no phone card. The page's CSP lets it reach the SIP WebSocket only."""
    with socket.socket() as s:  # a free port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ws_url = f"ws://127.0.0.1:{port}/ws"
    monkeypatch.setenv("ACD_SIP_PASSWORD_AGENT1", SIP_PASSWORD)
    h = await make_harness(tmp_path, speed=4.0, extra_config=(
        f"softphone: {{ws_url: '{ws_url}', domain: {REALM}, agents: [agent1], register_timeout_s: 5}}"))
    try:
        await h.start_daemon(initial_agent_state="logged_out")
        assert h.daemon is not None
        store = AccountStore(h.daemon.db, h.clock.now)
        await store.add("aigerim", "agent", "agent1", DESK_PASSWORD)
        await store.add("nurlan", "agent", "agent2", DESK_PASSWORD)
        watched = await open_page(locale="en-GB")
        page = watched.page
        response = await _desk_login(page, h.api, "aigerim")
        assert response is not None
        assert f"connect-src 'self' ws://127.0.0.1:{port};" in response.headers["content-security-policy"]
        card = page.locator("#sp")
        await expect(card).to_have_attribute("data-registration", "failed")
        error = page.locator("#sp-error")
        await expect(error).to_contain_text(f"Cannot connect to the phone server at {ws_url}")
        await expect(page.locator("#sp-status")).to_have_text("The softphone is not registered.")
        await expect(page.locator("#sp-retry")).to_be_visible()
        await expect(page.locator("#sp-answer")).to_be_disabled()
        assert await page.evaluate("window.acdSoftphone.state.microphone") == "ready"  # asked, granted
        await expect(page.locator("#answer-hint")).to_have_text("Answer here in the browser (Answer, Alt+A)")
        await page.screenshot(path=str(REPO / "docs/img/agent-desktop-softphone-error.png"))
        await page.click("#sp-retry")  # a second attempt, same clear answer
        await expect(card).to_have_attribute("data-registration", "failed")
        watched.assert_clean(allow=[WS_REFUSED_CONSOLE])

        other = await open_page(locale="en-GB")
        await _desk_login(other.page, h.api, "nurlan")
        await expect(other.page.locator("#state-badge")).to_be_visible()
        assert await other.page.locator("#sp").count() == 0  # a desk-phone agent: no browser phone
        other.assert_clean()
        for context in (watched.context, other.context):
            await context.close()  # first: the daemon's shutdown would wait for their live sockets
    finally:
        await close_harness(h)


async def _desk_login(page: Page, base: str, name: str) -> Response | None:
    await page.goto(f"{base}/login?lang=en")
    await page.fill("#user", name)
    await page.fill("#password", DESK_PASSWORD)
    async with page.expect_response(re.compile(r"/agent/agent\d$")) as landed:
        await page.click("button[type=submit]")
    return await landed.value


@pytest.mark.timeout(120)
async def test_the_desktop_rings_for_its_offer_answers_with_alt_a_and_rejects_another_call_with_alt_q(
        tmp_path: Path, open_page: OpenPage, monkeypatch: pytest.MonkeyPatch,
        registrar_server: Callable[[Behaviour], Awaitable[tuple[FakeRegistrar, str]]]) -> None:
    """A browser agent registers on sign-in; the simulator's offer to their phone names the call in
    X-ACD-Call, and a fake registrar sends the browser the INVITE Asterisk would, with that header: the card
    rings as *Queue call*, Alt+A answers (200 OK with the browser's audio offer: Asterisk's INVITE may come
    without SDP), the caller's BYE ends it; an INVITE without the header is an *Other call* and Alt+Q
    rejects it."""
    registrar, ws_url = await registrar_server("register")
    monkeypatch.setenv("ACD_SIP_PASSWORD_AGENT1", SIP_PASSWORD)
    h = await make_harness(tmp_path, speed=4.0, extra_config=(
        f"softphone: {{ws_url: '{ws_url}', domain: {REALM}, agents: [agent1]}}"))
    queues = h.config_dir / "queues.yaml"
    queues.write_text(queues.read_text().replace("ring_timeout_s: 15", "ring_timeout_s: 120", 1))
    try:
        await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=600)
        await h.start_daemon(initial_agent_state="logged_out")
        assert h.daemon is not None
        await AccountStore(h.daemon.db, h.clock.now).add("aigerim", "agent", "agent1", DESK_PASSWORD)
        watched = await open_page(locale="en-GB")
        page = watched.page
        await _desk_login(page, h.api, "aigerim")
        card = page.locator("#sp")
        await expect(card).to_have_attribute("data-registration", "registered")
        await expect(page.locator("#sp-status")).to_have_text("Registered: ready for calls")
        await page.click("#btn-ready")
        call = await h.call("193", "77015550123", language="ru", talk_s=600,
                            dtmf_on={"language_menu": "2", "main_menu": "1"})
        await expect(page.locator("#state-badge")).to_have_class(re.compile("state-ringing"))
        offer = next(c for c in (await h.state())["channels"] if c["name"].startswith("PJSIP/agent1-"))
        assert offer["sip_headers"] == {"X-ACD-Call": call}

        await registrar.invite("sip-call-1", "77015550123", offer["sip_headers"]["X-ACD-Call"])
        await expect(card).to_have_attribute("data-call", "ringing")
        await expect(card).to_have_attribute("data-acd", "offer")  # the call the screen pop shows
        await expect(page.locator("#sp-call")).to_contain_text("Queue call: ")
        await expect(page.locator("#sp-answer")).to_be_enabled()
        await registrar.wait_for("SIP/2.0 180")  # the browser says it rings
        await page.screenshot(path=str(REPO / "docs/img/agent-desktop-softphone-ringing.png"))
        await page.keyboard.press("Alt+KeyA")
        await expect(card).to_have_attribute("data-call", "connecting")  # answering: microphone, SDP
        await expect(page.locator("#sp-answer")).to_be_disabled()
        await expect(page.locator("#sp-hangup")).to_be_enabled()
        answer = await registrar.wait_for("SIP/2.0 200", "CSeq: 1 INVITE")
        assert "application/sdp" in answer and "m=audio" in answer  # the browser offers its microphone
        await expect(card).to_have_attribute("data-call", "active")
        await expect(page.locator("#sp-status")).to_have_text("On a call with 77015550123")
        await registrar.bye("sip-call-1", answer)  # the caller hangs up
        await registrar.wait_for("SIP/2.0 200", "CSeq: 2 BYE")
        await expect(card).to_have_attribute("data-call", "idle")
        await expect(page.locator("#sp-call")).to_be_hidden()

        await registrar.invite("sip-call-2", "77770001122", None)  # someone dials the endpoint directly
        await expect(card).to_have_attribute("data-acd", "other")
        await expect(page.locator("#sp-call")).to_have_text("Other call from 77770001122")
        await page.keyboard.press("Alt+KeyQ")
        rejected = await registrar.wait_for("SIP/2.0 4", "Call-ID: sip-call-2")
        assert rejected.split(" ", 2)[1] in ("480", "486", "603")
        await expect(card).to_have_attribute("data-call", "idle")
        watched.assert_clean()
        await watched.context.close()
    finally:
        await close_harness(h)
