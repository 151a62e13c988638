"""The engine against a fake ARI: each phase of a call, and the orders of events real Asterisk produces
(a hang-up while the agent's phone rings, during the recording notice, during the bridging), a late answer
the core refused, a stop, and the adoption of calls a previous daemon left."""

from __future__ import annotations

import asyncio

from acd.ari import models
from acd.engine.resync import resync
from acd.engine.state import SavedState
from acd.events import AgentEvent
from tests.engine.conftest import START, Rig
from tests.engine.fake_ari import STAMP, channel, destroyed, stasis_start

TIMEOUT = 10


async def _offered(rig: Rig, call: str = "c1") -> str:
    """A caller dials 500 and waits in ``general``; agent1 (the only one ready) is offered the call."""
    rig.ari.alive.add(call)
    rig.engine.dispatch(stasis_start(call, ["inbound", "500"]))
    return str(await rig.ari.until(lambda: next((c[2] for c in rig.ari.of("originate")), None), "no offer"))


async def _answered(rig: Rig, leg: str, call: str = "c1") -> None:
    rig.engine.dispatch(stasis_start(leg, ["agent", call, "agent1"]))


async def test_a_call_goes_through_its_phases_and_each_is_written_on_the_channel(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        queued = SavedState.parse(rig.var("c1"))
        assert (queued.phase, queued.queue, queued.step) == ("queued", "general", ("steps", 0))
        # the scenario's hold music, after the notice while the phone rings
        await rig.ari.until(lambda: ("moh", "c1", "calm") in rig.ari.calls, "no hold music")
        assert SavedState.parse(rig.var(leg)).role == "agent"
        await _answered(rig, leg)
        await rig.ari.until(lambda: rig.ari.of("record_bridge"), "the bridge was not recorded")
        kinds = [c[0] for c in rig.ari.calls]
        notice = next(i for i, c in enumerate(rig.ari.calls) if c[0] == "play" and "recording_notice" in c[2])
        assert notice < kinds.index("bridge") < kinds.index("add") < kinds.index("record_bridge")
        talking = SavedState.parse(rig.var("c1"))
        assert (talking.phase, talking.peer, talking.agent) == ("connected", leg, "agent1")
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("hangup", leg) in rig.ari.calls, "the agent's leg stayed up")
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert rig.sink.agent("agent1")[-2:] == ["on_call", "wrap_up"]


async def test_the_caller_hangs_up_while_the_agent_rings(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("hangup", leg) in rig.ari.calls, "the ringing phone was not hung up")
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert [e.data["reason"] for e in rig.sink.calls("c1", "left_queue")] == ["abandoned"]
        assert rig.sink.agent("agent1")[-2:] == ["ringing", "ready"]  # no wrap-up: there was no talk
        assert not rig.ari.of("bridge")


async def test_the_caller_hangs_up_during_the_recording_notice(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        leg = await _offered(rig)
        await _answered(rig, leg)
        await rig.ari.until(
            lambda: any(c[0] == "play" and "recording_notice" in c[2] for c in rig.ari.calls), "no notice"
        )
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("hangup", leg) in rig.ari.calls, "the agent was left on the line")
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert not rig.ari.of("bridge")


