"""Administration API (R24), admin role only: the configuration objects with their versions, typed changes
written back to the YAML of ``config/`` (``acd.admin``), the history with rollback, the scenarios'
validation status, and reload.

Every change carries the ``version`` of the file the admin read (from the GET); a stale one is a 409 that
says who changed the file since. An invalid change is a 422 listing the loader's ``file:line`` messages, and
nothing is written. docs/admin.md and docs/api.md describe the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from acd.admin.configedit import Applied, ConfigAdmin, ConfigEditor, Conflict, Invalid
from acd.admin.history import History
from acd.admin.operations import (
    ACD_FILE,
    AGENTS_FILE,
    QUEUES_FILE,
    AddAgent,
    DisableAgent,
    Operation,
    OperationError,
    SetNotReadyReasons,
    SetNumbers,
    SetSchedule,
    UpdateAgent,
    UpdateQueue,
    schedule_files,
)
from acd.settings import Role
from acd.web.auth import Principal
from acd.web.errors import ApiError
from acd.web.inputs import path_int, read_json_object
from acd.web.json import json_response
from acd.web.routes import route

ADMIN_ONLY: frozenset[Role] = frozenset({"admin"})

CONFIG_ADMIN: web.AppKey[ConfigAdmin] = web.AppKey("config_admin", ConfigAdmin)


class Reloader(Protocol):
    """``routing.reload.ConfigReloader`` as seen from here."""

    last_error: Any

    def reload(self) -> Awaitable[bool]: ...


def install_admin(app: web.Application, config_dir: Path, var_dir: Path, *, clock: Callable[[], float],
                  reloader: Callable[[], Reloader]) -> None:
    """Give the app its config editor (the daemon calls this; without it the routes answer 503).
    ``reloader`` is looked up at each change: the daemon creates its reloader after the HTTP server."""

    async def reload() -> tuple[bool, list[str]]:
        try:
            r = reloader()
        except AttributeError:  # a request in the moment between the HTTP server and the reloader starting
            return False, ["the daemon was still starting: the change is written; "
                           "POST /api/admin/reload to apply it"]
        ok = await r.reload()
        problems = getattr(r.last_error, "problems", None) or []
        return ok, ([] if ok else [str(p) for p in problems])

    editor = ConfigEditor(config_dir, History(var_dir / "config-history"), clock=clock)
    app[CONFIG_ADMIN] = ConfigAdmin(editor, reload)


def _admin(request: web.Request) -> ConfigAdmin:
    admin = request.app.get(CONFIG_ADMIN)
    if admin is None:
        raise ApiError(503, "administration is not available (no config directory in this process)")
    return admin


def _who(user: Principal | None) -> str:
    assert user is not None
    return user.name


def _parse(kind: type[Any], data: dict[str, Any]) -> Any:
    """The typed operation from JSON; a wrong shape is a 400 naming the field."""
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise ApiError(400, f"{where}: {err['msg']}", field=where) from exc


def _version(data: dict[str, Any]) -> str | None:
    if "version" not in data:
        raise ApiError(400, "version: required (the version of the file from the GET; null for a new file)",
                       field="version")
    version = data.pop("version")
    if version is not None and not isinstance(version, str):
        raise ApiError(400, "version: expected a string", field="version")
    return version


def _applied(applied: Applied, status: int = 200) -> web.Response:
    r = applied.record
    return json_response({"change": {**r.summary(), "diff": r.shown_diff()}, "file": r.file,
                          "version": r.after_version, "reloaded": applied.reloaded,
                          "reload_problems": applied.reload_problems},
                         status=status)


async def _run(request: web.Request, user: Principal | None, op: Operation, expected: str | None,
               status: int = 200) -> web.Response:
    try:
        return _applied(await _admin(request).change(op, expected, _who(user)), status)
    except Conflict as exc:
        return json_response({"error": exc.message, "file": exc.file, "current_version": exc.current_version},
                             status=409)
    except Invalid as exc:
        return json_response({"error": "the change makes the configuration invalid; nothing was written",
                              "problems": exc.problems}, status=422)
    except OperationError as exc:
        raise ApiError(exc.status, exc.message) from exc


async def _read(request: web.Request, file: str) -> tuple[str | None, Any]:
    admin = _admin(request)
    try:
        result: tuple[str | None, Any] = await admin.call(admin.editor.data, file)
    except OperationError as exc:
        raise ApiError(exc.status, exc.message) from exc
    return result


# ------------------------------------------------------------------ overview and status
@route("GET", "/api/admin/config", roles=ADMIN_ONLY)
async def config_overview(request: web.Request, user: Principal | None) -> web.Response:
    """Every editable file with its version, and whether the directory loads as it is."""
    admin = _admin(request)
    ed = admin.editor
    files = [ACD_FILE, AGENTS_FILE, QUEUES_FILE,
             *(str(p.relative_to(ed.dir)) for p in sorted((ed.dir / "scenarios").glob("*.yaml")))]
    versions = {f: (await admin.call(ed.read, f)).version for f in files}
    status = await admin.call(ed.status)
    return json_response({"files": versions, "valid": status.valid, "problems": status.problems,
                          "warnings": status.warnings})


@route("GET", "/api/admin/scenarios", roles=ADMIN_ONLY)
async def scenarios(request: web.Request, user: Principal | None) -> web.Response:
    """Scenarios stay YAML edited by hand; here each one with its validation status and file:line errors."""
    admin = _admin(request)
    status = await admin.call(admin.editor.status)
    listed = await admin.call(admin.editor.scenarios)
    return json_response({"scenarios": listed, "valid": status.valid, "problems": status.problems,
                          "warnings": status.warnings})


@route("POST", "/api/admin/reload", roles=ADMIN_ONLY)
async def reload(request: web.Request, user: Principal | None) -> web.Response:
    """Reload now (after a hand edit of a scenario); refused with the loader's problems when invalid."""
    ok, problems = await _admin(request).reload()
    return json_response({"reloaded": ok, "problems": problems}, status=200 if ok else 422)


