"""The agent's day at the desktop in a real Chromium (issue 13): the queues chosen at sign-in (and shown on
the wallboard), the script in the call's language, a recording link in the caller's history, hang-up from
the desk (Alt+Q; the CDR says the agent hung up), wrap-up with a result and a required topic (the finish
button says why it waits; more time once), and the personal panel (place in the least-talked-today order,
callbacks assigned, my recordings today), and the queue choice surviving a restart of the daemon. One daemon
for the whole walk: a single test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import expect
from sqlalchemy import insert

from cdr.schema import callbacks, recordings
from tests.browser.conftest import (
    CHROMIUM,
    GENERAL_DESK,
    HAVE_CHROMIUM,
    IMG,
    Desk,
    add_earlier_call,
    chromium,
    desk_accounts,
    roomy_queues,
)
from tests.e2e.harness import close_harness, eventually, make_harness

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]
expect.set_options(timeout=45_000)
CALLER = "77015550177"
DAY_DESK = """    results: [Resolved, Callback promised, Escalated]
    topic_required: true
    wrapup_extend_s: 120
    scripts:
      ru: |
        ### Приветствие
        Назовите **своё имя**.
"""


@pytest.fixture
async def day_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    h = await make_harness(tmp_path, speed=4.0)
    roomy_queues(h, GENERAL_DESK + DAY_DESK)
    queues = h.config_dir / "queues.yaml"
    queues.write_text(queues.read_text().replace("  - name: second_line\n",
                                                 "  - name: second_line\n    optional: true\n", 1))
    agents = h.config_dir / "agents.yaml"
    agents.write_text(agents.read_text().replace("queues: {general: 1}}",
                                                 "queues: {general: 1, second_line: 2}}", 1))
    try:
        await h.all_agents(state="online", behaviour="answer", answer_after_s=8, hangup="caller")
        await h.start_daemon(initial_agent_state="logged_out")
        store = await desk_accounts(h, "aigerim", "boss")
        async with chromium() as browser:
            yield Desk(h, browser, store)
    finally:
        await close_harness(h)


async def test_an_agents_day_queues_hangup_wrapup_result_and_panel(day_desk: Desk) -> None:
    desk, h = day_desk, day_desk.h
    assert h.daemon is not None
    await add_earlier_call(h, "earlier-mine", "+" + CALLER, agent="agent1", topic="Declaration")
    await add_earlier_call(h, "earlier-other", "+" + CALLER, agent="agent3", topic="Tax refund",
                           at=datetime(2026, 11, 19, 6, 30, tzinfo=UTC))
    now = datetime.fromtimestamp(h.clock.now(), UTC)
    async with h.daemon.db.begin() as conn:
        for cid, agent in (("earlier-mine", "agent1"), ("earlier-other", "agent3")):
            await conn.execute(insert(recordings).values(
                call_id=cid, name=f"rec-{cid}", path=f"2026/11/20/{cid}.wav", format="wav", kind="call",
                agent_id=agent, started_at=now, status="done"))
        await conn.execute(insert(callbacks).values(
            id="cb-1", number="+77017770000", reason="requested", status="open", created_at=now, due_at=now,
            attempts=0, topic="Refund status", agent="agent1"))

    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await page.wait_for_url(re.compile(r"/agent/agent1$"))
    # 1. the queues of today: general always, second_line optional (left out)
    general = page.locator('#queue-list input[data-queue="general"]')
    second = page.locator('#queue-list input[data-queue="second_line"]')
    await expect(general).to_be_checked()
    await expect(general).to_be_disabled()
    await expect(second).to_be_checked()
    await second.uncheck()

    async def core_follows() -> bool:
        assert h.daemon is not None
        return h.daemon.engine.acd.snapshot(h.clock.now())["agents"]["agent1"]["queues"] == ["general"]

    await eventually(core_follows, 20, "the queue choice never reached the core")
    await expect(page.locator("#callbacks-list li")).to_have_count(1)  # the panel: my callback
    await expect(page.locator("#callbacks-list")).to_contain_text("Refund status")
    await page.click("#btn-ready")
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-ready"))
    await expect(page.locator("#today-rank")).to_have_text("1/1")
    sup = await desk.new_page()
    await desk.login(sup, "boss")
    await sup.wait_for_url(re.compile(r"/wallboard$"))  # a supervisor lands on the wallboard
    board = await sup.evaluate("async () => (await fetch('/api/wallboard')).json()")
    mine = next(a for a in board["agents"] if a["id"] == "agent1")
    assert mine["queues"] == ["general"]  # the wallboard shows the choice

    # 2. a call: the script in the call's language, the recording link only for my own earlier call
    call = await h.call("193", CALLER, language="ru", talk_s=900,
                        dtmf_on={"language_menu": "2", "main_menu": "1"})
    await expect(page.locator("#callview")).to_be_visible()  # ringing, or already answered
    await expect(page.locator("#script-body h6")).to_have_text("Приветствие")
    history = page.locator("#history tbody tr")
    await expect(history).to_have_count(2)
    await expect(history.nth(0).locator("a")).to_have_attribute("href", re.compile(r"^/recordings/\d+$"))
    assert await history.nth(1).locator("a").count() == 0  # agent3's call: not for agent1 (R28)

    # 3. hang up from the desk with the shortcut
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-on_call"))
    await expect(page.locator("#btn-hangup")).to_be_visible()
    await page.keyboard.press("Alt+q")
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-wrap_up"))

    # 4. wrap-up: the topic is required, more time once, a result
    done = page.locator("#btn-wrap-done")
    await expect(done).to_be_disabled()
    await expect(page.locator("#wrap-why")).to_be_visible()
    before = float(h.daemon.engine.acd.snapshot(h.clock.now())["agents"]["agent1"]["wrapup_due"])
    await page.click("#btn-wrap-more")
    await expect(page.locator("#btn-wrap-more")).to_be_disabled()
    after = float(h.daemon.engine.acd.snapshot(h.clock.now())["agents"]["agent1"]["wrapup_due"])
    assert after == before + 120
    await page.select_option("#result", "Callback promised")
    await page.select_option("#topic-pick", "Cash register")
    await page.screenshot(path=str(IMG / "agent-desktop-wrapup-result.png"))
    await page.click("#btn-topic")
    await expect(done).to_be_enabled()
    await done.click()
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-ready"))

    async def written() -> bool:
        row = await h.call_row(call)
        return row["topic"] == "Cash register" and row["result"] == "Callback promised"

    await eventually(written, 20, "the wrap-up never reached the CDR row")
    row = await h.call_row(call)
    assert row["hangup_by"] == "agent" and row["agent"] == "agent1" and not row["topic_missing"]

    # 5. the panel after a reload: my recording of today with its player link
    await page.reload()
    await expect(page.locator("#recordings-list li").first).to_be_visible()
    await expect(page.locator("#recordings-list a").first).to_have_attribute(
        "href", re.compile(r"^/recordings/\d+$"))
    await page.screenshot(path=str(IMG / "agent-desktop-day.png"), full_page=True)
    audit = await h.rows("SELECT detail FROM recording_access_log WHERE user_name = 'aigerim' "
                         "AND action = 'search'")
    assert audit and all("desktop panel" in (r["detail"] or "") for r in audit)

    # 6. a restart of the daemon keeps the queues chosen at sign-in (R27); the pages are closed first (a
    # restart with the page open is tests/browser/test_agent_desktop.py's, and slow)
    await page.context.close()
    await sup.context.close()
    await desk.restart_daemon()
    await eventually(core_follows, 20, "the restart forgot the queue choice")
