"""Preview campaigns: the agent takes the next contact, reads it, presses Dial; the agent's phone first.

A minimal agent-first path of its own (click-to-call builds the general one in acd/engine/outbound_call.py;
the two are to be folded into one):

1. ``take(agent)``: the next due contact of the campaign (window and do-not-call checked as for the other
   modes) becomes an attempt of that agent (``campaign_attempts.mode = preview``), ``in_progress``.
   Until the agent dials, the agent stays as they are: a ready agent is still offered inbound callers
   first (inbound priority). ``skip`` gives the contact back untouched.
2. ``dial(attempt)``: the ACD core puts the agent on a call at once (no inbound offer while their phone
   rings: the core's restore path, as a consulted agent), the agent's phone is originated into our app
   (``appArgs = preview,<attempt>``). Its StasisStart is the agent's answer: that channel is the call
   (``calls.id``, ``direction = outbound``), and the contact is dialled as an ``out`` leg with the
   campaign's caller id.
3. The contact answers: the conversation path of every call (``CallSession.converse``): bridge, recording
   (R14), the end; the agent goes to wrap-up. Not answered: the outcome from the leg's result (busy,
   unreachable, no answer), the agent's call is hung up and the agent goes to wrap-up as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from acd import events as ev
from acd.ari import models
from acd.ari.errors import AriError
from acd.engine.campaign import e164
from acd.engine.session import CallSession
from acd.events import AgentEvent
from outbound import campaign_store as store
from outbound.config import Campaign, Outcome
from routing.control import CallerHungUp, CallInfo

if TYPE_CHECKING:
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)

LEG_OUTCOMES: dict[str, Outcome] = {"busy": "busy", "unreachable": "unreachable", "no_answer": "no_answer"}
AGENT_RING_S = 30.0
"""How long the agent's own phone rings before the preview call is given up (the contact is not dialled)."""


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
        self._agent_phones: dict[str, Preview] = {}
        """Agents' phones ringing for a preview call (channel id ->)."""
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        now = self.engine.clock.now()
        self.cid = await store.campaign_id(self.db, self.campaign, now)
        await store.recover(self.db, self.cid, now)

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

    async def dial(self, attempt_id: int, agent: str) -> str:
        """Ring the agent's phone for the contact; returns the call id (the agent's channel)."""
        preview = self._own(attempt_id, agent)
        if preview.dialled:
            raise PreviewError("already dialled")
        e = self.engine
        now = e.clock.now()
        if not self.campaign.in_window(now):
            raise PreviewError("outside the campaign's calling window")
        conf = e.config.agents.get(agent)
        if conf is None:
            raise PreviewError(f"unknown agent {agent!r}")
        channel_id = e.new_id("prev")
        before = str(e.acd.snapshot(now).get("agents", {}).get(agent, {}).get("state", ""))
        if before not in ("ready", "not_ready"):
            raise PreviewError(f"the agent is {before or 'unknown'}: finish the current call first")
        e.restore_call(channel_id, agent, self.campaign.queue, connected_at=now)  # reserved: no offers
        e.writer.emit(AgentEvent(agent_id=agent, state="on_call", at=now, previous=before,
                                 reason="campaign_preview", call_id=channel_id))
        preview.dialled, preview.channel_id = True, channel_id
        self._agent_phones[channel_id] = preview
        await store.set_call(self.db, attempt_id, channel_id)
        try:
            await e.ari.channels.originate(
                conf.endpoint or f"PJSIP/{agent}", app=e.settings.ari.app, app_args=f"preview,{attempt_id}",
                channel_id=channel_id, caller_id=e164(preview.contact.phone),
                timeout=math.ceil(AGENT_RING_S))
        except AriError as exc:
            log.warning("preview_agent_originate_failed", agent=agent, error=str(exc)[:200])
            self._agent_phones.pop(channel_id, None)
            await self._end(preview, None, "congestion")
            raise PreviewError("the agent's phone cannot be called") from exc
        return channel_id

    # ---- ARI events of the agents' phones --------------------------------------------------------------
    def on_event(self, event: models.Event) -> bool:
        match event:
            case models.StasisStart() if event.channel.id in self._agent_phones:
                preview = self._agent_phones.pop(event.channel.id)
                self.engine.spawn(self._call(preview, event.channel), f"preview-{preview.attempt_id}")
                return True
            case models.ChannelDestroyed() if event.channel.id in self._agent_phones:
                preview = self._agent_phones.pop(event.channel.id)  # the agent did not answer: contact back
                self.engine.spawn(self._agent_missed(preview))
                return True
            case models.Dial() | models.ChannelHangupRequest() | models.ChannelStateChange() \
                    | models.ChannelVarset() if _channel_id(event) in self._agent_phones:
                return True
        return False

    async def _agent_missed(self, preview: Preview) -> None:
        self.previews.pop(preview.attempt_id, None)
        await store.cancel_attempt(self.db, preview.attempt_id, preview.contact.id)
        self.engine.call_finished(preview.agent)

    async def _call(self, preview: Preview, channel: models.Channel) -> None:
        e, c = self.engine, preview.contact
        now = e.clock.now()
        info = CallInfo(call_id=channel.id, caller=c.phone, caller_name=c.name, dialled=c.phone,
                        language=c.language or "")
        session = CallSession(e, info, channel.name)
        e.registry.add_session(session)
        session.arrived_at = now
        e.metrics.calls.inc()
        e.emit_milestone(channel.id, ev.Arrived(direction="outbound", dialled=c.phone, caller=c.phone,
                                                caller_name=c.name, channel=channel.name,
                                                linked_id=channel.id), now)
        session.emit(ev.Step(step="campaign", detail=self.campaign.name))
        outcome: Outcome = "congestion"
        answered_at: float | None = None
        try:
            leg = await e.originate_leg(session, self.campaign.dialing.dial_string(c.phone), kind="out",
                                        timeout_s=self.campaign.dialing.ring_timeout_s,
                                        caller_id=e164(self.campaign.caller_id))
            answered = await session._until(asyncio.shield(leg.answered))
            if answered:
                outcome, answered_at = "answered", e.clock.now()
                e.emit_milestone(channel.id, ev.Connected(queue=self.campaign.queue, agent=preview.agent),
                                 answered_at)
                await session.converse(leg, queue=None, record=True)
            else:
                outcome = LEG_OUTCOMES.get(leg.result, "congestion")
        except CallerHungUp:  # the agent hung up while the contact's phone rang
            outcome = "no_answer" if answered_at is None else "answered"
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("preview_call_failed", call_id=channel.id)
        if e.accepting:
            if not session.gone.is_set():
                with contextlib.suppress(AriError):
                    await session.hangup()
            e.finish_call(session)
            e.call_finished(preview.agent)
        await self._end(preview, answered_at, outcome)

    async def _end(self, preview: Preview, answered_at: float | None, outcome: Outcome) -> None:
        self.previews.pop(preview.attempt_id, None)
        await store.finish_attempt(self.db, self.campaign, preview.attempt_id, preview.contact.id, outcome,
                                   now=self.engine.clock.now(), answered_at=answered_at)


def _channel_id(event: models.Event) -> str | None:
    channel = getattr(event, "channel", None) or getattr(event, "peer", None)
    return getattr(channel, "id", None)
