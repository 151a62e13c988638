"""The queues an agent chose at sign-in survive a restart of the daemon (R27) until they log out: they are
rows of agent_state_log (the state unchanged, ``by_user = queue_choice``) that never count as a state."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.engine.agent_states import QUEUE_CHOICE_BY, last_agent_states, last_queue_choices, skip_reason
from acd.events import AgentEvent
from cdr.writer import CdrWriter

pytestmark = pytest.mark.timeout(30)
T0 = 1795400000.0


async def _log(tmp_path: Path, events: list[AgentEvent]) -> CdrWriter:
    w = CdrWriter(f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}", tmp_path / "spool")
    await w.start()
    for e in events:
        w.emit(e)
    await w.flush()
    return w


def _choice(agent: str, at: float, skipped: list[str], state: str = "ready") -> AgentEvent:
    return AgentEvent(agent_id=agent, state=state, at=at, previous=state, reason=skip_reason(skipped),
                      by=QUEUE_CHOICE_BY)


async def test_the_last_choice_since_the_last_log_out_comes_back(tmp_path: Path) -> None:
    w = await _log(tmp_path, [
        _choice("a1", T0, ["second_line"], state="logged_out"),
        AgentEvent(agent_id="a1", state="not_ready", at=T0 + 1, previous="logged_out", reason="break"),
        _choice("a1", T0 + 2, ["second_line", "vip"], state="not_ready"),
        _choice("a2", T0, ["second_line"]),
        AgentEvent(agent_id="a2", state="logged_out", at=T0 + 5, previous="ready"),
    ])
    try:
        choices = await last_queue_choices(w.engine)
        assert choices == {"a1": frozenset({"second_line", "vip"})}  # a2 logged out since
        states = await last_agent_states(w.engine)
        assert (states["a1"].state, states["a1"].reason) == ("not_ready", "break")  # not "skip:..."
    finally:
        await w.close()


def test_a_choice_too_long_for_the_log_is_not_kept() -> None:
    assert skip_reason([]) == "skip:" and skip_reason(["b", "a"]) == "skip:a,b"
    assert skip_reason(["q" * 40, "r" * 40]) is None
