"""An engine on the fake ARI, with the repository's configuration plus a one-step scenario (number 500: the
queue ``general`` with the recording notice), a clock the test moves by hand and a CDR sink in memory."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from acd.ari.client import AriClient
from acd.clock import Clock
from acd.configset import load_config
from acd.core import Acd
from acd.engine.engine import Engine
from acd.events import AgentEvent, CallEvent, CdrRecord
from acd.metrics import Metrics
from tests.engine.fake_ari import FakeAri

ROOT = Path(__file__).resolve().parents[2]
START = 1795496400.0  # 2026-11-24 10:00 in Almaty: the tender schedule is open

SCENARIO = """
name: line-500
numbers: ["500"]
language: kk
steps:
  - queue: {name: general, announce_position: false, announce_wait: false, recording_notice: true,
            moh_class: calm}
"""

ANNOUNCING = """
name: line-501
numbers: ["501"]
language: kk
steps:
  - queue: {name: general, announce_position: true, announce_wait: false, recording_notice: true}
"""


KEEP_PLACE = """
name: line-502
numbers: ["502"]
language: kk
steps:
  - queue: {name: general, announce_position: false, announce_wait: false, recording_notice: false,
            callback_key: "*", callback_hold_s: 60}
"""


class ManualClock(Clock):
    """Virtual time that moves only when the test says so; waits of the engine last 1/1000 of it."""

    def now(self) -> float:
        return self.start

    def advance(self, seconds: float) -> None:
        object.__setattr__(self, "start", self.start + seconds)


@dataclass
class Sink:
    records: list[CdrRecord] = field(default_factory=list)

    def emit(self, record: CdrRecord) -> None:
        self.records.append(record)

    def calls(self, call_id: str, kind: str) -> list[CallEvent]:
        return [
            r for r in self.records if isinstance(r, CallEvent) and r.call_id == call_id and r.kind == kind
        ]

    def agent(self, agent_id: str) -> list[str]:
        return [r.state for r in self.records if isinstance(r, AgentEvent) and r.agent_id == agent_id]


@dataclass
class Rig:
    engine: Engine
    ari: FakeAri
    clock: ManualClock
    sink: Sink

    def var(self, channel_id: str) -> str:
        return self.ari.vars.get((channel_id, "ACD_STATE"), "")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    (cfg / "scenarios" / "500.yaml").write_text(SCENARIO)
    (cfg / "scenarios" / "501.yaml").write_text(ANNOUNCING)
    (cfg / "scenarios" / "502.yaml").write_text(KEEP_PLACE)
    config = load_config(cfg)
    clock = ManualClock(start=START, anchor=0.0, speed=1000.0)
    ari = FakeAri()
    sink = Sink()
    acd = Acd(
        list(config.queues.values()), list(config.agents.values()), tz=config.settings.timezone, now=START
    )
    engine = Engine(
        settings=config.settings,
        config=config,
        ari=cast(AriClient, ari),
        clock=clock,
        writer=sink,
        acd=acd,
        metrics=Metrics(),
    )
    ari.dispatch = engine.dispatch
    engine.set_agent_state("agent1", "ready", None, None)
    yield Rig(engine, ari, clock, sink)
    await engine.stop()