async def test_the_agent_hangs_up_during_the_bridging(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        rig.ari.gate.clear()
        await _answered(rig, leg)
        await rig.ari.until(lambda: rig.ari.of("bridge"), "no bridge")
        rig.ari.alive.discard(leg)
        rig.engine.dispatch(destroyed(leg))
        rig.ari.gate.set()
        await rig.ari.until(lambda: ("hangup", "c1") in rig.ari.calls, "the caller was left alone")
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert rig.sink.calls("c1", "ended")[0].data["by"] == "agent"


async def test_an_answer_after_the_offer_timed_out_is_hung_up_not_connected(rig: Rig) -> None:
    """Issue 12, item 1: a loaded daemon handles the answer after the ring time-out; the core refuses it and
    the engine must not connect the call anyway."""
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        await _answered(rig, leg)  # the answer is in, the offer's task has not run yet ...
        rig.clock.advance(60)  # ... when the ring time-out (general: 15 s) is handled first
        rig.engine.apply(rig.engine.acd.tick(rig.clock.now()))
        await rig.ari.until(lambda: ("hangup", leg) in rig.ari.calls, "the late leg was not hung up")
        assert rig.sink.calls("c1", "ring_no_answer")
        assert not rig.ari.of("bridge")
        assert ("hangup", "c1") not in rig.ari.calls  # the caller goes on waiting
        assert rig.engine.registry.session("c1") is not None
        assert rig.engine.registry.session("c1").queue == "general"  # type: ignore[union-attr]


async def test_a_stop_is_not_the_end_of_a_conversation(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        await _answered(rig, leg)
        await rig.ari.until(lambda: rig.ari.of("record_bridge"), "not connected")
        await rig.engine.stop()
        assert "wrap_up" not in rig.sink.agent("agent1")
        assert not rig.sink.calls("c1", "ended")
        assert not rig.ari.of("destroy") and ("hangup", "c1") not in rig.ari.calls


async def test_a_channel_the_daemon_made_is_never_a_new_call(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.dispatch(stasis_start("acd-agent-1f-1", []))
        rig.engine.dispatch(stasis_start("acd-agent-1f-2", ["agent", "gone", "agent2"]))
        await rig.ari.until(lambda: ("hangup", "acd-agent-1f-2") in rig.ari.calls, "a stray leg stayed up")
        assert rig.engine.registry.sessions() == []
        assert not [r for r in rig.sink.records if getattr(r, "kind", "") == "arrived"]


async def test_an_adopted_waiting_caller_reenters_its_queue_step_with_its_place_and_hold(rig: Rig) -> None:
    """After a restart the caller is back at its scenario's queue step: the scenario's music class, its
    original entry time, and at the answer the recording notice, as for any caller."""
    async with asyncio.timeout(TIMEOUT):
        entered = rig.clock.now() - 90
        saved = SavedState(
            phase="queued",
            scenario="line-500",
            dialled="500",
            lang="kk",
            arrived=entered - 5,
            answered=entered - 5,
            step=("steps", 0),
            queue="general",
            entered=entered,
        )
        rig.ari.alive.add("c2")
        rig.ari.vars[("c2", "ACD_STATE")] = saved.encode()
        await resync(rig.engine)
        leg = str(
            await rig.ari.until(lambda: next((c[2] for c in rig.ari.of("originate")), None), "no offer")
        )
        # the same milestone as the previous daemon's (its id makes the CDR keep one): same place, same time
        assert {(e.event_id, e.at) for e in rig.sink.calls("c2", "queued")} == {
            (f"c2/queued/{entered:.3f}", entered)
        }
        assert ("moh", "c2", "calm") in rig.ari.calls
        assert ("answer", "c2") not in rig.ari.calls  # answered already: not again
        await _answered(rig, leg, "c2")
        await rig.ari.until(
            lambda: any(
                c[0] == "play" and c[1] == "c2" and "recording_notice" in c[2] for c in rig.ari.calls
            ),
            "the adopted caller was connected without the recording notice",
        )


async def test_resync_keeps_both_halves_of_a_local_agent_leg_and_the_agent_on_the_call(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        now = rig.clock.now()
        rig.ari.alive |= {"c3", "leg1", "half2"}
        rig.ari.names |= {
            "leg1": "Local/1001@agent-echo-0000001;1",
            "half2": "Local/1001@agent-echo-0000001;2",
        }
        leg_state = SavedState(role="agent", call="c3", agent="agent1").encode()
        rig.ari.vars |= {("leg1", "ACD_STATE"): leg_state, ("half2", "ACD_STATE"): leg_state}
        rig.ari.vars[("c3", "ACD_STATE")] = SavedState(
            phase="connected",
            dialled="500",
            queue="general",
            agent="agent1",
            peer="leg1",
            bridge="br1",
            connected=now - 30,
        ).encode()
        await resync(rig.engine)
        await rig.ari.until(lambda: rig.ari.of("bridge"), "the conversation was not adopted")
        assert not rig.ari.of("hangup")
        assert rig.engine.acd.snapshot(now)["agents"]["agent1"]["state"] == "on_call"


async def test_a_phone_lost_and_found_again_is_logged_with_the_agents_states(rig: Rig) -> None:
    rig.engine.endpoint_state("PJSIP/agent1", "online")
    rig.engine.endpoint_state("PJSIP/agent1", "offline")
    rig.engine.endpoint_state("PJSIP/agent1", "offline")
    rig.engine.endpoint_state("PJSIP/agent1", "online")
    rows = [r for r in rig.sink.records if isinstance(r, AgentEvent) and r.by == "endpoint"]
    assert [(r.state, r.reason) for r in rows] == [
        ("ready", "phone_unreachable"),
        ("ready", "phone_reachable"),
    ]


async def test_resync_never_makes_a_call_of_a_leg_or_of_a_channel_gone_meanwhile(rig: Rig) -> None:
    """Issue 12, item 4: after a WebSocket gap, an agent leg being hung up (its variable reads 404) and a
    channel the daemon made are not new inbound calls."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.alive |= {
            "acd-agent-1f-9",
            "vanishing",
        }  # "vanishing": listed, gone when its variable is read
        original = rig.ari.channels.get_var

        async def get_var(cid: str, name: str) -> str:
            if cid == "vanishing":
                rig.ari.alive.discard(cid)
            return await original(cid, name)

        rig.ari.channels.get_var = get_var  # type: ignore[method-assign]
        await resync(rig.engine)
        assert rig.engine.registry.sessions() == []
        assert not [r for r in rig.sink.records if getattr(r, "kind", "") == "arrived"]


async def test_a_call_adopted_in_the_ivr_starts_its_scenario_again_without_a_second_answer(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        now = rig.clock.now()
        rig.ari.alive.add("c4")
        rig.ari.vars[("c4", "ACD_STATE")] = SavedState(
            phase="ivr", scenario="line-500", dialled="500", lang="kk", arrived=now - 20, answered=now - 19
        ).encode()
        await resync(rig.engine)
        await rig.ari.until(
            lambda: rig.ari.of("originate"), "the restarted scenario did not queue the caller"
        )
        assert ("answer", "c4") not in rig.ari.calls
        assert [e.data["step"] for e in rig.sink.calls("c4", "step")][0] == "restart"
        assert {e.at for e in rig.sink.calls("c4", "answered")} == {now - 19}


class Rows:
    """What the engine tells the ``recordings`` table (``RecordingIndex``), in order."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str]] = []

    def started(self, name: str, at: float, *, call_id: str, fmt: str, kind: str, agent: str | None) -> None:
        self.changes.append(("started", name))

    def finished(self, name: str, at: float) -> None:
        self.changes.append(("finished", name))

    def failed(self, name: str, at: float, reason: str) -> None:
        self.changes.append(("failed", name))

    def missing(self, name: str, at: float, reason: str) -> None:
        self.changes.append(("missing", name))


async def _talking(rig: Rig) -> tuple[str, str]:
    """A caller connected to agent1 with the bridge recorded: (the bridge id, the recording's name)."""
    leg = await _offered(rig)
    await _answered(rig, leg)
    record = await rig.ari.until(lambda: rig.ari.of("record_bridge"), "the bridge was not recorded")
    return record[0][1], record[0][2]


async def test_the_recording_is_stopped_and_its_end_awaited_before_the_bridge_is_destroyed(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.recorder = rows
        bridge, name = await _talking(rig)
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("destroy", bridge) in rig.ari.calls, "the bridge stayed")
        assert rig.ari.calls.index(("stop_recording", name)) < rig.ari.calls.index(("destroy", bridge))
        assert rows.changes == [("started", name), ("finished", name)]
        assert not rig.ari.of("get_stored")  # the end was reported: nothing to reconcile


async def test_a_recording_whose_end_is_never_reported_is_finished_from_the_stored_file(rig: Rig) -> None:
    """Issue 11 §3: 3.5 % of bridge recordings never got RecordingFinished; their rows stayed `recording`."""
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.recorder = rows
        rig.ari.lose_recording_ends = True
        bridge, name = await _talking(rig)
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("destroy", bridge) in rig.ari.calls, "the bridge stayed")
        assert ("get_stored", name) in rig.ari.calls
        assert rows.changes == [("started", name), ("finished", name)]
        assert [e.data["recording"] for e in rig.sink.calls("c1", "recording_finished")] == [name]


async def test_a_recording_asterisk_neither_reports_nor_stored_is_missing(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.recorder = rows
        rig.ari.lose_recording_ends = True
        bridge, name = await _talking(rig)
        rig.ari.live_recordings.discard(name)  # gone from Asterisk without a file
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("destroy", bridge) in rig.ari.calls, "the bridge stayed")
        assert rows.changes == [("started", name), ("missing", name)]


async def test_a_stasis_start_for_a_channel_asterisk_does_not_have_makes_no_call(rig: Rig) -> None:
    """Issue 12 item 6: a forged or duplicate StasisStart (the channel 404s) created a `calls` row."""
    async with asyncio.timeout(TIMEOUT):
        rig.engine.dispatch(stasis_start("ghost", ["inbound", "500"]))
        await rig.ari.until(lambda: rig.engine.registry.session("ghost") is None, "the ghost stayed a call")
        assert not [r for r in rig.sink.records if getattr(r, "call_id", None) == "ghost"]
        # the claim's first request (the answer, refused with a 404) is the only one: nothing written
        assert not [key for key in rig.ari.vars if key[0] == "ghost"]
        assert not rig.ari.of("originate") and not rig.ari.of("moh")


async def test_a_caller_gone_before_the_first_request_is_still_a_call(rig: Rig) -> None:
    """The other side of the same 404: a real caller who hung up at once is reported gone: a short call."""
    async with asyncio.timeout(TIMEOUT):
        rig.engine.dispatch(stasis_start("c9", ["inbound", "500"]))
        rig.engine.dispatch(destroyed("c9"))
        await rig.ari.until(lambda: rig.sink.calls("c9", "ended"), "no end of call")
        assert rig.sink.calls("c9", "arrived")


async def test_a_call_that_ended_during_a_websocket_gap_ends_when_asterisk_was_last_heard(rig: Rig) -> None:
    """Issue 12 item 7: a 60 s call whose hang-up fell in a 150 s gap was recorded as a 210 s call."""
    async with asyncio.timeout(TIMEOUT):
        await _talking(rig)
        rig.clock.advance(60)
        await rig.engine.on_event(destroyed("elsewhere"))  # the last event heard before the WebSocket drops
        rig.clock.advance(150)
        rig.ari.alive.discard("c1")  # the caller hung up while nobody listened
        await resync(rig.engine)
        ended = await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert ended[0].at == START + 60
        assert ended[0].data["end_estimated"] is True


async def test_a_call_ended_while_listening_is_not_estimated(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        await _talking(rig)
        rig.clock.advance(60)
        rig.engine.dispatch(destroyed("c1"))
        ended = await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert "end_estimated" not in ended[0].data


async def test_a_busy_phone_sets_the_agent_not_ready_as_busy_not_no_answer(rig: Rig) -> None:
    """Issue 11 §5: the agent's not-ready reason and the CDR's ring-no-answer say what happened."""
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        rig.engine.dispatch(
            models.Dial(application="acd", timestamp=STAMP, peer=channel(leg), dialstatus="BUSY")
        )
        await rig.ari.until(lambda: rig.sink.calls("c1", "ring_no_answer"), "no ring-no-answer")
        assert rig.sink.calls("c1", "ring_no_answer")[0].data["reason"] == "busy"
        reasons = [r.reason for r in rig.sink.records if isinstance(r, AgentEvent) and r.state == "not_ready"]
        assert reasons == ["busy"]


async def test_no_announcement_starts_for_a_caller_being_offered(rig: Rig) -> None:
    """Issue 11 §5: the position prompt started as a free agent was offered, and was cut 4-10 ms later."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.alive.add("c1")
        rig.ari.held.add("recording_notice")
        rig.engine.dispatch(stasis_start("c1", ["inbound", "501"]))
        leg = await rig.ari.until(lambda: next((c[2] for c in rig.ari.of("originate")), None), "no offer")
        await _answered(rig, leg)
        await rig.ari.until(
            lambda: any("recording_notice" in m for c in rig.ari.of("play") for m in c[2:]), "no notice"
        )
        assert [c for c in rig.ari.of("play") if not any("recording_notice" in m for m in c[2:])] == []
        assert not rig.sink.calls("c1", "announced")


async def test_the_notice_plays_while_the_phone_rings_and_the_agent_joins_after_it(rig: Rig) -> None:
    """Issue 11 §5: the notice played after the answer, 1.8 s of dead air for the agent on every call. Now
    it starts while the phone rings, and the agent joins the bridge only once it has ended."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        leg = await _offered(rig)

        def notice() -> str | None:
            playing = rig.ari.playing.items()
            return next((pid for pid, media in playing if "recording_notice" in media[0]), None)

        playback = await rig.ari.until(notice, "the notice did not start while the phone rang")
        await _answered(rig, leg)
        for _ in range(50):  # loop turns, not time: the engine does all it can before the notice ends
            await asyncio.sleep(0)
        assert not rig.ari.of("add")  # nobody is bridged over the notice
        rig.ari.finish_playback(playback)
        await rig.ari.until(lambda: rig.ari.of("add"), "the agent was never bridged")
        kinds = [c[0] for c in rig.ari.calls]
        assert kinds.index("originate") < next(
            i for i, c in enumerate(rig.ari.calls) if c[0] == "play" and "recording_notice" in c[2]
        )
        assert len([c for c in rig.ari.of("play") if "recording_notice" in c[2]]) == 1


async def test_a_recording_that_ended_during_a_websocket_gap_is_finished_at_the_resync(rig: Rig) -> None:
    """Asterisk never replays the RecordingFinished sent while no WebSocket listened: the resync asks for
    the stored recording instead of leaving the row `recording`."""
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.recorder = rows
        _bridge, name = await _talking(rig)
        rig.ari.live_recordings.discard(name)  # it ended meanwhile, its file stored
        rig.ari.stored.add(name)
        await resync(rig.engine)
        assert rows.changes == [("started", name), ("finished", name)]


async def test_the_call_is_answered_and_claimed_in_one_state_write(rig: Rig) -> None:
    """Issue 11 §6: the answer's time goes into the first ACD_STATE write (4 writes a call were 3 of 14
    requests); a restarted daemon still finds the call answered, and the CDR still has its answer."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        writes: list[SavedState] = []
        set_var = rig.ari.channels.set_var

        async def logged(cid: str, name: str, value: str) -> None:
            writes.append(SavedState.parse(value))
            await set_var(cid, name, value)

        rig.ari.channels.set_var = logged  # type: ignore[method-assign]
        await _offered(rig)
        assert rig.ari.calls[0] == ("answer", "c1") and len(rig.ari.of("answer")) == 1
        assert [(w.phase, w.answered) for w in writes] == [("ivr", START), ("queued", START)]
        assert [e.at for e in rig.sink.calls("c1", "answered")] == [START]
        assert rig.sink.records.index(rig.sink.calls("c1", "arrived")[0]) < rig.sink.records.index(
            rig.sink.calls("c1", "answered")[0]
        )


async def test_a_caller_offered_at_once_hears_the_notice_without_music_first(rig: Rig) -> None:
    """Issue 11 §5/§6: music started as the caller entered the queue was stopped a few ms later for the
    notice, as an agent was free: two requests a call and a blip of music."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        await _offered(rig)
        await rig.ari.until(
            lambda: any(c[0] == "play" and "recording_notice" in c[2] for c in rig.ari.calls), "no notice"
        )
        assert not rig.ari.of("moh") and not rig.ari.of("moh_stop")


async def test_a_caller_whose_offer_fails_at_once_hears_the_music(rig: Rig) -> None:
    """The music that was not started for the offer starts when the offer fails and nobody else rings."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        leg = await _offered(rig)
        await rig.ari.until(
            lambda: any(c[0] == "play" and "recording_notice" in c[2] for c in rig.ari.calls), "no notice"
        )
        rig.engine.dispatch(
            models.Dial(application="acd", timestamp=STAMP, peer=channel(leg), dialstatus="BUSY")
        )
        await rig.ari.until(lambda: rig.sink.calls("c1", "ring_no_answer"), "no ring-no-answer")
        assert not rig.ari.of("moh")  # the notice still plays: the music comes after it
        pb = next(iter(rig.ari.playing))
        rig.ari.finish_playback(pb)
        await rig.ari.until(lambda: ("moh", "c1", "calm") in rig.ari.calls, "the caller waits in silence")
async def test_an_offer_to_a_pjsip_phone_carries_the_call_id_in_an_x_acd_call_header(rig: Rig) -> None:
    """The browser softphone tells the desktop's offer from any other call by this header (issue 13)."""
    async with asyncio.timeout(TIMEOUT):
        leg = await _offered(rig)
        endpoint = next(c[1] for c in rig.ari.of("originate") if c[2] == leg)
        assert endpoint.startswith("PJSIP/")
        assert rig.ari.vars[(leg, "PJSIP_HEADER(add,X-ACD-Call)")] == "c1"
