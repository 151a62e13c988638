from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError

from recording import store
from recording.recorder import Recorder
from recording.wavinfo import write_silence_wav
from tests.recording.dbutil import make_db

T0 = 1795379400.0  # 2026-11-22 20:30 UTC, 23 Nov in Almaty


async def test_start_finish_fail_by_ari_name(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    root = tmp_path / "rec"
    rec = Recorder(db, root=root, tz=ZoneInfo("Asia/Almaty"))
    name = rec.name_for("1795379400.17", T0)
    assert name == "2026/11/23/1795379400.17"
    rid = await rec.started("1795379400.17", name, T0, agent_id="a1")
    write_silence_wav(root / f"{name}.wav", 2.0)  # what Asterisk writes
    row = await rec.finished(name, T0 + 2)
    assert row is not None and row["id"] == rid and row["status"] == "done" and row["duration_s"] == 2.0
    other = rec.name_for("c2", T0, suffix="vm")
    await rec.started("c2", other, T0, kind="voicemail")
    await rec.failed(other, "Cannot open file", T0 + 1)
    rows = await store.search(db, store.SearchFilter(call_id="c2"), ZoneInfo("UTC"))
    assert rows[0]["status"] == "failed" and rows[0]["kind"] == "voicemail"
    assert await rec.finished("never/started", T0) is None
    await db.dispose()


async def test_row_is_written_at_finish_when_the_db_was_down_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = await make_db(tmp_path)
    root = tmp_path / "rec"
    rec = Recorder(db, root=root, tz=ZoneInfo("UTC"))

    async def down(*args: object, **kwargs: object) -> int:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    name = rec.name_for("c9", T0)
    with monkeypatch.context() as m:
        m.setattr(store, "register_started", down)
        assert await rec.started("c9", name, T0, agent_id="a2") is None
    write_silence_wav(root / f"{name}.wav", 1.0)
    row = await rec.finished(name, T0 + 1)
    assert row is not None and row["status"] == "done" and row["call_id"] == "c9" and row["agent_id"] == "a2"
    await db.dispose()
