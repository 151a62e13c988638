"""When to ring an agent whose caller is about to hear the recording notice, so that the agent does not
answer into silence (issue 11 §5, decision engine-12).

The notice (R10: "this call is recorded") must be heard by the caller before the conversation, and it plays
while the agent's phone rings. An agent who answers before it has ended hears nothing until it has: with
headsets that answer at once (0.3 s) and a 1.8 s notice that was 1.5 s of dead air on every call. So the
ring is held back by what the notice has left minus the time this agent takes to answer: the answer then
comes as the notice ends, and the caller, who hears the notice meanwhile, waits no longer than before when
the agent answers as fast as usual.

Both durations are learned, nothing is configured: the notice's length per language from its plays that
ran to their end (the longest seen: a stopped play is shorter, never longer), an agent's answer time from
its last answers (the median: one slow answer does not make the caller wait). An agent never heard
answering, or a notice never heard to its end, is rung at once, as before.
"""

from __future__ import annotations

from collections import deque
from statistics import median

SAMPLES = 5
"""Answers kept per agent."""
MARGIN_S = 0.15
"""Rung this much earlier than the estimate says: an answer a little slower than usual still finds the
notice ending, not over (the caller would wait); a little faster hears at most this much silence."""


class RingAhead:
    """Learned answer times and notice lengths; ``hold_s`` says how long to hold an agent's ring back."""

    def __init__(self, samples: int = SAMPLES, margin_s: float = MARGIN_S) -> None:
        self.margin_s = margin_s
        self._samples = samples
        self._answers: dict[str, deque[float]] = {}
        self._notices: dict[str, float] = {}

    def answered(self, agent_id: str, ring_s: float) -> None:
        """``agent_id`` answered ``ring_s`` seconds after its phone was dialled."""
        if ring_s >= 0:
            self._answers.setdefault(agent_id, deque(maxlen=self._samples)).append(ring_s)

    def notice_played(self, language: str, seconds: float) -> None:
        """The notice in ``language`` played to its end in ``seconds``."""
        if seconds > 0:
            self._notices[language] = max(seconds, self._notices.get(language, 0.0))

    def answer_s(self, agent_id: str) -> float | None:
        answers = self._answers.get(agent_id)
        return median(answers) if answers else None

    def hold_s(self, agent_id: str, language: str) -> float:
        """How long to hold back the ring of ``agent_id`` when the notice in ``language`` starts now."""
        notice = self._notices.get(language)
        answer = self.answer_s(agent_id)
        if notice is None or answer is None:
            return 0.0
        return max(0.0, notice - answer - self.margin_s)
