"""Hostile input cannot grow /metrics or a log line without bound (issue 12 item 6)."""

from __future__ import annotations

import asyncio
import io
import json

import orjson
import structlog
from prometheus_client import generate_latest

from acd.ari import AriClient, EventStream
from acd.ari.errors import AriNotFound
from acd.ari.models import EVENT_TYPES
from acd.logs import MAX_FIELD_CHARS, configure_logging
from acd.metrics import Metrics
from tests.ari.fake_ari import FakeAri
from tests.ari.test_ari_events import eventually


def test_unknown_ari_event_types_count_as_other() -> None:
    metrics = Metrics()
    for n in range(500):
        metrics.events.labels(f"Fuzz{n}{'x' * 100}").inc()
    metrics.events.labels("StasisStart").inc()
    text = generate_latest(metrics.registry).decode()
    series = [line for line in text.splitlines() if line.startswith("acd_ari_events_total{")]
    assert 'acd_ari_events_total{type="other"} 500.0' in series
    assert 'acd_ari_events_total{type="StasisStart"} 1.0' in series
    assert len(series) == 2 and len(text) < 10_000
    assert "StasisStart" in EVENT_TYPES


def _json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_long_log_field_is_cut_and_says_how_much() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    try:
        structlog.get_logger("t").warning("something", reason="r" * 1_000_000, items=["i" * 50_000] * 3)
    finally:
        structlog.reset_defaults()
    (line,) = out.getvalue().splitlines()
    assert len(line) < 5 * MAX_FIELD_CHARS
    entry = orjson.loads(line)
    assert entry["reason"].startswith("r" * MAX_FIELD_CHARS)
    assert entry["reason"].endswith(f"... [{1_000_000 - MAX_FIELD_CHARS} more characters]")


def test_a_refused_ari_command_is_a_one_line_warning_without_traceback() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    try:
        try:
            raise AriNotFound(404, "Channel not found", "DELETE", "/channels/nope")
        except AriNotFound:
            structlog.get_logger("t").exception("task_failed")
    finally:
        structlog.reset_defaults()
    (entry,) = _json_lines(out)
    assert entry["level"] == "warning" and "exception" not in entry
    assert entry["error"] == "ARI DELETE /channels/nope -> 404: Channel not found"


async def test_a_malformed_event_with_a_huge_type_logs_a_bounded_reason(
    client: AriClient, fake: FakeAri
) -> None:
    """An unknown type whose fields fail validation: the reason names the type, a megabyte of it."""
    stream = EventStream(client, backoff_initial_s=0.01)
    task = asyncio.create_task(stream.run())
    try:
        await asyncio.wait_for(stream.wait_connected(), 5)
        with structlog.testing.capture_logs() as logs:
            await fake.send({"type": "T" * 1_000_000, "application": 42})
            await fake.send({"type": "Other", "application": "acd"})
            await eventually(lambda: stream.events_received == 2)
    finally:
        stream.stop()
        await asyncio.wait_for(task, 5)
    (bad,) = [e for e in logs if e["event"] == "ari.events.malformed"]
    assert len(bad["reason"]) <= 500 and len(bad["raw"]) <= 500
