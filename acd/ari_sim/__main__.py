"""``python -m acd.ari_sim``: run the fake Asterisk until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from acd.ari_sim.server import SimulatorConfig, start_simulator


def parse_args(argv: list[str] | None = None) -> SimulatorConfig:
    ap = argparse.ArgumentParser(prog="python -m acd.ari_sim", description="ARI simulator (fake Asterisk 22)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--user", default="acd")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--app", default="acd")
    ap.add_argument("--clock", default=None, help='e.g. "speed=50" or "start=...,speed=50,anchor=..."')
    ap.add_argument("--sounds", default="", help="sound dirs, comma-separated (<dir>/<lang>/x.wav)")
    ap.add_argument("--recordings", default="var/ari-sim/recordings")
    ap.add_argument("--config", "--dialplan", dest="config", default=None, help="YAML/JSON config")
    ap.add_argument("--asterisk-conf", default=None,
                    help="Asterisk's config dir (e.g. asterisk-conf): fallback names from its extensions.conf"
                         " [globals] and mailboxes from its voicemail.conf")
    a = ap.parse_args(argv)
    return SimulatorConfig(
        host=a.host, port=a.port, user=a.user, password=a.password, app=a.app, clock=a.clock,
        sounds=[Path(s) for s in a.sounds.split(",") if s], recordings=Path(a.recordings),
        config=Path(a.config) if a.config else None,
        asterisk_conf=Path(a.asterisk_conf) if a.asterisk_conf else None,
    )


async def _main(cfg: SimulatorConfig) -> None:
    handle = await start_simulator(cfg)
    print(f"ARI simulator on {handle.url}/ari (app {cfg.app}), control API {handle.url}/_sim", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await handle.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_main(parse_args(argv)))


if __name__ == "__main__":
    main()
