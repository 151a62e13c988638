"""The administration console in the browser (issue 14, R24): server-rendered pages over the same config
editor as ``/api/admin`` (``acd.admin``), and the console accounts of ``acd users`` (``acd.web.accounts``).

Every form is a plain HTML POST carrying the session's CSRF token (checked by the route table before the
handler runs) and, for the YAML, the ``version`` of the file the page was rendered from. The answer is the
same page again with the outcome next to the form it came from:

- written: the diff as the history recorded it (redacted like the API's), whether the daemon reloaded;
- refused as invalid (422): the loader's ``file:line`` messages, each also under the field it names when
  it names one; nothing was written;
- conflict (409): who changed the file since the page was read; the page shows the file as it is now.

Forms send whole values (an agent's skills as ``billing:5, tax:3``); a change holds only the fields that
differ from the file (and resets a field emptied), so untouched fields stay exactly as written.
Scenarios stay YAML edited by hand: their page shows each one's validity and the loader's errors, and
reloads. ``/admin/access`` is the table of who may call what, generated from the route table itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from acd.admin.configedit import Applied, ConfigAdmin, Conflict, Invalid
from acd.admin.history import ChangeRecord
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
from acd.settings import Settings
from acd.web.accounts import ROLE_NAMES, AccountError, AccountStore
from acd.web.admin import ADMIN_ONLY, CONFIG_ADMIN
from acd.web.auth import Principal
from acd.web.errors import PageError
from acd.web.i18n import translator
from acd.web.live import LIVE
from acd.web.pages import language_of, render
from acd.web.routes import ROLES, ROUTES, route
from acd.web.sessions import ACCOUNTS, WEB_SESSION

SECTIONS = ("users", "agents", "queues", "reasons", "numbers", "hours", "scenarios", "history", "access")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WALLBOARD_FIELDS = ("waiting_warn", "waiting_alarm", "longest_wait_warn_s", "longest_wait_alarm_s",
                    "service_level_warn_pct", "service_level_alarm_pct")
FIELD_ALIASES = {"not_ready_reasons": "reasons"}
STRATEGIES = ("most_skilled", "least_talked_today", "longest_idle", "round_robin", "random")


class FormError(ValueError):
    """A form value that cannot be read (``skills: billing=x``); shown under its field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class Outcome:
    """What a POST did, shown next to the form ``form`` came from."""

    form: str
    ok: bool
    message: str
    diff: str | None = None
    change_id: int | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """The loader's warnings on the new configuration (``acd check``'s): shown, they stop nothing."""
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    """The submitted values, to fill the form again after a refusal."""
    conflict: bool = False
    status: int = 200


# ------------------------------------------------------------------ form values
def _list(raw: str) -> list[str]:
    return [x.strip() for x in re.split(r"[,\n]", raw) if x.strip()]


def _levels(raw: str, name: str) -> dict[str, int]:
    """``billing:5, tax 3`` -> {"billing": 5, "tax": 3}."""
    out: dict[str, int] = {}
    for item in _list(raw):
        m = re.fullmatch(r"([^:=\s]+)\s*[:=\s]\s*(-?\d+)", item)
        if m is None:
            raise FormError(name, f"{name}: {item!r} is not name:number (e.g. billing:5)")
        out[m.group(1)] = int(m.group(2))
    return out


