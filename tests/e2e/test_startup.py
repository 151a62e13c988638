"""What an engineer sees when the daemon cannot start (issue 2, "Bad input"): a broken config names file,
line and field; wrong ARI credentials give a clear message and exit 1, not a retry storm."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from acd.ari_sim.server import SimulatorConfig, start_simulator
from tests.e2e.harness import ROOT, write_config


async def _acd(*args: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "acd.cli", *args, cwd=ROOT, env=env or dict(os.environ),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


async def test_wrong_ari_password_is_a_clear_error_and_exit_1(tmp_path: Path) -> None:
    sim = await start_simulator(SimulatorConfig(port=0, password="right", recordings=tmp_path / "rec"))
    try:
        cfg = write_config(tmp_path / "config", ari_url=sim.url, db_url=f"sqlite+aiosqlite:///{tmp_path}/a.db",
                           recordings=tmp_path / "rec")
        env = dict(os.environ, ACD_ARI_PASSWORD="wrong")
        started = time.monotonic()
        code, output = await _acd("run", "-c", str(cfg / "acd.yaml"), env=env)
        assert code == 1
        assert "ARI refused the credentials of user 'acd'" in output
        assert "wrong" not in output  # the secret itself is never printed
        assert time.monotonic() - started < 30  # no retry storm
    finally:
        await sim.stop()


async def test_broken_config_names_file_line_and_field_and_exits_1(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config", ari_url="http://127.0.0.1:9", db_url="sqlite+aiosqlite:///x.db",
                       recordings=tmp_path / "rec")
    queues = cfg / "queues.yaml"
    lines = queues.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if "ring_timeout_s: 15" in line)
    lines[n] = lines[n].replace("ring_timeout_s: 15", "ring_timout_s: 15")
    queues.write_text("\n".join(lines) + "\n")
    code, output = await _acd("run", "-c", str(cfg / "acd.yaml"))
    assert code == 1
    assert f"queues.yaml:{n + 1}:" in output
    assert "ring_timout_s" in output


async def test_missing_config_file_is_named(tmp_path: Path) -> None:
    code, output = await _acd("run", "-c", str(tmp_path / "nowhere" / "acd.yaml"))
    assert code == 1
    assert "nowhere/acd.yaml: no such file" in output
