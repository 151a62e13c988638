"""The events WebSocket: order, resync before events, reconnects, back-pressure, and the fatal cases."""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import structlog

from acd.ari import AriAuthError, AriClient, Event, EventStream, GenericEvent
from acd.ari.models import StasisStart
from tests.ari.fake_ari import FakeAri

ARI = Path(__file__).resolve().parents[3] / "shared" / "asterisk-ari"
SAMPLES = (ARI / "sample-events.jsonl").read_text()
STASIS_START = next(json.loads(s) for s in SAMPLES.splitlines() if '"StasisStart"' in s)


def stasis_start(n: int) -> dict[str, Any]:
    event = copy.deepcopy(STASIS_START)
    event["channel"]["id"] = f"c{n}"
    return event


async def eventually(condition: Callable[[], bool], within_s: float = 3.0) -> None:
    """Yield to the loop until ``condition()`` holds; fail after ``within_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.002)


class Running:
    """A stream whose run() is a background task, stopped at the end of the test."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.task: asyncio.Task[None] = asyncio.create_task(stream.run())

    async def finish(self) -> None:
        self.stream.stop()
        await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def start(client: AriClient) -> AsyncIterator[Callable[..., Running]]:
    running: list[Running] = []

    def _start(**kwargs: Any) -> Running:
        kwargs.setdefault("backoff_initial_s", 0.01)
        kwargs.setdefault("backoff_max_s", 0.05)
        r = Running(EventStream(client, **kwargs))
        running.append(r)
        return r

    yield _start
    for r in running:
        if not r.task.done():
            await r.finish()


