"""A small keep-alive HTTP/1.1 client for ARI's REST requests: asyncio protocols, a pool of idle connections.

Why not aiohttp here: a request through ``ClientSession.request`` cost 200-280 us of the daemon's CPU
against 60-70 us for the same exchange written by hand, and a call makes 12-14 of them (docs/benchmarks.md,
issue 11 §6). ARI needs little of HTTP: one server, small JSON answers with a ``Content-Length`` (Asterisk's
res_http always sends one), keep-alive. So this module does only that: it writes one request in one
``send``, parses the status line, three headers and the body (``Content-Length``, chunked, or until close),
and keeps connections for the next request. aiohttp stays for the events WebSocket and the web consoles.

The pool's rules (docs/ari-client.md):
- idle connections are reused last-in first-out and closed after ``idle_timeout_s`` (10 s), before
  Asterisk closes them (http.conf ``session_keep_alive``, 15 s by default);
- an idle connection the server has closed (end of stream seen by the loop, or the socket readable when
  polled just before use) is dropped before anything is written to it: the request goes on another one;
- a request sent on a reused connection that closes without a byte of answer is resent once on a new
  connection only if its method is safe (GET, HEAD): the server may have acted on anything else
  (originate is not idempotent), so that becomes an error and the caller's own rules decide;
- ``Connection: close`` (or an HTTP/1.0 answer) closes the connection after the answer, and
  ``close_on_error`` closes it after any non-2xx answer (ARI's originate, BEHAVIOUR.md 19).

Nothing here sees credentials except as opaque header bytes handed in by the caller; no repr shows them.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Final, cast

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_HEAD: Final = 64 * 1024
_NO_BODY_STATUS: Final = frozenset({204, 304})


class HttpError(Exception):
    """No (usable) answer: the connection could not be made, was lost, or the answer was malformed."""


class ConnectError(HttpError):
    """The TCP (or TLS) connection to the server could not be made."""


class ServerDisconnected(HttpError):
    """The server closed the connection before the whole answer arrived."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered
        """Some bytes of an answer had arrived: the server got the request."""


class BadAnswer(HttpError):
    """The bytes that came back are not an HTTP/1.x answer we can read."""


