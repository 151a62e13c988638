"""Queue and agent configuration: the schema of ``config/queues.yaml`` and ``config/agents.yaml``.

These models are the single source of truth for both files: the loader validates YAML against them (with
file:line errors) and the JSON Schema for admins is generated from them, so every field carries a
description written for the admin who edits the file. Unknown keys are refused: a typo must not silently
become a default.

What a single model cannot judge (a queue no agent can serve, an overflow to a queue that does not exist)
is checked by :func:`acd.core.validate.validate`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "STRATEGY_NAMES",
    "AgentConfig",
    "AgentsFile",
    "NoAnswerPolicy",
    "QueueConfig",
    "QueuesFile",
    "RelaxStep",
    "StrategyName",
    "WallboardThresholds",
]

StrategyName = Literal["most_skilled", "least_talked_today", "longest_idle", "round_robin", "random"]
STRATEGY_NAMES: tuple[str, ...] = (
    "most_skilled",
    "least_talked_today",
    "longest_idle",
    "round_robin",
    "random",
)

Level = Annotated[int, Field(ge=1, le=10)]
"""A skill level: 1 (novice) .. 10 (expert)."""

LANGUAGE_PREFIX = "lang:"
"""A language ``kk`` becomes the skill ``lang:kk``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RelaxStep(_Strict):
    """One step of skill relaxation: after a caller has waited ``after_s``, the queue asks less of agents.

    Steps add up: each step keeps what earlier steps relaxed. The caller's language (when the queue has
    ``language_skill``) is never relaxed.
    """

    after_s: float = Field(ge=0)
    """Seconds of waiting (since entering the queue) after which this step applies."""
    min_level: Level | None = None
    """Every required skill level is lowered to at most this level (3: an agent with level >= 3 will do)."""
    drop: list[str] = []
    """Required skills no longer required; ``'*'`` drops every required skill (only the language stays)."""


class NoAnswerPolicy(_Strict):
    """What happens to an agent who lets an offered call ring out or rejects it (R5)."""

    state: Literal["not_ready", "ready"] = "not_ready"
    """The agent's state after a missed call: ``not_ready`` (default) or ``ready`` (keeps taking calls)."""
    reason: str | None = "no_answer"
    """The not-ready reason recorded (only with ``state: not_ready``)."""


class WallboardThresholds(_Strict):
    """When the wallboard colours a queue's figures (R23): amber at ``warn``, red at ``alarm``. None: the
    figure is never coloured."""

    waiting_warn: int | None = Field(default=None, ge=1)
    """Callers waiting now."""
    waiting_alarm: int | None = Field(default=None, ge=1)
    longest_wait_warn_s: float | None = Field(default=None, gt=0)
    """The longest wait of a caller waiting now, in seconds."""
    longest_wait_alarm_s: float | None = Field(default=None, gt=0)
    service_level_warn_pct: float | None = Field(default=None, ge=0, le=100)
    """Service level today, in percent: coloured when it falls below."""
    service_level_alarm_pct: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _in_order(self) -> WallboardThresholds:
        pairs = (("waiting", self.waiting_warn, self.waiting_alarm),
                 ("longest_wait", self.longest_wait_warn_s, self.longest_wait_alarm_s))
        for name, warn, alarm in pairs:
            if warn is not None and alarm is not None and warn > alarm:
                raise ValueError(f"{name}: the warning level must not be above the alarm level")
        warn_sl, alarm_sl = self.service_level_warn_pct, self.service_level_alarm_pct
        if warn_sl is not None and alarm_sl is not None and warn_sl < alarm_sl:
            raise ValueError("service_level: the warning level must not be below the alarm level")
        return self


