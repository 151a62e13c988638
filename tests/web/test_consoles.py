"""The report and recording consoles (issue 14): the page's figures are ``acd report``'s for the same day,
the downloads are the CLI's files, the recording pages keep the API's access rules and audit."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from acd.settings import PathSettings, Settings
from acd.web.app import create_app
from cdr.cli import app as report_cli
from cdr.writer import CdrWriter
from recording import store
from recording.audit import access_log
from recording.qa import load_forms
from recording.wavinfo import write_silence_wav
from tests.cdr.dataset import L, all_events
from tests.recording.dbutil import add_call, utc
from tests.web.conftest import REPO, USERS, FakeEngine, auth

pytestmark = pytest.mark.timeout(60)
DAY = "2026-11-23"


@dataclass
class Console:
    client: TestClient
    db: AsyncEngine
    url: str
    root: Path


@pytest.fixture
async def console(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[Console]:
    """The known day of tests/cdr/dataset.py written by the real CDR writer; the clock two days later."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}"
    writer = CdrWriter(url, tmp_path / "spool")
    await writer.start()
    for e in all_events():
        writer.emit(e)
    await writer.flush()
    root = tmp_path / "recordings"
    root.mkdir()
    settings = Settings(users=USERS, paths=PathSettings(recordings=root))
    now = L(12, 0, day=25)
    app = create_app(settings=settings, engine=FakeEngine(), db=writer.engine, metrics=CollectorRegistry(),
                     clock=lambda: now, qa_forms=load_forms(REPO / "config" / "qa"))
    client = await aiohttp_client(app)
    try:
        yield Console(client, writer.engine, url, root)
    finally:
        await writer.close()


