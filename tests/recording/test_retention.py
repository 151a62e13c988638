from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from recording import store
from recording.evaluations import add_evaluation, evaluations_of, set_dispute
from recording.qa import Criterion, QaForm
from recording.retention import purge
from recording.wavinfo import write_silence_wav
from tests.recording.dbutil import add_call, make_db, utc

NOW = utc(2027, 3, 1, 12, 0)
FORM = QaForm(id="f", criteria=[Criterion(id="greeting", weight=100, max=5)])


async def _rec(db, root: Path, call: str, age_days: int) -> int:  # type: ignore[no-untyped-def]
    started = NOW - timedelta(days=age_days)
    rid = await store.register_started(db, call_id=call, name=f"old/{call}", fmt="wav", started_at=started)
    write_silence_wav(root / f"old/{call}.wav", 0.1)
    await store.finish(db, rid, root=root, ended_at=started + timedelta(seconds=5))
    return rid


async def test_purge_respects_period_hold_and_open_dispute(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    root = tmp_path / "rec"
    for call in ("old", "held", "disputed", "resolved", "young"):
        await add_call(db, call)
    old = await _rec(db, root, "old", 100)
    held = await _rec(db, root, "held", 100)
    disputed = await _rec(db, root, "disputed", 100)
    resolved = await _rec(db, root, "resolved", 100)
    young = await _rec(db, root, "young", 30)
    await store.set_legal_hold(db, held, True)
    ev = await add_evaluation(db, FORM, call_id="disputed", agent_id="a1", evaluator="sup",
                              scores={"greeting": 1}, now=NOW, recording_id=disputed)
    await set_dispute(db, ev["id"], "open")
    ev2 = await add_evaluation(db, FORM, call_id="resolved", agent_id="a1", evaluator="sup",
                               scores={"greeting": 1}, now=NOW, recording_id=resolved)
    await set_dispute(db, ev2["id"], "resolved")

    dry = await purge(db, NOW, True, root=root, retention_days=90)
    assert sorted(r["id"] for r in dry.purged) == sorted([old, resolved])
    assert {r["id"]: r["reason"] for r in dry.kept} == {held: "legal_hold", disputed: "dispute"}
    assert (root / "old/old.wav").exists()
    assert (await store.get_recording(db, old))["status"] == "done"  # type: ignore[index]

    result = await purge(db, NOW, False, root=root, retention_days=90)
    assert sorted(r["id"] for r in result.purged) == sorted([old, resolved])
    assert result.freed_bytes == 2 * (44 + 1600)
    assert not (root / "old/old.wav").exists()
    assert not (root / "old/resolved.wav").exists()
    for kept in ("held", "disputed", "young"):
        assert (root / f"old/{kept}.wav").exists()
    row = await store.get_recording(db, old)
    assert row is not None and row["status"] == "purged" and row["purged_at"] == NOW
    # nothing left to purge; the young one goes once it passes the period
    assert (await purge(db, NOW, False, root=root, retention_days=90)).purged == []
    later = await purge(db, NOW + timedelta(days=61), False, root=root, retention_days=90)
    assert [r["id"] for r in later.purged] == [young]
    # a 2-year retention keeps everything of this age
    assert (await purge(db, NOW, True, root=root, retention_days=730)).purged == []
    assert len(await evaluations_of(db, recording_id=disputed)) == 1
    await db.dispose()


async def test_purge_never_deletes_outside_the_directory(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    root = tmp_path / "rec"
    root.mkdir()
    victim = tmp_path / "victim.wav"
    victim.write_bytes(b"keep me")
    rid = await store.register_started(db, call_id="evil", name="../victim", fmt="wav",
                                       started_at=NOW - timedelta(days=400))
    await store.mark_failed(db, rid, "test")
    result = await purge(db, NOW, False, root=root, retention_days=90)
    assert [r["id"] for r in result.purged] == [rid]
    assert victim.read_bytes() == b"keep me"
    await db.dispose()


async def test_a_row_stuck_at_recording_is_purged_past_the_period(tmp_path: Path) -> None:
    """Issue 12 item 2: a row whose end never came must not breach retention."""
    db = await make_db(tmp_path)
    root = tmp_path / "rec"
    await add_call(db, "stuck")
    started = NOW - timedelta(days=100)
    rid = await store.register_started(db, call_id="stuck", name="old/stuck", fmt="wav", started_at=started)
    write_silence_wav(root / "old/stuck.wav", 0.1)
    result = await purge(db, NOW, False, root=root, retention_days=90)
    assert [r["id"] for r in result.purged] == [rid]
    assert not (root / "old/stuck.wav").exists()
    row = await store.get_recording(db, rid)
    assert row is not None and row["status"] == "purged"
    await db.dispose()
