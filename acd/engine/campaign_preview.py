"""Preview campaigns: the agent takes the next contact, reads it, presses Dial; the agent's phone first.

1. ``take(agent)``: the next due contact of the campaign (window and do-not-call checked as for the other
   modes) becomes an attempt of that agent (``campaign_attempts.mode = preview``), ``in_progress``.
   Until the agent dials, the agent stays as they are: a ready agent is still offered inbound callers
   first (inbound priority). ``skip`` gives the contact back untouched.
2. ``dial(attempt)``: the one agent-first path of the daemon, ``Outbound.dial`` with a ``CampaignCall``
   (acd/engine/outbound_call.py): the agent reserved from the click, their phone rung, the contact dialled
   through the campaign's trunk with its caller id, the conversation recorded, wrap-up as for inbound, and a
   connected call adopted by a restarted daemon like a click-to-call (``ACD_STATE`` names the attempt).
3. ``finished``: the call's ``DialOutcome`` becomes the attempt's outcome and the contact's fate (retry or
   closed, ``finish_attempt``); a call whose agent never answered their own phone gives the contact back
   untouched (not an attempt).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.engine.campaign import e164
from acd.engine.outbound_call import CampaignCall, DialOutcome, OutboundCall, OutboundDone, OutboundRefused
from outbound import campaign_store as store
from outbound.config import Campaign, Outcome

if TYPE_CHECKING:
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)

ATTEMPT_OUTCOMES: dict[DialOutcome, Outcome] = {
    "reached": "answered", "no_answer": "no_answer", "busy": "busy", "congestion": "congestion",
    "unavailable": "unreachable", "invalid_number": "unreachable", "cancelled": "no_answer",
    "failed": "congestion",
}
"""A preview call's end -> the attempt's outcome (the campaign's retry rules read it). The ``agent_*``
outcomes are missing on purpose: the contact was never dialled, the attempt is withdrawn."""


class PreviewError(Exception):
    """The preview cannot go on: no contact due, not this agent's, already dialled, outside the window."""


@dataclass
class Preview:
    attempt_id: int
    agent: str
    contact: store.DueContact
    channel_id: str = ""
    dialled: bool = False


class PreviewDialer:
    def __init__(self, engine: Engine, db: AsyncEngine, campaign: Campaign, do_not_call: set[str]) -> None:
        self.engine = engine
        self.db = db
        self.campaign = campaign
        self.dnc = do_not_call
        self.cid = 0
        self.previews: dict[int, Preview] = {}
        """Attempts taken by agents and not ended (attempt id ->)."""
        self._lock = asyncio.Lock()
        self.resynced = asyncio.Event()
        """Set by ``Campaigns.resynced``: the calls a previous daemon placed are followed again."""

    async def start(self) -> None:
        """The campaign's row, then (once the first resync has adopted the calls Asterisk still holds) the
        attempts a stopped daemon left open and nobody follows: closed from the CDR (``recover_lost``)."""
        self.cid = await store.campaign_id(self.db, self.campaign, self.engine.clock.now())
        await self.resynced.wait()
        followed = {s.request.campaign.attempt for s in self.engine.registry.sessions()
                    if isinstance(s, OutboundCall) and s.request.campaign is not None
                    and s.request.campaign.campaign == self.campaign.name}
        if (n := await store.recover_lost(self.db, self.campaign, self.cid, self.engine.clock.now(),
                                          followed)):
            log.warning("preview_recovered_attempts", campaign=self.campaign.name, attempts=n)

    # ---- the agent's requests ------------------------------------------------------------------------
    async def take(self, agent: str) -> Preview:
        """The agent's next contact (the one they already hold, if any)."""
        held = next((p for p in self.previews.values() if p.agent == agent and not p.dialled), None)
        if held is not None:
            return held
        now = self.engine.clock.now()
        if not self.campaign.in_window(now):
            raise PreviewError("outside the campaign's calling window")
        async with self._lock:  # two agents asking at once get two contacts
            busy = {p.contact.id for p in self.previews.values()}
            while True:
                due = await store.due_contacts(self.db, self.cid, now, 1, busy)
                if not due:
                    raise PreviewError("no contact is due")
                if due[0].phone in self.dnc:
                    await store.mark_do_not_call(self.db, due[0].id)
                    continue
                break
            attempt = await store.start_attempt(self.db, self.cid, due[0], mode="preview", call_id=None,
                                                now=now, agent=agent)
            preview = self.previews[attempt] = Preview(attempt, agent, due[0])
        return preview

    async def skip(self, attempt_id: int, agent: str) -> None:
        preview = self._own(attempt_id, agent)
        if preview.dialled:
            raise PreviewError("already dialled")
        del self.previews[attempt_id]
        await store.cancel_attempt(self.db, attempt_id, preview.contact.id)

    def _own(self, attempt_id: int, agent: str) -> Preview:
        preview = self.previews.get(attempt_id)
        if preview is None or preview.agent != agent:
            raise PreviewError(f"attempt {attempt_id} is not yours")
        return preview

    def call_for(self, attempt_id: int, contact_id: int, phone: str) -> CampaignCall:
        """What ``Outbound.dial`` needs to dial this campaign's contact."""
        d = self.campaign.dialing
        return CampaignCall(campaign=self.campaign.name, attempt=attempt_id, contact=contact_id,
                            endpoint=d.dial_string(phone), caller_id=e164(self.campaign.caller_id),
                            ring_s=d.ring_timeout_s, queue=self.campaign.queue)

    async def dial(self, attempt_id: int, agent: str) -> str:
        """Ring the agent's phone for the contact; returns the call id (the agent's channel)."""
        preview = self._own(attempt_id, agent)
        if preview.dialled:
            raise PreviewError("already dialled")
        if not self.campaign.in_window(self.engine.clock.now()):
            raise PreviewError("outside the campaign's calling window")
        c = preview.contact
        try:
            call_id = await self.engine.outbound.dial(agent, c.phone,
                                                      campaign=self.call_for(attempt_id, c.id, c.phone))
        except OutboundRefused as exc:
            raise PreviewError(str(exc)) from exc
        preview.dialled, preview.channel_id = True, call_id
        await store.set_call(self.db, attempt_id, call_id)
        return call_id

    async def finished(self, done: OutboundDone) -> None:
        """The preview call ended (``Outbound.done``): the attempt's outcome and the contact's fate."""
        assert done.campaign is not None
        attempt, contact = done.campaign.attempt, done.campaign.contact
        self.previews.pop(attempt, None)
        outcome = ATTEMPT_OUTCOMES.get(done.outcome)
        if outcome is None:  # the agent's own phone: the contact was not dialled
            await store.cancel_attempt(self.db, attempt, contact)
            return
        if done.connected_at is not None:
            await store.set_agent(self.db, attempt, done.agent_id, None)
        await store.finish_attempt(self.db, self.campaign, attempt, contact, outcome,
                                   now=self.engine.clock.now(), answered_at=done.connected_at)
        log.info("preview_attempt_ended", campaign=self.campaign.name, attempt=attempt, outcome=outcome)
