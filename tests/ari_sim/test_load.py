"""Many simultaneous calls through a tiny ARI app (answer, prompt, ring an agent, bridge, clean up), to show
the simulator keeps its state consistent under load and that every event still conforms."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.ari_sim.conftest import AUTH, Ari

CALLS = 40


async def test_forty_calls_each_get_an_agent_and_everything_is_cleaned_up(ari: Ari) -> None:
    for n in range(1, 9):
        await ari.sim("PUT", f"/endpoints/PJSIP/agent{n}", {"answer_after_s": 1, "hangup": "caller"})
    pending: dict[str, str] = {}  # agent channel -> caller channel
    agents_by_leg: dict[str, str] = {}
    free = [f"agent{n}" for n in range(1, 9)]
    waiting: list[str] = []
    done = asyncio.Event()
    finished: set[str] = set()

    async def offer() -> None:
        while waiting and free:
            caller, agent = waiting.pop(0), free.pop(0)
            status, leg = await ari.req("POST", "/channels", endpoint=f"PJSIP/{agent}", app="acd",
                                        appArgs=f"agent,{caller}", timeout=20)
            assert status == 200
            pending[leg["id"]] = caller

    async def app() -> None:
        i = 0
        while not done.is_set():
            while i < len(ari.events):
                e: dict[str, Any] = ari.events[i]
                i += 1
                cid = e.get("channel", {}).get("id")
                if e["type"] == "StasisStart" and e["args"][:1] == ["inbound"]:
                    await ari.req("POST", f"/channels/{cid}/answer")
                    await ari.req("POST", f"/channels/{cid}/play", media="sound:hello-world")
                    waiting.append(cid)
                    await offer()
                elif e["type"] == "StasisStart" and e["args"][:1] == ["agent"]:
                    caller = pending.pop(cid)
                    await ari.req("POST", "/bridges", bridgeId=f"br-{caller}")
                    await ari.req("POST", f"/bridges/br-{caller}/addChannel", channel=f"{caller},{cid}")
                elif e["type"] == "StasisEnd" and cid.startswith(tuple("0123456789")) and \
                        e["channel"]["name"].startswith("PJSIP/trunk"):
                    finished.add(cid)
                    bridge = f"br-{cid}"
                    status, br = await ari.req("GET", f"/bridges/{bridge}")
                    if status == 200:
                        for other in br["channels"]:
                            await ari.req("DELETE", f"/channels/{other}")
                            free.append(agents_by_leg[other])
                        await ari.req("DELETE", f"/bridges/{bridge}")
                    await offer()
                    if len(finished) == CALLS:
                        done.set()
            ari._changed.clear()
            if i >= len(ari.events):
                await ari._changed.wait()

    original_req = ari.req

    async def tracking_req(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        status, body = await original_req(method, path, **kw)
        if method == "POST" and path == "/channels" and status == 200:
            agents_by_leg[body["id"]] = body["name"].split("/")[1].rsplit("-", 1)[0]
        return status, body

    ari.req = tracking_req  # type: ignore[method-assign]
    task = asyncio.create_task(app())
    for _ in range(CALLS):
        await ari.sim("POST", "/calls", {"number": "193", "caller": "7701", "patience_s": 600, "talk_s": 5})
    await asyncio.wait_for(done.wait(), 30)
    task.cancel()
    state = await ari.sim("GET", "/state")
    assert [c for c in state["callers"] if c["end"] != "talk_done"] == []
    assert state["bridges"] == [] and state["channels"] == []


def test_command_line_starts_and_answers(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "acd.ari_sim", "--port", "0", "--clock", "speed=10", "--recordings",
         str(tmp_path / "rec")],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ")[1].split("/ari")[0]

        async def ping() -> dict[str, Any]:
            async with aiohttp.ClientSession() as s, s.get(f"{url}/ari/asterisk/ping", headers=AUTH) as r:
                assert r.status == 200
                return dict(await r.json())

        assert asyncio.run(ping())["ping"] == "pong"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
