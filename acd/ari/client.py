"""The ARI REST client: keep-alive HTTP connections of our own, Basic auth in a header, typed resource groups.

Why a thin client of our own: the Python ARI libraries either stop at the first disconnect, close their
HTTP client for good after one error, or drop event types they do not know (see ../shared/STACK.md). This
one is a few hundred lines we own: every non-2xx answer becomes an ``AriError`` subclass, every 2xx body a
pydantic model, and the credentials live only in the ``Authorization`` header (never in a URL, a repr or a
log line). REST requests go through ``acd.ari.http`` (a lean HTTP/1.1 client: aiohttp cost 3-4 times the CPU
per request, issue 11 §6); the events WebSocket keeps aiohttp (``session``).

    client = AriClient("http://127.0.0.1:8088/ari", "acd", password, "acd")
    channel = await client.channels.originate("PJSIP/agent1", app_args="agent")
    await client.close()
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote_plus, urlsplit

import aiohttp
import orjson
import structlog
from pydantic import SecretStr
from yarl import URL

from acd.ari.errors import AriConnectionError, AriNotFound, AriServerError, error_for, error_message
from acd.ari.http import HttpError, HttpPool
from acd.ari.limiter import Priority, PriorityLimiter, default_priority, must_not_be_lost
from acd.ari.resources import (
    Applications,
    Asterisk,
    Bridges,
    Channels,
    DeviceStates,
    Endpoints,
    Playbacks,
    Recordings,
)

log = structlog.get_logger(__name__)

Expect = Literal["json", "bytes"]
QueryValue = str | int | float | bool | None


def query_params(params: Mapping[str, QueryValue]) -> dict[str, str]:
    """ARI's query string: absent values dropped, booleans as ``true``/``false``, numbers as text."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


_PLAIN = re.compile(r"[A-Za-z0-9_.~:,/@!$'()*?-]*").fullmatch
_QUERY_SAFE = "/:,?@!$'()*"


def encode_query(params: Mapping[str, str]) -> str:
    """``a=1&b=x+y``: values percent-encoded as aiohttp (yarl) did, a space as ``+`` (Asterisk's http.c
    decodes ``+`` as a space and ``%XX``); the characters ARI values use most (``:``, ``,``, ``/``) stay."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in params.items())


_QUOTE_ASCII = {c: "+" if c == 32 else f"%{c:02X}" for c in range(128)
                if not (chr(c).isalnum() or chr(c) in "_.~-" + _QUERY_SAFE)}


def _quote(text: str) -> str:
    if _PLAIN(text):
        return text
    if text.isascii():  # str.translate: 3-4 times cheaper than quote_plus for the usual values
        return text.translate(_QUOTE_ASCII)
    return quote_plus(text, safe=_QUERY_SAFE)


class _Redacted:
    """Holds a credential; prints as ``<redacted>`` so that dumping a client's ``vars()`` leaks nothing."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


def request_kind(method: str, path: str) -> str:
    """``POST /channels/{id}/variable`` -> ``POST channels variable``: the resource and the action, without
    ids (a recording's name has slashes, so only the first and the last segment are kept)."""
    parts = path.strip("/").split("/")
    return f"{method} {parts[0]} {parts[-1]}" if len(parts) > 2 else f"{method} {parts[0]}"


