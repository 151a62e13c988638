"""Benchmark section ``ari``: how many ARI events per second the client parses and dispatches on one core.

Four figures, all with the 36 captured Asterisk 22 events of ../shared/asterisk-ari/sample-events.jsonl
(ApplicationReplaced left out, since it stops the stream), cycled:

- ``parse_events_per_s``: ``parse_event(bytes)`` alone (one pass of pydantic's discriminated union);
- ``events_per_s``: parse, bounded queue and dispatch to a ``'*'`` handler, as EventStream does it
  (reader and dispatcher tasks on one event loop, no socket): the goal, >= 10,000/s;
- ``websocket_events_per_s``: end to end over a loopback WebSocket, with the sending server in the same
  process and on the same core (so a pessimistic figure);
- ``dict_path_events_per_s``: the slow path of ``parse_event`` (orjson, then the class looked up by
  ``type``), taken for dicts and for messages the discriminated union refuses (unknown types, bad fields).

And the REST client's CPU per request (issue 11 §6; goal <= 100 us), against a loopback HTTP server in a
child process (so its CPU is not counted) that answers every request at once with a small JSON body, as
Asterisk answers a ``POST /channels/{id}/variable``: N sequential POSTs on one kept-alive connection, and
N POSTs 20 at a time, each way:

- ``aiohttp_us_per_request_*``: what the client did until 2026-11-30, ``ClientSession.request`` with the
  same parameters, read and JSON-decode (the code of the old ``AriClient._send``);
- ``http_us_per_request_*``: acd/ari/http.py alone (``HttpPool.request`` with a prepared request);
- ``client_us_per_request_*``: the whole ``AriClient.request`` (limiter, query string, head, JSON, metrics
  counter, debug log call) over acd/ari/http.py: what the daemon pays per request.

Each on asyncio's own loop, then (``..._uvloop``) on uvloop's when it is installed, as the daemon uses it.

Rates are per CPU second of this process (``time.process_time``), not per wall-clock second: everything
runs on one thread, and a machine busy with other work then does not distort the figure.

    python -m bench ari [--quick]      # or: python -m bench.ari [--quick]
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import structlog
from aiohttp import web
from yarl import URL

from acd.ari.client import AriClient, encode_query
from acd.ari.events import EventStream
from acd.ari.models import Event, parse_event
from bench.common import Goal, Section

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "asterisk-ari" / "sample-events.jsonl"
GOAL_EVENTS_PER_S = 10_000
GOAL_CLIENT_US_PER_REQUEST = 100
CONCURRENCY = 20
ANSWER = b'{"value":"phase=queued;queue=sales;since=1764477000.123"}'


def sample_events() -> list[bytes]:
    lines = [line.encode() for line in SAMPLES.read_text().splitlines() if line.strip()]
    return [line for line in lines if b'"ApplicationReplaced"' not in line]


def measure_parse(events: list[bytes], n: int) -> float:
    for raw in events * 20:  # warm up: pydantic builds nothing lazily, but caches and branch predictors do
        parse_event(raw)
    started = time.process_time()
    for i in range(n):
        parse_event(events[i % len(events)])
    return n / (time.process_time() - started)


def measure_dict_path(events: list[bytes], n: int) -> float:
    for raw in events * 20:
        parse_event(orjson.loads(raw))
    started = time.process_time()
    for i in range(n):
        parse_event(orjson.loads(events[i % len(events)]))
    return n / (time.process_time() - started)


def _counting_stream(client: AriClient, n: int) -> tuple[EventStream, asyncio.Event]:
    """An event stream whose one handler sets ``done`` at the n-th event."""
    stream = EventStream(client, queue_size=n + 10)
    done = asyncio.Event()
    count = 0

    def handler(_: Event) -> None:
        nonlocal count
        count += 1
        if count == n:
            done.set()

    stream.on("*", handler)
    return stream, done


async def measure_dispatch(events: list[bytes], n: int) -> float:
    """Reader and dispatcher as in EventStream, without a socket: feed raw messages, await the handler."""
    client = AriClient("http://127.0.0.1:9/ari", "bench", "bench", "bench")
    stream, done = _counting_stream(client, n)
    dispatcher = asyncio.create_task(stream._dispatch_loop())
    started = time.process_time()
    batch = 500  # the reader hands over to the dispatcher every so often, as socket reads do
    for i in range(n):
        stream._on_message(events[i % len(events)])
        if i % batch == batch - 1:
            await asyncio.sleep(0)
    await done.wait()
    elapsed = time.process_time() - started
    dispatcher.cancel()
    await asyncio.gather(dispatcher, return_exceptions=True)
    await client.close()
    return n / elapsed


async def measure_websocket(events: list[bytes], n: int) -> float:
    """End to end: a loopback aiohttp WebSocket server sends n events; EventStream parses and dispatches."""
    go = asyncio.Event()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await go.wait()
        texts = [e.decode() for e in events]
        for i in range(n):
            await ws.send_str(texts[i % len(texts)])
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", ws_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = AriClient(f"http://127.0.0.1:{port}/ari", "bench", "bench", "bench")
    stream, done = _counting_stream(client, n)
    task = asyncio.create_task(stream.run())
    await asyncio.wait_for(stream.wait_connected(), 10)
    started = time.process_time()
    go.set()
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.process_time() - started
    stream.stop()
    await asyncio.wait_for(task, 10)
    await client.close()
    await runner.cleanup()
    return n / elapsed


class _Answerer(asyncio.Protocol):
    """The loopback server's side: every request head (and its Content-Length body) gets ``ANSWER``."""

    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf += data
        out = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buf[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buf) < end + 4 + length:
                break
            self.buf = self.buf[end + 4 + length:]
            out.append(b"HTTP/1.1 200 OK\r\nServer: Asterisk/22.10.1\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER))
        if out:
            self.transport.write(b"".join(out))


def _serve(port_out: Any) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Answerer, "127.0.0.1", 0)
        port_out.put(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def _cpu_per_request(send: Callable[[], Awaitable[Any]], n: int, concurrency: int) -> float:
    """Microseconds of this process's CPU per request: n requests, ``concurrency`` at a time."""
    for _ in range(50):  # warm up: connections made, caches filled
        await send()
    started = time.process_time()
    if concurrency == 1:
        for _ in range(n):
            await send()
    else:
        for _ in range(n // concurrency):
            await asyncio.gather(*(send() for _ in range(concurrency)))
    return (time.process_time() - started) / n * 1e6


async def measure_rest(port: int, n: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}/ari"
    path = "/channels/caller-1/variable"
    params = {"variable": "ACD_STATE", "value": "phase=queued;queue=sales;since=1764477000.123"}
    figures: dict[str, float] = {}

    connector = aiohttp.TCPConnector(limit=36, keepalive_timeout=10)
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = {"Authorization": aiohttp.encode_basic_auth("bench", "bench")}
        timeout = aiohttp.ClientTimeout(total=10)
        url = URL(base + path, encoded=True)

        async def old() -> Any:
            async with session.request("POST", url, params=params, data=None, headers=headers,
                                       timeout=timeout) as resp:
                raw = await resp.read()
                return orjson.loads(raw) if resp.status < 300 and raw else None

        figures["aiohttp_us_per_request_sequential"] = await _cpu_per_request(old, n, 1)
        figures["aiohttp_us_per_request_concurrent"] = await _cpu_per_request(old, n, CONCURRENCY)

    client = AriClient(base, "bench", "bench", "bench")
    raw_request = (f"POST /ari{path}?{encode_query(params)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Authorization: {headers['Authorization']}\r\nContent-Length: 0\r\n\r\n").encode()

    async def pool_only() -> Any:
        return await client.http.request("POST", raw_request, 10)

    async def whole() -> Any:
        return await client.request("POST", path, params=params)

    figures["http_us_per_request_sequential"] = await _cpu_per_request(pool_only, n, 1)
    figures["http_us_per_request_concurrent"] = await _cpu_per_request(pool_only, n, CONCURRENCY)
    figures["client_us_per_request_sequential"] = await _cpu_per_request(whole, n, 1)
    figures["client_us_per_request_concurrent"] = await _cpu_per_request(whole, n, CONCURRENCY)
    figures["client_connections_made"] = client.http.connections_made
    await client.close()
    return {k: round(v, 1) for k, v in figures.items()}


def rest_figures(n: int) -> dict[str, float]:
    # as in the daemon (log level info): a debug line per request is filtered, not printed
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        figures = asyncio.run(measure_rest(port, n))
        try:  # the daemon runs on uvloop when it is installed (acd/runtime.py): measure there too
            import uvloop
        except ImportError:
            return figures
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            on_uvloop = runner.run(measure_rest(port, n))
        return {**figures, **{f"{k}_uvloop": v for k, v in on_uvloop.items()}}
    finally:
        server.terminate()
        server.join(10)


def run(quick: bool = False) -> Section:
    events = sample_events()
    n = 20_000 if quick else 200_000
    parse_rate = measure_parse(events, n)
    dict_rate = measure_dict_path(events, n // 2)
    dispatch_rate = asyncio.run(measure_dispatch(events, n))
    ws_rate = asyncio.run(measure_websocket(events, n // 2))
    rest = rest_figures(2_000 if quick else 20_000)
    figures = {
        "events_per_s": round(dispatch_rate),
        "parse_events_per_s": round(parse_rate),
        "parse_us_per_event": round(1e6 / parse_rate, 2),
        "websocket_events_per_s": round(ws_rate),
        "dict_path_events_per_s": round(dict_rate),
        "mean_event_bytes": round(sum(map(len, events)) / len(events)),
        "events_measured": n,
        **rest,
    }
    for key, value in figures.items():
        print(f"  {key}: {value}")
    loop = "_uvloop" if "client_us_per_request_sequential_uvloop" in rest else ""  # the daemon's loop
    return Section(figures, [
        Goal("events_per_s", dispatch_rate, GOAL_EVENTS_PER_S, at_least=True),
        *(Goal(key, rest[key], GOAL_CLIENT_US_PER_REQUEST)
          for key in (f"client_us_per_request_sequential{loop}", f"client_us_per_request_concurrent{loop}")),
    ])


def main(argv: list[str]) -> int:
    """Run this section alone and merge it into var/bench.json (through bench's runner when present)."""
    try:
        from bench.__main__ import SECTIONS
        from bench.__main__ import main as bench_main
    except ImportError:
        SECTIONS, bench_main = {}, None
    if bench_main is not None and "ari" in SECTIONS:
        return bench_main(["ari", *argv])
    quick = "--quick" in argv
    section = run(quick)
    out = Path("var/bench.json")
    doc: dict[str, Any] = orjson.loads(out.read_bytes()) if out.exists() else {}
    doc["ari"] = {**section.as_dict(), "quick": quick}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
