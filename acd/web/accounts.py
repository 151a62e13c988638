"""Console accounts: users with a role and an argon2id password hash, server-side browser sessions, and the
audit of every log-in attempt (issue 13, docs/decisions/web-01-accounts.md).

Users live in the database (``web_users``, migration ``0005_users``) rather than YAML, because passwords
change at run time (``acd users passwd``, a future admin console) and a session must die at once when its
user is disabled. A browser holds only a random session id in a cookie; the table keeps its SHA-256, so a
stolen database dump does not open live sessions. ``logout everywhere`` deletes all rows of a user.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, Column, MetaData, String, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.web.auth import Principal
from cdr.schema import Serial
from cdr.types import UtcDateTime

ROLE_NAMES = ("agent", "supervisor", "admin", "reporting")
SESSION_TTL = timedelta(hours=12)
"""A working shift and some: a session older than this asks for the password again."""
MIN_PASSWORD = 8
MAX_TRACKED = 10_000
"""User names and addresses the log-in limiter remembers before it prunes the expired ones."""

metadata = MetaData()
web_users = Table(
    "web_users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("agent", String(64)),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
)
web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("remote", String(64)),
)
web_login_log = Table(
    "web_login_log", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("remote", String(64)),
)

LoginOutcome = Literal["ok", "bad_password", "unknown_user", "disabled", "rate_limited", "logout",
                       "logout_all"]

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
"""Verified against when the user is unknown, so the answer takes as long as for a real user."""


class AccountError(ValueError):
    """A refused account change; the message is for the person at the keyboard."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    agent: str | None
    disabled: bool

    def principal(self) -> Principal:
        return Principal(self.name, self.role, self.agent)


@dataclass(frozen=True)
class WebSession:
    """A live browser session: who, and the CSRF token every state-changing request must echo."""

    principal: Principal
    csrf: str


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password too short: at least {MIN_PASSWORD} characters")


def _account(row: object) -> Account:
    m = row._mapping  # type: ignore[attr-defined]
    return Account(m["name"], m["role"], m["agent"], bool(m["disabled"]))