async def test_handlers_by_type_and_star_receive_events_in_order(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    seen: list[tuple[str, str]] = []
    r = start()
    r.stream.on("StasisStart", lambda e: seen.append(("a", e.channel.id)))  # type: ignore[attr-defined]

    async def second(e: Event) -> None:
        assert isinstance(e, StasisStart)
        seen.append(("b", e.channel.id))

    r.stream.on("StasisStart", second)
    r.stream.on("*", lambda e: seen.append(("*", e.type)))
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    lines = [s for s in SAMPLES.splitlines() if '"ApplicationReplaced"' not in s]
    for n in range(3):
        await fake.send(stasis_start(n))
    for line in lines:
        await fake.send(line)
    await eventually(lambda: sum(1 for k, _ in seen if k == "*") == 3 + len(lines))
    assert seen[:9] == [("a", "c0"), ("b", "c0"), ("*", "StasisStart"), ("a", "c1"), ("b", "c1"),
                        ("*", "StasisStart"), ("a", "c2"), ("b", "c2"), ("*", "StasisStart")]
    assert [t for k, t in seen if k == "*"][3:] == [json.loads(s)["type"] for s in lines]
    assert r.stream.events_received == 3 + len(lines) and r.stream.malformed == 0


async def test_credentials_go_in_the_header_and_app_in_the_query(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    r = start()
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    (upgrade,) = fake.ws_requests
    assert upgrade.query == {"app": "acd", "subscribeAll": "false"}
    assert upgrade.headers["Authorization"].startswith("Basic ")
    assert r.stream.connected and r.stream.last_connect_at is not None


async def test_on_connect_runs_before_events_of_each_connection_and_after_a_drop(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    log: list[str] = []
    gate = asyncio.Event()

    async def on_connect() -> None:
        log.append("resync")
        await gate.wait()

    r = start(on_connect=on_connect)
    r.stream.on("*", lambda e: log.append(e.channel.id))  # type: ignore[attr-defined]
    await asyncio.wait_for(fake.connected.get(), 5)
    await fake.send(stasis_start(1))
    await eventually(lambda: r.stream.events_received == 1)
    assert log == ["resync"], "the event waits for the resync of its connection"
    gate.set()
    await eventually(lambda: log == ["resync", "c1"])
    gate.clear()

    await fake.drop()
    await asyncio.wait_for(fake.connected.get(), 5)
    await fake.send(stasis_start(2))
    await eventually(lambda: r.stream.events_received == 2)
    assert log == ["resync", "c1", "resync"]
    gate.set()
    await eventually(lambda: log == ["resync", "c1", "resync", "c2"])
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    assert r.stream.reconnects == 1 and r.stream.connected


async def test_a_failed_resync_drops_the_connection_and_tries_again(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    calls = 0

    async def on_connect() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("ARI REST not answering yet")

    r = start(on_connect=on_connect)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    assert calls == 2 and fake.ws_attempts == 2 and r.stream.handler_errors == 1


async def test_malformed_event_is_logged_counted_and_skipped(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    got: list[Event] = []
    r = start(on_event=got.append)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    with structlog.testing.capture_logs() as logs:
        await fake.send('{"type": "StasisStart", "channel": BROKEN')
        await fake.send(stasis_start(7))
        await eventually(lambda: len(got) == 1)
    assert isinstance(got[0], StasisStart) and got[0].channel.id == "c7"
    assert r.stream.malformed == 1 and r.stream.events_received == 2
    bad = [e for e in logs if e["event"] == "ari.events.malformed"]
    assert bad and "BROKEN" in bad[0]["raw"]


async def test_unknown_event_type_is_delivered_as_generic(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    got: list[Event] = []
    r = start()
    r.stream.on("FutureThing", got.append)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    await fake.send({"type": "FutureThing", "application": "acd", "timestamp": "2026-11-22T21:59:35.660+0000",
                     "x": 1})
    await eventually(lambda: len(got) == 1)
    assert isinstance(got[0], GenericEvent) and got[0].raw["x"] == 1


async def test_a_slow_handler_does_not_block_the_reader(start: Callable[..., Running], fake: FakeAri) -> None:
    release = asyncio.Event()
    handled: list[str] = []

    async def slow(e: Event) -> None:
        await release.wait()
        handled.append(e.channel.id)  # type: ignore[attr-defined]

    r = start(on_event=slow)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    for n in range(50):
        await fake.send(stasis_start(n))
    await eventually(lambda: r.stream.events_received == 50)
    assert handled == [] and r.stream.queued == 49
    release.set()
    await eventually(lambda: len(handled) == 50)
    assert handled == [f"c{n}" for n in range(50)] and r.stream.dropped == 0


async def test_a_full_queue_drops_counts_and_logs(start: Callable[..., Running], fake: FakeAri) -> None:
    release, entered = asyncio.Event(), asyncio.Event()
    handled: list[Event] = []

    async def slow(e: Event) -> None:
        entered.set()
        await release.wait()
        handled.append(e)

    r = start(on_event=slow, queue_size=3)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    with structlog.testing.capture_logs() as logs:
        await fake.send(stasis_start(0))
        await asyncio.wait_for(entered.wait(), 5)
        for n in range(1, 10):
            await fake.send(stasis_start(n))
        await eventually(lambda: r.stream.events_received == 10)
    assert r.stream.dropped == 6, "one in the handler, three queued, six dropped"
    assert any(e["event"] == "ari.events.queue_full" for e in logs)
    release.set()
    await eventually(lambda: len(handled) == 4)


async def test_a_failing_handler_does_not_stop_the_others(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    got: list[Event] = []

    def boom(e: Event) -> None:
        raise ValueError("bug in a handler")

    r = start()
    r.stream.on("StasisStart", boom)
    r.stream.on("*", got.append)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    await fake.send(stasis_start(1))
    await fake.send(stasis_start(2))
    await eventually(lambda: len(got) == 2)
    assert r.stream.handler_errors == 2


async def test_bad_credentials_are_fatal_with_a_clear_message(fake: FakeAri, base_url: str) -> None:
    with structlog.testing.capture_logs() as logs:
        async with AriClient(base_url, fake.user, "wrong-password", "acd") as bad:
            stream = EventStream(bad, backoff_initial_s=0.01)
            task = asyncio.create_task(stream.run())
            with pytest.raises(AriAuthError, match="ari.conf"):
                await asyncio.wait_for(stream.wait_connected(), 5)
            with pytest.raises(AriAuthError, match="ari.conf") as info:
                await asyncio.wait_for(task, 5)
    assert info.value.status == 401 and "wrong-password" not in str(info.value)
    assert fake.ws_attempts == 1, "no retry storm"
    assert any(e["event"] == "ari.events.auth_failed" for e in logs)
    assert "wrong-password" not in repr(logs) + repr(stream)


async def test_stop_ends_a_connect_that_hangs() -> None:
    """Asterisk's host accepts TCP but never answers the upgrade: stop() still ends run() at once."""
    accepted = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", "acd", timeout_s=60) as c:
        stream = EventStream(c)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(accepted.wait(), 5)
        stream.stop()
        await asyncio.wait_for(task, 2)
        with pytest.raises(RuntimeError, match="stopped"):
            await stream.wait_connected()
    for w in writers:
        w.close()
    server.close()
    await server.wait_closed()


async def test_application_replaced_stops_the_stream(start: Callable[..., Running], fake: FakeAri) -> None:
    got: list[str] = []
    r = start(on_event=lambda e: got.append(e.type))
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    await fake.send(stasis_start(1))
    await fake.send({"type": "ApplicationReplaced", "application": "acd",
                     "timestamp": "2026-11-22T21:59:35.660+0000"})
    await asyncio.wait_for(r.task, 5)
    assert got == ["StasisStart", "ApplicationReplaced"]
    assert r.stream.replaced and not r.stream.connected and fake.ws_attempts == 1


async def test_refused_upgrades_are_retried_with_growing_jittered_back_off(
    client: AriClient, fake: FakeAri
) -> None:
    fake.ws_refuse = 503
    rng = random.Random(1)
    stream = EventStream(client, backoff_initial_s=0.001, backoff_max_s=0.004, rng=rng)
    with structlog.testing.capture_logs() as logs:
        r = Running(stream)
        await eventually(lambda: fake.ws_attempts >= 6)
        fake.ws_refuse = None
        await asyncio.wait_for(stream.wait_connected(), 5)
        await r.finish()
    delays = [e["delay_s"] for e in logs if e["event"] == "ari.events.reconnect_in"][:5]
    ceilings = [0.001, 0.002, 0.004, 0.004, 0.004]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
    assert len(set(delays[2:])) > 1, "jitter spreads reconnects of several daemons"


async def test_a_silent_peer_is_detected_by_the_heartbeat(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    """Asterisk's host vanished without closing the TCP connection: no pong, so reconnect."""
    fake.autoping = False
    r = start(heartbeat_s=0.05)
    await asyncio.wait_for(fake.connected.get(), 5)
    fake.autoping = True
    await asyncio.wait_for(fake.connected.get(), 5)
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    assert r.stream.reconnects == 1


async def test_stop_ends_run_and_disconnects(start: Callable[..., Running], fake: FakeAri) -> None:
    r = start()
    await asyncio.wait_for(r.stream.wait_connected(), 5)
    await r.finish()
    assert not r.stream.connected
    await eventually(lambda: fake.sockets[0].closed)



async def test_flapping_connections_that_resynced_reconnect_at_the_initial_delay(
    client: AriClient, fake: FakeAri
) -> None:
    """Issue 12 item 7: drops shortly after each reconnect must not grow the back-off to its cap.

    Each connection here lives well under a second but completes its resync, so ARI is up: every
    reconnect waits the (jittered) initial delay, never the growing one that took recovery to 25 s."""
    resyncs: list[int] = []

    async def resync() -> None:
        resyncs.append(len(resyncs))

    stream = EventStream(client, on_connect=resync, backoff_initial_s=0.01, backoff_max_s=10.0,
                         rng=random.Random(3))
    with structlog.testing.capture_logs() as logs:
        r = Running(stream)
        for n in range(1, 7):
            await asyncio.wait_for(stream.wait_connected(), 5)
            assert len(resyncs) == n
            await fake.drop()
            await eventually(lambda: not stream.connected)
        await asyncio.wait_for(stream.wait_connected(), 5)
        await r.finish()
    delays = [e["delay_s"] for e in logs if e["event"] == "ari.events.reconnect_in"]
    assert len(delays) == 6 and all(0.005 <= d <= 0.01 for d in delays), delays


async def test_connections_that_drop_before_their_resync_still_back_off(
    client: AriClient, fake: FakeAri
) -> None:
    """A link that drops before the resync completes proves nothing: the delay keeps growing, capped."""
    gate = asyncio.Event()

    async def resync() -> None:
        await gate.wait()

    stream = EventStream(client, on_connect=resync, backoff_initial_s=0.001, backoff_max_s=0.004,
                         rng=random.Random(1))
    with structlog.testing.capture_logs() as logs:
        r = Running(stream)
        for _ in range(4):
            ws = await asyncio.wait_for(fake.connected.get(), 5)
            await ws.close()
        gate.set()
        await asyncio.wait_for(stream.wait_connected(), 5)
        await r.finish()
    delays = [e["delay_s"] for e in logs if e["event"] == "ari.events.reconnect_in"][:4]
    ceilings = [0.001, 0.002, 0.004, 0.004]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays


async def test_after_a_good_connection_failed_attempts_back_off_again(
    start: Callable[..., Running], fake: FakeAri
) -> None:
    """Asterisk went down after a healthy connection: one quick retry, then the delay grows again."""
    with structlog.testing.capture_logs() as logs:
        r = start(backoff_initial_s=0.001, backoff_max_s=0.008, rng=random.Random(2))
        await asyncio.wait_for(r.stream.wait_connected(), 5)
        fake.ws_refuse = 503
        await fake.drop()
        await eventually(lambda: fake.ws_attempts >= 5)
        fake.ws_refuse = None
        await asyncio.wait_for(r.stream.wait_connected(), 5)
    delays = [e["delay_s"] for e in logs if e["event"] == "ari.events.reconnect_in"][:4]
    ceilings = [0.001, 0.002, 0.004, 0.008]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
