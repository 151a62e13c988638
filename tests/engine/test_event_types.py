"""The daemon asks Asterisk only for ``EVENT_TYPES`` (the app's eventFilter): an event type the dispatchers
match but the set forgets would silently never arrive. This reads the dispatchers' ``match`` statements."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from acd.engine.campaign import CampaignDialer
from acd.engine.engine import EVENT_TYPES, Engine

pytestmark = pytest.mark.timeout(30)


def matched_types(func: object) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))  # type: ignore[arg-type]
    return {node.cls.attr for node in ast.walk(tree)
            if isinstance(node, ast.MatchClass) and isinstance(node.cls, ast.Attribute)
            and isinstance(node.cls.value, ast.Name) and node.cls.value.id == "models"}


def test_every_event_type_the_engine_acts_on_is_asked_for() -> None:
    engine = matched_types(Engine.dispatch)
    assert {"StasisStart", "Dial", "PlaybackFinished"} <= engine  # the reading works
    assert engine <= EVENT_TYPES


def test_the_campaign_dialer_needs_no_other_type() -> None:
    # ChannelHangupRequest/StateChange/Varset of a line are only swallowed there: not needed
    needed = matched_types(CampaignDialer.on_event) - {"ChannelStateChange", "ChannelVarset"}
    assert needed and needed <= EVENT_TYPES
