"""The REST client's own HTTP/1.1 connections (acd/ari/http.py) against a raw server that misbehaves on cue.

What a user would notice: a request after Asterisk closed an idle connection still succeeds, and an
originate is never sent twice because of it; ``Connection: close`` and chunked answers work; a server that
does not answer gives a failed command within the time-out; idle connections are closed before Asterisk's
``session_keep_alive`` would close them; https works.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from acd.ari import AriClient, AriConnectionError

pytestmark = pytest.mark.timeout(30)

OK = (b'{"id":"c1","name":"Local/1@x-1","state":"Down","protocol_id":"","caller":{"name":"","number":""},'
      b'"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"x","exten":"1",'
      b'"priority":1,"app_name":"","app_data":""},"creationtime":"2026-11-22T21:59:35.660+0000",'
      b'"language":"en"}')


def answer(body: bytes = OK, status: str = "200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n%s" % (status.encode(), len(body), extra, body)


@dataclass
class Seen:
    method: str
    path: str
    conn: int


Reply = Callable[[Seen], "tuple[bytes | None, bool]"]
"""What the server does with a request: (bytes to send or None for no answer, close the connection after)."""


@dataclass
class RawServer:
    """A loopback HTTP/1.1 server: reads requests and does what ``reply`` says, connection by connection."""

    reply: Reply = lambda seen: (answer(), False)
    seen: list[Seen] = field(default_factory=list)
    conns: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a connection ends (the client or the server closed it)."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conns += 1
        conn = self.conns
        task = asyncio.current_task()
        assert task is not None
        self.tasks.append(task)
        self.writers.append(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode().split("\r\n")
                length = next((int(h.split(":")[1]) for h in lines
                               if h.lower().startswith("content-length")), 0)
                await reader.readexactly(length)
                method, path, _ = lines[0].split(" ")
                seen = Seen(method, path, conn)
                self.seen.append(seen)
                data, close = self.reply(seen)
                if data:
                    writer.write(data)
                    await writer.drain()
                if close:
                    return
                if data is None:  # no answer: hold the connection until the client gives up
                    await reader.read()
                    return
        except ConnectionError:
            return
        finally:
            writer.close()
            self.closed.set()


@pytest.fixture
async def server() -> AsyncIterator[tuple[RawServer, int]]:
    raw = RawServer()
    srv = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
    yield raw, srv.sockets[0].getsockname()[1]
    await stop(srv, raw)


async def stop(srv: asyncio.Server, raw: RawServer) -> None:
    srv.close()
    for writer in raw.writers:
        writer.close()
    await asyncio.gather(*raw.tasks, return_exceptions=True)


def client_for(port: int, **kw: object) -> AriClient:
    return AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", "acd", **kw)  # type: ignore[arg-type]


async def test_a_connection_closed_while_idle_is_not_used_and_nothing_is_sent_twice(
    server: tuple[RawServer, int]
) -> None:
    raw, port = server
    raw.reply = lambda seen: (answer(), seen.conn == 1)  # the first connection: answered, then closed
    async with client_for(port) as c:
        await c.request("GET", "/asterisk/ping")
        await raw.closed.wait()
        channel = await c.channels.originate("Local/1@x", channel_id="c1")
    assert channel.id == "c1"
    assert [(s.method, s.conn) for s in raw.seen] == [("GET", 1), ("POST", 2)]


async def test_a_close_the_loop_has_not_seen_yet_is_caught_before_sending() -> None:
    """Asterisk's FIN arrived in this very turn of the event loop: the protocol does not know yet, the
    kernel does. A plain-socket server in a thread closes while the test's loop is not running."""
    assert await close_unseen_by_the_loop() == [1, 2], "each originate sent once"


def test_the_same_on_uvloop() -> None:
    """The daemon runs on uvloop when installed (acd/runtime.py): its transports differ from asyncio's."""
    uvloop = pytest.importorskip("uvloop")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(close_unseen_by_the_loop()) == [1, 2]