class _Tables(HTMLParser):
    """The report tables of a page: {table id: [[cell text, ...], ...]} (header, body and totals rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    p = _Tables()
    p.feed(html)
    return p.tables


async def acd_report(url: str, name: str, *args: str) -> list[list[str]]:
    """``acd report NAME --from DAY --format csv`` as a user runs it (no config: the same defaults); in a
    thread, as the command runs its own event loop."""
    result = await asyncio.to_thread(CliRunner().invoke, report_cli, [
        name, "--from", DAY, "--format", "csv", "--db", url, "-c", "/nonexistent/acd.yaml", *args])
    assert result.exit_code == 0, result.output
    return [r for r in csv.reader(io.StringIO(result.stdout)) if r]


@pytest.mark.parametrize("name", ["daily", "hourly", "topics", "sla", "monthly", "calls"])
async def test_report_page_shows_the_figures_of_acd_report(console: Console, name: str) -> None:
    cli = await acd_report(console.url, name)
    r = await console.client.get(f"/reports?report={name}&from={DAY}&to={DAY}&lang=ru", headers=auth("rep"))
    assert r.status == 200
    html = await r.text()
    page = [row for rows in tables_of(html).values() for row in rows if row]
    # section titles are one-cell rows in the CSV; the page indents sub-rows with CSS, not spaces
    sections = [[c.strip() for c in row] for row in cli if len(row) > 1]
    assert [row for row in page if len(row) > 1 or len(sections[0]) == 1] == sections
    assert 'src="/static/vendor/uplot/uPlot.iife.min.js"' in html


async def test_daily_page_numbers_and_english_titles(console: Console) -> None:
    r = await console.client.get(f"/reports?report=daily&from={DAY}&to={DAY}&lang=en", headers=auth("sup"))
    t = tables_of(await r.text())["table-daily"]
    head, day = t[0], dict(zip(t[0], t[1], strict=True))
    assert head[:3] == ["Date", "Offered", "Answered"]
    assert day["Date"] == DAY and day["Offered"] == "9" and day["Lost: total"] == "3"
    r = await console.client.get(f"/reports?report=daily&from={DAY}&to={DAY}&sl_threshold_s=90"
                                 "&sl_variant=answered&lang=en", headers=auth("sup"))
    day = dict(zip(*tables_of(await r.text())["table-daily"][:2], strict=True))
    assert day["Answered after threshold"] == "0"  # every wait of the day is at most 60 s
    r = await console.client.get(f"/reports?report=daily&from={DAY}&lang=kk", headers=auth("sup"))
    html = await r.text()
    assert ">Есеп<" in html and ">Көрсету<" in html  # the page in Kazakh...
    assert tables_of(html)["table-daily"][0][:2] == ["Дата", "Поступ."]  # ...the tender's titles (web-03)


async def test_the_charts_plot_the_day_by_hour_by_day_and_by_wait(console: Console) -> None:
    r = await console.client.get(f"/reports?report=topics&from={DAY}&to={DAY}&target=85", headers=auth("rep"))
    block = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', await r.text(), re.S)
    assert block is not None
    charts = json.loads(block.group(1))
    answered, lost = charts["hours"]["answered"], charts["hours"]["lost"]
    assert [h for h in range(24) if answered[h]] == [10, 11, 16, 23]
    assert [h for h in range(24) if lost[h]] == [12, 13]
    assert lost[12] == 2  # the short and the long abandon of 12:00 and 12:30
    assert charts["days"] == {"labels": [DAY], "sl": [22.2], "target": 85.0}
    assert charts["waits"]["labels"] == ["<10", "<20", "<30", "<60", "<120", "<300", "300+"]
    assert charts["waits"]["answered"] == [1, 1, 0, 1, 1, 0, 0]  # waits 5, 10, 40, 60 s
    assert charts["waits"]["lost"] == [1, 0, 1, 0, 1, 0, 0]  # 3, 20, 80 s


async def test_csv_and_xlsx_downloads_are_the_cli_files(console: Console) -> None:
    q = f"from={DAY}&to={DAY}&lang=ru"
    r = await console.client.get(f"/reports/daily/export?format=csv&{q}", headers=auth("rep"))
    assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
    body = (await r.read()).decode("utf-8-sig")
    assert [row for row in csv.reader(io.StringIO(body)) if row] == await acd_report(console.url, "daily")
    r = await console.client.get(f"/reports/hourly/export?format=xlsx&{q}", headers=auth("admin"))
    assert r.status == 200
    wb = load_workbook(io.BytesIO(await r.read()))
    assert wb.active is not None and wb.active["A2"].value == "Час"


async def test_report_pages_are_refused_to_agents_and_bad_filters_are_clear(console: Console) -> None:
    for url in (f"/reports?from={DAY}", f"/reports/daily/export?from={DAY}"):
        r = await console.client.get(url, headers=auth("agent1"))
        assert r.status == 403 and "agent" in await r.text()
    r = await console.client.get("/reports?report=nope", headers=auth("rep"))
    assert r.status == 404 and "unknown report" in await r.text()
    r = await console.client.get("/reports?from=2026-11-24&to=2026-11-23", headers=auth("rep"))
    assert r.status == 400
    r = await console.client.get(f"/reports?from={DAY}&sl_variant=bogus", headers=auth("rep"))
    assert r.status == 400 and "sl_variant" in await r.text()
    r = await console.client.get("/reports?from=0001-01-01&to=9999-12-31", headers=auth("rep"))
    assert r.status == 400 and "from" in await r.text()


async def test_recording_search_refuses_dates_out_of_range_before_auditing(console: Console) -> None:
    r = await console.client.get("/recordings?from=0001-01-01&to=9999-12-31", headers=auth("sup"))
    assert r.status == 400 and "text/html" in r.headers["Content-Type"]
    assert await _audit(console) == []


async def _recording(c: Console, call: str, agent: str) -> int:
    at = utc(2026, 11, 24, 5, 0)
    await add_call(c.db, call, agent=agent, caller="+77015550000", topic="tax", arrived_at=at)
    name = f"{at:%Y/%m/%d}/{call}"
    rid = await store.register_started(c.db, call_id=call, name=name, fmt="wav", started_at=at)
    write_silence_wav(c.root / f"{name}.wav", 1.0)
    await store.finish(c.db, rid, root=c.root, ended_at=at)
    return rid


async def _audit(c: Console) -> list[tuple[str, str, int | None]]:
    return [(r["user_name"], r["action"], r["recording_id"]) for r in reversed(await access_log(c.db))]


async def test_recording_pages_keep_the_api_access_rules_and_audit(console: Console) -> None:
    mine = await _recording(console, "rec-a1", "a1")
    theirs = await _recording(console, "rec-a2", "a2")
    r = await console.client.get("/recordings?from=2026-11-24&to=2026-11-24&lang=en", headers=auth("agent1"))
    rows = tables_of(await r.text())["rec-table"][1:]
    assert [(row[-2], row[-1]) for row in rows] == [("stored", "rec-a1")]
    r = await console.client.get(f"/recordings/{theirs}", headers=auth("agent1"))
    assert r.status == 404
    r = await console.client.get(f"/recordings/{mine}", headers=auth("agent1"))
    html = await r.text()
    assert r.status == 200 and f'src="/api/recordings/{mine}/audio"' in html
    assert "qa-standard" not in html  # an agent does not score
    r = await console.client.get("/recordings?caller=5550000", headers=auth("rep"))
    assert r.status == 403
    r = await console.client.get(f"/recordings/{theirs}", headers=auth("sup"))
    assert 'id="qa-standard"' in await r.text()
    assert await _audit(console) == [("agent1", "search", None), ("agent1", "view", mine),
                                     ("sup", "view", theirs)]


async def test_a_supervisor_sees_earlier_evaluations_and_disputes(console: Console) -> None:
    rid = await _recording(console, "rec-q", "a1")
    scores = {"greeting": 5, "etiquette": 4, "correctness": 8, "topic_entered": 1, "closing": 5}
    r = await console.client.post(f"/api/recordings/{rid}/evaluations", headers=auth("sup"),
                                  json={"scores": scores, "comment": "good"})
    eid = (await r.json())["id"]
    await console.client.post(f"/api/qa/evaluations/{eid}/dispute", headers=auth("agent1"), json={})
    r = await console.client.get(f"/recordings/{rid}?lang=en", headers=auth("sup"))
    html = await r.text()
    evals = tables_of(html)["evals"]
    assert evals[1][1] == "sup" and evals[1][4] == "good" and evals[1][5].startswith("open")
    assert re.search(r'data-status="resolved"', html)
    assert datetime.now(UTC)  # pages render with the injected clock; nothing here depends on the wall clock


def test_every_recording_status_has_a_label() -> None:
    from acd.web.i18n import _TEXTS
    from cdr.schema import RECORDING_STATUSES

    assert {f"rec.st.{s}" for s in RECORDING_STATUSES} <= set(_TEXTS)


def test_every_report_and_formula_has_a_name_in_each_language() -> None:
    """The report picker shows ``t("reports.name." + name)``: a report without an entry showed its key."""
    from typing import get_args

    from acd.web.i18n import LANGS, text
    from cdr.reports import REPORTS
    from cdr.reports.base import SlVariant

    keys = [f"reports.name.{n}" for n in REPORTS] + [f"reports.variant.{v}" for v in get_args(SlVariant)]
    missing = [(lang, k) for lang in LANGS for k in keys if text(lang, k) == k]
    assert missing == []
