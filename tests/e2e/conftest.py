from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cdr.conftest import db_url  # noqa: F401 - the SQLite/PostgreSQL fixture, shared
from tests.e2e.harness import Harness, close_harness, make_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path)
    try:
        yield h
    finally:
        await close_harness(h)
