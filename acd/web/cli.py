"""``acd users``: console accounts (issue 13). There is no default account and no default password: the
first admin is made with ``acd users add NAME --role admin``, typing the password twice (or piping it with
``--password-stdin``, or ``ACD_USER_PASSWORD`` for scripts)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

T = TypeVar("T")
users_app = typer.Typer(no_args_is_help=True, help="Console users: agents, supervisors, admins (issue 13).")
ConfigOpt = typer.Option(Path("config/acd.yaml"), "--config", "-c", help="The daemon's acd.yaml.")
StdinOpt = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin.")
PASSWORD_ENV = "ACD_USER_PASSWORD"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _run(config: Path, work: Callable[..., Awaitable[T]]) -> T:
    """Open the database of ``config`` (migrated: the users table may be new), run ``work(store)``."""
    from sqlalchemy.exc import SQLAlchemyError

    from acd.settings import load_settings
    from acd.web.accounts import AccountError, AccountStore
    from acd.yamlconf import ConfigError
    from cdr.db import make_engine, migrate

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc

    async def main() -> T:
        db = make_engine(settings.database.url.get_secret_value())
        try:
            await migrate(db)


            return await work(AccountStore(db, time.time))
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except AccountError as exc:
        raise _fail(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise _fail(f"database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc


@users_app.command("add")
def add(name: str, role: str = typer.Option(..., "--role", help="agent, supervisor, admin or reporting"),
        agent: str | None = typer.Option(None, "--agent", help="For role agent: the agent id (agents.yaml)."),
        password_stdin: bool = StdinOpt, config: Path = ConfigOpt) -> None:
    """Create a user; the password is asked twice (never a default)."""
    from acd.web.accounts import check_password

    password = _password(password_stdin)
    try:
        check_password(password)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    account = _run(config, lambda store: store.add(name, role, agent, password))
    as_agent = f", agent {account.agent}" if account.agent else ""
    typer.echo(f"user {account.name} ({account.role}{as_agent}) created")


@users_app.command("list")
def list_users(config: Path = ConfigOpt) -> None:
    """Every user with role, agent id and whether disabled."""
    accounts = _run(config, lambda store: store.list())
    if not accounts:
        typer.echo("no users yet: acd users add NAME --role admin")
    for a in accounts:
        flag = "  disabled" if a.disabled else ""
        typer.echo(f"{a.name:<24} {a.role:<11} {a.agent or '-':<12}{flag}")


@users_app.command("disable")
def disable(name: str, config: Path = ConfigOpt) -> None:
    """Disable a user and end their sessions at once."""
    _run(config, lambda store: store.set_disabled(name, True))
    typer.echo(f"user {name} disabled; their sessions are closed")


@users_app.command("enable")
def enable(name: str, config: Path = ConfigOpt) -> None:
    """Enable a disabled user again."""
    _run(config, lambda store: store.set_disabled(name, False))
    typer.echo(f"user {name} enabled")


@users_app.command("passwd")
def passwd(name: str, password_stdin: bool = StdinOpt, config: Path = ConfigOpt) -> None:
    """Set a new password; the user's open sessions end."""
    password = _password(password_stdin)
    _run(config, lambda store: store.set_password(name, password))
    typer.echo(f"password of {name} changed; their sessions are closed")


@users_app.command("logout")
def logout(name: str, config: Path = ConfigOpt) -> None:
    """End every browser session of a user (a lost laptop)."""
    count = _run(config, lambda store: store.close_all_sessions(name))
    typer.echo(f"{count} session(s) of {name} closed")
