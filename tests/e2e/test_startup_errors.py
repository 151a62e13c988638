"""A failed start-up is one clear `error:` line and nothing after it (issues 9 §5 and 12 item 9): no aiohttp
"Unclosed client session" noise, a missing ARI password said to be missing, a database that refuses the
password one line instead of a 724-line traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.ari_sim.server import SimulatorConfig, start_simulator
from tests.e2e.harness import write_config
from tests.e2e.test_startup import _acd


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACD_")}
    env.update(extra)
    return env


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def _assert_one_clean_error(output: str) -> str:
    assert "Unclosed" not in output and "Traceback" not in output, output
    (line,) = _error_lines(output)
    assert output.rstrip().endswith(line), "nothing is printed after the error"
    return line


async def test_wrong_ari_password_and_unreachable_ari_leave_no_unclosed_session_noise(tmp_path: Path) -> None:
    sim = await start_simulator(SimulatorConfig(port=0, password="right", recordings=tmp_path / "rec"))
    try:
        cfg = write_config(tmp_path / "config", ari_url=sim.url, db_url=f"sqlite+aiosqlite:///{tmp_path}/a.db",
                           recordings=tmp_path / "rec")
        code, output = await _acd("run", "-c", str(cfg / "acd.yaml"), env=_env(ACD_ARI_PASSWORD="wrong"))
    finally:
        await sim.stop()
    assert code == 1
    assert "ARI refused the credentials" in _assert_one_clean_error(output)
    cfg2 = write_config(tmp_path / "config2", ari_url=f"http://127.0.0.1:{_closed_port()}",
                        db_url=f"sqlite+aiosqlite:///{tmp_path}/b.db", recordings=tmp_path / "rec")
    code, output = await _acd("run", "-c", str(cfg2 / "acd.yaml"), env=_env())
    assert code == 1
    assert "cannot reach ARI" in _assert_one_clean_error(output)


async def test_a_missing_ari_password_is_reported_as_missing(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config", ari_url=f"http://127.0.0.1:{_closed_port()}",
                       db_url=f"sqlite+aiosqlite:///{tmp_path}/a.db", recordings=tmp_path / "rec")
    yaml = cfg / "acd.yaml"
    yaml.write_text(yaml.read_text().replace(", password: secret", ""))
    code, output = await _acd("run", "-c", str(yaml), env=_env())
    assert code == 1
    line = _assert_one_clean_error(output)
    assert "no ARI password" in line and "ACD_ARI_PASSWORD" in line and "refused" not in line


@pytest.fixture
async def refusing_postgres() -> AsyncIterator[int]:
    """Speaks just enough of PostgreSQL's protocol to refuse every password (SQLSTATE 28P01)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                body = await reader.readexactly(length - 4)
                if struct.unpack("!I", body[:4])[0] == 80877103:  # SSLRequest: no TLS here
                    writer.write(b"N")
                    await writer.drain()
                    continue
                fields = (b"SFATAL\x00VFATAL\x00C28P01\x00"
                          b'Mpassword authentication failed for user "acd"\x00\x00')
                writer.write(b"E" + struct.pack("!I", len(fields) + 4) + fields)
                await writer.drain()
                break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_database_refusing_the_password_is_one_error_line(
    tmp_path: Path, refusing_postgres: int
) -> None:
    sim = await start_simulator(SimulatorConfig(port=0, password="secret", recordings=tmp_path / "rec"))
    try:
        cfg = write_config(tmp_path / "config", ari_url=sim.url,
                           db_url=f"postgresql+asyncpg://acd:bad-pw@127.0.0.1:{refusing_postgres}/acd",
                           recordings=tmp_path / "rec")
        code, output = await _acd("run", "-c", str(cfg / "acd.yaml"), env=_env())
    finally:
        await sim.stop()
    assert code == 1
    line = _assert_one_clean_error(output)
    assert "cannot open the database" in line and "password authentication failed" in line
    assert "bad-pw" not in output and len(output.splitlines()) < 10
