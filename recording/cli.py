"""``acd recordings ...`` and ``acd qa ...``: the integrator registers ``recordings_app`` and ``qa_app``
on the main CLI (``app.add_typer(recordings_app, name="recordings")``, same for ``qa``).

Exit codes follow the project's convention: 0 done, 1 invalid input or data (messages on stderr), 2 usage
error (an impossible date range is a usage error: nothing could ever match). Searches from the command
line are audited like the API's, under the operating-system user with role ``cli`` (R28).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs; only its exception classes are used
import typer
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.settings import Settings, load_settings
from acd.yamlconf import ConfigError

T = TypeVar("T")

recordings_app = typer.Typer(help="Find, download and purge call recordings (R14).", no_args_is_help=True)
qa_app = typer.Typer(help="Quality assessment: forms, scores, agent averages, calibration (R15).",
                     no_args_is_help=True)

ConfigOpt = typer.Option(Path("config/acd.yaml"), "--config", "-c", help="The daemon's acd.yaml.")
JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _settings(config: Path) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


NO_DATABASE = "no database yet{where}: run the daemon (it creates the tables) or `acd db upgrade`"
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error, OSError, TimeoutError,
)
"""A database that is down or refuses us: the driver's and the socket's errors come through unwrapped."""


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: another database, or SQLite in memory)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _run(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]], *, url: str | None = None) -> T:
    """Open the database (``url``, default the config's), run ``work``, close; a database problem is exit 1
    with one line. A database the daemon never created is said so; it is not created empty here."""
    from cdr.db import make_engine

    url = url or settings.database.url.get_secret_value()
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.is_file():
        raise _fail(NO_DATABASE.format(where=f" ({sqlite_file} does not exist)"))

    async def main() -> T:
        db = make_engine(url)
        try:
            async with db.connect() as conn:
                ready = await conn.run_sync(lambda c: inspect(c).has_table("recording_access_log"))
            if not ready:
                raise _fail(NO_DATABASE.format(where=" (the database has no ACD tables)"))
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DATABASE_ERRORS as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        raise _fail(f"database: {exc.__class__.__name__}: {first}") from exc


def _date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}", 2) from exc


def _dates(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    d_from, d_to = _date(start, "--from"), _date(end, "--to")
    if d_from and d_to and d_from > d_to:
        raise _fail(f"impossible date range: --from {d_from} is after --to {d_to}", 2)
    return d_from, d_to


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, default=_jsonable, ensure_ascii=False, indent=2))


@recordings_app.command("search")
def search_cmd(
    caller: str | None = typer.Option(None, "--caller", help="Digits of the caller's number."),
    start: str | None = typer.Option(None, "--from", help="First local date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--to", help="Last local date (inclusive)."),
    agent: str | None = typer.Option(None, "--agent"),
    queue: str | None = typer.Option(None, "--queue"),
    topic: str | None = typer.Option(None, "--topic"),
    call: str | None = typer.Option(None, "--call", help="Call id."),
    limit: int = typer.Option(500, "--limit", min=1, max=100000),
    as_json: bool = JsonOpt,
    config: Path = ConfigOpt,
    db_url: str | None = typer.Option(None, "--db", help="Database URL (default: the config's)."),
) -> None:
    """Recordings matching every given filter, newest first."""
    from recording import store
    from recording.audit import record_access

    d_from, d_to = _dates(start, end)
    if db_url is None and not config.exists():  # like `acd report`: the environment names the database
        db_url = os.environ.get("ACD_DB_URL") or None
    settings = _settings(config) if db_url is None or config.exists() else Settings()
    flt = store.SearchFilter(caller=caller, date_from=d_from, date_to=d_to, agent=agent, queue=queue,
                             topic=topic, call_id=call, limit=limit)

    async def work(db: AsyncEngine) -> list[dict[str, Any]]:
        await record_access(db, user=getpass.getuser(), role="cli", action="search", at=datetime.now(UTC),
                            detail=" ".join(f"{k}={v}" for k, v in flt.as_dict().items()))
        return await store.search(db, flt, settings.tz)

    rows = _run(settings, work, url=db_url)
    if as_json:
        _print_json(rows)
        return
    tz = settings.tz
    if rows:
        typer.echo(f"{'id':>7}  {'started (local)':<19}  {'call':<24} {'caller':<14} {'agent':<10} "
                   f"{'status':<8} file")
    for r in rows:
        local = r["started_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        agent_name = r.get("agent_id") or r.get("call_agent") or "-"
        typer.echo(f"{r['id']:>7}  {local}  {r['call_id']:<24} {r.get('caller') or '-':<14} {agent_name:<10} "
                   f"{r['status']:<8} {settings.paths.recordings / r['path']}")
    typer.echo(f"{len(rows)} recording(s)", err=True)


@recordings_app.command("purge")
def purge_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted; delete nothing."),
    now: str | None = typer.Option(None, "--now", help="Pretend it is this ISO instant (with offset)."),
    as_json: bool = JsonOpt,
    config: Path = ConfigOpt,
) -> None:
    """Delete recordings older than recording.retention_days (kept: legal hold, open QA dispute)."""
    from recording.retention import PurgeResult, purge

    settings = _settings(config)
    at = datetime.now(UTC)
    if now:
        try:
            at = datetime.fromisoformat(now)
        except ValueError as exc:
            raise _fail(f"--now: expected an ISO date-time, got {now!r}", 2) from exc
        if at.tzinfo is None:
            raise _fail("--now: give a UTC offset, e.g. 2027-03-01T00:00:00+05:00", 2)

    async def work(db: AsyncEngine) -> PurgeResult:
        return await purge(db, at, dry_run, root=settings.paths.recordings,
                           retention_days=settings.recording.retention_days)

    result = _run(settings, work)
    if as_json:
        _print_json(result.as_dict())
        return
    verb = "would delete" if dry_run else "deleted"
    for r in result.purged:
        typer.echo(f"{verb}: {r['id']} {r['started_at']} {r['call_id']} {r['path']}")
    for r in result.kept:
        typer.echo(f"kept ({r['reason']}): {r['id']} {r['started_at']} {r['call_id']}")
    days = settings.recording.retention_days
    typer.echo(f"{verb} {len(result.purged)} recording(s), {result.freed_bytes} bytes; "
               f"kept {len(result.kept)}; retention {days} days (before {result.cutoff:%Y-%m-%d %H:%M} UTC)",
               err=True)


def _forms_dir(config: Path, forms: Path | None) -> Path:
    return forms if forms is not None else config.parent / "qa"


FormsOpt = typer.Option(None, "--forms", help="Folder of QA forms (default: qa/ beside acd.yaml).")


@qa_app.command("forms")
def forms_cmd(config: Path = ConfigOpt, forms: Path | None = FormsOpt, as_json: bool = JsonOpt) -> None:
    """Validate and list the evaluation forms (exit 1 with file:line on any problem)."""
    from recording.qa import load_forms

    try:
        loaded = load_forms(_forms_dir(config, forms))
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _print_json({k: v.model_dump() for k, v in loaded.items()})
        return
    for form in loaded.values():
        typer.echo(f"{form.id} v{form.version}: {form.title}")
        for c in form.criteria:
            typer.echo(f"  {c.id:<16} weight {c.weight:g}  scale {c.min:g}..{c.max:g}  {c.title}")


@qa_app.command("score")
def score_cmd(
    recording_id: int = typer.Option(..., "--recording", help="Recording id (from `acd recordings search`)."),
    scores: list[str] = typer.Option(..., "--score", help="criterion=value, once per criterion."),
    form_id: str | None = typer.Option(None, "--form"),
    evaluator: str | None = typer.Option(None, "--evaluator", help="Default: the operating-system user."),
    agent: str | None = typer.Option(None, "--agent", help="When the recording names no agent."),
    comment: str | None = typer.Option(None, "--comment"),
    config: Path = ConfigOpt,
    forms: Path | None = FormsOpt,
) -> None:
    """Score a recorded call against a form; prints the weighted total."""
    from recording import store
    from recording.audit import record_access
    from recording.evaluations import add_evaluation
    from recording.qa import ScoreError, load_forms

    parsed: dict[str, float] = {}
    for item in scores:
        key, sep, value = item.partition("=")
        try:
            parsed[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise _fail(f"--score: expected criterion=number, got {item!r}", 2)
    settings = _settings(config)
    try:
        loaded = load_forms(_forms_dir(config, forms))
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    if form_id is None and len(loaded) == 1:
        form_id = next(iter(loaded))
    if form_id not in loaded:
        raise _fail(f"--form: one of {', '.join(sorted(loaded)) or '(no forms)'}", 2)
    who = evaluator or getpass.getuser()

    async def work(db: AsyncEngine) -> dict[str, Any]:
        row = await store.get_recording(db, recording_id)
        if row is None:
            raise _fail(f"no recording {recording_id}")
        agent_id = row.get("agent_id") or row.get("call_agent") or agent
        if not agent_id:
            raise _fail("the recording names no agent: give --agent")
        saved = await add_evaluation(db, loaded[str(form_id)], call_id=row["call_id"], agent_id=agent_id,
                                     evaluator=who, scores=parsed, now=datetime.now(UTC),
                                     recording_id=recording_id, comment=comment)
        await record_access(db, user=who, role="cli", action="evaluate", at=datetime.now(UTC),
                            recording_id=recording_id, call_id=row["call_id"])
        return saved

    try:
        saved = _run(settings, work)
    except ScoreError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"evaluation {saved['id']}: total {saved['total']:g}%")


def _utc_bounds(settings: Settings, d_from: date | None,
                d_to: date | None) -> tuple[datetime | None, datetime | None]:
    tz = settings.tz
    since = datetime.combine(d_from, time(0), tz).astimezone(UTC) if d_from else None
    until = datetime.combine(d_to + timedelta(days=1), time(0), tz).astimezone(UTC) if d_to else None
    return since, until


@qa_app.command("report")
def report_cmd(
    start: str | None = typer.Option(None, "--from"),
    end: str | None = typer.Option(None, "--to"),
    as_json: bool = JsonOpt,
    config: Path = ConfigOpt,
) -> None:
    """Per-agent quality averages over evaluations made in the (local) date range."""
    from recording.evaluations import agent_report
    from recording.qa import AgentQuality

    d_from, d_to = _dates(start, end)
    settings = _settings(config)
    since, until = _utc_bounds(settings, d_from, d_to)

    async def work(db: AsyncEngine) -> list[AgentQuality]:
        return await agent_report(db, since=since, until=until)

    rows = _run(settings, work)
    if as_json:
        _print_json([r.__dict__ for r in rows])
        return
    for r in rows:
        crit = "  ".join(f"{k}={v:g}" for k, v in sorted(r.criteria.items()))
        typer.echo(f"{r.agent:<12} {r.evaluations:>4} evaluation(s)  average {r.average_total:6.2f}%  {crit}")


@qa_app.command("calibration")
def calibration_cmd(call_id: str, as_json: bool = JsonOpt, config: Path = ConfigOpt) -> None:
    """How far several evaluators of one call disagree: min, max, mean, stddev per criterion."""
    from recording.evaluations import call_calibration

    settings = _settings(config)
    evals, spreads = _run(settings, lambda db: call_calibration(db, call_id))
    if not evals:
        raise _fail(f"no evaluations of call {call_id!r}")
    if as_json:
        _print_json({"evaluations": evals, "spread": [{**s.__dict__, "range": s.range} for s in spreads]})
        return
    typer.echo(f"{len(evals)} evaluation(s) by {', '.join(sorted({e['evaluator'] for e in evals}))}")
    for s in spreads:
        typer.echo(f"  {s.criterion:<16} min {s.min:g}  max {s.max:g}  mean {s.mean:g}  stddev {s.stddev:g}")
