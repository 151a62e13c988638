"""The service-desk webhook (seeds 000/001): escalations posted as signed JSON from a durable outbox.

Why an outbox: the escalation must reach the service desk even if it is down for hours or the daemon
restarts meanwhile. ``enqueue`` writes the exact body into ``webhook_outbox`` in the caller's transaction
(with the callback it announces); ``OutboxSender`` posts due rows, marks them delivered on a 2xx answer
and otherwise retries with doubling back-off up to ``backoff_max``. A restart loses nothing: the rows are
still there and the sender picks them up where it left.

Signature: ``X-ACD-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>``, plus
``X-ACD-Event`` and ``X-ACD-Delivery`` (the outbox row id, stable over retries, for the receiver's
de-duplication). The secret comes from the environment and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from outbound.callbacks import ServiceDesk
from outbound.schema import webhook_outbox

log = structlog.get_logger("outbound.servicedesk")

SIGNATURE_HEADER = "X-ACD-Signature"


def sign(body: bytes, secret: str) -> str:
    """The header value a receiver recomputes: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """What the service desk does with the header (shown in docs/outbound.md; used by the tests)."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


@dataclass(frozen=True)
class Escalation:
    """What the service desk receives when an agent or supervisor escalates a call to the second line."""

    callback_id: str
    call_id: str
    caller: str | None
    topic: str | None
    comment: str | None
    recording_url: str | None
    agent: str | None
    escalated_by: str
    due_at: str
    """ISO 8601 UTC: when the second line must have called back."""

    def body(self) -> bytes:
        data: dict[str, Any] = {"event": "escalation", "callback_id": self.callback_id,
                                "call": {"id": self.call_id, "recording_url": self.recording_url},
                                "caller": self.caller, "topic": self.topic, "comment": self.comment,
                                "recording_url": self.recording_url, "agent": self.agent,
                                "escalated_by": self.escalated_by, "due_at": self.due_at}
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()


async def enqueue(conn: AsyncConnection, url: str, event: str, body: bytes, now: datetime) -> int:
    """Add a delivery to the outbox inside the caller's transaction; it is due at once."""
    res = await conn.execute(insert(webhook_outbox).values(
        event=event, url=url, body=body.decode(), created_at=now, attempts=0, next_try_at=now))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def backoff(attempts: int, desk: ServiceDesk) -> float:
    """Delay after the ``attempts``-th failed try: first, doubling, capped."""
    return float(min(desk.backoff_max, desk.backoff_first * 2 ** max(attempts - 1, 0)))


class OutboxSender:
    """Posts due outbox rows; one instance per daemon, run as a task (``run``), woken by ``wake``."""

    def __init__(self, db: AsyncEngine, desk: ServiceDesk, secret: str, *,
                 clock: Callable[[], float], poll_s: float = 5.0) -> None:
        self.db, self.desk, self._secret, self.clock, self.poll_s = db, desk, secret, clock, poll_s
        self._wake = asyncio.Event()
        self.updated = asyncio.Event()
        """Set after each attempt's result is stored (for tests and the health check to await)."""

    def wake(self) -> None:
        """A new row was enqueued: deliver it now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.desk.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    wait = await self.deliver_due(http)
                except Exception as exc:  # database outage: keep the task alive, try again later
                    log.warning("outbox_pass_failed", error=type(exc).__name__)
                    wait = self.poll_s
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.01, min(wait, self.poll_s)))

    async def deliver_due(self, http: aiohttp.ClientSession) -> float:
        """Try every due row once; returns the seconds until the next row is due (or ``poll_s``)."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        t = webhook_outbox.c
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(t.id, t.event, t.url, t.body, t.attempts)
                                       .where(t.delivered_at.is_(None), t.next_try_at <= now)
                                       .order_by(t.id).limit(100))).all()
        for row in rows:
            ok, error = await self._post(http, row.url, row.event, row.id, row.body.encode())
            at = datetime.fromtimestamp(self.clock(), UTC)
            values: dict[str, Any] = {"attempts": row.attempts + 1}
            if ok:
                values["delivered_at"] = at
                values["last_error"] = None
                log.info("webhook_delivered", delivery=row.id, webhook_event=row.event,
                         attempts=row.attempts + 1)
            else:
                delay = backoff(row.attempts + 1, self.desk)
                values["next_try_at"] = datetime.fromtimestamp(at.timestamp() + delay, UTC)
                values["last_error"] = error[:512]
                log.warning("webhook_refused", delivery=row.id, webhook_event=row.event, error=error,
                            attempts=row.attempts + 1, retry_in_s=delay)
            async with self.db.begin() as conn:
                await conn.execute(update(webhook_outbox).where(t.id == row.id).values(**values))
            self.updated.set()
        async with self.db.connect() as conn:
            nxt = (await conn.execute(select(t.next_try_at).where(t.delivered_at.is_(None))
                                      .order_by(t.next_try_at).limit(1))).scalar()
        if nxt is None:
            return self.poll_s
        return max(0.0, float(nxt.timestamp()) - self.clock())

    async def _post(self, http: aiohttp.ClientSession, url: str, event: str, delivery: int,
                    body: bytes) -> tuple[bool, str]:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self._secret),
                   "X-ACD-Event": event, "X-ACD-Delivery": str(delivery)}
        try:
            async with http.post(url, data=body, headers=headers) as resp:
                if 200 <= resp.status < 300:
                    return True, ""
                return False, f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