class AriClient:
    """ARI over HTTP for one Stasis application."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str | SecretStr,
        app: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 10,
        max_concurrent: int = 32,
        retry_attempts: int = 4,
        retry_base_s: float = 0.2,
        retry_max_s: float = 2.0,
        idle_timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.username or parts.password:
            raise ValueError("ARI base_url must not carry credentials: pass user and password instead")
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"ARI base_url must be http(s)://host:port/ari, got scheme {parts.scheme!r}")
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.app = app
        self.timeout_s = timeout_s
        self.limiter = PriorityLimiter(max_concurrent)
        """At most ``max_concurrent`` requests in flight; the rest wait by priority (acd/ari/limiter.py)."""
        self.retry_attempts = max(1, retry_attempts)
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.retries = 0
        """Resends so far (``acd_ari_request_retries`` in /metrics)."""
        self.sent: Counter[str] = Counter()
        """Requests sent so far, by kind (``request_kind``; ``acd_ari_requests_sent`` in /metrics): what a
        call costs in requests, the daemon's main CPU cost (docs/benchmarks.md)."""
        secret = password.get_secret_value() if isinstance(password, SecretStr) else password
        self.__authorization = _Redacted(aiohttp.encode_basic_auth(user, secret))
        self.__head = _Redacted(f"Host: {parts.netloc}\r\nAuthorization: {self.__authorization.value}\r\n")
        """The request head's fixed lines, credentials included: built once, never logged."""
        self._prefix = parts.path.rstrip("/")
        default_port = 443 if parts.scheme == "https" else 80
        # the limiter bounds requests in flight; +4 so that a request never waits for a connection below it
        self.http = HttpPool(parts.scheme, parts.hostname or "127.0.0.1", parts.port or default_port,
                             max_connections=self.limiter.limit + 4, idle_timeout_s=idle_timeout_s,
                             ssl_context=ssl_context)
        """The REST requests' connections (acd/ari/http.py)."""
        self._session = session
        self._own_session = session is None
        self.channels = Channels(self)
        self.bridges = Bridges(self)
        self.playbacks = Playbacks(self)
        self.recordings = Recordings(self)
        self.endpoints = Endpoints(self)
        self.asterisk = Asterisk(self)
        self.applications = Applications(self)
        self.device_states = DeviceStates(self)

    def __repr__(self) -> str:
        return f"AriClient(base_url={self.base_url!r}, user={self.user!r}, app={self.app!r})"

    @property
    def auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header, for the events WebSocket; never log it."""
        return {"Authorization": self.__authorization.value}

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session of the events WebSocket, made on first use (inside the running loop, as
        aiohttp wants). REST requests do not use it (``http``)."""
        if self._session is None or self._session.closed:
            if not self._own_session and self._session is not None:
                raise RuntimeError("the aiohttp session given to AriClient is closed")
            # the events WebSocket holds one connection for good; a reconnect may overlap the old one's close
            connector = aiohttp.TCPConnector(limit=4, keepalive_timeout=10)
            self._session = aiohttp.ClientSession(connector=connector)
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the REST connections (for good: a request after this fails with ``AriConnectionError``),
        and the session if this client made it (a session passed in belongs to the caller)."""
        await self.http.close()
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def url(self, path: str) -> URL:
        return URL(self.base_url + path, encoded=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        expect: Expect = "json",
        own_connection: bool = False,
        timeout_s: float | None = None,
        priority: Priority | None = None,
        retry: bool | None = None,
        not_found_ok: bool = False,
    ) -> Any:
        """Send one request; the decoded JSON body (None for 204/empty), or bytes; AriError otherwise.

        ``own_connection``: after an error answer, close the connection so that no later request shares
        it. Used for originate: after a duplicate-id 409, Asterisk 22 may answer a false 409 to the next
        originate on the same connection (BEHAVIOUR.md 19). A successful originate keeps its connection
        alive: a TCP handshake per call was 5 % of the daemon's CPU under load (docs/benchmarks.md).

        ``priority``: the request's place in the queue when ``max_concurrent`` requests are in flight
        (default: ``default_priority(method, path)``: state writes and hang-ups first, playbacks last).
        ``retry``: resend on a time-out, a lost connection or a 5xx, with a doubling pause, up to
        ``retry_attempts`` sends (default: for what must not be lost, the ``ACD_STATE`` write and the
        hang-up). The time-out counts from the moment the request is sent, not while it waits its turn.
        ``not_found_ok``: a 404 is a normal answer (a race the caller expects, e.g. stopping a recording
        that has just ended): logged at debug, still raised as ``AriNotFound``.
        """
        prio = default_priority(method, path) if priority is None else priority
        attempts = self.retry_attempts if (must_not_be_lost(method, path) if retry is None else retry) else 1
        pause = self.retry_base_s
        for attempt in range(1, attempts + 1):
            await self.limiter.acquire(prio)
            try:
                return await self._send(method, path, params, body, expect, own_connection, timeout_s,
                                        not_found_ok)
            except (AriConnectionError, AriServerError) as exc:
                if attempt == attempts:
                    raise
                self.retries += 1
                log.warning("ari.request_retry", method=method, path=path, attempt=attempt,
                            status=exc.status, pause_s=pause)
            except AriNotFound:
                if attempt > 1 and method == "DELETE":
                    return None  # an earlier send did it and its answer was lost: done, not an error
                raise
            finally:
                self.limiter.release()
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.retry_max_s)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, QueryValue] | None,
        body: Mapping[str, Any] | None,
        expect: Expect,
        own_connection: bool,
        timeout_s: float | None,
        not_found_ok: bool = False,
    ) -> Any:
        self.sent[request_kind(method, path)] += 1
        target = self._prefix + path
        if params:
            query = encode_query(query_params(params))
            if query:
                target += "?" + query
        if body is not None:
            data = orjson.dumps(body)
            head = (f"{method} {target} HTTP/1.1\r\n{self.__head.value}Content-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n")
            raw_request = head.encode() + data
        elif method in ("POST", "PUT"):
            raw_request = (f"{method} {target} HTTP/1.1\r\n{self.__head.value}"
                           "Content-Length: 0\r\n\r\n").encode()
        else:
            raw_request = f"{method} {target} HTTP/1.1\r\n{self.__head.value}\r\n".encode()
        started = time.monotonic()
        try:
            # own_connection: after an error answer this connection may answer a false 409 next
            # (BEHAVIOUR.md 19), so it is closed instead of going back to the pool
            answer = await self.http.request(method, raw_request, timeout_s or self.timeout_s,
                                             close_on_error=own_connection)
        except (HttpError, TimeoutError, OSError) as exc:
            log.warning("ari.request_failed", method=method, path=path, error=type(exc).__name__)
            raise AriConnectionError(0, f"{type(exc).__name__}: {exc}", method, path) from None
        status = answer.status
        raw = answer.body
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        if 200 <= status < 300:
            log.debug("ari.request", method=method, path=path, status=status, ms=elapsed_ms)
            if expect == "bytes":
                return raw
            if not raw:
                return None
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise error_for(502, f"invalid JSON in a {status} answer", method, path) from None
        try:
            parsed: object = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
        text = raw[:200].decode("utf-8", "replace").strip()
        message = error_message(parsed, text or f"HTTP {status}")
        if status == 404 and not_found_ok:
            log.debug("ari.request_not_found", method=method, path=path, message=message, ms=elapsed_ms)
        else:
            log.info("ari.request_error", method=method, path=path, status=status, message=message,
                     ms=elapsed_ms)
        raise error_for(status, message, method, path)
