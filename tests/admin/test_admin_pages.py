"""The administration pages over HTTP against the real daemon (R24), with the admin's bearer token (a
browser session adds the CSRF check: tests/browser/test_admin.py). Every page renders from the demo
configuration; form posts write the YAML like the API, refuse what the loader refuses, and say so."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from acd.web.admin_pages import SECTIONS
from tests.e2e.harness import TOKENS, Harness, close_harness, make_harness

pytestmark = [pytest.mark.timeout(90), pytest.mark.asyncio(loop_scope="module")]
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path_factory.mktemp("admin-pages"))
    try:
        await h.start_daemon()
        yield h
    finally:
        await close_harness(h)


async def get(h: Harness, path: str) -> tuple[int, str]:
    async with h.http.get(f"{h.api}{path}", headers=ADMIN, allow_redirects=False) as r:
        return r.status, await r.text()


async def post(h: Harness, path: str, form: dict[str, str]) -> tuple[int, str]:
    async with h.http.post(f"{h.api}{path}?lang=en", data=form, headers=ADMIN) as r:
        return r.status, await r.text()


async def test_every_admin_page_renders_and_the_queue_form_writes_only_what_changed(harness: Harness) -> None:
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


def _version(body: str, form_action: str) -> str:
    """The version field of the form posting to ``form_action`` on a rendered page."""
    form = body.split(f'action="{form_action}"', 1)[1]
    return re.search(r'name="version" value="([^"]*)"', form).group(1)  # type: ignore[union-attr]


async def test_hours_reasons_numbers_rollback_and_reload_from_their_pages(harness: Harness) -> None:
    h = harness
    schedules = h.config_dir / "scenarios" / "_schedules.yaml"
    before = schedules.read_text(encoding="utf-8")
    _, body = await get(h, "/admin/hours?lang=en")
    office = {"version": _version(body, "/admin/hours/office"), "mon": "09:00-19:00", "tue": "09:00-19:00",
              "wed": "09:00-19:00", "thu": "09:00-19:00", "fri": "09:00-18:00", "sat": "09:00-15:00",
              "holiday_hours": "", "special_days": "2026-12-31: 09:00-14:00"}
    status, body = await post(h, "/admin/hours/office", office)
    assert status == 200 and "ok-box" in body, body[-3000:]
    after = schedules.read_text(encoding="utf-8")
    assert after.count("\n") == before.count("\n") + 1  # one day changed, one special day added
    assert '      fri: ["09:00-18:00"]\n' in after and "holiday_hours: []" in after
    assert "# another tender: weekdays 9-19" in after  # the comments stay

    acd_yaml = h.config_dir / "acd.yaml"
    acd_before = acd_yaml.read_text(encoding="utf-8")
    _, body = await get(h, "/admin/reasons")
    reasons = "break\nlunch\ntraining\nno_answer\nmeeting\nprayer"
    status, body = await post(h, "/admin/reasons", {"version": _version(body, "/admin/reasons"),
                                                    "reasons": reasons})
    assert status == 200 and "prayer" in acd_yaml.read_text(encoding="utf-8")
    change = int(re.search(r'href="/admin/history/(\d+)"', body).group(1))  # type: ignore[union-attr]
    status, body = await get(h, f"/admin/history/{change}")
    assert status == 200 and "+not_ready_reasons:" in body.replace("<span class=\"add\">", "")
    status, body = await post(h, f"/admin/history/{change}/rollback", {})
    assert status == 200 and "ok-box" in body
    assert acd_yaml.read_text(encoding="utf-8") == acd_before  # byte for byte

    numbers = h.config_dir / "scenarios" / "88000800193.yaml"
    numbers_before = numbers.read_text(encoding="utf-8")
    _, body = await get(h, "/admin/numbers?lang=en")
    action = next(a for a in re.findall(r'action="(/admin/numbers/[^"]+)"', body)
                  if a != "/admin/numbers/line-193")
    status, body = await post(h, action, {"version": _version(body, action),
                                          "numbers": "8 8000 800 193, 193"})
    assert status == 422 and "Nothing was written" in body  # 193 is served by line-193 already
    assert re.search(r"config/scenarios/[^:]+\.yaml:\d+", body)
    assert numbers.read_text(encoding="utf-8") == numbers_before

    status, body = await post(h, "/admin/agents", {"version": "0123456789abcdef", "id": "agent9"})
    assert status == 409 and "someone else changed this file" in body

    status, body = await post(h, "/admin/reload", {})
    assert status == 200 and "Reloaded" in body


async def test_a_broken_scenario_is_shown_with_its_file_line_error_and_reload_is_refused(
        harness: Harness) -> None:
    h = harness
    scenario = h.config_dir / "scenarios" / "88000800193.yaml"
    good = scenario.read_text(encoding="utf-8")
    scenario.write_text(good.replace("steps:", "stepz:", 1), encoding="utf-8")  # a hand edit with a typo
    try:
        status, body = await get(h, "/admin/scenarios?lang=en")
        assert status == 200
        rows = {r.split('"', 1)[0]: r for r in body.split('<tr id="scenario-')[1:]}
        broken = [name for name, r in rows.items() if "errors" in r]
        assert len(broken) == 1 and "config/scenarios/88000800193.yaml:" in rows[broken[0]]
        assert "The configuration does not load" in body
        status, body = await post(h, "/admin/reload", {})
        assert status == 422 and "Reload refused" in body and "88000800193.yaml" in body
    finally:
        scenario.write_text(good, encoding="utf-8")
    status, body = await get(h, "/admin/scenarios?lang=en")
    assert "The configuration loads" in body and 'class="tag bad"' not in body


async def test_a_loader_message_lands_under_the_field_its_path_names() -> None:
    from acd.web.admin_pages import FORM_FIELDS, field_problems

    problems = ["config/agents.yaml:4: agents[0].skills.general: Input should be less than or equal to 10",
                "config/queues.yaml:9: queues[0].wallboard.waiting_warn: Input should be greater than 0",
                "config/acd.yaml:3: not_ready_reasons: the reason 'no_answer' is required",
                "config/agents.yaml: something without a path"]
    assert field_problems(problems, FORM_FIELDS) == {
        "skills": problems[:1], "waiting_warn": problems[1:2], "reasons": problems[2:3]}