class RequestTimeout(HttpError, TimeoutError):
    """No whole answer within the request's time-out."""


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: sends a request, parses one answer at a time."""

    __slots__ = (
        "transport", "buf", "waiter", "closed", "idle_since", "requests", "received", "_head_done",
        "_status", "_length", "_chunked", "_close", "_body_start", "_chunk_pos", "_chunks", "_method",
        "_timer", "reusable", "_poll",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.idle_since = 0.0
        self.requests = 0
        """Requests sent on this connection so far (> 0: a reused connection)."""
        self.received = 0
        self.reusable = False
        self._timer: asyncio.TimerHandle | None = None
        self._poll: select.poll | None = None
        self._reset("GET")

    def __repr__(self) -> str:
        return f"<_Connection requests={self.requests} closed={self.closed}>"

    def _reset(self, method: str) -> None:
        self._method = method
        self._head_done = False
        self._status = 0
        self._length = -1
        self._chunked = False
        self._close = False
        self._body_start = 0
        self._chunk_pos = 0
        self._chunks: list[bytes] = []

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass, but has its methods
        # a poll set on the socket's descriptor, for ``stale``: it owns nothing (closing the transport closes
        # the socket as usual) and works the same on asyncio's loop and on uvloop
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self._poll = select.poll()
            self._poll.register(sock.fileno(), select.POLLIN)

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():  # bytes nobody asked for: the connection is not clean
            self.close()
            return
        self.received += len(data)
        self.buf += data
        try:
            answer = self._parse()
        except BadAnswer as exc:
            self._fail(exc)
            return
        if answer is not None:
            self._finish(answer)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self._head_done and self._length < 0 and not self._chunked:  # a body that ends with the connection
            self._close = True
            self._finish(Answer(self._status, bytes(self.buf[self._body_start:])))
            return
        answered = self.received > 0
        self._fail(ServerDisconnected(
            "the server closed the connection " + ("in the middle of its answer" if answered else
                                                   "without answering"), answered=answered))

    # one exchange
    def send(self, data: bytes, method: str, deadline: float, loop: asyncio.AbstractEventLoop
             ) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self._reset(method)
        self.buf.clear()
        self.received = 0
        self.reusable = False
        self.requests += 1
        waiter: asyncio.Future[Answer] = loop.create_future()
        self.waiter = waiter
        self._timer = loop.call_at(deadline, self._timed_out)
        self.transport.write(data)
        return waiter

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(RequestTimeout("no answer within the time-out"))

    def _finish(self, answer: Answer) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.reusable = not self._close and not self.closed and len(self.buf) == self._body_end()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, exc: Exception) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.close()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        self.reusable = False
        if self._timer is not None:  # e.g. the caller was cancelled while waiting for the answer
            self._timer.cancel()
            self._timer = None
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.abort()

    def stale(self) -> bool:
        """True when the server has closed this idle connection or sent something unasked for: asks the
        kernel (one ``poll``), since an end of stream that arrived during this turn of the loop is not seen
        by the protocol yet."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return True
        # an idle connection has nothing to read: readable means an end of stream or bytes nobody asked
        # for (POLLHUP, POLLERR and POLLNVAL are reported whatever was asked), either way not usable
        return self._poll is not None and bool(self._poll.poll(0))

    # parsing
    def _body_end(self) -> int:
        if self._chunked:
            return self._chunk_pos
        return self._body_start + max(self._length, 0)

    def _parse(self) -> Answer | None:
        buf = self.buf
        while not self._head_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEAD:
                    raise BadAnswer("answer head too long")
                return None
            self._parse_head(bytes(buf[:end]))
            if 100 <= self._status < 200:  # an interim answer (100 Continue): the real one follows
                del buf[:end + 4]
                self._reset(self._method)
                continue
            self._head_done = True
            self._body_start = end + 4
            self._chunk_pos = end + 4
        if self._chunked:
            return self._parse_chunks()
        if self._length >= 0:
            if len(buf) - self._body_start < self._length:
                return None
            return Answer(self._status, bytes(buf[self._body_start:self._body_start + self._length]))
        return None  # the body ends when the connection does (connection_lost)

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise BadAnswer(f"not an HTTP/1.x status line: {lines[0][:60]!r}")
        self._status = int(parts[1])
        self._close = parts[0] == b"HTTP/1.0"
        length = -1
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise BadAnswer("a header line without a colon")
            name = name.strip().lower()
            if name == b"content-length":
                value = value.strip()
                if not value.isdigit():
                    raise BadAnswer("invalid Content-Length")
                length = int(value)
            elif name == b"transfer-encoding":
                self._chunked = value.strip().lower().endswith(b"chunked")
            elif name == b"connection":
                tokens = value.lower()
                if b"close" in tokens:
                    self._close = True
                elif b"keep-alive" in tokens:
                    self._close = False
        if self._method == "HEAD" or self._status in _NO_BODY_STATUS or 100 <= self._status < 200:
            self._length = 0
            self._chunked = False
        elif not self._chunked:
            self._length = length

    def _parse_chunks(self) -> Answer | None:
        buf = self.buf
        pos = self._chunk_pos
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadAnswer("invalid chunk size") from None
            if size == 0:
                end = buf.find(b"\r\n\r\n", eol)  # trailers, then an empty line
                if end < 0:
                    if buf[eol:eol + 4] == b"\r\n\r\n":
                        end = eol
                    else:
                        return None
                self._chunk_pos = end + 4
                return Answer(self._status, b"".join(self._chunks))
            if len(buf) < eol + 2 + size + 2:
                return None
            self._chunks.append(bytes(buf[eol + 2:eol + 2 + size]))
            pos = self._chunk_pos = eol + 2 + size + 2


