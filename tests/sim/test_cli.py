"""``acd simulate`` as an admin or a script calls it."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from acd.sim.cli import simulate


def app() -> typer.Typer:
    a = typer.Typer()
    a.command()(simulate)
    return a


def test_json_report_answers_the_what_if_question() -> None:
    result = CliRunner().invoke(
        app(), ["--agents", "8", "--calls-per-day", "400", "--aht", "300", "--seed", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"]["agents"] == 8
    assert doc["answered"] + doc["abandoned"] + doc["overflowed"] == doc["offered"]
    assert 0.9 < doc["service_level"] <= 1.0  # 8 agents for 400 calls in 12 h are plenty
    assert set(doc["estimators"]) >= {"core", "app_queue", "ql", "qla", "les", "hol"}


def test_table_by_default() -> None:
    result = CliRunner().invoke(app(), ["--agents", "3", "--calls-per-day", "300"])
    assert result.exit_code == 0, result.output
    assert "service level" in result.stdout and "abandon rate" in result.stdout


def test_bad_hours_are_a_usage_error_and_bad_strategy_invalid_input() -> None:
    assert CliRunner().invoke(app(), ["--hours", "21-9"]).exit_code == 2
    bad = CliRunner().invoke(app(), ["--strategy", "loudest"])
    assert bad.exit_code == 1
    assert "strategy" in bad.stderr


def test_an_unknown_strategy_is_one_clear_line_with_the_choices() -> None:
    bad = CliRunner().invoke(app(), ["--strategy", "longest_idel"])
    assert bad.exit_code == 1
    lines = bad.stderr.strip().splitlines()
    assert lines == ["acd simulate: --strategy: unknown value 'longest_idel' (did you mean 'longest_idle'?); "
                     "one of most_skilled, least_talked_today, longest_idle, round_robin, random"]
    assert "pydantic" not in bad.output and "http" not in bad.output


def test_an_unknown_estimator_names_the_option() -> None:
    bad = CliRunner().invoke(app(), ["--estimator", "fastest"])
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines() == [
        "acd simulate: --estimator: unknown value 'fastest'; one of app_queue, hol, les, ql, qla"]
