"""Resynchronise with Asterisk after a (re)connect, and adopt the calls a previous daemon left (R27).

Asterisk never replays the events missed while the WebSocket was down (BEHAVIOUR.md 2), but it keeps the
app's channels and bridges. So after every connect:
- sessions and legs whose channel is gone are ended as if the hang-up had been seen;
- playbacks and recordings that finished meanwhile are resolved, so no scenario waits forever;
- channels in our app that this process does not know (it was restarted) are read (``ACD_STATE``, a
  ``SavedState``) and adopted where they are: a conversation is followed to its end through the same path
  as a live one, a waiting caller re-enters its scenario at its queue step with its original entry time (so
  hold music, announcements, the recording notice and overflow are the scenario's own), a voicemail is
  followed until the message ends, a call in the IVR starts its scenario again
  (docs/decisions/engine-01-restart-resume.md).
- calls that ended while no daemon listened (nothing left to adopt) are closed from the CDR's open rows
  after the first resync of the process (acd/engine/orphans.py).
- a channel the daemon dialled (``role=agent|out``) is never taken for a caller. It is kept when a
  conversation names it, or when it is the ``;2`` half of a Local channel that one names (Asterisk
  subscribes the app to both halves of a Local channel it originates and copies the variables to ``;2``,
  docs/ari-simulator.md); any other one is a leftover offer and is hung up.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import structlog

from acd import events as ev
from acd.ari.errors import AriError, AriNotFound
from acd.engine.state import STATE_VAR, SavedState
from routing.control import RecordResult
from routing.interpreter import run_scenario

if TYPE_CHECKING:
    from acd.engine.engine import Engine
    from acd.engine.session import CallSession

log = structlog.get_logger(__name__)


async def read_state(engine: Engine, channel_id: str) -> SavedState | None:
    """The ``ACD_STATE`` a previous daemon wrote on the channel; None when the channel is gone."""
    try:
        return SavedState.parse(await engine.ari.channels.get_var(channel_id, STATE_VAR))
    except AriNotFound:
        try:
            await engine.ari.channels.get(channel_id)
        except AriNotFound:
            return None
        except AriError:
            return SavedState()
        return SavedState()  # the channel is there, the variable not (yet)
    except AriError:
        return SavedState()


def local_base(name: str) -> str | None:
    """``Local/1001@agent-echo-0000002a;2`` -> ``Local/1001@agent-echo-0000002a`` (None if not Local)."""
    if name.startswith("Local/") and name[-2:] in (";1", ";2"):
        return name[:-2]
    return None


async def resync(engine: Engine) -> None:
    await _resync(engine)
    if engine.campaigns is not None:  # the campaigns' lost attempts are closed after the adoption
        engine.campaigns.resynced()
    engine.kept.after_resync()  # "keep my place": the places a previous daemon kept (when not done below)
    # Calls that ended while no daemon listened left no channel to adopt: the CDR's open rows are closed
    # from what the database and Asterisk still say (acd/engine/orphans.py), once per process.
    engine.orphans.after_resync()


async def _resync(engine: Engine) -> None:
    from acd.engine.engine import OWN_PREFIX

    reg = engine.registry
    app = await engine.ari.applications.get(engine.settings.ari.app)
    channels = {c.id: c for c in await engine.ari.channels.list()}
    ours = set(app.channel_ids)
    for session in reg.sessions():
        if session.channel_id not in channels:
            engine.gone_during_gap(session)
            engine.caller_gone(session, 16)
    for leg in reg.legs():
        if leg.channel_id not in channels:
            talking = reg.session(leg.call_id)
            if talking is not None and leg.answered.done() and leg.answered.result():
                engine.gone_during_gap(talking)  # the conversation ended with the agent's hang-up
            engine.leg_gone(leg, 16)
    for pb_id, owner in reg.playbacks():
        try:
            await engine.ari.playbacks.get(pb_id)
        except AriNotFound:
            owner.playback_finished(pb_id, "done")
        except AriError:
            pass
    for name, rec_owner in reg.recordings():
        try:
            await engine.ari.recordings.get_live(name)
        except AriNotFound:  # it ended while no WebSocket listened: its end event is lost (issue 11 §3)
            await engine.reconcile_recording(rec_owner, name)
        except AriError:
            pass
    unknown = [cid for cid in ours if cid in channels and not reg.knows_channel(cid)]
    if not unknown:
        return
    found: dict[str, SavedState] = {}
    for cid in unknown:
        state = await read_state(engine, cid)
        if state is not None:
            found[cid] = state
    # a campaign's lines and calls (acd/engine/campaign.py) are its dialer's
    # (a preview campaign's call is an agent-first outbound call: below)
    campaign = {cid: found.pop(cid) for cid in [c for c, s in found.items()
                                                if s.campaign and s.direction != "outbound"]}
    calls = {
        cid: s
        for cid, s in found.items()
        if s.role == "call" and not cid.startswith(OWN_PREFIX) and local_base(channels[cid].name) is None
    }
    legs = {cid: s for cid, s in found.items() if s.role in ("agent", "out")}
    # Outbound calls (acd/engine/outbound_call.py): the channel is the agent's phone, with our own id.
    outbound = {cid: s for cid, s in found.items()
                if s.role == "call" and s.direction == "outbound" and cid.startswith(OWN_PREFIX)}
    kept = {s.peer for s in [*calls.values(), *campaign.values(), *outbound.values()]
            if s.phase == "connected" and s.peer}
    kept |= {leg.channel_id for leg in reg.legs()}
    kept_locals = {
        base for cid in kept if cid in channels and (base := local_base(channels[cid].name)) is not None
    }
    # The core first learns who is talking, so that no agent on a call is offered an adopted waiting caller.
    for cid, s in calls.items():
        if s.phase == "connected" and s.agent and s.peer:
            engine.restore_call(cid, s.agent, s.queue, connected_at=s.connected)
    if engine.campaigns is not None:
        engine.campaigns.restore(engine, campaign)
    # Kept places go back to their place before an adopted caller (who came later) re-enters a queue.
    engine.kept.after_resync()
    for cid, s in calls.items():
        log.info("adopting_call", call_id=cid, phase=s.phase, queue=s.queue or None)
        engine.start_call(channels[cid], dialled=s.dialled, language=s.lang, resume=s)
    for cid, s in outbound.items():
        engine.outbound.adopt(cid, s)
    if engine.campaigns is not None:
        await engine.campaigns.adopt(channels, campaign)
    for cid in legs:
        if cid in kept or local_base(channels[cid].name) in kept_locals:
            continue
        with contextlib.suppress(AriError):
            await engine.ari.channels.hangup(cid, "normal")
    for cid, s in found.items():
        if cid not in calls and cid not in legs and cid not in outbound:
            log.info("not_adopted", channel=cid, name=channels[cid].name, role=s.role)


def _replay_milestones(engine: Engine, session: CallSession, s: SavedState) -> None:
    """Emit again, with the same ids and times, what the crashed daemon may not have written yet."""
    cid = session.channel_id
    if s.answered:
        engine.emit_milestone(cid, ev.Answered(), s.answered)
    if s.entered and s.queue:
        engine.emit_milestone(cid, ev.Queued(queue=s.queue, priority=s.priority), s.entered)
    if s.connected and s.agent:
        engine.emit_milestone(
            cid, ev.Connected(queue=s.queue or None, agent=s.agent, bridge=s.bridge), s.connected
        )


async def resume_call(engine: Engine, session: CallSession, s: SavedState) -> None:
    """Carry on a call adopted from a previous daemon, where its channel says it is."""
    _replay_milestones(engine, session, s)
    if s.phase == "kept" or engine.kept.knows(session.channel_id):
        await session.hangup()  # asked to be called back: the place is kept (keep_place.py), let them go
        return
    loaded = engine.config.scenario_for(session.info.dialled)
    match s.phase:
        case "connected" if s.peer:
            leg = engine.adopt_leg(
                session, s.peer, kind="agent" if s.agent else "out", agent_id=s.agent or None
            )
            try:
                await engine.ari.channels.get(leg.channel_id)
            except AriNotFound:
                leg.fail("gone")  # hung up while no daemon listened
            await session.adopt_conversation(leg, s)
        case "voicemail" if s.recording:
            await _follow_voicemail(engine, session, s)
        case _:
            if loaded is None:
                await session.hangup()
                return
            start = s.step if s.phase in ("queued", "transferring") else None
            if start is None:
                session.emit(ev.Step(step="restart", detail="scenario restarted after a daemon restart"))
                if s.answered:
                    start = loaded.flow.start  # from the top, but answered already: not again
            await run_scenario(session, loaded, engine.config, start=start)


async def _follow_voicemail(engine: Engine, session: CallSession, s: SavedState) -> None:
    """The caller was leaving a message: wait for it to end, then what the voicemail step does after."""
    from ivr.catalogue import media

    loaded = engine.config.scenario_for(session.info.dialled)
    vm = loaded.scenario.voicemail if loaded is not None else None
    max_s = float(vm.max_s) if vm is not None else 600.0
    try:
        await engine.ari.recordings.get_live(s.recording)
    except AriError:
        path = engine.recording_path(s.recording, engine.settings.recording.format)
        rec = RecordResult(name=s.recording, path=str(path) if path.exists() else None, duration_s=0.0)
    else:
        rec = await session.message_recorded(s.recording, max_s=max_s)
    now = engine.clock.now()
    within_h = vm.callback_within_h if vm is not None else 24
    session.emit(
        ev.Voicemail(
            recording=rec.name,
            callback_id=None if rec.empty else f"cb-{rec.name}"[:64],
            path=rec.path,
            duration_s=rec.duration_s,
            caller=session.info.caller,
            callback_due_at=None if rec.empty else now + within_h * 3600,
        )
    )
    if vm is not None and vm.goodbye:
        await session.play([media(r) for r in vm.goodbye])
    await session.hangup()
