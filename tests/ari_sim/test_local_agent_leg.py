"""What real Asterisk does with a Local channel the app originates as an agent leg (issue 10), which the
daemon's restart path relies on (docs/ari-simulator.md, "Local channels originated by the app"):
- both halves are subscribed to the app (res/ari/resource_channels.c: "Subscribe to the Local channel peer
  also"), so ``GET /applications/acd`` lists the ``;2`` half though it never enters Stasis;
- the variables given to originate are copied to ``;2`` (main/core_unreal.c, ``ast_unreal_call_setup``);
- ``GET /channels`` lists every channel, ``;2`` included, in Stasis or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.ari_sim.conftest import Ari, chan


async def test_a_local_agent_leg_has_its_2_half_in_the_app_with_the_copied_state(ari: Ari) -> None:
    mark = len(ari.events)
    status, body = await ari.req(
        "POST", "/channels", endpoint="Local/1001@agent-echo", app="acd", appArgs="agent,c1,agent1",
        channelId="leg1", json_body={"variables": {"ACD_STATE": "role=agent;call=c1;agent=agent1"}},
    )
    assert status == 200, body
    await ari.wait("StasisStart", chan("leg1"), since=mark)
    status, channels = await ari.req("GET", "/channels")
    two = next(c for c in channels if c["name"].endswith(";2"))
    assert two["name"] == body["name"][:-2] + ";2"
    status, app = await ari.req("GET", "/applications/acd")
    assert {"leg1", two["id"]} <= set(app["channel_ids"])
    status, var = await ari.req("GET", f"/channels/{two['id']}/variable", variable="ACD_STATE")
    assert status == 200 and var["value"] == "role=agent;call=c1;agent=agent1"
    assert not [e for e in ari.since(mark, "StasisStart") if e["channel"]["id"] == two["id"]]
    mark = len(ari.events)
    await ari.req("DELETE", f"/channels/{two['id']}")
    await ari.wait("ChannelDestroyed", chan("leg1"), since=mark)  # hanging up ;2 tears the pair down


FIXTURES = Path(__file__).parent / "fixtures"


def _shape(events: list[dict[str, Any]]) -> list[tuple[str, str, object]]:
    """Type, half (;1/;2) and cause of each event: what the daemon sees of the pair."""
    return [(e["type"], e["channel"]["name"][-2:], e.get("cause")) for e in events]


async def test_a_local_agent_whose_extension_does_not_exist_vanishes_as_in_asterisk(ari: Ari) -> None:
    """Captured on Asterisk 22.10.1 (docs/deploy-tested.md): agents.yaml said ``Local/1@agent-phone``, whose
    context matches only ``_X.`` (two characters or more). The originate answered 200 and both halves were
    destroyed at once with cause 0, no Dial, no StasisStart; the simulator used to ring and answer it."""
    lines = (FIXTURES / "local-no-such-extension.jsonl").read_text().splitlines()
    real = [json.loads(line) for line in lines]
    mark = len(ari.events)
    status, body = await ari.req(
        "POST", "/channels", endpoint="Local/1@agent-phone", app="acd", appArgs="agent,c1,agent1",
        channelId="bad1", json_body={"variables": {"ACD_STATE": "role=agent;call=c1;agent=agent1"}},
    )
    assert status == 200, body
    await ari.wait("ChannelDestroyed", chan("bad1"), since=mark)
    ours = [e for e in ari.events[mark:] if (e.get("channel") or {}).get("name", "").startswith("Local/1@")]
    assert [s for s in _shape(ours) if s[0] == "ChannelDestroyed"] == \
        [s for s in _shape(real) if s[0] == "ChannelDestroyed"] == [("ChannelDestroyed", ";2", 0),
                                                                    ("ChannelDestroyed", ";1", 0)]
    assert not [e for e in ours if e["type"] in ("Dial", "StasisStart", "ChannelHangupRequest")]
    assert {e["type"] for e in ours} <= {e["type"] for e in real}
    # the same context with a two-digit extension rings and answers
    mark = len(ari.events)
    status, body = await ari.req("POST", "/channels", endpoint="Local/101@agent-phone", app="acd",
                                 channelId="good1")
    assert status == 200, body
    await ari.wait("StasisStart", chan("good1"), since=mark)


def test_extension_patterns_match_as_asterisk_does() -> None:
    from acd.ari_sim.dialplan import exten_matches

    assert exten_matches("_X.", "101") and exten_matches("_X.", "10")
    assert not exten_matches("_X.", "1") and not exten_matches("_X.", "agent1")
    assert exten_matches("_+X.", "+77272581500") and exten_matches("193", "193")
    # n is the N class (2-9) in either case: what asterisk-conf/extensions.conf [agents] got wrong
    assert exten_matches("_agent[1-8]", "age3t3") and not exten_matches("_agent[1-8]", "agent3")
    assert exten_matches("_age[n]t[1-8]", "agent3") and not exten_matches("_age[n]t[1-8]", "agent9")
    assert exten_matches("_8X!", "8") is False and exten_matches("_8X!", "81")
async def test_pjsip_header_on_originate_goes_to_the_invite_of_a_pjsip_channel_only(ari: Ari) -> None:
    """``PJSIP_HEADER(add,X-ACD-Call)`` in originate's variables is a function write, not a variable: a PJSIP
    channel's INVITE carries the header; a Local channel has no such function and the originate goes on."""
    header = {"variables": {"PJSIP_HEADER(add,X-ACD-Call)": "c1", "ACD_STATE": "role=agent;call=c1"}}
    status, body = await ari.req("POST", "/channels", endpoint="PJSIP/agent1", app="acd",
                                 appArgs="agent,c1,agent1", channelId="sip1", json_body=header)
    assert status == 200, body
    status, body = await ari.req("POST", "/channels", endpoint="Local/1001@agent-echo", app="acd",
                                 appArgs="agent,c1,agent2", channelId="loc1", json_body=header)
    assert status == 200, body
    channels = {c["id"]: c for c in (await ari.sim("GET", "/state"))["channels"]}
    assert channels["sip1"]["sip_headers"] == {"X-ACD-Call": "c1"}
    assert "PJSIP_HEADER(add,X-ACD-Call)" not in channels["sip1"]["variables"]
    assert channels["sip1"]["variables"]["ACD_STATE"] == "role=agent;call=c1"
    assert channels["loc1"]["sip_headers"] == {}
    status, var = await ari.req("GET", "/channels/sip1/variable", variable="ACD_STATE")
    assert status == 200
