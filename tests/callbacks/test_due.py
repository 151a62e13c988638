"""When a callback is due (24 h counted in business hours, 2 h for the second line) and what an attempt's
outcome does to it; config/callbacks.yaml errors name file and line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from acd.yamlconf import ConfigError
from outbound.callbacks import CallbacksConfig, Plan, Retries, after_attempt, load_callbacks_config
from routing.schedule import Schedule, Weekly

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5
WORKDAY = ["09:00-18:00"]
OFFICE = Schedule(timezone="Asia/Almaty", weekly=Weekly(mon=WORKDAY, tue=WORKDAY, wed=WORKDAY, thu=WORKDAY,
                                                       fri=WORKDAY), holidays_country="KZ")
BUSINESS = CallbacksConfig.model_validate(
    {"schedule": "office", "deadlines": {"voicemail": {"within": "24h", "business_hours": True},
                                         "requested": {"within": "2h", "business_hours": True}}})
PLAN = Plan(BUSINESS, OFFICE)


def at(*args: int) -> float:
    return datetime(*args, tzinfo=ALMATY).timestamp()  # type: ignore[misc]


def local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, ALMATY).replace(tzinfo=None)


def test_voicemail_on_friday_night_is_due_after_24_business_hours_skipping_the_weekend() -> None:
    # Fri 2026-11-27 22:00: Mon 30 (9 h) + Tue 1 Dec (9 h) + Wed 2 Dec 09:00-15:00 (6 h)
    assert local(PLAN.due_at("voicemail", at(2026, 11, 27, 22, 0))) == datetime(2026, 12, 2, 15, 0)


def test_a_public_holiday_does_not_count() -> None:
    # Fri 2027-03-05 20:00; Mon 8 March is International Women's Day in Kazakhstan: Tue 9 + Wed 9 + Thu 6
    assert local(PLAN.due_at("voicemail", at(2027, 3, 5, 20, 0))) == datetime(2027, 3, 11, 15, 0)


def test_time_inside_open_hours_counts_from_the_moment_of_creation() -> None:
    # Mon 2026-11-30 16:30 with 2 business hours: 1.5 h today, 30 min on Tuesday morning
    assert local(PLAN.due_at("requested", at(2026, 11, 30, 16, 30))) == datetime(2026, 12, 1, 9, 30)
    assert local(PLAN.due_at("requested", at(2026, 11, 30, 10, 0))) == datetime(2026, 11, 30, 12, 0)


def test_second_line_runs_on_the_clock_by_default_even_at_night() -> None:
    created = at(2026, 11, 28, 23, 15)  # a Saturday night
    assert PLAN.due_at("second_line", created) - created == 2 * 3600
    assert Plan(CallbacksConfig(), None).due_at("voicemail", created) - created == 24 * 3600


def test_a_special_day_closes_a_working_day() -> None:
    closed_tuesday = OFFICE.model_copy(update={"special_days": {datetime(2026, 12, 1).date(): []}})
    plan = Plan(BUSINESS, closed_tuesday)
    assert local(plan.due_at("voicemail", at(2026, 11, 27, 22, 0))) == datetime(2026, 12, 3, 15, 0)


RETRIES = Retries(max_attempts=3, no_answer=1800, busy=600)


@pytest.mark.parametrize(("outcome", "status", "delay"), [
    ("reached", "done", None), ("wrong_number", "failed", None),
    ("no_answer", "open", 1800.0), ("busy", "open", 600.0)])
def test_first_attempt_outcomes(outcome: str, status: str, delay: float | None) -> None:
    nxt = after_attempt(outcome, 0, 1000.0, RETRIES)  # type: ignore[arg-type]
    assert nxt.status == status and nxt.attempts == 1
    assert nxt.next_attempt_at == (None if delay is None else 1000.0 + delay)


def test_retries_stop_when_attempts_are_used_up() -> None:
    assert after_attempt("busy", 1, 0.0, RETRIES).status == "open"
    last = after_attempt("no_answer", 2, 0.0, RETRIES)
    assert (last.status, last.attempts, last.next_attempt_at) == ("failed", 3, None)
    assert after_attempt("reached", 2, 0.0, RETRIES).status == "done"


def test_config_file_is_read_against_the_shared_schedules(tmp_path: Path) -> None:
    path = tmp_path / "callbacks.yaml"
    path.write_text("schedule: office\ndeadlines:\n  voicemail: {within: 24h, business_hours: true}\n"
                    "retries: {max_attempts: 4, busy: 5m}\n", encoding="utf-8")
    plan = load_callbacks_config(path, {"office": OFFICE})
    assert plan.schedule == OFFICE and plan.config.retries.busy == 300
    assert plan.config.deadlines["second_line"].within == 7200  # kinds not named keep their default


@pytest.mark.parametrize(("text", "where"), [
    ("schedule: ofice\n", ":1: schedule: unknown shared schedule 'ofice'"),
    ("deadlines:\n  voicemail: {within: soon}\n", ":2: deadlines.voicemail.within: duration 'soon'"),
    ("retries:\n  max_attempts: 3\n  bussy: 5m\n", ":3: retries.bussy: unknown key"),
    ("deadlines:\n  voicemail: {within: 24h, business_hours: true}\n", "no `schedule` is named"),
])
def test_config_errors_name_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "callbacks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_callbacks_config(path, {"office": OFFICE})
    assert where in str(exc.value)


def test_acd_check_reads_callbacks_yaml(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from acd.cli import _register, app

    _register()
    root = Path(__file__).resolve().parents[2] / "config"
    ok = CliRunner().invoke(app, ["check", str(root)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "config"
    shutil.copytree(root, bad)
    (bad / "callbacks.yaml").write_text("schedule: tender\nretries: {max_attempts: 0}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "callbacks.yaml:2: retries.max_attempts:" in result.output
