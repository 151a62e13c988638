"""Under a burst the client keeps a bound on requests in flight, sends state writes and hang-ups before
announcements, and resends what must not be lost (issue 12, item 8).

The fake server plays a slow Asterisk: requests wait on a gate, or are never answered (a time-out).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from acd.ari import AriClient, AriServerError
from acd.ari.limiter import Priority, PriorityLimiter, default_priority
from acd.settings import AriSettings
from tests.ari.fake_ari import FakeAri

Make = Callable[..., Awaitable[AriClient]]


@pytest.fixture
async def make(fake: FakeAri, base_url: str) -> AsyncIterator[Make]:
    made: list[AriClient] = []

    async def factory(**kw: Any) -> AriClient:
        c = AriClient(base_url, fake.user, fake.password, "acd", retry_base_s=0.01, **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        await c.close()


async def until(check: Callable[[], bool]) -> None:
    """Let the client's tasks run until they are all queued (no wall-clock window: a bounded loop)."""
    for _ in range(10_000):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_no_more_than_max_concurrent_requests_reach_asterisk(fake: FakeAri, make: Make) -> None:
    client = await make(max_concurrent=3)
    fake.gate = asyncio.Event()
    tasks = [asyncio.create_task(client.channels.answer(f"c{i}")) for i in range(10)]
    for _ in range(3):
        await asyncio.wait_for(fake.arrived.get(), 5)
    await until(lambda: client.limiter.waiting == 7)
    assert fake.in_flight == 3
    fake.gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert len(fake.requests) == 10
    assert fake.max_in_flight == 3


async def test_state_writes_and_hangups_pass_before_announcements(fake: FakeAri, make: Make) -> None:
    client = await make(max_concurrent=1)
    fake.gate = asyncio.Event()
    first = asyncio.create_task(client.channels.get_var("c0", "X"))
    await asyncio.wait_for(fake.arrived.get(), 5)
    fake.respond(200, {"value": "x"})
    queued = [
        client.channels.play("c1", "sound:hello"),
        client.bridges.play("b1", "sound:please-hold"),
        client.channels.set_var("c2", "ACD_STATE", "queued"),
        client.bridges.add_channel("b2", ["c3", "c4"]),
        client.channels.hangup("c5"),
        client.channels.answer("c6"),
    ]
    for _ in range(2):
        fake.respond(200, {"id": "p", "media_uri": "sound:x", "target_uri": "channel:c1", "state": "queued"})
    tasks = [asyncio.create_task(q) for q in queued]
    await until(lambda: client.limiter.waiting == len(queued))
    fake.gate.set()
    await asyncio.wait_for(asyncio.gather(first, *tasks, return_exceptions=True), 10)
    order = [(r.method, r.path) for r in fake.requests[1:]]
    assert order == [
        ("POST", "/channels/c2/variable"),
        ("DELETE", "/channels/c5"),
        ("POST", "/bridges/b2/addChannel"),
        ("POST", "/channels/c6/answer"),
        ("POST", "/channels/c1/play"),
        ("POST", "/bridges/b1/play"),
    ]


async def test_an_explicit_priority_overrides_the_default(fake: FakeAri, make: Make) -> None:
    client = await make(max_concurrent=1)
    fake.gate = asyncio.Event()
    first = asyncio.create_task(client.channels.answer("c0"))
    await asyncio.wait_for(fake.arrived.get(), 5)
    late = asyncio.create_task(client.request("POST", "/channels/c1/answer"))
    urgent = asyncio.create_task(client.request("POST", "/channels/c2/play", priority=Priority.STATE))
    await until(lambda: client.limiter.waiting == 2)
    fake.gate.set()
    await asyncio.wait_for(asyncio.gather(first, late, urgent), 10)
    assert [r.path for r in fake.requests[1:]] == ["/channels/c2/play", "/channels/c1/answer"]


async def test_set_var_is_resent_after_a_503(fake: FakeAri, make: Make) -> None:
    client = await make()
    fake.respond(503, {"message": "Service Unavailable"})
    await asyncio.wait_for(client.channels.set_var("c1", "ACD_STATE", "queued"), 10)
    assert [(r.method, r.path, r.query.get("value")) for r in fake.requests] == [
        ("POST", "/channels/c1/variable", "queued")] * 2
    assert client.retries == 1


async def test_set_var_is_resent_after_a_time_out(fake: FakeAri, make: Make) -> None:
    client = await make(timeout_s=0.5)
    fake.stall = 1
    await asyncio.wait_for(client.channels.set_var("c1", "ACD_STATE", "queued"), 10)
    assert [r.path for r in fake.requests] == ["/channels/c1/variable"] * 2


async def test_a_hangup_whose_answer_was_lost_is_done_when_the_resend_finds_no_channel(
    fake: FakeAri, make: Make
) -> None:
    client = await make(timeout_s=0.5)
    fake.stall = 1
    fake.respond(404, {"message": "Channel not found"})
    await asyncio.wait_for(client.channels.hangup("c1"), 10)
    assert [(r.method, r.path) for r in fake.requests] == [("DELETE", "/channels/c1")] * 2


async def test_retries_are_bounded(fake: FakeAri, make: Make) -> None:
    client = await make(retry_attempts=3)
    for _ in range(5):
        fake.respond(500, {"message": "Internal Server Error"})
    with pytest.raises(AriServerError):
        await asyncio.wait_for(client.channels.set_var("c1", "ACD_STATE", "queued"), 10)
    assert len(fake.requests) == 3


async def test_a_failed_playback_is_not_resent(fake: FakeAri, make: Make) -> None:
    client = await make()
    fake.respond(503, {"message": "Service Unavailable"})
    with pytest.raises(AriServerError):
        await asyncio.wait_for(client.channels.play("c1", "sound:hello"), 10)
    assert len(fake.requests) == 1


def test_default_priorities() -> None:
    assert default_priority("POST", "/channels/c1/variable") is Priority.STATE
    assert default_priority("DELETE", "/channels/c1") is Priority.STATE
    assert default_priority("POST", "/channels") is Priority.CALL
    assert default_priority("POST", "/bridges/b1/record") is Priority.CALL
    assert default_priority("DELETE", "/bridges/b1") is Priority.CALL
    assert default_priority("GET", "/channels/c1") is Priority.NORMAL
    assert default_priority("POST", "/channels/c1/play") is Priority.MEDIA
    assert default_priority("DELETE", "/channels/c1/moh") is Priority.MEDIA
    assert default_priority("DELETE", "/playbacks/p1") is Priority.MEDIA


async def test_a_cancelled_waiter_does_not_keep_its_slot() -> None:
    limiter = PriorityLimiter(1)
    await limiter.acquire(Priority.NORMAL)
    waiter = asyncio.create_task(limiter.acquire(Priority.STATE))
    await until(lambda: limiter.waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    assert limiter.in_flight == 0
    await asyncio.wait_for(limiter.acquire(Priority.MEDIA), 1)


def test_the_bound_is_configurable() -> None:
    assert AriSettings().max_concurrent_requests == 32
    assert AriSettings(max_concurrent_requests=8).max_concurrent_requests == 8
    with pytest.raises(ValueError):
        AriSettings(max_concurrent_requests=0)
