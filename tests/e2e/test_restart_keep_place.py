""""Keep my place" across a restart with real processes (issue 15, R27): a caller presses * and is let go;
the daemon is killed (SIGKILL) or stopped (SIGTERM) and started again. The place is still kept: when the
agent becomes free, the callback is theirs, and a caller who came later (waiting across the restart) is
offered only once the agent takes it."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from acd.clock import Clock
from cdr.db import make_engine
from tests.e2e.harness import TOKENS, eventually, local_clock, write_config
from tests.e2e.test_restart import _health, _port, _spawn

pytestmark = pytest.mark.timeout(120)
SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
async def test_a_kept_place_survives_a_restart_and_a_later_caller_does_not_pass_it(
    tmp_path: Path, how: str
) -> None:
    # x5: the later caller's 300 s max wait (one real minute) outlasts the restart on a loaded machine
    clock: Clock = local_clock("2026-11-24T11:00:00", speed=5)
    sim_port, api_port = _port(), _port()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    cfg = write_config(tmp_path / "config", ari_url=f"http://127.0.0.1:{sim_port}", db_url=db_url,
                       recordings=tmp_path / "recordings")
    (cfg / "acd.yaml").write_text((cfg / "acd.yaml").read_text().replace("port: 0", f"port: {api_port}"))
    shutil.copy(SCENARIOS / "keep_place_5553.yaml", cfg / "scenarios" / "keep_place_5553.yaml")
    env = dict(os.environ, ACD_CLOCK=clock.spec(), PYTHONUNBUFFERED="1")
    sim = await _spawn("-m", "acd.ari_sim", "--port", str(sim_port), "--password", "secret", "--clock",
                       clock.spec(), "--recordings", str(tmp_path / "recordings"), env=env,
                       log=tmp_path / "sim.log")
    daemon_args = ("-m", "acd.cli", "run", "-c", str(cfg / "acd.yaml"))  # agents logged out
    sim_url = f"http://127.0.0.1:{sim_port}/_sim"
    api = f"http://127.0.0.1:{api_port}"
    daemon = second = None
    db = make_engine(db_url)
    try:
        async with aiohttp.ClientSession() as http:

            async def post(url: str, body: dict[str, Any], who: str = "supervisor") -> tuple[int, Any]:
                async with http.post(url, json=body, headers={"Authorization": f"Bearer {TOKENS[who]}"}) as r:
                    return r.status, await r.json(content_type=None)

            async def waiting(n: int) -> bool:
                async with http.get(f"{api}/api/queues",
                                    headers={"Authorization": f"Bearer {TOKENS['supervisor']}"}) as r:
                    return r.status == 200 and (await r.json())["queues"]["general"]["waiting"] == n

            async def alive(cid: str) -> bool:
                async with http.get(f"{sim_url}/state") as r:
                    chans = (await r.json()).get("channels", [])
                ids = {c["id"] if isinstance(c, dict) else c
                       for c in (chans.values() if isinstance(chans, dict) else chans)}
                return cid in ids

            async def rows(sql: str, **params: Any) -> list[dict[str, Any]]:
                async with db.connect() as conn:
                    return [dict(r._mapping) for r in await conn.execute(text(sql), params)]

            await eventually(lambda: _health(http, f"{sim_url}/state"), 20, "simulator did not start")
            async with http.put(f"{sim_url}/endpoints/PJSIP/agent1", json={
                    "state": "online", "behaviour": "answer", "answer_after_s": 1, "hangup": "caller"}) as r:
                assert r.status < 300
            daemon = await _spawn(*daemon_args, env=env, log=tmp_path / "daemon1.log")
            await eventually(lambda: _health(http, f"{api}/health"), 30, "daemon did not become healthy")
            # agent1 is logged in but on a break: callers wait (the others stay logged out)
            brk = {"state": "not_ready", "reason": "break"}
            status, _ = await post(f"{api}/api/agents/agent1/state", brk, who="agent1")
            assert status < 300

            async with http.post(f"{sim_url}/calls", json={"number": "5553", "caller": "77015550102",
                                                          "talk_s": 600}) as r:
                kept = (await r.json())["id"]
            await eventually(lambda: waiting(1), 30, "the first caller never waited")
            async with http.post(f"{sim_url}/calls/{kept}/dtmf", json={"digits": "*"}) as r:
                assert r.status < 300
            await eventually(lambda: _not(alive(kept)), 30, "the caller who pressed * was not let go")
            async with http.post(f"{sim_url}/calls", json={"number": "5553", "caller": "77015550103",
                                                          "talk_s": 5}) as r:
                later = (await r.json())["id"]
            await eventually(lambda: waiting(2), 30, "the later caller is not queued behind the kept place")

            daemon.send_signal(getattr(signal, how))
            code = await daemon.wait()
            assert how == "SIGKILL" or code == 0

            second = await _spawn(*daemon_args, env=env, log=tmp_path / "daemon2.log")
            await eventually(lambda: _health(http, f"{api}/health"), 30, "restarted daemon not healthy")
            # the kept place is back in the core, ahead of the adopted later caller
            await eventually(lambda: waiting(2), 30, "the kept place was not put back after the restart")
            assert await alive(later)

            status, _ = await post(f"{api}/api/agents/agent1/state", {"state": "ready"}, who="agent1")
            assert status < 300
            found = await eventually(lambda: rows("SELECT * FROM callbacks WHERE reason = 'requested'"), 30,
                                     "no callback for the kept place after the restart")
            [cb] = found
            assert (cb["call_id"], cb["number"], cb["agent"], cb["status"]) == (kept, "77015550102", "agent1",
                                                                                  "open")
            # agent1 is held for it: the later caller was not offered, although it waited across the restart
            assert not await rows("SELECT id FROM calls WHERE id = :c AND offered_at IS NOT NULL", c=later)
            assert await waiting(1)
            status, body = await post(f"{api}/api/callbacks/next", {}, who="agent1")
            assert status == 200 and body["callback"]["id"] == cb["id"]
            await eventually(lambda: rows("SELECT id FROM calls WHERE id = :c AND offered_at IS NOT NULL",
                                          c=later), 30, "the later caller was never offered after the claim")
    finally:
        await db.dispose()
        for proc in (second, daemon, sim):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await proc.wait()


async def _not(check: Any) -> bool:
    return not await check
