"""Every report figure against the dataset, computed by hand (see tests/cdr/dataset.py's table).

Period D..D+1 = 2026-11-23..24 local, threshold 30 s, short abandon 5 s, service level = within / offered.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.events import CallEvent
from cdr.reports import ReportOptions, UnknownReport, run_report
from cdr.reports.render import to_csv, to_json, to_xlsx
from cdr.sla import ServiceLevelTarget, SlaTargets
from cdr.writer import CdrWriter
from tests.cdr.dataset import L, all_events

D, D1 = date(2026, 11, 23), date(2026, 11, 24)


@pytest.fixture
async def engine(db_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    w = CdrWriter(db_url, tmp_path / "spool")
    await w.start()
    for e in all_events():
        w.emit(e)
    await w.flush()
    yield w.engine
    await w.close()


async def test_calls_detail_r16(engine: AsyncEngine) -> None:
    r = await run_report(engine, "calls", D, D1)
    rows = {row["call_id"]: row for row in r.rows}
    assert len(rows) == 13                                    # inbound only: c14 is outbound
    c01 = rows["c01"]
    assert (c01["date"], c01["time"].isoformat(), c01["caller"]) == (D, "10:00:00", "+77011234567")
    assert (c01["wait_s"], c01["talk_s"], c01["topic"], c01["agent"]) == (10, 280, "tax", "a1")
    assert (rows["c12"]["date"], rows["c12"]["wait_s"]) == (D, 40)   # arrived 23:59:30: day D
    assert rows["c04"]["wait_s"] == 80 and rows["c04"]["talk_s"] is None


async def test_daily_r17_every_column(engine: AsyncEngine) -> None:
    r = await run_report(engine, "daily", D, D1, options=ReportOptions(sl_threshold_s=30))
    d, d1 = r.rows
    # Day D, offered = queued calls c01 c02 c03 c04 c05 c08 c09 c11 c12 = 9
    assert d["date"] == D and d["offered"] == 9
    assert d["answered"] == 4                 # c01 c02 c09 c12
    assert d["answered_late"] == 2            # c02 (60 s) c12 (40 s) > 30
    assert d["transferred"] == 2              # c08 voicemail, c11 external overflow
    assert d["lost"] == 3                     # c03 c04 c05
    assert d["lost_late"] == 1                # c04 (80 s)
    assert d["lost_short"] == 1               # c03 (3 s)
    assert d["lost_pct"] == pytest.approx(33.3)             # 3/9
    assert d["avg_wait_lost_s"] == pytest.approx(34.3)      # (3+80+20)/3 = 34.33
    assert d["avg_wait_answered_s"] == pytest.approx(28.8, abs=0.051)  # (10+60+5+40)/4 = 28.75
    assert d["avg_talk_s"] == pytest.approx(160)            # (280+120+120+120)/4
    assert d["avg_wrapup_s"] == pytest.approx(6.5)          # (15+11+0+0)/4
    assert d["avg_handling_s"] == pytest.approx(171.5)      # (280+20+15 + 120+11 + 120 + 120)/4 = 686/4
    assert d["sl_pct"] == pytest.approx(22.2)               # c01 c09 within 30 s: 2/9
    assert d["max_wait_answered_s"] == 60 and d["max_wait_lost_s"] == 80
    # Day D+1: c13 only, answered after 5 s
    assert (d1["offered"], d1["answered"], d1["lost"], d1["lost_pct"], d1["sl_pct"]) == (1, 1, 0, 0.0, 100.0)
    assert d1["avg_wait_lost_s"] is None and d1["max_wait_lost_s"] is None
    t = r.totals or {}
    assert (t["offered"], t["answered"], t["lost"], t["transferred"]) == (10, 5, 3, 2)
    assert t["offered"] == t["answered"] + t["lost"] + t["transferred"]
    assert t["sl_pct"] == pytest.approx(30.0)               # 3/10
    assert t["avg_wait_answered_s"] == pytest.approx(24.0)  # (10+60+5+40+5)/5


async def test_daily_service_level_variant_is_configurable_and_named(engine: AsyncEngine) -> None:
    r = await run_report(engine, "daily", D, D, options=ReportOptions(sl_variant="offered_no_short"))
    assert r.rows[0]["sl_pct"] == pytest.approx(25.0)       # 2 / (9 - 1 short)
    assert any("offered_no_short" in n for n in r.notes)
    r = await run_report(engine, "daily", D, D, options=ReportOptions(sl_variant="answered"))
    assert r.rows[0]["sl_pct"] == pytest.approx(50.0)       # 2 / 4 answered
    r = await run_report(engine, "daily", D, D, options=ReportOptions(sl_threshold_s=60))
    assert (r.rows[0]["answered_late"], r.rows[0]["lost_late"], r.rows[0]["sl_pct"]) == (0, 1, 44.4)


async def test_topics_r18(engine: AsyncEngine) -> None:
    r = await run_report(engine, "topics", D, D1)
    # tax: c01 c02 c12 (agents); billing: c09; schedule: c06 (scenario tag); no topic: the 8 others
    assert [(x["topic"], x["count"]) for x in r.rows] == [("(без темы)", 8), ("tax", 3), ("billing", 1),
                                                          ("schedule", 1)]
    assert (r.totals or {})["count"] == 13


async def test_monthly_r19_with_the_invariant(engine: AsyncEngine) -> None:
    r = await run_report(engine, "monthly", D, D1)
    f = {row["key"]: row["value"] for row in r.rows}
    assert f["total"] == 13
    assert f["answered_by_operator"] == 5                     # c01 c02 c09 c12 c13
    assert f["handled_in_ivr"] == 4           # c06 info, c08 voicemail, c10 transfer, c11 overflow
    assert (f["handled_in_ivr.info"], f["handled_in_ivr.voicemail"], f["handled_in_ivr.transferred"],
            f["handled_in_ivr.overflowed"]) == (1, 1, 1, 1)
    assert f["missed_in_ivr"] == 4                            # c07 before a queue, c03 c04 c05 in the queue
    assert (f["missed_in_ivr.before_queue"], f["missed_in_ivr.in_queue"]) == (1, 3)
    assert f["total"] == f["answered_by_operator"] + f["handled_in_ivr"] + f["missed_in_ivr"]
    assert r.warnings == [] and f["unclassified"] == 0
    assert f["talk_total_s"] == pytest.approx(700)            # 280+120+120+120+60
    assert f["talk_avg_s"] == pytest.approx(140)
    # waits since answer: 29 69 12 89 24 64 19 129 9 29 11 49 14 = 547 / 13 = 42.08
    assert f["avg_wait_since_answer_s"] == pytest.approx(42.1)
    assert f["outbound"] == 1
    sec = {s.key: s for s in r.sections}
    assert {x["region"]: x["count"] for x in sec["region"].rows} == {"Almaty": 8, "mobile": 2, "Karaganda": 2,
                                                                      "Astana": 1}
    assert {x["service"]: x["count"] for x in sec["service"].rows} == {"fiscal": 3, "info": 1, "(нет)": 9}
    assert {x["call_type"]: x["count"] for x in sec["call_type"].rows} == {"consultation": 2, "complaint": 1,
                                                                            "(нет)": 10}
    ops = {x["agent"]: (x["answered"], x["talk_total_s"], x["talk_avg_s"]) for x in sec["operators"].rows}
    assert ops == {"a1": (3, 520, 173.3), "a2": (2, 180, 90)}   # a1: 280+120+120; a2: 120+60


async def test_monthly_names_the_calls_that_break_the_invariant(engine: AsyncEngine, db_url: str,
                                                                tmp_path: Path) -> None:
    w = CdrWriter(db_url, tmp_path / "spool2")
    await w.start()
    w.emit(CallEvent("stuck-1", "arrived", L(12, 0), {"caller": "2581500"}))
    w.emit(CallEvent("stuck-1", "queued", L(12, 0, 5), {"queue": "general"}))   # its end was never recorded
    await w.close()
    r = await run_report(engine, "monthly", D, D1)
    assert len(r.warnings) == 1 and "INVARIANT BROKEN" in r.warnings[0] and "stuck-1" in r.warnings[0]
    assert {row["key"]: row["value"] for row in r.rows}["unclassified"] == 1


async def test_hourly_r20_profile_chart_and_agent_states(engine: AsyncEngine) -> None:
    r = await run_report(engine, "hourly", D, D)
    by_hour = {row["hour"]: row for row in r.rows}
    assert [by_hour[h]["answered"] for h in ("10:00", "11:00", "16:00", "23:00")] == [1, 1, 1, 1]
    assert (by_hour["12:00"]["inbound"], by_hour["12:00"]["lost"]) == (2, 2)     # c03 c04
    assert (by_hour["13:00"]["lost"], by_hour["14:00"]["inbound"], by_hour["14:00"]["offered"]) == (1, 2, 0)
    t = r.totals or {}
    # inbound c01..c12 arrived on day D; offered/answered/lost as in the daily report
    assert (t["inbound"], t["outbound"], t["offered"], t["answered"], t["lost"]) == (12, 0, 9, 4, 3)
    assert r.chart_png is not None and r.chart_png.startswith(b"\x89PNG")
    states = {(x["agent"], x["state"], x["reason"]): (x["count"], x["total_s"]) for x in r.sections[0].rows}
    # a1 ready 09-12, 12:15-13, 14-18 = 3+0.75+4 h; breaks; logged out 18:00 until the end of the day (6 h)
    assert states[("a1", "ready", None)] == (3, 27900)
    assert states[("a1", "not_ready", "break")] == (1, 900)
    assert states[("a1", "not_ready", "lunch")] == (1, 3600)
    assert states[("a1", "logged_out", None)] == (1, 21600)
    assert states[("a2", "ready", None)] == (1, 28800)
    r1 = await run_report(engine, "hourly", D1, D1)
    assert {(x["agent"], x["state"]) for x in r1.sections[0].rows} == {("a1", "logged_out"),
                                                                       ("a2", "logged_out")}
    assert (r1.totals or {})["outbound"] == 1


async def test_hourly_agent_states_of_today_count_up_to_now_not_to_midnight(engine: AsyncEngine) -> None:
    """Issue 9 §4: a report taken at 20:30 on day D counts a1's and a2's open ``logged_out`` up to 20:30,
    not up to the coming midnight (the CLI gave no ``now``, so the rest of the day was counted)."""
    r = await run_report(engine, "hourly", D, D, clock=lambda: L(20, 30))
    states = {(x["agent"], x["state"], x["reason"]): (x["count"], x["total_s"]) for x in r.sections[0].rows}
    assert states[("a1", "logged_out", None)] == (1, 2.5 * 3600)   # 18:00 -> 20:30
    assert states[("a2", "logged_out", None)] == (1, 3 * 3600)     # 17:30 -> 20:30
    assert states[("a1", "ready", None)] == (3, 27900)              # closed states are unchanged
    early = await run_report(engine, "hourly", D, D, clock=lambda: L(10, 0))
    ready = {(x["agent"], x["state"]): x["total_s"] for x in early.sections[0].rows}
    # at 10:00 a1 has been ready for 1 h (since 09:00) and a2 for 30 min; nothing after 10:00 is counted
    assert (ready[("a1", "ready")], ready[("a2", "ready")]) == (3600, 1800)


async def test_sla_r21_each_target_met_or_missed(engine: AsyncEngine) -> None:
    r = await run_report(engine, "sla", D, D1)
    got = {row["key"]: (row["actual"], row["met_bool"]) for row in r.rows}
    assert got == {
        "max_wait_s": (120, True),              # c08 waited 120 s: not over 120
        "sl_90": (50.0, False),                 # 5 answered within 90 s / 10 offered < 80 %
        "max_lost_pct_day": (33.33, False),     # day D: 3/9
        "max_lost_pct_period": (30.0, False),   # 3/10 > 2 %
        "max_avg_wait_s": (34.5, True),         # (10+60+3+80+20+120+5+2+40+5)/10
        "min_served_pct": (69.23, False),       # 13 - 3 lost - 1 missed in IVR = 9 of 13
    }
    assert (r.rows[0]["detail"], r.rows[2]["detail"]) == ("call c08", "2026-11-23")
    assert any("met 2 of 6; " in n and "missed: sl_90, max_lost_pct_day" in n for n in r.notes)
    daily = await run_report(engine, "daily", D, D1)         # every report says which targets were met
    assert any("met 2 of 6" in n for n in daily.notes)
    lenient = SlaTargets(max_wait_s=None, service_levels=[ServiceLevelTarget(threshold_s=30, min_pct=30)],
                         max_lost_pct_day=None, max_lost_pct_period=25, lost_excludes_short=True,
                         max_avg_wait_s=None, min_served_pct=None)
    r = await run_report(engine, "sla", D, D1, options=ReportOptions(sla=lenient))
    assert {row["key"]: (row["actual"], row["met_bool"]) for row in r.rows} == {
        "sl_30": (30.0, True),                  # c01 c09 c13 within 30 s: 3/10
        "max_lost_pct_period": (22.22, True),   # short abandons out: 2 / 9
    }
    assert r.warnings == []


async def test_formats_csv_xlsx_json_in_russian_and_english(engine: AsyncEngine) -> None:
    r = await run_report(engine, "daily", D, D1)
    csv_ru = to_csv(r).splitlines()
    assert csv_ru[0].startswith("Дата,Поступ.,Принято,Отв. после порога,Перев.,Потеряно: Всего")
    assert "Уровень сервиса (%)" in csv_ru[0] and csv_ru[1].startswith("2026-11-23,9,4,2,2,3,1,1,33.3")
    assert csv_ru[3].startswith("Итого,10,5")
    assert to_csv(r, "en").splitlines()[0].startswith("Date,Offered,Answered")
    wb = load_workbook(io.BytesIO(to_xlsx(r)))
    ws = wb.active
    assert ws is not None
    assert [c.value for c in ws[2]][:3] == ["Дата", "Поступ.", "Принято"]
    assert [c.value for c in ws[3]][1:3] == [9, 4]
    doc = orjson.loads(to_json(r))
    assert doc["rows"][0]["offered"] == 9 and doc["columns"][1]["title"]["ru"] == "Поступ."
    monthly = await run_report(engine, "monthly", D, D1)
    assert "Monthly report" not in to_csv(monthly) and "By region" in to_csv(monthly, "en")
    assert len(load_workbook(io.BytesIO(to_xlsx(monthly))).sheetnames) == 5


async def test_bad_requests_are_refused(engine: AsyncEngine) -> None:
    with pytest.raises(UnknownReport):
        await run_report(engine, "weekly", D, D)
    with pytest.raises(ValueError):
        await run_report(engine, "daily", D1, D)


@pytest.mark.parametrize("zone, start", [("Europe/Berlin", date(2025, 3, 29)),
                                         ("Europe/Berlin", date(2025, 10, 25)),
                                         ("Asia/Almaty", date(2024, 2, 29))])
async def test_local_days_and_hours_are_exact_across_an_offset_change(db_url: str, zone: str,
                                                                       start: date) -> None:
    """The figures are summed in SQL (issue 14); a call's day and hour are still its local ones on a day
    whose UTC offset changes (SQLite knows no zones: the period is cut at the change)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from cdr.db import make_engine, migrate
    from cdr.reports.aggregate import offset_segments
    from cdr.schema import calls

    tz = ZoneInfo(zone)
    end = start + timedelta(days=2)
    first = datetime.combine(start, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    arrivals = [first + timedelta(minutes=7 * i) for i in range(3 * 24 * 60 // 7 + 40)]  # runs past the end
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(calls.insert(), [
                {"id": f"z{i}", "direction": "inbound", "queue": "general", "arrived_at": at,
                 "queued_at": at, "outcome": "answered", "wait_s": float(i % 60), "agent": "a1"}
                for i, at in enumerate(arrivals)])
        daily = await run_report(engine, "daily", start, end, tz=zone)
        hourly = await run_report(engine, "hourly", start, end, tz=zone,
                                  options=ReportOptions(chart=False))
    finally:
        await engine.dispose()
    local = [at.astimezone(tz) for at in arrivals if start <= at.astimezone(tz).date() <= end]
    assert [(r["date"], r["answered"]) for r in daily.rows] == [
        (start + timedelta(days=k), sum(1 for t in local if t.date() == start + timedelta(days=k)))
        for k in range(3)]
    assert [r["answered"] for r in hourly.rows] == [sum(1 for t in local if t.hour == h) for h in range(24)]
    assert len(offset_segments(start, end, tz)) == (1 if zone == "Asia/Almaty" and start.year > 2024 else 2)


async def test_a_missing_required_topic_and_the_result_show_in_the_reports(engine: AsyncEngine) -> None:
    from sqlalchemy import update

    from cdr.schema import calls

    async with engine.begin() as conn:  # c02's wrap-up ran out without its required topic; c01 has a result
        await conn.execute(update(calls).where(calls.c.id == "c02").values(topic=None, topic_missing=True))
        await conn.execute(update(calls).where(calls.c.id == "c01").values(result="Resolved"))
    r = await run_report(engine, "topics", D, D1)
    counts = {x["topic"]: x["count"] for x in r.rows}
    assert counts["tax"] == 2 and counts["(нет обязательной темы)"] == 1 and counts["(без темы)"] == 8
    r = await run_report(engine, "calls", D, D1)
    rows = {row["call_id"]: row for row in r.rows}
    assert rows["c02"]["topic"] == "(нет обязательной темы)" and rows["c01"]["result"] == "Resolved"
