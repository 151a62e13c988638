"""Fixtures: a fake ARI server on loopback and an AriClient pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from acd.ari import AriClient
from tests.ari.fake_ari import FakeAri


@pytest.fixture
def fake() -> FakeAri:
    return FakeAri()


@pytest.fixture
async def base_url(fake: FakeAri, aiohttp_server: Callable[..., Any]) -> str:
    server = await aiohttp_server(fake.app())
    return str(server.make_url("/ari"))


@pytest.fixture
async def client(fake: FakeAri, base_url: str) -> AsyncIterator[AriClient]:
    c = AriClient(base_url, fake.user, fake.password, "acd", timeout_s=5)
    yield c
    await c.close()
