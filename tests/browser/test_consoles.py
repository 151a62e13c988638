"""The report and recording consoles in a real Chromium against the real daemon (issue 14).

The database holds the known day of tests/cdr/dataset.py (written by the real CDR writer) and a recorded
call; a supervisor reads the daily report (the same figures as ``acd report``), downloads it as CSV and
XLSX, finds the recording, plays and seeks it (the audio element's Range requests make one audit row),
and scores it with the QA form. Screenshots go to docs/img/reports.png and docs/img/recordings.png.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect
from typer.testing import CliRunner

from cdr.cli import app as report_cli
from cdr.writer import CdrWriter
from recording import store
from recording.wavinfo import write_silence_wav
from tests.browser.conftest import IMG, Desk, add_earlier_call
from tests.cdr.dataset import all_events

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]
expect.set_options(timeout=45_000)
DAY = "2026-11-23"


def _db_url(desk: Desk) -> str:
    return f"sqlite+aiosqlite:///{desk.h.tmp / 'acd.db'}"


async def _seed_day(desk: Desk) -> None:
    writer = CdrWriter(_db_url(desk), desk.h.tmp / "seed-spool")
    await writer.start()
    try:
        for e in all_events():
            writer.emit(e)
        await writer.flush()
    finally:
        await writer.close()


async def _acd_report(desk: Desk, name: str) -> list[list[str]]:
    result = await asyncio.to_thread(CliRunner().invoke, report_cli, [
        name, "--from", DAY, "--format", "csv", "--db", _db_url(desk),
        "-c", str(desk.h.config_dir / "acd.yaml")])
    assert result.exit_code == 0, result.output
    return [r for r in csv.reader(io.StringIO(result.stdout)) if r]


async def test_a_report_page_matches_acd_report_and_downloads(desk: Desk, tmp_path: Path) -> None:
    await _seed_day(desk)
    cli = await _acd_report(desk, "daily")
    page = await desk.new_page()
    await desk.login(page, "boss")
    await page.goto(f"{desk.url}/reports?report=daily&from={DAY}&to={DAY}&lang=ru")
    await expect(page.locator("#report-title")).to_have_text("Ежедневная статистика звонков")
    table = page.locator("#table-daily")
    head = await table.locator("thead th").all_inner_texts()
    day = await table.locator("tbody tr").first.locator("td").all_inner_texts()
    totals = await table.locator("tfoot td").all_inner_texts()
    assert [head, day, totals] == cli[:3]
    await expect(page.locator(".uplot")).to_have_count(3)  # profile, service level, waits
    await expect(page.locator("#chart-sl .u-legend")).to_contain_text("цель")
    await page.screenshot(path=str(IMG / "reports.png"), full_page=True)

    async with page.expect_download() as info:
        await page.click("#dl-csv")
    csv_path = tmp_path / "daily.csv"
    await (await info.value).save_as(csv_path)
    assert [r for r in csv.reader(io.StringIO(csv_path.read_text("utf-8-sig"))) if r] == cli
    async with page.expect_download() as info:
        await page.click("#dl-xlsx")
    xlsx_path = tmp_path / "daily.xlsx"
    await (await info.value).save_as(xlsx_path)
    sheet = load_workbook(xlsx_path).active
    assert sheet is not None and [c.value for c in sheet[2]] == cli[0]

    agent = await desk.new_page()
    await desk.login(agent, "aigerim")
    await agent.wait_for_url(re.compile(r"/agent/agent1$"))
    await agent.goto(f"{desk.url}/reports")
    await expect(agent.locator("h1")).to_have_text("403")


async def test_a_recording_is_found_played_with_range_and_scored(desk: Desk) -> None:
    h = desk.h
    at = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    await add_earlier_call(h, "rec-call-1", "+77015550123", agent="agent1", topic="Tax refund", at=at)
    assert h.daemon is not None
    name = f"{at:%Y/%m/%d}/rec-call-1"
    rid = await store.register_started(h.daemon.db, call_id="rec-call-1", name=name, fmt="wav", started_at=at)
    write_silence_wav(h.tmp / "recordings" / f"{name}.wav", 60.0)
    await store.finish(h.daemon.db, rid, root=h.tmp / "recordings", ended_at=at)

    page = await desk.new_page()
    ranges: list[str] = []
    page.on("request", lambda r: ranges.append(r.headers.get("range", "")) if "/audio" in r.url else None)
    await desk.login(page, "boss")
    await page.goto(f"{desk.url}/recordings?lang=en&from=2026-11-24&to=2026-11-24&caller=5550123")
    rows = page.locator("#rec-table tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Tax refund")
    await page.screenshot(path=str(IMG / "recordings-search.png"))
    await rows.first.locator("a.rec-link").click()
    await expect(page.locator("#rec-agent")).to_have_text("agent1")
    await expect(page.locator("#time")).to_have_text("0:00 / 1:00")
    await page.click("#play")
    await expect(page.locator("#play")).to_have_attribute("aria-label", "Pause")
    box = await page.locator("#progress").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    await expect(page.locator("#time")).to_have_text(re.compile(r"^0:4[5-9] / 1:00$"))
    assert any(r.startswith("bytes=") for r in ranges), ranges  # the element asks with Range
    listens = await h.rows("SELECT user_name, action FROM recording_access_log WHERE action = 'listen'")
    assert listens == [{"user_name": "boss", "action": "listen"}]  # one access, however many Ranges

    for criterion, score in {"greeting": 5, "etiquette": 4, "correctness": 9, "topic_entered": 1,
                             "closing": 4}.items():
        await page.fill(f"#qa-standard-{criterion}", str(score))
    await page.fill("#qa-standard-comment", "Clear answer, a little hurried at the end")
    await page.click("#qa-standard button[type=submit]")
    await expect(page.locator("#qa-standard .ok")).to_have_text("Saved: 89.0 %")
    evals = page.locator("#evals tbody tr")
    await expect(evals).to_have_count(1)
    await expect(evals.first).to_contain_text("boss")
    await expect(evals.first).to_contain_text("Clear answer")
    assert await page.evaluate("() => !document.getElementById('audio').paused")  # scored while listening
    saved = await h.rows("SELECT evaluator, agent_id, recording_id FROM qa_evaluations")
    assert saved == [{"evaluator": "boss", "agent_id": "agent1", "recording_id": rid}]
    await page.click("#play")  # pause for the screenshot
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=str(IMG / "recordings.png"), full_page=True)
    await page.goto(f"{desk.url}/recordings/{rid}?lang=en")  # earlier evaluations, as the server has them
    await expect(page.locator("#evals tbody tr").first).to_contain_text("89.0")

    own = await desk.new_page()  # the agent of the call sees the evaluation and disputes it
    await desk.login(own, "aigerim")
    await own.wait_for_url(re.compile(r"/agent/agent1$"))
    await own.goto(f"{desk.url}/recordings/{rid}?lang=en")
    await expect(own.locator("#qa-standard")).to_have_count(0)
    await own.click("button.dispute")
    await expect(own.locator("#evals .pill")).to_have_text("open")
    await page.reload()
    await page.click("button.dispute[data-status=resolved]")
    await expect(page.locator("#evals .pill")).to_have_text("resolved")

    other = await desk.new_page()
    await desk.login(other, "nurlan")  # agent2 may not open agent1's recording
    await other.wait_for_url(re.compile(r"/agent/agent2$"))
    response = await other.goto(f"{desk.url}/recordings/{rid}")
    assert response is not None and response.status == 404
