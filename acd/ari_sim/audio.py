"""Who hears whom in the simulator: the audio paths a real Asterisk makes out of bridges, hold, music on hold,
mute and snoop channels, computed from the world's state so tests can check them (``GET /_sim/state``,
each channel's ``hears``).

The rules, as Asterisk applies them (res_ari/resource_channels.c, main/audiohook.c, app_chanspy's model):
- Members of one bridge hear each other. A channel muted ``in`` sends nothing; muted ``out`` hears nothing.
- A channel that ARI put on hold (``POST /channels/{id}/hold``) is heard by its bridge peers as music on
  hold, not its voice. A channel playing music on hold (``POST /channels/{id}/moh``) hears ``moh``.
- A snoop channel S on target T: ``spy`` ``in`` carries what T says, ``out`` what T hears, ``both`` both;
  ``whisper`` ``out`` makes T hear what S receives (its own bridge peers: a supervisor), ``in`` makes T's
  peers hear it as if T said it, ``both`` both.
Only real voices are listed (a snoop channel carries voices, it has none of its own), plus ``moh``.
"""

from __future__ import annotations

from collections.abc import Iterable

from acd.ari_sim.model import Bridge, Channel

MOH = "moh"


def audio_paths(channels: Iterable[Channel], bridges: Iterable[Bridge]) -> dict[str, list[str]]:
    """For every live channel: the sorted voices it hears (channel ids, and ``moh``)."""
    chans = {c.id: c for c in channels if not c.gone}
    peers: dict[str, list[str]] = {cid: [] for cid in chans}
    for br in bridges:
        members = [m for m in br.channels if m in chans]
        for m in members:
            peers[m] = [o for o in members if o != m]
    snoops = [c for c in chans.values() if c.snoop_of is not None and c.snoop_of in chans]

    def directions(value: str) -> set[str]:
        return {"in", "out"} if value == "both" else ({value} if value in ("in", "out") else set())

    sends: dict[str, set[str]] = {cid: set() for cid in chans}
    hears: dict[str, set[str]] = {cid: set() for cid in chans}
    for c in chans.values():
        if c.snoop_of is None and "in" not in c.muted:
            sends[c.id].add(MOH if c.held else c.id)
        if c.moh:
            hears[c.id].add(MOH)
    for _ in range(2 * len(chans) + 2):  # a fixed point: each round can only add voices
        changed = False

        def add(target: set[str], voices: set[str]) -> None:
            nonlocal changed
            if not voices <= target:
                target |= voices
                changed = True

        for cid, c in chans.items():
            if "out" not in c.muted:
                for p in peers[cid]:
                    add(hears[cid], sends[p])
        for s in snoops:
            t = s.snoop_of
            assert t is not None
            spy, whisper = directions(s.spy), directions(s.whisper)
            if "in" in spy:
                add(sends[s.id], sends[t])
            if "out" in spy:
                add(sends[s.id], hears[t])
            if "out" in whisper:
                add(hears[t], hears[s.id])
            if "in" in whisper:
                add(sends[t], hears[s.id] - {t})
        if not changed:
            break
    return {
        cid: sorted(v for v in hears[cid] if v != cid)
        for cid, c in chans.items()
        if c.snoop_of is None
    }
