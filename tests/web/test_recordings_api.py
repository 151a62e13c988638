"""Recordings over HTTP: visibility by role, Range, traversal, missing files, audit, hold, delete, QA."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import update

from acd.settings import Settings
from acd.web.app import create_app
from acd.web.audit_sessions import SESSION_S, AccessSessions, SessionKey
from recording import store
from recording.audit import access_log
from recording.schema import recordings
from recording.wavinfo import write_silence_wav
from tests.recording.dbutil import add_call, utc
from tests.web.conftest import USERS, Api, FakeEngine, auth

PERFECT = {"greeting": 5, "etiquette": 5, "correctness": 10, "topic_entered": 1, "closing": 5}


async def _recording(api: Api, call: str, agent: str, *, seconds: float = 1.0,
                     at: datetime | None = None) -> int:
    at = at or utc(2026, 11, 23, 5, 0)
    await add_call(api.db, call, agent=agent, caller=f"+7701{len(call):07d}", topic="tax")
    name = f"{at.astimezone(UTC):%Y/%m/%d}/{call}"
    rid = await store.register_started(api.db, call_id=call, name=name, fmt="wav", started_at=at)
    write_silence_wav(api.root / f"{name}.wav", seconds)
    await store.finish(api.db, rid, root=api.root, ended_at=at)
    return rid


async def test_agent_sees_only_own_recordings_supervisor_all(api: Api) -> None:
    mine = await _recording(api, "c-a1", "a1")
    theirs = await _recording(api, "c-a2", "a2")
    r = await api.client.get("/api/recordings", headers=auth("agent1"))
    body = await r.json()
    assert [x["id"] for x in body["recordings"]] == [mine]
    assert "path" not in body["recordings"][0]
    assert body["recordings"][0]["audio_url"] == f"/api/recordings/{mine}/audio"
    r = await api.client.get("/api/recordings?agent=a2", headers=auth("agent1"))
    assert (await r.json())["recordings"] == []  # asking for another agent does not widen the view
    for url in (f"/api/recordings/{theirs}", f"/api/recordings/{theirs}/audio"):
        r = await api.client.get(url, headers=auth("agent1"))
        assert r.status == 404
    r = await api.client.get("/api/recordings", headers=auth("sup"))
    assert sorted(x["id"] for x in (await r.json())["recordings"]) == sorted([mine, theirs])


async def test_search_filters_and_refuses_impossible_dates(api: Api) -> None:
    await _recording(api, "c-1", "a1", at=utc(2026, 11, 22, 20, 0))  # 23 Nov, 01:00 in Almaty
    await _recording(api, "c-22", "a2", at=utc(2026, 11, 22, 10, 0))
    r = await api.client.get("/api/recordings?from=2026-11-23&to=2026-11-23", headers=auth("sup"))
    assert [x["call_id"] for x in (await r.json())["recordings"]] == ["c-1"]
    r = await api.client.get("/api/recordings?caller=0000004&topic=tax", headers=auth("sup"))
    assert [x["call_id"] for x in (await r.json())["recordings"]] == ["c-22"]
    r = await api.client.get("/api/recordings?from=2026-11-24&to=2026-11-23", headers=auth("sup"))
    assert r.status == 400 and "impossible date range" in (await r.json())["error"]
    r = await api.client.get("/api/recordings?limit=lots", headers=auth("sup"))
    assert r.status == 400 and (await r.json())["field"] == "limit"


async def test_range_requests_return_the_right_bytes(api: Api) -> None:
    rid = await _recording(api, "c-r", "a1", seconds=0.5)
    whole = (api.root / "2026/11/23/c-r.wav").read_bytes()
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers=auth("agent1"))
    assert r.status == 200 and await r.read() == whole
    assert r.headers["Content-Type"] == "audio/wav" and r.headers["Accept-Ranges"] == "bytes"
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers={**auth("sup"), "Range": "bytes=44-99"})
    assert r.status == 206
    assert r.headers["Content-Range"] == f"bytes 44-99/{len(whole)}"
    assert await r.read() == whole[44:100]
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers={**auth("sup"), "Range": "bytes=-10"})
    assert r.status == 206 and await r.read() == whole[-10:]
    r = await api.client.get(f"/api/recordings/{rid}/audio?download=1", headers=auth("sup"))
    assert r.headers["Content-Disposition"] == 'attachment; filename="c-r.wav"'


async def test_traversal_is_refused(api: Api) -> None:
    (api.root.parent / "secret.wav").write_bytes(b"RIFF secret")
    for url in ("/api/recordings/..%2F..%2Fetc%2Fpasswd/audio", "/api/recordings/..%2Fsecret.wav",
                "/api/recordings/1%20OR%201=1"):
        r = await api.client.get(url, headers=auth("sup"))
        assert r.status in (400, 404), url
        assert b"secret" not in await r.read()
    # a row whose stored path escapes the directory
    rid = await _recording(api, "c-x", "a1")
    async with api.db.begin() as conn:
        await conn.execute(update(recordings).where(recordings.c.id == rid).values(path="../secret.wav"))
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers=auth("sup"))
    assert r.status == 404 and b"secret" not in await r.read()


async def test_missing_and_purged_files_are_clear_errors(api: Api) -> None:
    rid = await _recording(api, "c-m", "a1")
    (api.root / "2026/11/23/c-m.wav").unlink()
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers=auth("sup"))
    assert r.status == 404 and "missing" in (await r.json())["error"]
    r = await api.client.delete(f"/api/recordings/{rid}", headers=auth("admin"))
    assert r.status == 200
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers=auth("sup"))
    assert r.status == 410 and "deleted" in (await r.json())["error"]


async def test_every_access_is_audited_with_user_and_time(api: Api) -> None:
    rid = await _recording(api, "c-au", "a1")
    api.clock[0] = datetime(2026, 11, 23, 6, 30, tzinfo=UTC).timestamp()
    await api.client.get("/api/recordings?caller=770", headers=auth("sup"))
    await api.client.get(f"/api/recordings/{rid}", headers=auth("agent1"))
    await api.client.get(f"/api/recordings/{rid}/audio", headers=auth("agent1"))
    await api.client.get(f"/api/recordings/{rid}/audio", headers={**auth("agent1"), "Range": "bytes=100-200"})
    await api.client.get(f"/api/recordings/{rid}/audio?download=1", headers=auth("sup"))
    await api.client.post(f"/api/recordings/{rid}/evaluations", json={"scores": PERFECT}, headers=auth("sup"))
    await api.client.delete(f"/api/recordings/{rid}", headers=auth("admin"))
    rows = list(reversed(await access_log(api.db)))
    assert [(r["user_name"], r["role"], r["action"]) for r in rows] == [
        ("sup", "supervisor", "search"), ("agent1", "agent", "view"), ("agent1", "agent", "listen"),
        ("sup", "supervisor", "download"), ("sup", "supervisor", "evaluate"), ("admin", "admin", "delete"),
    ]  # the mid-file Range request of the same listen is not a new access
    assert all(r["at"] == datetime(2026, 11, 23, 6, 30, tzinfo=UTC) for r in rows)
    assert rows[0]["detail"] == "caller=770"
    assert rows[2]["recording_id"] == rid and rows[2]["call_id"] == "c-au" and rows[2]["remote"]


async def test_audio_is_audited_whatever_range_opens_the_access(api: Api) -> None:
    """Issue 12 item 5: a client starting mid-file (or from the end) still leaves an audit row first."""
    ranges: dict[int, str] = {}
    for n, rng in enumerate(("bytes=-100000000", "bytes=1-", "bytes=44-")):
        rid = await _recording(api, f"c-rg{n}", "a1")
        ranges[rid] = rng
        r = await api.client.get(f"/api/recordings/{rid}/audio", headers={**auth("sup"), "Range": rng})
        assert r.status == 206 and len(await r.read()) > 1000
    rows = await access_log(api.db)
    audited = sorted((r["recording_id"], r["action"]) for r in rows)
    assert audited == [(rid, "listen") for rid in sorted(ranges)]


async def test_an_access_session_is_audited_once_per_window_and_per_client(api: Api) -> None:
    rid = await _recording(api, "c-win", "a1")
    url = f"/api/recordings/{rid}/audio"
    for rng in ("bytes=44-", "bytes=0-", "bytes=-10", "bytes=100-200"):  # one player seeking: one session
        await api.client.get(url, headers={**auth("sup"), "Range": rng})
    await api.client.get(url, headers={**auth("admin"), "Range": "bytes=100-"})  # another client
    api.clock[0] += SESSION_S + 1
    await api.client.get(url, headers={**auth("sup"), "Range": "bytes=100-"})  # the window is over
    rows = list(reversed(await access_log(api.db)))
    assert [(r["user_name"], r["action"]) for r in rows] == [("sup", "listen"), ("admin", "listen"),
                                                             ("sup", "listen")]


async def test_hold_blocks_delete_until_lifted(api: Api) -> None:
    rid = await _recording(api, "c-h", "a1")
    r = await api.client.post(f"/api/recordings/{rid}/hold", json={"hold": True}, headers=auth("sup"))
    assert r.status == 200
    r = await api.client.delete(f"/api/recordings/{rid}", headers=auth("admin"))
    assert r.status == 409 and "legal hold" in (await r.json())["error"]
    assert (api.root / "2026/11/23/c-h.wav").exists()
    r = await api.client.post(f"/api/recordings/{rid}/hold", json={"hold": "no"}, headers=auth("admin"))
    assert r.status == 400
    await api.client.post(f"/api/recordings/{rid}/hold", json={"hold": False}, headers=auth("admin"))
    r = await api.client.delete(f"/api/recordings/{rid}", headers=auth("admin"))
    assert r.status == 200 and not (api.root / "2026/11/23/c-h.wav").exists()


async def test_scores_are_stored_with_the_recording_and_shown_with_it(api: Api) -> None:
    rid = await _recording(api, "c-q", "a1")
    r = await api.client.post(f"/api/recordings/{rid}/evaluations",
                              json={"form": "standard", "scores": {**PERFECT, "correctness": 5},
                                    "comment": "ok"},
                              headers=auth("sup"))
    assert r.status == 201 and (await r.json())["total"] == 80.0
    r = await api.client.post(f"/api/recordings/{rid}/evaluations",
                              json={"scores": {**PERFECT, "greeting": 9}}, headers=auth("sup"))
    assert r.status == 400 and (await r.json())["field"] == "scores.greeting"
    r = await api.client.post(f"/api/recordings/{rid}/evaluations", json={"form": "x", "scores": PERFECT},
                              headers=auth("sup"))
    assert r.status == 400 and (await r.json())["field"] == "form"
    r = await api.client.get(f"/api/recordings/{rid}", headers=auth("agent1"))
    body = await r.json()
    assert [(e["evaluator"], e["total"], e["agent_id"]) for e in body["evaluations"]] == [("sup", 80.0, "a1")]
    r = await api.client.get("/api/qa/agents", headers=auth("rep"))
    assert (await r.json())["agents"][0]["agent"] == "a1"
    r = await api.client.get("/api/qa/calls/c-q/calibration", headers=auth("sup"))
    spread = {s["criterion"]: s for s in (await r.json())["spread"]}
    assert spread["total"]["n"] == 1 and spread["correctness"]["mean"] == 5


async def test_agent_disputes_own_evaluation_supervisor_resolves(api: Api) -> None:
    rid = await _recording(api, "c-d", "a1")
    ev = await (await api.client.post(f"/api/recordings/{rid}/evaluations", json={"scores": PERFECT},
                                      headers=auth("sup"))).json()
    r = await api.client.post(f"/api/qa/evaluations/{ev['id']}/dispute", json={}, headers=auth("agent2"))
    assert r.status == 404
    r = await api.client.post(f"/api/qa/evaluations/{ev['id']}/dispute", json={}, headers=auth("agent1"))
    assert (await r.json())["dispute"] == "open"
    r = await api.client.post(f"/api/qa/evaluations/{ev['id']}/dispute", json={"status": "resolved"},
                              headers=auth("agent1"))
    assert r.status == 403
    r = await api.client.post(f"/api/qa/evaluations/{ev['id']}/dispute", json={}, headers=auth("sup"))
    assert (await r.json())["dispute"] == "resolved"


async def test_no_database_is_a_clear_503(aiohttp_client: Any) -> None:
    app = create_app(settings=Settings(users=USERS), engine=FakeEngine(), db=None,
                     metrics=CollectorRegistry(), clock=lambda: 0.0)
    client = await aiohttp_client(app)
    r = await client.get("/api/recordings", headers=auth("sup"))
    assert r.status == 503 and "database" in (await r.json())["error"]
    r = await client.get("/health")
    assert r.status == 200 and (await r.json())["db_reachable"] is None


async def test_audio_is_not_served_when_the_audit_cannot_be_written(api: Api) -> None:
    rid = await _recording(api, "c-o", "a1")
    async with api.db.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE recording_access_log")
    r = await api.client.get(f"/api/recordings/{rid}/audio", headers=auth("sup"))
    assert r.status == 503 and "database unavailable" in (await r.json())["error"]


def test_access_sessions_stay_bounded_and_forgetting_only_audits_again() -> None:
    sessions = AccessSessions(session_s=600, max_sessions=100)
    for n in range(1000):
        key = SessionKey("sup", "10.0.0.1", n, "listen")
        assert sessions.needs_audit(key, now=float(n))
        sessions.opened(key, now=float(n))
    assert len(sessions) == 100
    assert not sessions.needs_audit(SessionKey("sup", "10.0.0.1", 999, "listen"), now=1000.0)
    assert sessions.needs_audit(SessionKey("sup", "10.0.0.1", 0, "listen"), now=1000.0)
