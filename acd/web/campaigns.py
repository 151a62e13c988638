"""Outbound campaigns over HTTP: the agent's form during a campaign call, supervisors' live progress,
the export of contacts with their answers (issue 15, docs/outbound.md).

- ``GET /api/calls/{id}/campaign`` (the call's agent, supervisor, admin): the contact's fields, the script
  in the contact's language with the fields filled in, the form (questions in the contact's language) and
  the answers saved so far. 404 when the call is not a campaign call.
- ``POST /api/calls/{id}/campaign/answers`` ``{answers: {question: value}}``: stores the form of that
  attempt (a later save replaces it). 400 with ``problems`` per question: an unknown question, a value that
  does not fit, a required question unanswered. Answers ``productive`` (the form's rule).
- ``GET /api/campaigns`` and ``GET /api/campaigns/{name}`` (supervisor, admin, reporting): progress: contacts
  done / reached / productive / remaining, outcomes, drop rate, per agent, answers per question.
- ``GET /api/campaigns/{name}/export?format=csv|xlsx``: every contact with its state and answers.
- ``GET /campaigns`` (supervisor, admin): the page that shows the progress (refreshes itself).

``start_campaigns`` is the daemon's hook: it reads ``config/campaigns`` (ConfigError stops the start, as
for the rest of the config) and starts a dialer (acd/engine/campaign.py) per campaign not paused.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.web.auth import Principal
from acd.web.context import CLOCK, ENGINE, db_of
from acd.web.desktop import render_script
from acd.web.errors import ApiError
from acd.web.inputs import read_json_object
from acd.web.json import json_response
from acd.web.pages import render
from acd.web.routes import route
from acd.yamlconf import ConfigError
from outbound import campaign_store as store
from outbound.config import Campaign, dnc_numbers, load_campaigns
from outbound.schema import campaign_answers, campaign_contacts

if TYPE_CHECKING:
    from acd.configset import ConfigSet
    from acd.engine.campaign_preview import PreviewDialer
    from acd.engine.engine import Engine


log = structlog.get_logger(__name__)


class FormError(ApiError):
    """400 with the problems of the form per question id, for the desktop to show next to each."""

    def __init__(self, problems: dict[str, str]) -> None:
        first = sorted(problems)[0]
        super().__init__(400, f"the form cannot be saved: {first}: {problems[first]}", field=first)
        self.problems = problems

    def body(self) -> dict[str, Any]:
        return {**super().body(), "problems": self.problems}


@dataclass
class CampaignsWiring:
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    previews: dict[str, PreviewDialer] = field(default_factory=dict)


CAMPAIGNS: web.AppKey[CampaignsWiring] = web.AppKey("campaigns", CampaignsWiring)


def start_campaigns(app: web.Application, engine: Engine, db: AsyncEngine,
                    config_dir: Path) -> list[asyncio.Task[None]]:
    """Load ``config/campaigns`` and start a dialer per campaign that is not paused: customer-first for
    progressive and predictive, a preview dialer (the agents' own agent-first calls) for preview."""
    from acd.engine.campaign import CampaignDialer, Campaigns
    from acd.engine.campaign_preview import PreviewDialer

    folder = config_dir / "campaigns"
    config = engine.config
    loaded = load_campaigns(folder, known_queues=config.queues, known_agents=config.agents)
    running = [c for c in loaded if not c.dialing.paused]
    dialers = {c.name: CampaignDialer(engine, db, c, dnc_numbers(c, folder / f"{c.name}.yaml"))
               for c in running if c.dialing.mode != "preview"}
    previews = {c.name: PreviewDialer(engine, db, c, dnc_numbers(c, folder / f"{c.name}.yaml"))
                for c in running if c.dialing.mode == "preview"}
    app[CAMPAIGNS] = CampaignsWiring({c.name: c for c in loaded}, previews)
    engine.campaigns = Campaigns(dialers, previews)
    engine.campaigns.on_reload = lambda: reload_campaigns(app, engine, db, config_dir)
    tasks = [asyncio.create_task(d.run(), name=f"campaign-{name}") for name, d in dialers.items()]
    tasks += [asyncio.create_task(p.start(), name=f"campaign-{name}") for name, p in previews.items()]
    return tasks


def load_checked(directory: Path) -> ConfigSet:
    """The daemon's reload loader: the config set and, checked against its queues and agents, the campaign
    files. A broken campaign file refuses the whole reload with its ``file:line`` (the running set and the
    running campaigns stay), as any broken file of the config does."""
    from acd.configset import load_config

    config = load_config(directory)
    load_campaigns(Path(directory) / "campaigns", known_queues=config.queues, known_agents=config.agents)
    return config


def reload_campaigns(app: web.Application, engine: Engine, db: AsyncEngine, config_dir: Path) -> None:
    """After a good reload: a changed campaign applies from its next decision (paused, window, pacing,
    lists), a new one starts dialling, a removed one (or one turned to preview) dials nothing more. Lines
    ringing and calls in progress are followed to their end whatever changed. Preview campaigns change at
    the next start."""
    from acd.engine.campaign import CampaignDialer

    folder = config_dir / "campaigns"
    running = engine.campaigns
    wiring = app.get(CAMPAIGNS)
    if running is None or wiring is None:
        return
    try:
        loaded = load_campaigns(folder, known_queues=engine.config.queues, known_agents=engine.config.agents)
    except ConfigError as exc:  # changed again since the reload's check: keep what runs
        for problem in exc.problems:
            log.error("campaigns.reload_refused", problem=str(problem))
        return
    names = {c.name for c in loaded}
    for c in loaded:
        dnc = dnc_numbers(c, folder / f"{c.name}.yaml")
        dialer = running.dialers.get(c.name)
        if dialer is not None:
            dialer.reconfigure(c, dnc)
        elif c.dialing.mode != "preview" and not c.dialing.paused:
            running.add(CampaignDialer(engine, db, c, dnc))
    for name, dialer in running.dialers.items():
        if name not in names:
            dialer.retired = True
    # removed campaigns stay readable while their calls last (the agent's form during the call)
    kept = {n: c for n, c in wiring.campaigns.items() if n not in names}
    wiring.campaigns = {**kept, **{c.name: c for c in loaded}}
    log.info("campaigns.reloaded", campaigns=sorted(names))


def _campaigns(request: web.Request) -> dict[str, Campaign]:
    wiring = request.app.get(CAMPAIGNS)
    return wiring.campaigns if wiring is not None else {}


def _campaign(request: web.Request, name: str) -> Campaign:
    campaign = _campaigns(request).get(name)
    if campaign is None:
        raise ApiError(404, f"no campaign {name!r}")
    return campaign


async def _call_attempt(request: web.Request, user: Principal | None) -> tuple[Campaign, store.AttemptRef]:
    assert user is not None
    call_id = request.match_info["id"]
    ref = await store.attempt_of_call(db_of(request), call_id)
    if ref is None:
        raise ApiError(404, f"call {call_id} is not a campaign call")
    campaign = _campaign(request, ref.campaign)
    if user.role == "agent":
        agent = request.app[ENGINE].agent_of_call(call_id) or ref.agent
        if agent is None or agent != user.agent:
            raise ApiError(403, f"call {call_id} is not yours")
    return campaign, ref


@route("GET", "/api/calls/{id}/campaign", roles={"agent", "supervisor", "admin"})
async def call_campaign(request: web.Request, user: Principal | None) -> web.Response:
    """The contact, script and form of a campaign call; 204 for any other call (the desktop asks this of
    every call it shows: a 404 would be an error in every agent's browser console)."""
    if await store.attempt_of_call(db_of(request), request.match_info["id"]) is None:
        return web.Response(status=204)
    campaign, ref = await _call_attempt(request, user)
    db = db_of(request)
    c = campaign_contacts.c
    async with db.connect() as conn:
        row = (await conn.execute(select(c.phone, c.name, c.language, c.fields).where(c.id == ref.contact_id))
               ).one()
        saved = {str(q): v for q, v in (await conn.execute(
            select(campaign_answers.c.question, campaign_answers.c.value)
            .where(campaign_answers.c.attempt_id == ref.attempt_id))).all()}
    contact = store.DueContact(ref.contact_id, row.phone, row.name or "", row.language or "",
                               dict(row.fields or {}))
    lang = contact.language if contact.language in campaign.script else next(iter(campaign.script))
    questions = [{"id": q.id, "type": q.type, "required": q.required, "options": q.options,
                  "min": q.bounds[0], "max": q.bounds[1],
                  "text": q.text.get(lang) or next(iter(q.text.values()))}
                 for q in campaign.form.questions]
    return json_response({
        "campaign": campaign.name, "attempt": ref.attempt_id, "language": lang,
        "contact": contact.view(), "fields": campaign.contact_fields,
        "script": campaign.render_script(lang, contact.view()),
        "script_html": render_script(campaign.render_script(lang, contact.view())),
        "form": questions, "answers": saved})


@route("POST", "/api/calls/{id}/campaign/answers", roles={"agent", "supervisor", "admin"})
async def save_answers(request: web.Request, user: Principal | None) -> web.Response:
    campaign, ref = await _call_attempt(request, user)
    data = await read_json_object(request)
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise ApiError(400, "answers: an object of question id -> value")
    try:
        agent = request.app[ENGINE].agent_of_call(request.match_info["id"])
        productive = await store.save_answers(db_of(request), campaign, ref, answers, request.app[CLOCK](),
                                              agent)
    except store.AnswerError as exc:
        raise FormError(exc.problems) from exc
    return json_response({"saved": True, "productive": productive})


def _progress_json(p: store.Progress) -> dict[str, Any]:
    return asdict(p)


@route("GET", "/api/campaigns/previews", roles={"agent"})
async def preview_campaigns(request: web.Request, user: Principal | None) -> web.Response:
    """The preview campaigns this agent works (their queue, and the campaign's ``agents`` if it has any).
    Declared before ``/api/campaigns/{name}``, which would match it too."""
    assert user is not None
    wiring = request.app.get(CAMPAIGNS)
    out = []
    for p in wiring.previews.values() if wiring is not None else []:
        agent = p.engine.config.agents.get(user.agent or "")
        if agent is not None and p.campaign.queue in agent.queues and (
                not p.campaign.agents or agent.id in p.campaign.agents):
            out.append({"name": p.campaign.name, "description": p.campaign.description})
    return json_response({"campaigns": out})


@route("GET", "/api/campaigns", roles={"supervisor", "admin", "reporting"})
async def list_campaigns(request: web.Request, user: Principal | None) -> web.Response:
    db = db_of(request)
    out = [_progress_json(await store.progress(db, c)) for c in _campaigns(request).values()]
    return json_response({"campaigns": out})


@route("GET", "/api/campaigns/{name}", roles={"supervisor", "admin", "reporting"})
async def campaign_progress(request: web.Request, user: Principal | None) -> web.Response:
    campaign = _campaign(request, request.match_info["name"])
    progress = await store.progress(db_of(request), campaign)
    return json_response({**_progress_json(progress), "mode": campaign.dialing.mode,
                          "paused": campaign.dialing.paused})


@route("GET", "/api/campaigns/{name}/export", roles={"supervisor", "admin", "reporting"})
async def export(request: web.Request, user: Principal | None) -> web.Response:
    campaign = _campaign(request, request.match_info["name"])
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise ApiError(400, "format: csv or xlsx")
    header, rows = await store.export_rows(db_of(request), campaign)
    name = f"{campaign.name}-contacts.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(rows)
        return web.Response(body=("\ufeff" + buf.getvalue()).encode("utf-8"), headers=disposition,
                            content_type="text/csv", charset="utf-8")
    return web.Response(body=_xlsx(header, rows), headers=disposition,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("contacts")
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- preview mode: the agent takes a contact, reads it, dials (acd/engine/campaign_preview.py) ----------
def _preview(request: web.Request, user: Principal | None) -> tuple[PreviewDialer, str]:
    assert user is not None
    name = request.match_info["name"]
    wiring = request.app.get(CAMPAIGNS)
    dialer = wiring.previews.get(name) if wiring is not None else None
    if dialer is None:
        raise ApiError(404, f"no preview campaign {name!r} running")
    if user.agent is None:
        raise ApiError(403, "only an agent takes and dials preview contacts")
    return dialer, user.agent


def _attempt(request: web.Request) -> int:
    try:
        return int(request.match_info["attempt"])
    except ValueError as exc:
        raise ApiError(404, "no such attempt") from exc


@route("POST", "/api/campaigns/{name}/preview", roles={"agent"})
async def preview_take(request: web.Request, user: Principal | None) -> web.Response:
    """The agent's next contact: fields, script, form; the agent then dials or skips it."""
    from acd.engine.campaign_preview import PreviewError

    dialer, agent = _preview(request, user)
    try:
        p = await dialer.take(agent)
    except PreviewError as exc:
        raise ApiError(409, str(exc)) from exc
    campaign = dialer.campaign
    contact = p.contact.view()
    lang = p.contact.language if p.contact.language in campaign.script else next(iter(campaign.script))
    return json_response({"campaign": campaign.name, "attempt": p.attempt_id, "contact": contact,
                          "fields": campaign.contact_fields, "language": lang,
                          "script_html": render_script(campaign.render_script(lang, contact))})


@route("POST", "/api/campaigns/{name}/preview/{attempt}/dial", roles={"agent"})
async def preview_dial(request: web.Request, user: Principal | None) -> web.Response:
    from acd.engine.campaign_preview import PreviewError

    dialer, agent = _preview(request, user)
    try:
        call_id = await dialer.dial(_attempt(request), agent)
    except PreviewError as exc:
        raise ApiError(409, str(exc)) from exc
    return json_response({"call_id": call_id})


@route("POST", "/api/campaigns/{name}/preview/{attempt}/skip", roles={"agent"})
async def preview_skip(request: web.Request, user: Principal | None) -> web.Response:
    from acd.engine.campaign_preview import PreviewError

    dialer, agent = _preview(request, user)
    try:
        await dialer.skip(_attempt(request), agent)
    except PreviewError as exc:
        raise ApiError(409, str(exc)) from exc
    return json_response({"skipped": True})


@route("GET", "/campaigns", roles={"supervisor", "admin"}, page=True)
async def campaigns_page(request: web.Request, user: Principal | None) -> web.Response:
    db = db_of(request)
    progress = [(c, await store.progress(db, c)) for c in _campaigns(request).values()]
    return render(request, "campaigns.html", progress=progress, user=user)
