"""Resynchronise with Asterisk after a (re)connect, and adopt calls a previous daemon left (R27).

Asterisk never replays the events missed while the WebSocket was down (BEHAVIOUR.md 2), but it keeps
the app's channels and bridges. So after every connect:
- sessions and legs whose channel is gone are ended as if the hang-up had been seen;
- playbacks and recordings that finished meanwhile are resolved, so no scenario waits forever;
- channels in our app that this process does not know (it was restarted) are adopted from the
  ``ACD_*`` variables the previous process wrote on them: a connected call is followed to its end (its CDR
  row completes), a waiting caller goes back to its queue with its original entry time, and a call that was
  still in the IVR starts its scenario again (docs/decisions/engine-01-restart-resume.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog

from acd.ari.errors import AriError, AriNotFound
from acd.engine.session import STATE_VAR, CallSession, Leg, decode_state
from routing.control import CallerHungUp, HoldSpec

if TYPE_CHECKING:
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)


async def read_vars(engine: Engine, channel_id: str) -> dict[str, str]:
    """The ``ACD_STATE`` a previous daemon wrote on the channel ({} for none)."""
    try:
        return decode_state(await engine.ari.channels.get_var(channel_id, STATE_VAR))
    except AriError:
        return {}


async def resync(engine: Engine) -> None:
    app = await engine.ari.applications.get(engine.settings.ari.app)
    channels = {c.id: c for c in await engine.ari.channels.list()}
    ours = set(app.channel_ids)
    for cid, session in list(engine.sessions.items()):
        if cid not in channels:
            engine._caller_gone(session, 16)
    for cid, leg in list(engine.legs.items()):
        if cid not in channels:
            engine._leg_gone(leg, 16)
    for pb_id, session in list(engine.playbacks.items()):
        try:
            await engine.ari.playbacks.get(pb_id)
        except AriNotFound:
            session.playback_finished(pb_id, "done")
        except AriError:
            pass
    for name, session in list(engine.recordings.items()):
        try:
            await engine.ari.recordings.get_live(name)
        except AriNotFound:
            session.recording_done(name, {"duration": 0, "state": "done"})
            engine.recordings.pop(name, None)
        except AriError:
            pass
    unknown = [
        cid for cid in ours if cid in channels and cid not in engine.sessions and cid not in engine.legs
    ]
    if not unknown:
        return
    found = {cid: await read_vars(engine, cid) for cid in unknown}
    legs = {cid: v for cid, v in found.items() if v.get("role") in ("agent", "out")}
    adopted_legs: set[str] = set()
    for cid, v in found.items():
        if cid in legs:
            continue
        leg_id = v.get("agent_channel")
        if v.get("state") == "connected" and leg_id in legs:
            adopted_legs.add(leg_id)
        log.info("adopting_call", call_id=cid, state=v.get("state", "ivr"))
        engine.start_call(channels[cid], dialled=v.get("dialled"), language=v.get("lang"), resume=v)
    for cid in legs:
        if cid not in adopted_legs:
            with contextlib.suppress(AriError):
                await engine.ari.channels.hangup(cid, "normal")


async def resume_call(engine: Engine, session: CallSession, v: dict[str, str]) -> None:
    """Carry on a call adopted from a previous daemon, from what it wrote on the channel."""
    state = v.get("state", "")
    if state == "connected" and v.get("agent_channel"):
        await _resume_connected(engine, session, v)
    elif state == "queued" and v.get("queue"):
        await _resume_queued(engine, session, v)
    else:
        from routing.interpreter import run_scenario

        loaded = engine.config.scenario_for(session.info.dialled)
        if loaded is None:
            await session.hangup()
            return
        session.emit("step", step="restart", detail="scenario restarted after a daemon restart")
        await run_scenario(session, loaded, engine.config)


async def ensure_bridged(engine: Engine, session: CallSession, leg: Leg, recording: str | None) -> None:
    """The previous daemon may have died between writing the connection and making it: finish the job
    (the bridge with both channels, and its recording)."""
    bridge_id = session.bridge_id or engine.new_id("br")
    try:
        bridge = await engine.ari.bridges.get(bridge_id)
        members = set(bridge.channels)
    except AriNotFound:
        await engine.ari.bridges.create("mixing", bridge_id=bridge_id)
        members = set()
    session.bridge_id = bridge_id
    missing = [c for c in (session.channel_id, leg.channel_id) if c not in members]
    if missing:
        with contextlib.suppress(AriError):
            await engine.ari.bridges.add_channel(bridge_id, missing)
    if recording is None:
        return
    try:
        await engine.ari.recordings.get_live(recording)
    except AriNotFound:
        await engine._record_bridge(session, bridge_id, engine.recording_name(session), leg.agent_id)
    except AriError:
        pass


def _replay_milestones(engine: Engine, session: CallSession, v: dict[str, str]) -> None:
    """Emit again, with the same ids and times, what the crashed daemon may not have written yet."""
    cid = session.channel_id
    if v.get("answered"):
        engine.emit_milestone(cid, "answered", float(v["answered"]), {})
    if v.get("entered") and v.get("queue"):
        engine.emit_milestone(
            cid, "queued", float(v["entered"]), {"queue": v["queue"], "priority": int(v.get("priority") or 0)}
        )
    if v.get("connected") and v.get("agent"):
        engine.emit_milestone(
            cid,
            "connected",
            float(v["connected"]),
            {"queue": v.get("queue"), "agent": v["agent"], "bridge": v.get("bridge")},
        )


async def _resume_connected(engine: Engine, session: CallSession, v: dict[str, str]) -> None:
    _replay_milestones(engine, session, v)
    agent = v.get("agent", "")
    leg = Leg(v["agent_channel"], session.channel_id, "agent", agent or None)
    assert leg.answered is not None
    leg.answered.set_result(True)
    engine.legs[leg.channel_id] = leg
    session.legs[leg.channel_id] = leg
    session.connecting = True
    session.bridge_id = v.get("bridge")
    if v.get("recording"):
        engine.recordings[v["recording"]] = session
    session.recording_count = 1  # a recording made again gets a new name (unique)
    connected_at = float(v.get("connected") or engine.clock.now())
    with contextlib.suppress(KeyError, ValueError):
        engine.acd.restore_call(
            session.channel_id, agent, v.get("queue", ""), engine.clock.now(), connected_at=connected_at
        )
    # The leg may already be gone (hung up while no daemon listened).
    try:
        await engine.ari.channels.get(leg.channel_id)
    except AriNotFound:
        leg.fail("gone")
    else:
        await ensure_bridged(engine, session, leg, v.get("recording") or None)
    try:
        await engine.wait_conversation(session, leg)
    finally:
        if session.bridge_id and engine.accepting:
            with contextlib.suppress(AriError):
                await engine.ari.bridges.destroy(session.bridge_id)
        if agent:
            engine.core("call_finished", agent, engine.clock.now())
        engine._forget_leg(leg)


async def _resume_queued(engine: Engine, session: CallSession, v: dict[str, str]) -> None:
    _replay_milestones(engine, session, v)
    queue = v["queue"]
    qcfg = engine.config.queues.get(queue)
    hold = HoldSpec(announce_every_s=getattr(qcfg, "announce_every_s", None))
    session.queue, session.hold = queue, hold
    session.queue_result = asyncio.get_running_loop().create_future()
    entered = float(v.get("entered") or engine.clock.now())
    await session.start_moh()
    engine.enqueue(session, queue, priority=int(v.get("priority") or 0), entered_at=entered)
    try:
        result = await session._until(session.queue_result)
    except CallerHungUp:
        return
    finally:
        session.queue = None
    if result.outcome == "overflow" and result.target and result.target.startswith("queue:"):
        await session.enqueue(result.target.removeprefix("queue:"), hold=hold)