class QueueConfig(_Strict):
    """A named queue: who may serve its callers, in which order, and what happens when nobody does."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """The queue's name, used by scenarios (``queue: support``) and by agents' ``queues``."""
    strategy: StrategyName | list[StrategyName] = "most_skilled"
    """How a free agent is chosen for a caller: ``most_skilled`` (highest levels in the required skills),
    ``least_talked_today`` (fewest talk seconds since local midnight), ``longest_idle``, ``round_robin``,
    ``random``, or a list of these applied in order (the next one breaks ties of the previous)."""
    required_skills: dict[str, Level] = {}
    """Skills an agent needs, with the minimum level (1-10), e.g. ``{taxes: 5}``."""
    language_skill: bool = True
    """When the call has a language (chosen in the IVR), the agent needs the skill ``lang:<language>``."""
    wrapup_s: float = Field(default=10.0, ge=0)
    """After-call work: seconds an agent stays in wrap-up after a call of this queue."""
    ring_timeout_s: float = Field(default=15.0, gt=0)
    """Seconds an offered call rings an agent before it goes to the next agent (ring-no-answer)."""
    max_wait_s: float | None = Field(default=None, gt=0)
    """Longest wait in this queue; then the call overflows (reason ``max_wait``). None: no limit."""
    overflow: str | None = None
    """Where overflowing calls go: ``queue:<name>``, ``voicemail``, ``external:<number>`` or
    ``label:<scenario label>``. None: the scenario's next step decides."""
    when_empty: Literal["wait", "overflow"] = "overflow"
    """With nobody logged in who could ever serve a caller: ``overflow`` at once (reason ``no_agents``),
    or ``wait`` (until max_wait_s)."""
    announce_every_s: float | None = Field(default=60.0, gt=0)
    """Seconds between announcements of position and expected wait to each waiting caller; None: never."""
    sl_threshold_s: float = Field(default=30.0, ge=0)
    """Service-level threshold: a call answered within this many seconds counts as answered in time."""
    relax: list[RelaxStep] = []
    """Skill relaxation over waiting time, e.g. after 60 s accept level >= 3, after 120 s anyone with the
    language."""
    no_answer: NoAnswerPolicy = NoAnswerPolicy()
    """What happens to an agent who misses a call of this queue."""
    estimator: str | None = None
    """Wait-time estimator (``qla``, ``ql``, ``les``, ``hol``, ``app_queue``); None: the daemon's default."""
    topics: list[Annotated[str, Field(min_length=1)]] = []
    """Topics an agent picks from for a call of this queue (R16, R22), e.g. ``[tax refund, cash register]``;
    empty: the agent types the topic."""
    script: str | None = None
    """What the agent sees on the desktop for a call of this queue: how to greet, what to ask (Markdown).
    ``scripts`` per call language take precedence; this one is for every other language."""
    scripts: dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], str] = {}
    """The agent script per call language (``kk``, ``ru``, ``en``), chosen by the language of the call."""
    optional: bool = False
    """Agents who serve this queue may leave it out for the day when they sign in (the desktop's queue
    choice). False: every agent listed for it always works it."""
    results: list[Annotated[str, Field(min_length=1)]] = []
    """Results an agent picks from in wrap-up (R16), next to the topic, e.g. ``[resolved, callback
    promised, escalated]``; empty: no result is asked for."""
    topic_required: bool = False
    """The agent cannot end wrap-up early without a topic; when the wrap-up time runs out without one the
    agent is released all the same and the call is counted as "no topic" (docs/decisions/
    web-08-required-topic.md)."""
    wrapup_extend_s: float = Field(default=0.0, ge=0)
    """Seconds an agent may add to their wrap-up, once per call, with *More time*; 0: not offered."""
    wallboard: WallboardThresholds = WallboardThresholds()
    """When the wallboard colours this queue's figures."""

    @field_validator("overflow")
    @classmethod
    def _overflow_target(cls, value: str | None) -> str | None:
        if value is None:
            return None
        kind, sep, rest = value.partition(":")
        if value == "voicemail" or (sep and kind in ("queue", "external", "label") and rest):
            return value
        raise ValueError(
            f"overflow target {value!r} must be queue:<name>, voicemail, external:<number> or label:<label>"
        )

    @field_validator("relax")
    @classmethod
    def _relax_in_order(cls, value: list[RelaxStep]) -> list[RelaxStep]:
        times = [step.after_s for step in value]
        if times != sorted(times):
            raise ValueError("relax steps must be listed in increasing after_s")
        return value

    @field_validator("strategy")
    @classmethod
    def _strategy_not_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("a strategy list needs at least one strategy")
        return value

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return (self.strategy,) if isinstance(self.strategy, str) else tuple(self.strategy)

    @property
    def overflow_queue(self) -> str | None:
        """The queue named by an ``overflow: queue:<name>`` target, else None."""
        if self.overflow and self.overflow.startswith("queue:"):
            return self.overflow.removeprefix("queue:")
        return None


class AgentConfig(_Strict):
    """An agent (operator): their phone, what they know, and which queues they serve."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """Stable agent id, used in the CDR and the API."""
    name: str = ""
    """Display name for the wallboard and reports."""
    endpoint: str | None = None
    """The agent's phone as an Asterisk endpoint, e.g. ``PJSIP/agent1``; default ``PJSIP/<id>``."""
    skills: dict[str, Level] = {}
    """Skills with levels 1-10, e.g. ``{taxes: 7, cash_registers: 3}``."""
    languages: list[str] = []
    """Languages the agent speaks (``kk``, ``ru``, ``en``); each becomes the skill ``lang:<code>``."""
    queues: dict[str, Annotated[int, Field(ge=1)]] = {}
    """Queues served, with this agent's priority for each (1 highest): a free agent takes calls from their
    priority-1 queues before their priority-2 queues."""
    user: str | None = None
    """The login (``config/acd.yaml`` users) that acts as this agent in the web app."""
    teams: list[Annotated[str, Field(min_length=1)]] = []
    """Groups this agent belongs to, e.g. ``[first_line, almaty]``: the wallboard shows figures per team
    (R23). Teams do not route calls; queues and skills do."""

    @model_validator(mode="after")
    def _default_endpoint(self) -> AgentConfig:
        if self.endpoint is None:
            object.__setattr__(self, "endpoint", f"PJSIP/{self.id}")
        return self

    @property
    def all_skills(self) -> dict[str, int]:
        """Skills including the languages (``lang:kk``: level 10 unless the skills give one)."""
        merged = dict(self.skills)
        for lang in self.languages:
            merged.setdefault(LANGUAGE_PREFIX + lang, 10)
        return merged


class QueuesFile(_Strict):
    """``config/queues.yaml``: a list of queues under ``queues:``."""

    queues: list[QueueConfig] = []


class AgentsFile(_Strict):
    """``config/agents.yaml``: a list of agents under ``agents:``."""

    agents: list[AgentConfig] = []