def _number(raw: str, name: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FormError(name, f"{name}: {raw!r} is not a number") from None
    return int(value) if value.is_integer() else value


def _lines(raw: str) -> list[str]:
    return [x.strip() for x in raw.splitlines() if x.strip()]


def _dated_ranges(raw: str, name: str) -> dict[str, list[str]]:
    """``2026-12-31: 09:00-14:00`` per line -> {"2026-12-31": ["09:00-14:00"]} (nothing after the colon:
    closed that day)."""
    out: dict[str, list[str]] = {}
    for line in _lines(raw):
        day, sep, ranges = line.partition(" ")
        day = day.rstrip(":")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise FormError(name, f"{name}: {line!r}: start with a date YYYY-MM-DD")
        out[day] = _list(ranges) if sep else []
    return out


def field_problems(problems: list[str], names: list[str]) -> dict[str, list[str]]:
    """The loader's messages by the form field they name: ``config/agents.yaml:4: agents[0].skills.general:
    ...`` names ``skills`` (the deepest part of the path that is a field of the form)."""
    out: dict[str, list[str]] = {}
    for problem in problems:
        parts = problem.split(": ")
        path = parts[1] if len(parts) > 2 else parts[0]
        for part in reversed([re.sub(r"\[\d+\]$", "", p) for p in path.split(".")]):
            name = FIELD_ALIASES.get(part, part)
            if name in names:
                out.setdefault(name, []).append(problem)
                break
    return out


def _s(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


# ------------------------------------------------------------------ applying a change
def _config(request: web.Request) -> ConfigAdmin:
    admin = request.app.get(CONFIG_ADMIN)
    if admin is None:
        raise PageError(503, "administration is not available (no config directory in this process)")
    return admin


async def _apply(request: web.Request, user: Principal, form_id: str, op: Operation, version: str | None,
                 values: dict[str, str], names: list[str]) -> Outcome:
    t = translator(language_of(request))
    return await _outcome(t, form_id, _config(request).change(op, version, user.name), values=values,
                          names=names)


async def _outcome(t: Any, form_id: str, change: Awaitable[Applied], *, conflict: str = "adm.conflict",
                   values: dict[str, str] | None = None, names: list[str] | None = None) -> Outcome:
    """What a change (a form's, or a rollback) did: written, or refused as stale (409), invalid (422,
    the loader's messages under the fields ``names`` they name) or by the operation itself."""
    values = values or {}
    try:
        applied = await change
    except Conflict as exc:
        return Outcome(form_id, False, t(conflict, msg=exc.message), values=values, conflict=True, status=409)
    except Invalid as exc:
        return Outcome(form_id, False, t("adm.invalid"), problems=exc.problems,
                       field_errors=field_problems(exc.problems, names or []), values=values, status=422)
    except OperationError as exc:
        return Outcome(form_id, False, exc.message, values=values, status=exc.status)
    return _written(t, form_id, applied)


def _written(t: Any, form_id: str, applied: Applied) -> Outcome:
    r = applied.record
    message = t("adm.written", id=r.id, file=r.file)
    if not applied.reloaded:
        message += " " + t("adm.not_reloaded")
    return Outcome(form_id, True, message, diff=r.shown_diff(), change_id=r.id,
                   problems=applied.reload_problems, warnings=r.warnings)


def _form_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


def _version(form: Mapping[str, Any]) -> str | None:
    return _s(form, "version") or None


def _patch(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fields of ``wanted`` that differ from ``current``: set (a value) or reset (emptied)."""
    changes: dict[str, Any] = {}
    reset: list[str] = []
    for key, value in wanted.items():
        empty = value in (None, "", [], {})
        if empty:
            if key in current:
                reset.append(key)
        elif current.get(key) != value:
            changes[key] = value
    return changes, reset


def _update(kind: type[Any], target: dict[str, Any], changes: dict[str, Any], reset: list[str]) -> Operation:
    """The update operation ``kind`` of ``target`` (``{"id": ...}``) with what the form changed; a form
    that changed nothing is refused under the form, not written as an empty change."""
    if not changes and not reset:
        raise FormError("form", "nothing changed")
    op: Operation = _typed(kind, {**target, "changes": changes, "reset": reset})
    return op


def _typed(kind: type[Any], data: dict[str, Any]) -> Any:
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = [str(p) for p in err["loc"] if not str(p).isdigit()]
        name = loc[-1] if loc else "form"
        if len(loc) >= 2 and loc[-2] in ("skills", "queues", "weekly", "special_days", "wallboard"):
            name = loc[-2]
        raise FormError(name, f"{'.'.join(loc) or 'form'}: {err['msg']}") from exc


# ------------------------------------------------------------------ page rendering
def _csrf(request: web.Request) -> str:
    session = request.get(WEB_SESSION)
    return session.csrf if session else ""


async def _section_data(request: web.Request, section: str) -> dict[str, Any]:
    if section in ("users", "access"):
        return {}
    admin = _config(request)
    ed = admin.editor
    if section == "agents":
        version, data = await admin.call(ed.data, AGENTS_FILE)
        qv, qdata = await admin.call(ed.data, QUEUES_FILE)
        return {"file": AGENTS_FILE, "version": version, "agents": (data or {}).get("agents") or [],
                "queue_names": [q.get("name") for q in (qdata or {}).get("queues") or []]}
    if section == "queues":
        version, data = await admin.call(ed.data, QUEUES_FILE)
        from acd.core.config import QueueConfig

        defaults = {k: joined(f.default) for k, f in QueueConfig.model_fields.items()
                    if k in ("strategy", "wrapup_s", "ring_timeout_s", "sl_threshold_s")}
        return {"file": QUEUES_FILE, "version": version, "queues": (data or {}).get("queues") or [],
                "strategies": STRATEGIES, "wb_fields": WALLBOARD_FIELDS, "defaults": defaults}
    if section == "reasons":
        version, data = await admin.call(ed.data, ACD_FILE)
        reasons = (data or {}).get("not_ready_reasons")
        return {"file": ACD_FILE, "version": version,
                "reasons": list(Settings().not_ready_reasons) if reasons is None else reasons}
    if section in ("numbers", "scenarios"):
        status = await admin.call(ed.status)
        return {"scenarios": await admin.call(ed.scenarios), "status": status}
    if section == "hours":
        files = []
        for path in schedule_files(ed.dir):
            file = str(path.relative_to(ed.dir))
            version, data = await admin.call(ed.data, file)
            files.append({"file": file, "version": version, "schedules": (data or {}).get("schedules") or {}})
        return {"files": files, "days": DAYS}
    if section == "history":
        records = await admin.call(lambda: ed.history.list(limit=200))
        return {"changes": records}
    raise PageError(404, f"no admin page {section!r}")


async def _users(request: web.Request) -> list[Any] | None:
    store = request.app.get(ACCOUNTS)
    return None if store is None else await store.list()


def access_table() -> list[dict[str, Any]]:
    """Every route of the table with the roles that may call it: the same source as the role check."""
    rows = []
    for spec in sorted(ROUTES, key=lambda r: (r.path, r.method)):
        doc = (spec.handler.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        rows.append({"method": spec.method, "path": spec.path, "page": spec.page,
                     "public": spec.roles is None,
                     "roles": {r: spec.roles is None or r in spec.roles for r in sorted(ROLES)},
                     "what": doc})
    return rows


async def page(request: web.Request, user: Principal, section: str,
               outcome: Outcome | None = None) -> web.Response:
    data = await _section_data(request, section)
    users = await _users(request) if section == "users" else None
    extra: dict[str, Any] = {}
    if section == "access":
        extra = {"routes": access_table(), "roles": sorted(ROLES)}
    return render(request, "admin.html", status=outcome.status if outcome else 200, user=user,
                  csrf=_csrf(request), section=section, sections=SECTIONS, d=data, users=users,
                  role_names=ROLE_NAMES, outcome=outcome, **HELPERS, **extra)


def levels(value: Any) -> str:
    """A mapping of levels as the form shows it: ``general:7, technical:8``."""
    return ", ".join(f"{k}:{v}" for k, v in value.items()) if isinstance(value, dict) else ""


def joined(value: Any, sep: str = ", ") -> str:
    """A list as the form shows it (a scalar as it is)."""
    if isinstance(value, list):
        return sep.join(str(v) for v in value)
    return "" if value is None else str(value)


def special(value: Any) -> str:
    """Special days as the form shows them: ``2026-12-31: 09:00-14:00`` per line."""
    if not isinstance(value, dict):
        return ""
    return "\n".join(f"{day}: {joined(ranges)}".rstrip() for day, ranges in value.items())


HELPERS: dict[str, Any] = {"levels": levels, "joined": joined, "special": special}


def _user(user: Principal | None) -> Principal:
    assert user is not None
    return user


# ------------------------------------------------------------------ pages (GET)
@route("GET", "/admin", roles=ADMIN_ONLY, page=True)
async def admin_home(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """The administration console: to its first page."""
    raise web.HTTPSeeOther("/admin/agents")


@route("GET", "/admin/{section}", roles=ADMIN_ONLY, page=True)
async def admin_section(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """An administration page: users, agents, queues, reasons, numbers, hours, scenarios, history, access."""
    section = request.match_info["section"]
    if section not in SECTIONS:
        raise PageError(404, f"no admin page {section!r}")
    return await page(request, _user(user), section)


@route("GET", "/admin/history/{id}", roles=ADMIN_ONLY, page=True)
async def admin_change(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """One change of the history with its diff, and its rollback."""
    admin = _config(request)
    raw = request.match_info["id"]
    record: ChangeRecord | None = (await admin.call(admin.editor.history.get, int(raw))
                                   if raw.isdigit() else None)
    if record is None:
        raise PageError(404, "no such change")
    return render(request, "admin.html", user=_user(user), csrf=_csrf(request), section="change",
                  sections=SECTIONS, d={"record": record, "diff": record.shown_diff()}, users=None,
                  role_names=ROLE_NAMES, outcome=None, **HELPERS)


# ------------------------------------------------------------------ users (the database)
def _store(request: web.Request) -> AccountStore:
    store = request.app.get(ACCOUNTS)
    if store is None:
        raise PageError(503, "no database: console accounts are unavailable")
    return store


async def _user_change(request: web.Request, user: Principal, form_id: str, done: str,
                       action: Any) -> web.Response:
    form = await request.post()
    t = translator(language_of(request))
    try:
        await action(_store(request), form)
    except AccountError as exc:
        outcome = Outcome(form_id, False, str(exc), values=_form_values(form), status=400,
                          field_errors={"form": [str(exc)]})
        return await page(request, user, "users", outcome)
    return await page(request, user, "users", Outcome(form_id, True, t(done, name=_s(form, "name") or
                                                                      request.match_info.get("name", ""))))


@route("POST", "/admin/users", roles=ADMIN_ONLY, page=True)
async def create_user(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Create a console account (``acd users add``)."""

    async def add(store: AccountStore, form: Mapping[str, Any]) -> None:
        await store.add(_s(form, "name"), _s(form, "role"), _s(form, "agent") or None,
                        str(form.get("password") or ""))

    return await _user_change(request, _user(user), "add-user", "adm.user_created", add)


@route("POST", "/admin/users/{name}/disable", roles=ADMIN_ONLY, page=True)
async def disable_user(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Disable (``disabled=1``) or enable (``disabled=0``) an account; disabling ends its sessions."""
    me = _user(user)
    name = request.match_info["name"]

    async def switch(store: AccountStore, form: Mapping[str, Any]) -> None:
        disabled = _s(form, "disabled") != "0"
        if disabled and name == me.name:
            raise AccountError("you cannot disable your own account")
        account = await store.get(name)
        await store.set_disabled(name, disabled)
        if disabled and account is not None:
            request.app[LIVE].wake(account.agent)  # open desktops re-check their session now

    form = await request.post()
    done = "adm.user_disabled" if _s(form, "disabled") != "0" else "adm.user_enabled"
    return await _user_change(request, me, f"user-{name}", done, switch)


@route("POST", "/admin/users/{name}/password", roles=ADMIN_ONLY, page=True)
async def reset_password(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Set a new password (``acd users passwd``); the user's sessions end."""
    name = request.match_info["name"]

    async def reset(store: AccountStore, form: Mapping[str, Any]) -> None:
        await store.set_password(name, str(form.get("password") or ""))

    return await _user_change(request, _user(user), f"user-{name}", "adm.password_set", reset)


@route("POST", "/admin/users/{name}/role", roles=ADMIN_ONLY, page=True)
async def change_role(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Change an account's role (and, for role agent, the agent id it works as)."""
    me = _user(user)
    name = request.match_info["name"]

    async def change(store: AccountStore, form: Mapping[str, Any]) -> None:
        if name == me.name and _s(form, "role") != "admin":
            raise AccountError("you cannot take the admin role from your own account")
        await store.set_role(name, _s(form, "role"), _s(form, "agent") or None)

    return await _user_change(request, me, f"user-{name}", "adm.role_set", change)


# ------------------------------------------------------------------ agents (agents.yaml)
FORM_FIELDS = ["id", "name", "endpoint", "languages", "skills", "queues", "teams", "strategy", "wrapup_s",
               "ring_timeout_s", "sl_threshold_s", *WALLBOARD_FIELDS, "topics", "script", "reasons",
               "numbers", "timezone", *DAYS, "holidays_country", "holiday_hours", "extra_holidays",
               "special_days"]
"""The fields of the config forms, by the name the loader's messages give them."""


def _agent_form(form: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": _s(form, "name"), "endpoint": _s(form, "endpoint") or None,
            "languages": _list(_s(form, "languages")), "skills": _levels(_s(form, "skills"), "skills"),
            "queues": _levels(_s(form, "queues"), "queues"), "teams": _list(_s(form, "teams"))}


async def _config_post(request: web.Request, user: Principal, form_id: str,
                       build: Any) -> web.Response:
    """Read a config form, build its operation (``build``), apply it, answer with the page."""
    form = await request.post()
    values = _form_values(form)
    try:
        op = await build(form)
    except FormError as exc:
        t = translator(language_of(request))
        outcome = Outcome(form_id, False, t("adm.form_error"), problems=[exc.message],
                          field_errors={exc.field: [exc.message]}, values=values, status=400)
        return await page(request, user, _section_of(form_id), outcome)
    outcome = await _apply(request, user, form_id, op, _version(form), values, FORM_FIELDS)
    return await page(request, user, _section_of(form_id), outcome)


def _section_of(form_id: str) -> str:
    for prefix, section in (("agent", "agents"), ("queue", "queues"), ("reasons", "reasons"),
                            ("numbers", "numbers"), ("schedule", "hours"), ("rollback", "history")):
        if form_id.startswith(prefix):
            return section
    return "agents"


@route("POST", "/admin/agents", roles=ADMIN_ONLY, page=True)
async def add_agent(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Add an agent to agents.yaml; it can take calls as soon as the daemon has reloaded."""

    async def build(form: Mapping[str, Any]) -> Operation:
        values = {"id": _s(form, "id"), **_agent_form(form)}
        spec = {k: v for k, v in values.items() if v not in (None, "", [], {})}
        if not spec.get("id"):
            raise FormError("id", "id: required")
        op: Operation = _typed(AddAgent, {"agent": spec})
        return op

    return await _config_post(request, _user(user), "agent-new", build)


async def _current(request: web.Request, file: str, section: str, key: str, value: str) -> dict[str, Any]:
    admin = _config(request)
    _, data = await admin.call(admin.editor.data, file)
    for item in (data or {}).get(section) or []:
        if isinstance(item, dict) and str(item.get(key)) == value:
            return item
    raise PageError(404, f"no {section[:-1]} {value!r}")


@route("POST", "/admin/agents/{id}", roles=ADMIN_ONLY, page=True)
async def update_agent(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Change an agent: only the fields that differ from agents.yaml are written."""
    agent_id = request.match_info["id"]

    async def build(form: Mapping[str, Any]) -> Operation:
        current = await _current(request, AGENTS_FILE, "agents", "id", agent_id)
        changes, reset = _patch(current, _agent_form(form))
        return _update(UpdateAgent, {"id": agent_id}, changes, reset)

    return await _config_post(request, _user(user), f"agent-{agent_id}", build)


@route("POST", "/admin/agents/{id}/disable", roles=ADMIN_ONLY, page=True)
async def disable_agent(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Take an agent out of agents.yaml (the history keeps it: roll the change back to bring it back)."""
    agent_id = request.match_info["id"]

    async def build(form: Mapping[str, Any]) -> Operation:
        return DisableAgent(id=agent_id)

    return await _config_post(request, _user(user), f"agent-{agent_id}", build)


# ------------------------------------------------------------------ queues (queues.yaml)
@route("POST", "/admin/queues/{name}", roles=ADMIN_ONLY, page=True)
async def update_queue(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Change a queue's strategy, times, thresholds, topics and script (only what differs is written)."""
    name = request.match_info["name"]

    async def build(form: Mapping[str, Any]) -> Operation:
        current = await _current(request, QUEUES_FILE, "queues", "name", name)
        strategy: Any = _list(_s(form, "strategy"))
        if len(strategy) == 1:
            strategy = strategy[0]
        if isinstance(current.get("strategy"), list) and isinstance(strategy, str):
            strategy = [strategy]
        wallboard = {k: _number(_s(form, k), k) for k in WALLBOARD_FIELDS}
        wallboard = {k: v for k, v in wallboard.items() if v is not None}
        wanted = {"strategy": strategy, "wrapup_s": _number(_s(form, "wrapup_s"), "wrapup_s"),
                  "ring_timeout_s": _number(_s(form, "ring_timeout_s"), "ring_timeout_s"),
                  "sl_threshold_s": _number(_s(form, "sl_threshold_s"), "sl_threshold_s"),
                  "topics": _lines(str(form.get("topics") or "")),
                  "script": str(form.get("script") or "").replace("\r\n", "\n").strip() or None,
                  "wallboard": wallboard}
        if wanted["script"] and not str(wanted["script"]).endswith("\n") and "\n" in str(wanted["script"]):
            wanted["script"] = f"{wanted['script']}\n"
        changes, reset = _patch(current, wanted)
        return _update(UpdateQueue, {"name": name}, changes, reset)

    return await _config_post(request, _user(user), f"queue-{name}", build)


# ------------------------------------------------------------------ not-ready reasons (acd.yaml)
@route("POST", "/admin/reasons", roles=ADMIN_ONLY, page=True)
async def set_reasons(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """The not-ready reasons agents pick from (one per line)."""

    async def build(form: Mapping[str, Any]) -> Operation:
        reasons = _lines(str(form.get("reasons") or ""))
        if not reasons:
            raise FormError("reasons", "reasons: give at least one")
        return SetNotReadyReasons(reasons=reasons)

    return await _config_post(request, _user(user), "reasons", build)


# ------------------------------------------------------------------ numbers served (scenarios)
@route("POST", "/admin/numbers/{scenario}", roles=ADMIN_ONLY, page=True)
async def set_numbers(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """The numbers a scenario serves."""
    scenario = request.match_info["scenario"]

    async def build(form: Mapping[str, Any]) -> Operation:
        return SetNumbers(scenario=scenario, numbers=_list(_s(form, "numbers")))

    return await _config_post(request, _user(user), f"numbers-{scenario}", build)


# ------------------------------------------------------------------ business hours and holidays
@route("POST", "/admin/hours/{name}", roles=ADMIN_ONLY, page=True)
async def set_schedule(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Create or change a shared schedule: weekly hours, holidays, special days."""
    name = request.match_info["name"] if request.match_info["name"] != "new" else ""

    async def build(form: Mapping[str, Any]) -> Operation:
        sched = name or _s(form, "name")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", sched):
            raise FormError("name", "name: 1-64 letters, digits, '-' or '_'")
        current: dict[str, Any] = {}
        admin = _config(request)
        for path in schedule_files(admin.editor.dir):
            _, data = await admin.call(admin.editor.data, str(path.relative_to(admin.editor.dir)))
            found = ((data or {}).get("schedules") or {}).get(sched)
            if isinstance(found, dict):
                current = found
        weekly = {d: _list(_s(form, d)) for d in DAYS if _list(_s(form, d))}
        changes, reset = _patch(current, {"timezone": _s(form, "timezone") or None, "weekly": weekly,
                                          "holidays_country": _s(form, "holidays_country") or None})
        lists: dict[str, Any] = {"holiday_hours": _list(_s(form, "holiday_hours")),
                                 "extra_holidays": _list(_s(form, "extra_holidays")),
                                 "special_days": _dated_ranges(str(form.get("special_days") or ""),
                                                               "special_days")}
        for key, value in lists.items():  # an empty list is a value here: holiday_hours: [] is "closed"
            if value != current.get(key, type(value)()):
                changes[key] = value
        return _update(SetSchedule, {"name": sched}, changes, reset)

    return await _config_post(request, _user(user), f"schedule-{name or 'new'}", build)


# ------------------------------------------------------------------ scenarios: reload
@route("POST", "/admin/reload", roles=ADMIN_ONLY, page=True)
async def reload(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Reload the configuration now (after a hand edit of a scenario); refused when it does not load."""
    t = translator(language_of(request))
    ok, problems = await _config(request).reload()
    outcome = Outcome("reload", ok, t("adm.reloaded") if ok else t("adm.reload_refused"), problems=problems,
                      status=200 if ok else 422)
    return await page(request, _user(user), "scenarios", outcome)


# ------------------------------------------------------------------ history: rollback
@route("POST", "/admin/history/{id}/rollback", roles=ADMIN_ONLY, page=True)
async def rollback(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """Undo one change as a new change (refused when later changes touch the same lines)."""
    me = _user(user)
    t = translator(language_of(request))
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise PageError(404, "no such change")
    outcome = await _outcome(t, f"rollback-{raw}", _config(request).rollback(int(raw), me.name),
                             conflict="adm.conflict_rollback")
    return await page(request, me, "history", outcome)
