"""The ``acd`` command line. Exit codes: 0 done, 1 invalid input or data (messages on stderr), 2 usage.

Each area keeps its command in its own package (``cdr/cli.py``, ``recording/cli.py``, ...); this module only
assembles them, so ``acd --help`` stays fast and no command imports the whole project.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Call-routing engine for Asterisk: ACD, IVR, recording and CDR over ARI.",
)


def _clock(spec: str | None):  # type: ignore[no-untyped-def]
    from acd.clock import Clock

    try:
        return Clock.parse(spec or os.environ.get("ACD_CLOCK"))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def run(
    config: Path = typer.Option(
        Path("config/acd.yaml"),
        "-c",
        "--config",
        help="The daemon's acd.yaml; queues, agents and scenarios are read from the same folder.",
    ),
    clock: str | None = typer.Option(
        None, help="Virtual clock 'start=ISO,speed=X,anchor=EPOCH' (tests, demo)."
    ),
    agents_ready: bool = typer.Option(False, help="Start every agent ready (demo); default logged out."),
) -> None:
    """Run the daemon beside Asterisk."""
    from acd.daemon import StartupError, run_daemon
    from acd.runtime import run as run_loop
    from acd.yamlconf import ConfigError

    if not config.is_file():
        typer.echo(f"error: {config}: no such file (give the daemon's acd.yaml with -c)", err=True)
        raise typer.Exit(1)
    try:
        code = run_loop(run_daemon(config.parent, _clock(clock), "ready" if agents_ready else "logged_out"))
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


@app.command()
def demo(
    calls: int | None = typer.Option(None, help="How many calls the callers make (default 40; --by-hand: "
                                     "until Ctrl-C)."),
    agents: int = typer.Option(8, help="How many simulated agents answer (agent1..agentN)."),
    speed: float | None = typer.Option(None, help="Time acceleration (default 40: a 5-minute call lasts "
                                       "7.5 s; --by-hand: 1)."),
    db: str | None = typer.Option(None, help="Database URL (default: SQLite under var/demo/)."),
    seed: int = typer.Option(1, help="Seed of the traffic."),
    campaign: int = typer.Option(0, help="Also run a predictive outbound campaign over this many contacts."),
    by_hand: bool = typer.Option(False, "--by-hand", help="For a person at a browser (make demo): agent1 "
                                 "is yours, its phone rings until you answer on its page; until Ctrl-C."),
) -> None:
    """Simulator, daemon and simulated traffic together; ends with a summary read from the CDR."""
    from acd.demo import run_demo

    raise typer.Exit(asyncio.run(run_demo(calls=calls, agents=agents, speed=speed, db_url=db, seed=seed,
                                          campaign=campaign, by_hand=by_hand)))


db_app = typer.Typer(no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    config: Path = typer.Option(Path("config/acd.yaml"), "-c", "--config", help="The daemon's acd.yaml."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: the config's, or ACD_DB_URL)."),
) -> None:
    """Create the database's tables, or bring them to the newest schema (the daemon does it at start)."""
    from recording.cli import DATABASE_ERRORS

    url = db
    if url is None:
        from acd.settings import load_settings
        from acd.yamlconf import ConfigError

        try:
            url = load_settings(config).database.url.get_secret_value()
        except ConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
    try:
        asyncio.run(_upgrade(url))
    except DATABASE_ERRORS as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        typer.echo(f"error: database: {type(exc).__name__}: {first}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("database schema is up to date")


async def _upgrade(url: str) -> None:
    from sqlalchemy.engine import make_url

    from cdr.db import make_engine, migrate

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def _register() -> None:
    from acd.asterisk_check import check  # `acd check DIR`, and `acd check asterisk ETC_DIR`
    from acd.config_cli import schema
    from acd.prompts_cli import prompts_build
    from acd.sim.cli import simulate
    from acd.web.cli import users_app
    from cdr.cli import report
    from outbound.cli import campaigns_app
    from recording.cli import qa_app, recordings_app

    app.command()(simulate)
    app.command()(check)
    app.command()(schema)
    app.command()(report)
    prompts_app = typer.Typer(no_args_is_help=True)
    prompts_app.command("build")(prompts_build)
    app.add_typer(recordings_app, name="recordings", help="Search and purge recordings (R14).")
    app.add_typer(qa_app, name="qa", help="Quality assessment of calls (R15).")
    app.add_typer(prompts_app, name="prompts", help="Build the IVR prompts (espeak-ng + sox).")
    app.add_typer(db_app, name="db", help="The CDR database: create or upgrade its tables.")
    app.add_typer(campaigns_app, name="campaigns", help="Outbound campaigns: check files, import contacts.")
    app.add_typer(users_app, name="users", help="Console users and their passwords (issue 13).")


def main() -> None:
    _register()
    app(prog_name="acd")


if __name__ == "__main__":
    main()
