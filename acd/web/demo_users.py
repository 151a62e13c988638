"""``acd demo``'s console users: a demo agent (agent1), a supervisor and an admin, with fresh random passwords
printed once (never a fixed default password, even for a demo)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from acd.web.accounts import AccountStore


@dataclass(frozen=True)
class DemoLogin:
    name: str
    role: str
    password: str
    url: str


async def create_demo_users(db_url: str, api: str, console: Any | None = None) -> list[DemoLogin]:
    """Create (or reset) ``agent1``, ``supervisor`` and ``admin`` in the demo database; print where to sign
    in. The daemon has migrated the database by the time its /health answers."""
    from cdr.db import make_engine

    db = make_engine(db_url)
    logins = [DemoLogin("agent1", "agent", secrets.token_urlsafe(9), f"{api}/agent/agent1"),
              DemoLogin("supervisor", "supervisor", secrets.token_urlsafe(9), f"{api}/wallboard"),
              DemoLogin("admin", "admin", secrets.token_urlsafe(9), f"{api}/admin")]
    try:
        store = AccountStore(db, time.time)
        for login in logins:
            if await store.get(login.name) is None:
                await store.add(login.name, login.role, "agent1" if login.role == "agent" else None,
                                login.password)
            else:
                await store.set_password(login.name, login.password)
    finally:
        await db.dispose()
    if console is not None:
        console.print(f"[bold]Agent desktop[/]: {api}/login")
        for login in logins:
            console.print(f"  {login.role:<10} user [bold]{login.name}[/]  "
                          f"password [bold]{login.password}[/]")
    return logins
