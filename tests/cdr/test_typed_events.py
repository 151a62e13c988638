"""CDR events are typed (one frozen dataclass per kind) while the stored and spooled form stays kind + JSON
data: spools and journals written by older daemons replay, and kinds this daemon does not know are kept."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from acd.events import (
    CALL_EVENT_KINDS,
    FACT_TYPES,
    CallEvent,
    Connected,
    Ended,
    Listen,
    Queued,
    Transfer,
    Unknown,
    fact_data,
    parse_fact,
)
from cdr.spool import Spool, record_from_dict, record_to_dict
from cdr.summary import fold

pytestmark = pytest.mark.timeout(30)

# Lines as a daemon before the typed events spooled them (same shape, written by hand so that a change of
# the serialiser cannot hide a break of the stored form).
OLD_SPOOL = [
    {"type": "call", "call_id": "c1", "kind": "arrived", "at": 100.0, "event_id": "e1",
     "data": {"direction": "inbound", "dialled": "1000", "caller": "+77012345678", "caller_name": "A",
              "channel": "PJSIP/x", "linked_id": "c1"}},
    {"type": "call", "call_id": "c1", "kind": "answered", "at": 100.5, "event_id": "e2", "data": {}},
    {"type": "call", "call_id": "c1", "kind": "queued", "at": 104.0, "event_id": "e3",
     "data": {"queue": "sales", "priority": 0}},
    {"type": "call", "call_id": "c1", "kind": "offered", "at": 110.0, "event_id": "e4",
     "data": {"queue": "sales", "agent": "a1"}},
    {"type": "call", "call_id": "c1", "kind": "park", "at": 111.0, "event_id": "e5",
     "data": {"slot": 701}},  # a newer daemon's kind
    {"type": "call", "call_id": "c1", "kind": "connected", "at": 114.0, "event_id": "e6",
     "data": {"queue": "sales", "agent": "a1", "bridge": "b1"}},
    {"type": "call", "call_id": "c1", "kind": "hold", "at": 150.0, "event_id": "e7",
     "data": {"agent": "a1", "seconds": "6"}},  # a number spooled as text
    {"type": "call", "call_id": "c1", "kind": "ended", "at": 174.0, "event_id": "e8",
     "data": {"by": "agent", "cause": 16}},
    {"type": "call", "call_id": "c1", "kind": "wrapup_ended", "at": 184.0, "event_id": "e9",
     "data": {"agent": "a1", "seconds": 10}},
]


def test_an_old_spool_replays_into_typed_events_and_the_same_row(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.path.parent.mkdir(parents=True, exist_ok=True)
    spool.path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in OLD_SPOOL))
    records = [r for chunk in spool.read() for r in chunk]
    assert len(records) == len(OLD_SPOOL)  # nothing dropped, the unknown kind included
    events = [r for r in records if isinstance(r, CallEvent)]
    facts = [e.fact for e in events]
    assert facts[2] == Queued(queue="sales", priority=0)
    assert facts[4] == Unknown("park", {"slot": 701})
    assert facts[5] == Connected(queue="sales", agent="a1", bridge="b1")
    assert facts[7] == Ended(by="agent", cause=16)
    # The stored form goes back to the disk exactly as it came (the unknown kind too).
    assert [record_to_dict(r) for r in records] == OLD_SPOOL
    row = fold("c1", events)
    assert row["outcome"] == "answered"
    assert row["wait_s"] == 10.0 and row["ring_s"] == 4.0 and row["hold_s"] == 6.0
    assert row["talk_s"] == 54.0 and row["wrapup_s"] == 10.0
    assert row["hangup_by"] == "agent" and row["hangup_cause"] == "16"


@pytest.mark.parametrize("cls", FACT_TYPES, ids=lambda c: c.KIND)
def test_every_kind_round_trips_through_the_stored_form(cls: type) -> None:
    fact = parse_fact(cls.KIND, {})
    assert isinstance(fact, cls)
    event = CallEvent.of("c", fact, 1.0)
    assert event.kind == cls.KIND and event.kind in CALL_EVENT_KINDS
    again = record_from_dict(orjson.loads(orjson.dumps(record_to_dict(event))))
    assert isinstance(again, CallEvent) and again.fact == fact and again.event_id == event.event_id


def test_the_stored_data_keeps_its_keys() -> None:
    """A transfer's own ``kind`` is data, not the event's kind; optional keys left out stay out."""
    event = CallEvent.of("c", Transfer(kind="attended", target="1002", by="a1"), 5.0)
    assert (event.kind, event.data) == ("transfer", {"kind": "attended", "target": "1002", "by": "a1"})
    assert fact_data(Ended(by="caller", cause=16)) == {"by": "caller", "cause": 16}
    stored = {"session": "s1", "supervisor": "sv", "agent": "a1", "mode": "barge", "from": 4.0}
    listen = CallEvent("c", "listen", 9.0, stored)
    assert listen.fact == Listen(session="s1", supervisor="sv", agent="a1", mode="barge", since=4.0)
    assert CallEvent.of("c", listen.fact, 9.0).data == listen.data  # stored as `from`, a Python keyword
    assert fact_data(Ended(by="caller", cause=None, end_estimated=True)) == {"by": "caller",
                                                                             "end_estimated": True}


def test_a_call_with_only_unknown_kinds_folds_without_an_outcome() -> None:
    row = fold("c9", [CallEvent("c9", "park", 1.0, {"slot": 1})])
    assert row["outcome"] is None


def test_the_kinds_table_of_the_docs_is_the_generated_one() -> None:
    from acd.events import kinds_markdown

    doc = (Path(__file__).parents[2] / "docs" / "cdr.md").read_text()
    between = doc.split("<!-- kinds:start -->\n", 1)[1].split("<!-- kinds:end -->", 1)[0]
    assert between == kinds_markdown()


@pytest.mark.parametrize("left_in", ["journal.jsonl", "spool.jsonl"])
async def test_an_old_journal_or_spool_is_stored_by_a_new_writer(tmp_path: Path, left_in: str) -> None:
    """What an older daemon left behind (killed: its journal; database down: its spool) is stored as it
    was written, the unknown kind included, and the calls row folds from the typed events."""
    from sqlalchemy import select

    from cdr.schema import call_events, calls
    from cdr.writer import CdrWriter

    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    (spool_dir / left_in).write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in OLD_SPOOL))
    w = CdrWriter(f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}", spool_dir)
    await w.start()
    try:
        await w.flush()
        async with w.engine.connect() as conn:
            stored = (await conn.execute(select(call_events.c.kind, call_events.c.data)
                                         .order_by(call_events.c.id))).all()
            row = (await conn.execute(select(calls).where(calls.c.id == "c1"))).mappings().one()
    finally:
        await w.close()
    assert [(k, d) for k, d in stored] == [(x["kind"], x["data"]) for x in OLD_SPOOL]
    assert row["outcome"] == "answered" and row["wait_s"] == 10.0 and row["hold_s"] == 6.0


def test_the_wrap_up_result_and_a_missing_required_topic_reach_the_row() -> None:
    def ev(kind: str, at: float, data: dict[str, object]) -> CallEvent:
        return CallEvent("c7", kind, at, data)

    talk = [ev("arrived", 1.0, {"caller": "77011234567"}), ev("queued", 2.0, {"queue": "general"}),
            ev("connected", 3.0, {"agent": "a1", "queue": "general"}), ev("ended", 9.0, {"by": "agent"})]
    timed_out = ev("wrapup_ended", 20.0, {"agent": "a1", "seconds": 11.0, "topic_missing": True})
    flagged = fold("c7", [*talk, timed_out])
    assert flagged["topic_missing"] is True and flagged["result"] is None
    later = ev("topic", 30.0, {"topic": "Tax", "comment": None, "by": "boss", "result": "Resolved"})
    fixed = fold("c7", [*talk, timed_out, later])
    assert fixed["topic_missing"] is False and fixed["result"] == "Resolved" and fixed["topic"] == "Tax"
    older = fold("c7", [*talk, ev("topic", 5.0, {"topic": "Tax", "comment": None, "by": "a1"})])
    assert older["result"] is None and older["topic_missing"] is False  # an event without a result