# ------------------------------------------------------------------ agents
@route("GET", "/api/admin/agents", roles=ADMIN_ONLY)
async def get_agents(request: web.Request, user: Principal | None) -> web.Response:
    version, data = await _read(request, AGENTS_FILE)
    agents = (data or {}).get("agents") or []
    return json_response({"file": AGENTS_FILE, "version": version, "agents": agents})


@route("POST", "/api/admin/agents", roles=ADMIN_ONLY)
async def add_agent(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    return await _run(request, user, _parse(AddAgent, data), expected, status=201)


@route("PUT", "/api/admin/agents/{id}", roles=ADMIN_ONLY)
async def update_agent(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    op = _parse(UpdateAgent, {**data, "id": request.match_info["id"]})
    return await _run(request, user, op, expected)


@route("POST", "/api/admin/agents/{id}/disable", roles=ADMIN_ONLY)
async def disable_agent(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    return await _run(request, user, DisableAgent(id=request.match_info["id"]), expected)


# ------------------------------------------------------------------ queues
@route("GET", "/api/admin/queues", roles=ADMIN_ONLY)
async def get_queues(request: web.Request, user: Principal | None) -> web.Response:
    version, data = await _read(request, QUEUES_FILE)
    queues = (data or {}).get("queues") or []
    return json_response({"file": QUEUES_FILE, "version": version, "queues": queues})


@route("PUT", "/api/admin/queues/{name}", roles=ADMIN_ONLY)
async def update_queue(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    op = _parse(UpdateQueue, {**data, "name": request.match_info["name"]})
    return await _run(request, user, op, expected)


# ------------------------------------------------------------------ not-ready reasons (acd.yaml)
@route("GET", "/api/admin/not-ready-reasons", roles=ADMIN_ONLY)
async def get_reasons(request: web.Request, user: Principal | None) -> web.Response:
    version, data = await _read(request, ACD_FILE)
    reasons = (data or {}).get("not_ready_reasons")
    if reasons is None:
        from acd.settings import Settings

        reasons = list(Settings().not_ready_reasons)
    return json_response({"file": ACD_FILE, "version": version, "reasons": reasons})


@route("PUT", "/api/admin/not-ready-reasons", roles=ADMIN_ONLY)
async def set_reasons(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    return await _run(request, user, _parse(SetNotReadyReasons, data), expected)


# ------------------------------------------------------------------ numbers -> scenario
@route("GET", "/api/admin/numbers", roles=ADMIN_ONLY)
async def get_numbers(request: web.Request, user: Principal | None) -> web.Response:
    admin = _admin(request)
    listed = await admin.call(admin.editor.scenarios)
    return json_response({"scenarios": [{k: s[k] for k in ("name", "file", "version", "numbers")}
                                        for s in listed]})


@route("PUT", "/api/admin/scenarios/{name}/numbers", roles=ADMIN_ONLY)
async def set_numbers(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    op = _parse(SetNumbers, {**data, "scenario": request.match_info["name"]})
    return await _run(request, user, op, expected)


# ------------------------------------------------------------------ business hours and holidays
@route("GET", "/api/admin/schedules", roles=ADMIN_ONLY)
async def get_schedules(request: web.Request, user: Principal | None) -> web.Response:
    admin = _admin(request)
    out = []
    for path in schedule_files(admin.editor.dir):
        file = str(path.relative_to(admin.editor.dir))
        version, data = await _read(request, file)
        out.append({"file": file, "version": version, "schedules": (data or {}).get("schedules") or {}})
    return json_response({"files": out})


@route("PUT", "/api/admin/schedules/{name}", roles=ADMIN_ONLY)
async def set_schedule(request: web.Request, user: Principal | None) -> web.Response:
    data = await read_json_object(request)
    expected = _version(data)
    op = _parse(SetSchedule, {**data, "name": request.match_info["name"]})
    return await _run(request, user, op, expected)


# ------------------------------------------------------------------ history and rollback
@route("GET", "/api/admin/history", roles=ADMIN_ONLY)
async def history(request: web.Request, user: Principal | None) -> web.Response:
    admin = _admin(request)
    file = request.query.get("file") or None
    raw = request.query.get("limit", "100")
    limit = int(raw) if raw.isdigit() else 100
    records = await admin.call(lambda: admin.editor.history.list(file=file, limit=min(limit, 1000)))
    return json_response({"changes": [r.summary() for r in records]})


@route("GET", "/api/admin/history/{id}", roles=ADMIN_ONLY)
async def history_item(request: web.Request, user: Principal | None) -> web.Response:
    admin = _admin(request)
    record = await admin.call(admin.editor.history.get, path_int(request))
    if record is None:
        raise ApiError(404, "no such change")
    return json_response({**record.summary(), "diff": record.shown_diff()})


@route("POST", "/api/admin/history/{id}/rollback", roles=ADMIN_ONLY)
async def rollback(request: web.Request, user: Principal | None) -> web.Response:
    admin = _admin(request)
    change_id = path_int(request)
    try:
        return _applied(await admin.rollback(change_id, _who(user)))
    except Conflict as exc:
        return json_response({"error": exc.message, "file": exc.file, "current_version": exc.current_version},
                             status=409)
    except Invalid as exc:
        return json_response({"error": "the rollback makes the configuration invalid; nothing was written",
                              "problems": exc.problems}, status=422)
    except OperationError as exc:
        raise ApiError(exc.status, exc.message) from exc
