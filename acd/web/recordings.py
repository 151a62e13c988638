"""Recordings over HTTP (R14, R15, R28): search, details with QA scores, audio with Range, delete, hold,
evaluations, per-agent quality.

Access: supervisors and admins see every recording, an agent only the calls they took (an agent asking
for another's recording gets the same 404 as for one that does not exist). URLs carry ids; the file is
found from the row and must resolve inside the recordings directory. Every listen, download, view,
search, delete, hold and evaluation is written to ``recording_access_log`` *before* the data goes out;
audio is audited once per access session, whatever the Range asked (``acd.web.audit_sessions``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import structlog
from aiohttp import web

from acd.web.audit_sessions import SessionKey
from acd.web.auth import Principal
from acd.web.context import AUDIO_SESSIONS, CLOCK, QA_FORMS, SETTINGS, db_of, now_utc, remote_of
from acd.web.errors import ApiError, bad_request
from acd.web.inputs import date_range, optional_str, path_int, read_json_object
from acd.web.json import json_response
from acd.web.routes import route
from recording import store
from recording.audit import record_access
from recording.evaluations import (
    add_evaluation,
    agent_report,
    call_calibration,
    evaluations_of,
    get_evaluation,
    set_dispute,
)
from recording.layout import UnsafePath, resolve_inside
from recording.qa import QaForm, ScoreError

log = structlog.get_logger("acd.web.recordings")

_MIME = {"wav": "audio/wav", "gsm": "audio/x-gsm", "ulaw": "audio/basic", "alaw": "audio/x-alaw-basic",
         "sln": "application/octet-stream"}


def _user(user: Principal | None) -> Principal:
    assert user is not None
    return user


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """What a client sees of a row: never the file path."""
    agent = row.get("agent_id") or row.get("call_agent")
    out = {k: row.get(k) for k in ("id", "call_id", "kind", "format", "status", "started_at", "ended_at",
                                    "duration_s", "size_bytes", "sha256", "legal_hold", "purged_at",
                                    "failure_reason", "caller", "queue", "topic")}
    out["agent"] = agent
    out["audio_url"] = f"/api/recordings/{row['id']}/audio"
    return out


async def _audit(request: web.Request, user: Principal, action: str, *, recording_id: int | None = None,
                 call_id: str | None = None, detail: str | None = None) -> None:
    await record_access(db_of(request), user=user.name, role=user.role, action=action, at=now_utc(request),
                        recording_id=recording_id, call_id=call_id, remote=remote_of(request), detail=detail)


async def _visible_row(request: web.Request, user: Principal) -> dict[str, Any]:
    rec_id = path_int(request)
    row = await store.get_recording(db_of(request), rec_id)
    if row is None or not store.may_access(row, role=user.role, agent=user.agent):
        raise ApiError(404, f"no recording {rec_id}")
    return row


@route("GET", "/api/recordings", roles={"agent", "supervisor", "admin"})
async def search(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    q = request.query
    start, end = date_range(request)
    limit_raw = q.get("limit", "500")
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 5000:
        raise bad_request("limit", "expected a number 1..5000")
    flt = store.SearchFilter(
        caller=q.get("caller") or None, date_from=start, date_to=end, agent=q.get("agent") or None,
        queue=q.get("queue") or None, topic=q.get("topic") or None, call_id=q.get("call") or None,
        only_agent=(who.agent or "") if who.role == "agent" else None, limit=int(limit_raw))
    await _audit(request, who, "search", detail=" ".join(f"{k}={v}" for k, v in flt.as_dict().items()))
    rows = await store.search(db_of(request), flt, request.app[SETTINGS].tz)
    return json_response({"recordings": [_public(r) for r in rows], "count": len(rows)})


@route("GET", "/api/recordings/{id}", roles={"agent", "supervisor", "admin"})
async def details(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    row = await _visible_row(request, who)
    await _audit(request, who, "view", recording_id=row["id"], call_id=row["call_id"])
    evals = await evaluations_of(db_of(request), recording_id=row["id"])
    return json_response({**_public(row), "evaluations": evals})


@route("GET", "/api/recordings/{id}/audio", roles={"agent", "supervisor", "admin"})
async def audio(request: web.Request, user: Principal | None) -> web.StreamResponse:
    who = _user(user)
    row = await _visible_row(request, who)
    if row["status"] == "purged":
        when = row["purged_at"].date().isoformat() if row.get("purged_at") else "earlier"
        raise ApiError(410, f"recording {row['id']} was deleted ({when}); the call's CDR row remains")
    if row["status"] in ("recording", "failed"):
        raise ApiError(409 if row["status"] == "recording" else 404,
                       f"recording {row['id']} is {row['status']}: no audio to deliver")
    root = request.app[SETTINGS].paths.recordings
    try:
        path = resolve_inside(root, row["path"])
    except UnsafePath:
        log.warning("recording_path_outside_dir", recording=row["id"])
        raise ApiError(404, f"recording {row['id']}: file not available (bad stored path)") from None
    if not path.is_file():
        raise ApiError(404, f"recording {row['id']}: file missing from the recordings directory")
    download = request.query.get("download") in ("1", "true", "yes")
    action = "download" if download else "listen"
    if request.method != "HEAD":  # one audit row per access session, whatever its Range
        sessions, now = request.app[AUDIO_SESSIONS], request.app[CLOCK]()
        key = SessionKey(who.name, remote_of(request), row["id"], action)
        if sessions.needs_audit(key, now):
            await _audit(request, who, action, recording_id=row["id"], call_id=row["call_id"])
            sessions.opened(key, now)
    response = web.FileResponse(path, headers={"Cache-Control": "private, no-store"})
    response.content_type = _MIME.get(row["format"], "application/octet-stream")
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return response


@route("DELETE", "/api/recordings/{id}", roles={"admin"})
async def delete(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    row = await _visible_row(request, who)
    await _audit(request, who, "delete", recording_id=row["id"], call_id=row["call_id"])
    try:
        await store.delete_file(db_of(request), row["id"], root=request.app[SETTINGS].paths.recordings,
                                now=now_utc(request))
    except PermissionError as exc:
        raise ApiError(409, str(exc)) from exc
    return json_response({"id": row["id"], "status": "purged"})


@route("POST", "/api/recordings/{id}/hold", roles={"admin", "supervisor"})
async def hold(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    row = await _visible_row(request, who)
    data = await read_json_object(request)
    value = data.get("hold", True)
    if not isinstance(value, bool):
        raise bad_request("hold", "expected true or false")
    await _audit(request, who, "hold", recording_id=row["id"], call_id=row["call_id"], detail=f"hold={value}")
    await store.set_legal_hold(db_of(request), row["id"], value)
    return json_response({"id": row["id"], "legal_hold": value})


def _form(request: web.Request, form_id: str | None) -> QaForm:
    forms = request.app[QA_FORMS]
    if not forms:
        raise ApiError(503, "no QA forms configured (config/qa/*.yaml)")
    if form_id is None:
        if len(forms) != 1:
            raise bad_request("form", f"required: one of {', '.join(sorted(forms))}")
        return next(iter(forms.values()))
    if form_id not in forms:
        raise bad_request("form", f"unknown form {form_id!r} (one of {', '.join(sorted(forms))})")
    return forms[form_id]


@route("POST", "/api/recordings/{id}/evaluations", roles={"supervisor"})
async def evaluate(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    row = await _visible_row(request, who)
    data = await read_json_object(request)
    form = _form(request, optional_str(data, "form", max_len=64))
    scores = data.get("scores")
    if not isinstance(scores, dict):
        raise bad_request("scores", "expected an object {criterion: score}")
    agent = row.get("agent_id") or row.get("call_agent") or optional_str(data, "agent", max_len=64)
    if not agent:
        raise bad_request("agent", "the recording names no agent: give 'agent'")
    comment = optional_str(data, "comment", max_len=4000)
    try:
        saved = await add_evaluation(db_of(request), form, call_id=row["call_id"], agent_id=agent,
                                     evaluator=who.name, scores=scores, now=now_utc(request),
                                     recording_id=row["id"], comment=comment)
    except ScoreError as exc:
        raise bad_request(f"scores.{exc.field}", str(exc).split(": ", 1)[-1]) from exc
    await _audit(request, who, "evaluate", recording_id=row["id"], call_id=row["call_id"],
                 detail=f"form={form.id} v{form.version} total={saved['total']}")
    return json_response(saved, status=201)


@route("POST", "/api/qa/evaluations/{id}/dispute", roles={"agent", "supervisor"})
async def dispute(request: web.Request, user: Principal | None) -> web.Response:
    """An agent opens a dispute on an evaluation of their own call; a supervisor resolves (or reopens) it.
    An open dispute keeps the recording from the retention purge."""
    who = _user(user)
    eval_id = path_int(request)
    data = await read_json_object(request)
    status = data.get("status", "open" if who.role == "agent" else "resolved")
    if status not in ("open", "resolved"):
        raise bad_request("status", "expected 'open' or 'resolved'")
    db = db_of(request)
    if who.role == "agent":
        found = await get_evaluation(db, eval_id)
        if found is None or found["agent_id"] != who.agent:
            raise ApiError(404, f"no evaluation {eval_id}")
        if status != "open":
            raise ApiError(403, "only a supervisor resolves a dispute")
    if not await set_dispute(db, eval_id, status):
        raise ApiError(404, f"no evaluation {eval_id}")
    return json_response({"id": eval_id, "dispute": status})


@route("GET", "/api/qa/agents", roles={"supervisor", "admin", "reporting"})
async def qa_agents(request: web.Request, user: Principal | None) -> web.Response:
    start, end = date_range(request)
    tz = request.app[SETTINGS].tz
    since = datetime.combine(start, time(0), tz).astimezone(UTC) if start else None
    until = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC) if end else None
    rows = await agent_report(db_of(request), since=since, until=until)
    return json_response({"agents": [r.__dict__ for r in rows]})


@route("GET", "/api/qa/calls/{id}/calibration", roles={"supervisor", "admin"})
async def qa_calibration(request: web.Request, user: Principal | None) -> web.Response:
    who = _user(user)
    call_id = request.match_info["id"]
    evals, spreads = await call_calibration(db_of(request), call_id)
    if not evals:
        raise ApiError(404, f"no evaluations of call {call_id!r}")
    await _audit(request, who, "view", call_id=call_id, detail="calibration")
    return json_response({"call_id": call_id, "evaluations": evals,
                          "spread": [{**s.__dict__, "range": s.range} for s in spreads]})