class AccountStore:
    """Users, sessions and the log-in audit over the CDR database. ``clock`` gives epoch seconds (the
    daemon's clock, virtual in tests)."""

    def __init__(self, db: AsyncEngine, clock: Callable[[], float]) -> None:
        self.db = db
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # ---- users ---------------------------------------------------------------------------------------
    async def add(self, name: str, role: str, agent: str | None, password: str) -> Account:
        if role not in ROLE_NAMES:
            raise AccountError(f"unknown role {role!r} (one of: {', '.join(ROLE_NAMES)})")
        if role == "agent" and not agent:
            raise AccountError("an agent user needs --agent ID (the agent id of agents.yaml)")
        if role != "agent" and agent:
            raise AccountError("--agent is only for role agent")
        plain = name.replace("_", "").replace("-", "").replace(".", "")
        if not name or len(name) > 64 or not plain.isalnum():
            raise AccountError("user name: 1-64 letters, digits, '.', '-' or '_'")
        check_password(password)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        now = self._now()
        async with self.db.begin() as conn:
            if (await conn.execute(select(web_users.c.name).where(web_users.c.name == name))).first():
                raise AccountError(f"user {name!r} exists already")
            await conn.execute(insert(web_users).values(
                name=name, role=role, agent=agent, password_hash=hashed, disabled=False,
                created_at=now, password_changed_at=now))
        return Account(name, role, agent, False)

    async def list(self) -> list[Account]:
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(web_users).order_by(web_users.c.name))).all()
        return [_account(r) for r in rows]

    async def get(self, name: str) -> Account | None:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(web_users).where(web_users.c.name == name))).first()
        return _account(row) if row else None

    async def set_disabled(self, name: str, disabled: bool) -> None:
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(web_users).where(web_users.c.name == name).values(disabled=disabled))
            if done.rowcount == 0:
                raise AccountError(f"no user {name!r}")
            if disabled:
                await conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))

    async def set_role(self, name: str, role: str, agent: str | None) -> None:
        """A new role (and, for role agent, the agent id); it applies to the user's open sessions at once,
        as every request reads the role from this table."""
        if role not in ROLE_NAMES:
            raise AccountError(f"unknown role {role!r} (one of: {', '.join(ROLE_NAMES)})")
        if role == "agent" and not agent:
            raise AccountError("an agent user needs the agent id of agents.yaml")
        if role != "agent" and agent:
            raise AccountError("an agent id is only for role agent")
        async with self.db.begin() as conn:
            done = await conn.execute(
                update(web_users).where(web_users.c.name == name).values(role=role, agent=agent))
            if done.rowcount == 0:
                raise AccountError(f"no user {name!r}")

    async def set_password(self, name: str, password: str) -> None:
        """A new password also ends the user's sessions: whoever knew the old one is out."""
        check_password(password)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        async with self.db.begin() as conn:
            done = await conn.execute(update(web_users).where(web_users.c.name == name).values(
                password_hash=hashed, password_changed_at=self._now()))
            if done.rowcount == 0:
                raise AccountError(f"no user {name!r}")
            await conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))

    async def verify(self, name: str, password: str) -> tuple[Account | None, LoginOutcome]:
        """The account if the password is right and the user enabled; the outcome for the audit."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(web_users).where(web_users.c.name == name))).first()
        stored = row._mapping["password_hash"] if row else _DUMMY_HASH
        try:
            ok: bool = await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if row is None:
            return None, "unknown_user"
        if not ok:
            return None, "bad_password"
        account = _account(row)
        if account.disabled:
            return None, "disabled"
        return account, "ok"

    # ---- sessions ------------------------------------------------------------------------------------
    async def open_session(self, account: Account, remote: str | None) -> tuple[str, str]:
        """A new session: ``(cookie value, csrf token)``."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._now()
        async with self.db.begin() as conn:
            await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
            await conn.execute(insert(web_sessions).values(
                id_hash=_sha(token), user_name=account.name, csrf=csrf, created_at=now,
                expires_at=now + SESSION_TTL, remote=(remote or "")[:64]))
        return token, csrf

    async def session(self, token: str) -> WebSession | None:
        """The session of a cookie value, if it is live and its user still enabled."""
        j = web_sessions.join(web_users, web_users.c.name == web_sessions.c.user_name)
        query = select(web_users, web_sessions.c.csrf, web_sessions.c.expires_at).select_from(j).where(
            web_sessions.c.id_hash == _sha(token))
        async with self.db.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row._mapping["expires_at"] < self._now():
            return None
        account = _account(row)
        if account.disabled:
            return None
        return WebSession(account.principal(), row._mapping["csrf"])

    async def close_session(self, token: str) -> None:
        async with self.db.begin() as conn:
            await conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _sha(token)))

    async def close_all_sessions(self, name: str) -> int:
        async with self.db.begin() as conn:
            done = await conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        return int(done.rowcount or 0)

    async def count_sessions(self, name: str) -> int:
        async with self.db.connect() as conn:
            value = await conn.scalar(select(func.count()).select_from(web_sessions).where(
                web_sessions.c.user_name == name))
        return int(value or 0)

    # ---- audit ---------------------------------------------------------------------------------------
    async def audit(self, name: str, outcome: LoginOutcome, remote: str | None) -> None:
        async with self.db.begin() as conn:
            await conn.execute(insert(web_login_log).values(
                at=self._now(), user_name=name[:64], outcome=outcome, remote=(remote or "")[:64]))


class LoginLimiter:
    """At most ``limit`` failed log-ins per user name, and ``remote_limit`` per remote address, within
    ``window_s``; beyond that every attempt is refused (429) until the oldest failure leaves the window.
    The per-address limit is higher because a whole call-centre floor may share one address behind NAT:
    one agent's typos must not lock out the others. Kept in memory: a restart forgets it."""

    def __init__(self, clock: Callable[[], float], *, limit: int = 5, remote_limit: int = 20,
                 window_s: float = 300.0) -> None:
        self.clock = clock
        self.limit = limit
        self.remote_limit = remote_limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        horizon = self.clock() - self.window_s
        while q and q[0] < horizon:
            q.popleft()
        return q

    def retry_after(self, name: str, remote: str | None) -> float | None:
        """Seconds until another attempt is allowed, None if allowed now."""
        waits = []
        for key, limit in ((f"u:{name.lower()}", self.limit), (f"r:{remote}", self.remote_limit)):
            q = self._recent(key)
            if len(q) >= limit:
                waits.append(q[0] + self.window_s - self.clock())
        return max(waits) if waits else None

    def failed(self, name: str, remote: str | None) -> None:
        now = self.clock()
        for key in (f"u:{name.lower()}", f"r:{remote}"):
            self._recent(key).append(now)
        if len(self._failures) > MAX_TRACKED:  # someone guessing many names: forget what has expired
            for key in [k for k in self._failures if not self._recent(k)]:
                del self._failures[key]

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"u:{name.lower()}", None)
