"""Waiting calls (R1): priority, FIFO within a priority, positions."""

from __future__ import annotations

from acd.core.queues import Call, WaitingQueue


def call(cid: str, priority: int = 0, entered: float = 0.0, lang: str | None = None, seq: int = 0) -> Call:
    return Call(cid, "q", priority, lang, entered, seq)


def test_fifo_within_priority_and_higher_priority_first() -> None:
    q = WaitingQueue("q")
    calls = [call("a", 0, 1, seq=1), call("b", 0, 2, seq=2), call("vip", 5, 3, seq=3), call("c", 0, 4, seq=4)]
    for c in calls:
        q.add(c)
    assert [c.id for c in q.calls()] == ["vip", "a", "b", "c"]
    assert [q.position(c) for c in calls] == [2, 3, 1, 4]


def test_removed_call_comes_back_at_its_place() -> None:
    q = WaitingQueue("q")
    a, b, c = call("a", entered=1, seq=1), call("b", entered=2, seq=2), call("c", entered=3, seq=3)
    for x in (a, b, c):
        q.add(x)
    q.remove(a)
    assert q.position(b) == 1
    q.add(a)
    assert [x.id for x in q.calls()] == ["a", "b", "c"]


def test_languages_are_separate_lines_for_competition() -> None:
    q = WaitingQueue("q")
    kk1, ru1, kk2 = call("kk1", 0, 1, "kk", 1), call("ru1", 0, 2, "ru", 2), call("kk2", 0, 3, "kk", 3)
    for x in (kk1, ru1, kk2):
        q.add(x)
    assert q.position(kk2) == 3 and q.ahead_in_bucket(kk2) == 1
    assert q.bucket_head("ru") is ru1


def test_run_heads_give_one_start_per_priority() -> None:
    q = WaitingQueue("q")
    for i, prio in enumerate([0, 0, 3, 3, 1]):
        q.add(call(f"c{i}", prio, float(i), None, i))
    heads = [q.bucket_calls(None)[i].id for i in q.run_heads(None)]
    assert heads == ["c2", "c4", "c0"]
    assert [c.id for c in q.run_calls(None, 0)] == ["c2", "c3"]
