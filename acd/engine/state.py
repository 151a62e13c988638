"""What a call's channel says about the call: the ``ACD_STATE`` variable, read back as a typed value.

The daemon keeps nothing about a call that only it knows: every change of phase (in the IVR, queued, talking,
in voicemail, transferring) is written on the caller's channel in ONE variable, ``ACD_STATE`` (``k=v;k=v``),
so that a daemon started after a crash or a stop finds each call where it was (R27,
docs/decisions/engine-01-restart-resume.md). One request per change, so a crash never leaves half a change.

Channels the daemon dials (agent legs, external numbers) carry ``role=agent|out`` and the call they belong
to. Asterisk copies a Local channel's variables to its ``;2`` half (main/core_unreal.c,
``ast_unreal_call_setup``), so both halves of a Local agent leg say ``role=agent``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Literal, cast

STATE_VAR = "ACD_STATE"

Phase = Literal["ivr", "queued", "connected", "voicemail", "transferring", "dialling", "kept"]
PHASES: tuple[Phase, ...] = ("ivr", "queued", "connected", "voicemail", "transferring", "dialling", "kept")
"""``dialling``: an outbound line not answered yet: a campaign's line to the trunk (acd/engine/campaign.py) or
the agent's phone of an agent-first call (acd/engine/outbound_call.py). ``kept``: the caller pressed the
"keep my place" key and is being let go (acd/engine/keep_place.py)."""
Role = Literal["call", "agent", "out"]
Loc = tuple[str | int, ...]


def encode_state(values: dict[str, str]) -> str:
    """``k=v;k=v``: the values are ids, numbers, queue names, epoch times and JSON step locations, never ';'
    or '=' (replaced if they ever were)."""
    return ";".join(f"{k}={v.replace(';', ',').replace('=', ':')}" for k, v in values.items())


def decode_state(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and key:
            out[key] = value
    return out


def _float(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _int(text: str) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


@dataclass(frozen=True)
class SavedState:
    """One channel's ``ACD_STATE``. Empty strings and ``None`` mean "not written (yet)"."""

    role: Role = "call"
    phase: Phase = "ivr"
    # the caller's channel
    scenario: str = ""
    dialled: str = ""
    lang: str = ""
    arrived: float | None = None
    answered: float | None = None
    step: Loc | None = None
    """Where the call is in its scenario (the flow node's location) when it entered the queue."""
    queue: str = ""
    entered: float | None = None
    priority: int = 0
    agent: str = ""
    peer: str = ""
    """The leg the caller talks to (an agent's or an external number's channel) once connected."""
    bridge: str = ""
    recording: str = ""
    connected: float | None = None
    direction: str = ""
    """``outbound`` for a call the daemon placed (the channel is the agent's phone); empty: inbound."""
    callback: str = ""
    """The callback an outbound call works (``callbacks.id``)."""
    # a leg the daemon dialled
    call: str = ""
    """For a leg: the caller's channel id."""
    # a campaign's line and, once answered, its call (docs/decisions/outbound-06-campaign-restart.md)
    campaign: str = ""
    attempt: int = 0
    """The ``campaign_attempts`` row of the line."""
    contact: int = 0

    @classmethod
    def parse(cls, text: str) -> SavedState:
        v = decode_state(text)
        role = v.get("role", "call")
        phase = v.get("phase") or v.get("state") or "ivr"  # "state": the key of the first format
        step: Loc | None = None
        if v.get("step"):
            try:
                raw = json.loads(v["step"])
                step = tuple(x for x in raw if isinstance(x, str | int))
            except (ValueError, TypeError):
                step = None
        priority, attempt, contact = (_int(v.get(k, "")) for k in ("priority", "attempt", "contact"))
        return cls(
            role=cast(Role, role if role in ("call", "agent", "out") else "call"),
            phase=phase if phase in PHASES else "ivr",
            scenario=v.get("scenario", ""),
            dialled=v.get("dialled", ""),
            lang=v.get("lang", ""),
            arrived=_float(v.get("arrived", "")),
            answered=_float(v.get("answered", "")),
            step=step,
            queue=v.get("queue", ""),
            entered=_float(v.get("entered", "")),
            priority=priority,
            agent=v.get("agent", ""),
            peer=v.get("peer") or v.get("agent_channel", ""),
            bridge=v.get("bridge", ""),
            recording=v.get("recording", ""),
            connected=_float(v.get("connected", "")),
            call=v.get("call", ""),
            direction=v.get("direction", ""),
            callback=v.get("callback", ""),
            campaign=v.get("campaign", ""),
            attempt=attempt,
            contact=contact,
        )

    def encode(self) -> str:
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == "" or (isinstance(value, int) and value == 0):
                continue
            if f.name == "step":
                out[f.name] = json.dumps(list(value), separators=(",", ":"))
            elif isinstance(value, float):
                out[f.name] = f"{value:.3f}"
            else:
                out[f.name] = str(value)
        return encode_state(out)

    def with_(self, **changes: object) -> SavedState:
        return replace(self, **changes)  # type: ignore[arg-type]
