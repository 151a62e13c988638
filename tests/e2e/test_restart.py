"""R27 with real processes: SIGKILL the daemon mid-call, start it again; the call goes on and its CDR row
completes (issue 2, part 3). The simulator keeps the channels, as Asterisk does for an inactive app."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from acd.clock import Clock
from cdr.db import make_engine
from tests.e2e.harness import ROOT, eventually, local_clock, write_config


async def _spawn(*args: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT
    )


async def _health(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url) as r:
            return r.status == 200
    except aiohttp.ClientError:
        return False


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
async def test_daemon_stopped_mid_call_then_restarted_completes_the_call_and_its_cdr(
    tmp_path: Path, how: str
) -> None:
    """SIGKILL: a crash. SIGTERM: a clean stop, which must leave the call in Asterisk and exit 0."""
    clock: Clock = local_clock("2026-11-24T11:00:00", speed=10)
    sim_port, api_port = _port(), _port()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    cfg = write_config(
        tmp_path / "config",
        ari_url=f"http://127.0.0.1:{sim_port}",
        db_url=db_url,
        recordings=tmp_path / "recordings",
    )
    text_cfg = (cfg / "acd.yaml").read_text().replace("port: 0", f"port: {api_port}")
    (cfg / "acd.yaml").write_text(text_cfg)
    env = dict(os.environ, ACD_CLOCK=clock.spec(), PYTHONUNBUFFERED="1")
    sim = await _spawn(
        "-m",
        "acd.ari_sim",
        "--port",
        str(sim_port),
        "--password",
        "secret",
        "--clock",
        clock.spec(),
        "--recordings",
        str(tmp_path / "recordings"),
        env=env,
        log=tmp_path / "sim.log",
    )
    daemon_args = ("-m", "acd.cli", "run", "-c", str(cfg / "acd.yaml"), "--agents-ready")
    daemon = second = None
    sim_url = f"http://127.0.0.1:{sim_port}/_sim"
    try:
        async with aiohttp.ClientSession() as http:
            await eventually(lambda: _health(http, f"{sim_url}/state"), 20, "simulator did not start")
            for i in range(1, 9):
                async with http.put(
                    f"{sim_url}/endpoints/PJSIP/agent{i}",
                    json={"state": "online", "behaviour": "answer", "answer_after_s": 1, "hangup": "caller"},
                ) as r:
                    assert r.status < 300
            daemon = await _spawn(*daemon_args, env=env, log=tmp_path / "daemon1.log")
            await eventually(
                lambda: _health(http, f"http://127.0.0.1:{api_port}/health"),
                30,
                "daemon did not become healthy",
            )
            async with http.post(
                f"{sim_url}/calls",
                json={
                    "number": "193",
                    "caller": "77012223344",
                    "language": "kk",
                    "talk_s": 3600,  # the test hangs up once the restart is checked, whatever the load
                    "dtmf_on": {"language_menu": "1", "main_menu": "1"},
                },
            ) as r:
                call_id = (await r.json())["id"]

            async def talking() -> bool:
                async with http.get(f"{sim_url}/state") as r:
                    callers = (await r.json())["callers"]
                return any(c["id"] == call_id and c["state"] == "talking" for c in callers)

            await eventually(talking, 30, "the caller never got to an agent")
            talking_seen_at = clock.now()
            caller_talking = talking
            daemon.send_signal(getattr(signal, how))
            code = await daemon.wait()
            if how == "SIGTERM":
                assert code == 0
                assert await caller_talking()  # the stopping daemon did not hang up the call

            second = await _spawn(*daemon_args, env=env, log=tmp_path / "daemon2.log")
            await eventually(
                lambda: _health(http, f"http://127.0.0.1:{api_port}/health"),
                30,
                "restarted daemon did not become healthy",
            )

            async def caller_state() -> str:
                async with http.get(f"{sim_url}/state") as r:
                    callers = (await r.json())["callers"]
                return next(c for c in callers if c["id"] == call_id)["state"]

            assert await caller_state() == "talking"  # the kill dropped nothing
            hangup_at = clock.now()
            async with http.post(f"{sim_url}/calls/{call_id}/hangup") as r:
                assert r.status < 300

            engine = make_engine(db_url)
            try:

                async def complete() -> dict[str, object] | None:
                    async with engine.connect() as conn:
                        row = (
                            (await conn.execute(text("SELECT * FROM calls WHERE id = :id"), {"id": call_id}))
                            .mappings()
                            .first()
                        )
                    return dict(row) if row and row["ended_at"] is not None else None

                row = await eventually(complete, 60, "the CDR row never completed after the restart")
            finally:
                await engine.dispose()
            assert row["outcome"] == "answered"
            assert row["agent"] in {"agent1", "agent2", "agent4", "agent6", "agent7"}  # Kazakh speakers
            # the whole conversation, across the restart: at least from when it was seen to the hang-up
            assert hangup_at - talking_seen_at - 1 <= float(row["talk_s"]) < 3600
            assert row["hangup_by"] == "caller"
    finally:
        for proc in (second, daemon, sim):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await proc.wait()
