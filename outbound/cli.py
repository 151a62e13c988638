"""``acd campaigns check DIR`` and ``acd campaigns import CAMPAIGN FILE [--dry-run]``.

Exit codes as the rest of ``acd``: 0 done, 1 invalid input (messages on stderr), 2 usage.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from outbound.config import Campaign
    from outbound.contacts import ImportReport

campaigns_app = typer.Typer(no_args_is_help=True)

MAX_LINES_SHOWN = 50


@campaigns_app.command("check")
def check(
    folder: Annotated[Path, typer.Argument(help="Folder of campaign files (config/campaigns)")] = Path(
        "config/campaigns"),
    config: Annotated[Path, typer.Option("-c", "--config", help="acd.yaml whose queues.yaml and agents.yaml "
                                         "the campaigns' queue and agents must be in (skipped if absent)")]
    = Path("config/acd.yaml"),
) -> None:
    """Check every campaign file of FOLDER; errors as file:line: field: message."""
    from acd.yamlconf import ConfigError
    from outbound.config import load_campaigns

    queues, agents = _known_names(config)
    try:
        found = load_campaigns(folder, known_queues=queues, known_agents=agents)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if not folder.is_dir():
        typer.echo(f"error: {folder}: no such folder", err=True)
        raise typer.Exit(1)
    for c in found:
        typer.echo(f"{c.name}: {c.dialing.mode}, queue {c.queue}, {len(c.form.questions)} questions, "
                   f"script in {'/'.join(c.script)}")
    typer.echo(f"{len(found)} campaign(s) OK")


def _known_names(config: Path) -> tuple[list[str] | None, list[str] | None]:
    """Queue and agent names from the config folder next to ``config`` (None: not checked)."""
    from acd.yamlconf import read_yaml

    queues = agents = None
    folder = config.parent
    try:
        if (folder / "queues.yaml").is_file():
            data = read_yaml(folder / "queues.yaml").data or {}
            queues = [str(q.get("name")) for q in data.get("queues", []) if isinstance(q, dict)]
        if (folder / "agents.yaml").is_file():
            data = read_yaml(folder / "agents.yaml").data or {}
            agents = [str(a.get("id", a.get("name"))) for a in data.get("agents", []) if isinstance(a, dict)]
    except Exception:  # a broken queues.yaml is `acd check config`'s business, not this command's
        return None, None
    return queues, agents


@campaigns_app.command("import")
def import_(
    campaign: Annotated[Path, typer.Argument(help="The campaign file (config/campaigns/NAME.yaml)")],
    contacts: Annotated[Path, typer.Argument(help="Contact list: .csv or .xlsx with a phone column")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and summarise; write nothing")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Import nothing if any row is invalid")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: ACD_DB_URL, or the "
                                           "config's)")] = None,
    config: Annotated[Path, typer.Option("-c", "--config", help="acd.yaml for the database URL")] = Path(
        "config/acd.yaml"),
) -> None:
    """Import a contact list into a campaign: bad and duplicate rows are reported by line and skipped."""
    from acd.yamlconf import ConfigError
    from outbound.config import dnc_numbers, load_campaign
    from outbound.contacts import ContactFileError, read_contacts

    try:
        camp = load_campaign(campaign)
        report = read_contacts(contacts, camp, dnc_numbers(camp, campaign))
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except ContactFileError as exc:
        typer.echo(f"error: {exc}; nothing imported", err=True)
        raise typer.Exit(1) from None
    skipped = report.skipped
    for problem in skipped[:MAX_LINES_SHOWN]:
        typer.echo(f"{contacts}:{problem.line}: {problem.reason}", err=True)
    if len(skipped) > MAX_LINES_SHOWN:
        typer.echo(f"... and {len(skipped) - MAX_LINES_SHOWN} more skipped rows", err=True)
    typer.echo(report.summary())
    if strict and report.bad:
        typer.echo(f"error: {len(report.bad)} invalid row(s) and --strict: nothing imported", err=True)
        raise typer.Exit(1)
    if dry_run:
        typer.echo("dry run: nothing written")
        return
    url = db or os.environ.get("ACD_DB_URL") or _config_db(config)
    if not url:
        typer.echo("error: no database: give --db URL, set ACD_DB_URL, or -c config/acd.yaml", err=True)
        raise typer.Exit(1)
    stored = asyncio.run(_store(url, camp, report))
    typer.echo(f"imported {stored.stored} contact(s) into {camp.name}"
               + (f"; {stored.already_in_campaign} were already in it" if stored.already_in_campaign else ""))


def _config_db(config: Path) -> str | None:
    if not config.is_file():
        return None
    from acd.settings import load_settings

    return load_settings(config).database.url.get_secret_value()


async def _store(url: str, camp: Campaign, report: ImportReport) -> ImportReport:
    from cdr.db import make_engine, migrate
    from outbound.contacts import store_contacts

    engine = make_engine(url)
    try:
        await migrate(engine)
        return await store_contacts(engine, camp, report)
    finally:
        await engine.dispose()