class HttpPool:
    """Keep-alive connections to one ``http(s)://host:port``: at most ``max_connections`` open at once."""

    def __init__(self, scheme: str, host: str, port: int, *, max_connections: int,
                 idle_timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.idle_timeout_s = idle_timeout_s
        self._ssl: ssl.SSLContext | None = None
        if scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._idle: list[_Connection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False
        self.connections_made = 0
        """Connections opened so far (tests and the bench read it)."""
        self.resent = 0
        """Requests resent on a new connection after a stale keep-alive connection dropped them."""

    def __repr__(self) -> str:
        return (f"HttpPool({self.host!r}, {self.port}, open={self._open}, idle={len(self._idle)}, "
                f"tls={self._ssl is not None})")

    async def request(self, method: str, data: bytes, timeout_s: float, *, close_on_error: bool = False
                      ) -> Answer:
        """Send ``data`` (a whole request, head and body) and return the answer; ``HttpError`` otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        conn = await self._acquire(loop, deadline)
        try:
            answer = await conn.send(data, method, deadline, loop)
        except ServerDisconnected as exc:
            reused = conn.requests > 1
            self._drop(conn)
            if not (reused and not exc.answered and method in SAFE_METHODS):
                raise
            self.resent += 1
            conn = await self._acquire(loop, deadline, fresh=True)
            try:
                answer = await conn.send(data, method, deadline, loop)
            except BaseException:
                self._drop(conn)
                raise
        except BaseException:  # a time-out, a bad answer, or the caller cancelled: the connection is spent
            self._drop(conn)
            raise
        if conn.reusable and not conn.closed and not (close_on_error and not 200 <= answer.status < 300):
            self._release(conn, loop)
        else:
            self._drop(conn)
        return answer

    async def _acquire(self, loop: asyncio.AbstractEventLoop, deadline: float, *, fresh: bool = False
                       ) -> _Connection:
        if self._closed:
            raise HttpError("the HTTP pool is closed")
        idle = self._idle
        while idle and not fresh:
            conn = idle.pop()
            if not conn.stale():
                return conn
            self._drop(conn)
        while self._open >= self.max_connections:
            if idle:  # a fresh connection wanted and the cap reached by idle ones: close the oldest
                self._drop(idle[0])
                continue
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            remaining = deadline - loop.time()
            try:
                await asyncio.wait_for(waiter, max(remaining, 0))
            except TimeoutError:
                raise RequestTimeout("no connection free within the time-out") from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if idle and not fresh:
                conn = idle.pop()
                if not conn.stale():
                    return conn
                self._drop(conn)
        self._open += 1
        try:
            return await self._connect(loop, deadline)
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    async def _connect(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        conn = _Connection()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: conn, self.host, self.port, ssl=self._ssl,
                                       server_hostname=self.host if self._ssl else None),
                max(deadline - loop.time(), 0))
        except TimeoutError:
            raise RequestTimeout("connecting took longer than the time-out") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self.connections_made += 1
        return conn

    def _release(self, conn: _Connection, loop: asyncio.AbstractEventLoop) -> None:
        if self._closed:
            self._drop(conn)
            return
        conn.waiter = None
        conn.idle_since = loop.time()
        self._idle.append(conn)
        if self._sweeper is None:
            self._sweeper = loop.call_at(conn.idle_since + self.idle_timeout_s / 4, self._sweep)
        self._wake()

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        conn.waiter = None
        if conn in self._idle:
            self._idle.remove(conn)
        self._open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep(self) -> None:
        """Close connections idle for ``idle_timeout_s`` (oldest first; the list is in release order)."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        limit = loop.time() - self.idle_timeout_s
        idle = self._idle
        while idle and (idle[0].idle_since <= limit or idle[0].closed):
            self._drop(idle[0])
        if idle:
            self._sweeper = loop.call_at(loop.time() + self.idle_timeout_s / 4, self._sweep)

    async def close(self) -> None:
        """Close every idle connection; connections in use close when their request ends."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        while self._idle:
            self._drop(self._idle[-1])
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(HttpError("the HTTP pool is closed"))
        await asyncio.sleep(0)  # let the transports run connection_lost