async def close_unseen_by_the_loop() -> list[int]:
    """Two originates; the server closes the first connection, unseen by the loop; which connections got
    requests."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    first_closed = threading.Event()
    requests: list[int] = []

    def serve() -> None:
        for conn_no in (1, 2):
            sock, _ = listener.accept()
            with sock:
                sock.recv(65536)
                requests.append(conn_no)
                sock.sendall(answer())
                if conn_no == 1:
                    sock.shutdown(socket.SHUT_RDWR)
            first_closed.set()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    async with client_for(port) as c:
        await c.channels.originate("Local/1@x", channel_id="c1")
        assert first_closed.wait(5)  # blocking: the loop gets no turn to read the end of stream
        idle = c.http._idle[-1]
        assert not idle.closed and idle.stale()
        await c.channels.originate("Local/1@x", channel_id="c2")
    thread.join(5)
    return requests


async def test_a_request_lost_on_a_reused_connection_is_resent_only_if_safe(
    server: tuple[RawServer, int]
) -> None:
    """The race: the server closes a kept-alive connection as the request arrives, without answering.
    A GET is resent on a new connection; an originate may have been acted upon, so it fails instead."""
    raw, port = server
    drop = {2}  # the second request on connection 1 finds the connection closing under it

    def reply(seen: Seen) -> tuple[bytes | None, bool]:
        if len(raw.seen) in drop:
            return b"", True
        return answer(), False

    raw.reply = reply
    async with client_for(port) as c:
        await c.request("GET", "/asterisk/ping")
        await c.request("GET", "/asterisk/ping")
        assert [(s.method, s.conn) for s in raw.seen] == [("GET", 1), ("GET", 1), ("GET", 2)]
        drop.add(5)
        await c.request("GET", "/asterisk/ping")
        with pytest.raises(AriConnectionError):
            await c.channels.originate("Local/1@x", channel_id="c1")
        await c.channels.originate("Local/1@x", channel_id="c2")
    assert [(s.method, s.path.split("?")[0], s.conn) for s in raw.seen[3:]] == [
        ("GET", "/ari/asterisk/ping", 2), ("POST", "/ari/channels", 2), ("POST", "/ari/channels", 3)]


async def test_connection_close_answers_close_the_connection(server: tuple[RawServer, int]) -> None:
    raw, port = server
    raw.reply = lambda seen: (answer(extra=b"Connection: close\r\n"), False)
    async with client_for(port) as c:
        for _ in range(3):
            assert (await c.channels.originate("Local/1@x", channel_id="c1")).id == "c1"
        assert c.http.connections_made == 3
    assert [s.conn for s in raw.seen] == [1, 2, 3]


async def test_chunked_answers_are_read(server: tuple[RawServer, int]) -> None:
    raw, port = server
    body = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\n{\"id\"\r\n6;x=y\r\n:\"c1\"}\r\n0\r\n\r\n")
    raw.reply = lambda seen: (body, False)
    async with client_for(port) as c:
        assert (await c.request("GET", "/channels/c1")) == {"id": "c1"}
        assert (await c.request("GET", "/channels/c1")) == {"id": "c1"}
        assert c.http.connections_made == 1


async def test_no_answer_is_a_failed_command_within_the_time_out(server: tuple[RawServer, int]) -> None:
    raw, port = server
    raw.reply = lambda seen: (None if seen.conn == 1 else answer(), False)
    async with client_for(port, timeout_s=0.3) as c:
        with pytest.raises(AriConnectionError, match="time-out") as info:
            await c.channels.originate("Local/1@x", channel_id="c1")
        assert info.value.status == 0
        assert (await c.channels.originate("Local/1@x", channel_id="c1")).id == "c1"
    assert [s.conn for s in raw.seen] == [1, 2], "a timed-out connection is not reused"


async def test_idle_connections_are_closed_before_asterisk_closes_them(server: tuple[RawServer, int]) -> None:
    raw, port = server
    async with client_for(port, idle_timeout_s=0.2) as c:
        await c.request("GET", "/asterisk/ping")
        await raw.closed.wait()  # the client closed it, idle (the server never closes here)
        await c.request("GET", "/asterisk/ping")
    assert [s.conn for s in raw.seen] == [1, 2]


@pytest.fixture
def tls_cert(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (an EC key: made in milliseconds)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


async def test_https(tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    raw = RawServer()
    srv = await asyncio.start_server(raw.handle, "127.0.0.1", 0, ssl=server_ctx)
    port = srv.sockets[0].getsockname()[1]
    try:
        async with AriClient(f"https://127.0.0.1:{port}/ari", "u", "p", "acd") as untrusting:
            with pytest.raises(AriConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
                await untrusting.request("GET", "/asterisk/ping")
        trusting = ssl.create_default_context(cafile=str(cert))
        async with AriClient(f"https://127.0.0.1:{port}/ari", "u", "p", "acd", ssl_context=trusting) as c:
            assert (await c.request("GET", "/channels/c1"))["id"] == "c1"
            assert (await c.request("GET", "/channels/c1"))["id"] == "c1"
            assert c.http.connections_made == 1
    finally:
        await stop(srv, raw)
