"""The administration pages over HTTP against the real daemon (R24), with the admin's bearer token (a
browser session adds the CSRF check: tests/browser/test_admin.py). Every page renders from the demo
configuration; form posts write the YAML like the API, refuse what the loader refuses, and say so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.web.admin_pages import SECTIONS
from tests.e2e.harness import TOKENS, Harness, close_harness, make_harness

pytestmark = pytest.mark.timeout(90)
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path)
    try:
        await h.start_daemon()
        yield h
    finally:
        await close_harness(h)


async def get(h: Harness, path: str) -> tuple[int, str]:
    async with h.http.get(f"{h.api}{path}", headers=ADMIN, allow_redirects=False) as r:
        return r.status, await r.text()


async def post(h: Harness, path: str, form: dict[str, str]) -> tuple[int, str]:
    async with h.http.post(f"{h.api}{path}", data=form, headers=ADMIN) as r:
        return r.status, await r.text()


async def test_every_admin_page_renders_and_queue_hours_reasons_numbers_forms_write(harness: Harness) -> None:
    h = harness
    for section in SECTIONS:
        status, body = await get(h, f"/admin/{section}?lang=en")
        assert status == 200, (section, body[-2000:])
    status, body = await get(h, "/admin/access")
    assert "POST /admin/users/{name}/disable" in body and "/api/admin/agents" in body
    queues = h.config_dir / "queues.yaml"
    before = queues.read_text(encoding="utf-8")
    status, body = await get(h, "/admin/queues")
    version = body.split('name="version" value="')[1].split('"')[0]
    form = {"version": version, "strategy": "most_skilled, least_talked_today", "wrapup_s": "15",
            "ring_timeout_s": "15", "sl_threshold_s": "30", "topics": "Tax refund\nDeclaration", "script": ""}
    status, body = await post(h, "/admin/queues/general", form)
    assert status == 200, body[-3000:]
    after = queues.read_text(encoding="utf-8")
    assert after.replace("wrapup_s: 15", "wrapup_s: 10", 1).replace(
        "    topics: [Tax refund, Declaration]\n", "", 1) == before, after
