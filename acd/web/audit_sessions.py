"""Which recording requests open a new access session, and so get a row in ``recording_access_log`` (R28).

A player asks for one file in many HTTP requests (a first GET, then Range requests as the listener seeks),
and a client may start anywhere: ``bytes=44-``, ``bytes=-100000000``. Whatever the range, the first request
of a client (user, remote address) for a recording and action (listen or download) opens a session and is
audited before any byte goes out; the same client's requests for the same file and action within
``SESSION_S`` seconds of that audited request belong to it. A session never outlives ``SESSION_S``: a long
listen shows one row per window (docs/decisions/web-04-audio-access-sessions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

SESSION_S = 600.0
"""How long one audited request covers the same client's further requests for the same file."""
MAX_SESSIONS = 10_000
"""Sessions remembered at most; forgetting one early only costs an extra audit row, never a missing one."""


@dataclass(frozen=True)
class SessionKey:
    user: str
    remote: str | None
    recording_id: int
    action: str


class AccessSessions:
    """Open access sessions, by client and file; in memory (a restart audits the next request again)."""

    def __init__(self, session_s: float = SESSION_S, max_sessions: int = MAX_SESSIONS) -> None:
        self.session_s = session_s
        self.max_sessions = max_sessions
        self._opened: dict[SessionKey, float] = {}

    def needs_audit(self, key: SessionKey, now: float) -> bool:
        """True when ``key`` has no session open at ``now``: the request must be audited."""
        opened = self._opened.get(key)
        return opened is None or not 0 <= now - opened < self.session_s

    def opened(self, key: SessionKey, now: float) -> None:
        """The audit row of a new session is written: later requests within the window are covered."""
        self._opened.pop(key, None)
        self._opened[key] = now
        if len(self._opened) > self.max_sessions:
            self._opened = {k: t for k, t in self._opened.items() if 0 <= now - t < self.session_s}
            while len(self._opened) > self.max_sessions:  # oldest first (insertion order)
                del self._opened[next(iter(self._opened))]

    def __len__(self) -> int:
        return len(self._opened)
