"""Typed ARI events: every captured Asterisk event parses into its own class and keeps every field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from acd.ari import models
from acd.ari.gen_models import generate
from acd.ari.models import (
    EVENT_TYPES,
    ChannelDestroyed,
    Dial,
    GenericEvent,
    MalformedEvent,
    PlaybackFinished,
    StasisStart,
    TextMessage,
    parse_ari_time,
    parse_event,
)

ARI = Path(__file__).resolve().parents[3] / "shared" / "asterisk-ari"
SAMPLES = (ARI / "sample-events.jsonl").read_text().splitlines()
SAMPLE_IDS = [json.loads(s)["type"] + f"-{i}" for i, s in enumerate(SAMPLES)]


@pytest.mark.parametrize("line", SAMPLES, ids=SAMPLE_IDS)
def test_every_sample_event_parses_into_its_class_and_round_trips(line: str) -> None:
    raw = orjson.loads(line)
    event = parse_event(line)
    assert type(event) is EVENT_TYPES[raw["type"]]
    assert not isinstance(event, GenericEvent)
    assert event.model_dump(by_alias=True, exclude_unset=True) == raw
    assert parse_event(raw) == event, "the dict path (no union) gives the same event"


def test_bytes_str_and_dict_give_the_same_event() -> None:
    line = next(s for s in SAMPLES if '"StasisStart"' in s)
    a, b, c = parse_event(line), parse_event(line.encode()), parse_event(json.loads(line))
    assert a == b == c
    assert isinstance(a, StasisStart)
    assert a.channel.caller.number and a.channel.dialplan.context


def test_typed_fields_are_reachable() -> None:
    dial = next(parse_event(s) for s in SAMPLES if '"dialstatus":"BUSY"' in s)
    assert isinstance(dial, Dial) and dial.dialstatus == "BUSY" and dial.peer.id
    destroyed = next(parse_event(s) for s in SAMPLES if '"ChannelDestroyed"' in s and '"cause":19' in s)
    assert isinstance(destroyed, ChannelDestroyed) and destroyed.cause == 19
    failed = next(parse_event(s) for s in SAMPLES if '"PlaybackFinished"' in s and '"failed"' in s)
    assert isinstance(failed, PlaybackFinished) and failed.playback.state == "failed"


def test_one_class_per_event_type_of_the_api_docs() -> None:
    declared = json.loads((ARI / "api-docs" / "events.json").read_text())["models"]
    event_types = set(declared["Event"]["subTypes"])
    assert set(EVENT_TYPES) == event_types
    for name in declared:  # every model of events.json exists, events or not
        assert hasattr(models, name), name
    for name, cls in EVENT_TYPES.items():
        assert cls.model_fields["type"].default == name


def test_unknown_type_becomes_generic_event_with_raw() -> None:
    raw = {"type": "ChannelTeleported", "application": "acd", "timestamp": "2026-11-22T21:59:35.660+0000",
           "where": {"planet": "Mars"}}
    event = parse_event(orjson.dumps(raw))
    assert isinstance(event, GenericEvent)
    assert event.type == "ChannelTeleported"
    assert event.raw == raw


def test_extra_fields_from_a_newer_asterisk_are_kept() -> None:
    raw = orjson.loads(next(s for s in SAMPLES if '"StasisStart"' in s))
    raw["channel"]["new_field"] = 7
    raw["shiny"] = True
    event = parse_event(raw)
    assert isinstance(event, StasisStart)
    assert event.model_dump(by_alias=True, exclude_unset=True) == raw


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"type": "StasisStart", "applic', "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"application": "acd"}', "no type"),
        ('{"type": "StasisStart", "application": "acd", "timestamp": "x"}', "StasisStart"),
        ('{"type": "Dial", "application": "acd", "timestamp": "x", "peer": {"id": 5}}', "Dial"),
    ],
)
def test_malformed_events_raise_with_their_raw_text(raw: str | bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_event(raw)
    assert reason in info.value.reason
    text = raw.decode() if isinstance(raw, bytes) else raw
    assert info.value.raw == text


def test_keyword_field_uses_alias() -> None:
    msg = TextMessage.model_validate({"from": "sip:a@b", "to": "pjsip:agent1", "body": "hi"})
    assert msg.from_ == "sip:a@b"
    assert msg.model_dump(by_alias=True, exclude_unset=True)["from"] == "sip:a@b"


def test_ari_timestamps_parse_to_aware_utc() -> None:
    assert parse_ari_time("2026-11-22T21:59:35.660+0000") == datetime(2026, 11, 22, 21, 59, 35, 660000, UTC)


def test_committed_models_match_the_generator() -> None:
    """models.py is generated: a hand edit or new api-docs shows up here."""
    committed = Path(models.__file__).read_text()
    assert generate(ARI / "api-docs") == committed, "run: python -m acd.ari.gen_models > acd/ari/models.py"
