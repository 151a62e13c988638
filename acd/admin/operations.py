"""The typed edits an admin can make, each on one file's round-trip tree.

An operation names its file (``target``) and changes the parsed tree in place (``apply``); it judges only
what it must to find its place (the agent to update exists, the scenario is known). Whether the values make
sense (a level of 11, an unknown queue, a number served twice) is the loader's call, on the whole new
configuration, so an admin gets the same ``file:line`` message ``acd check`` would give.

Updates are patches: ``changes`` holds the fields to set, ``reset`` the fields to remove from the file (back
to their default). A field in neither stays exactly as written.
"""

from __future__ import annotations

from dataclasses import asdict, field, fields
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import ConfigDict, model_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from acd.admin.yamledit import assign, load, plain, to_node

_STRICT = ConfigDict(extra="forbid")

ACD_FILE = "acd.yaml"
AGENTS_FILE = "agents.yaml"
QUEUES_FILE = "queues.yaml"
SCENARIOS_DIR = "scenarios"
DEFAULT_SCHEDULES_FILE = "scenarios/_schedules.yaml"


class OperationError(Exception):
    """The edit cannot be placed (404: what it names does not exist; 400: it contradicts itself)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Operation(Protocol):
    def target(self, config_dir: Path) -> str:
        """The file changed, relative to the config directory (``agents.yaml``)."""

    def apply(self, tree: CommentedMap) -> None:
        """Change the parsed file in place; OperationError when the edit has no place in it."""

    def describe(self) -> str:
        """One line for the history."""


def _note_given(data: Any) -> Any:
    """Before validation of a changes dataclass: remember which fields were given, so that ``null`` can be
    written (``announce_every_s: null``: never announce) and a field left out stays as it is."""
    if isinstance(data, ArgsKwargs):
        kwargs = dict(data.kwargs or {})
        kwargs["given"] = tuple(k for k in kwargs if k != "given")
        return ArgsKwargs(data.args, kwargs)
    if isinstance(data, dict):
        return {**data, "given": tuple(k for k in data if k != "given")}
    return data


def _given(obj: Any) -> dict[str, Any]:
    """The fields of a changes dataclass that were given, as plain values."""
    names: tuple[str, ...] = getattr(obj, "given", ())
    return {f.name: _plain_value(getattr(obj, f.name)) for f in fields(obj) if f.name in names}


def _plain_value(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain_value(v) for k, v in asdict(value).items() if v is not None and v != []}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    return value


def _check_reset(reset: list[str], allowed: Any, changes: dict[str, Any]) -> None:
    names = {f.name for f in fields(allowed)} - {"given"}
    for name in reset:
        if name not in names:
            raise OperationError(400, f"reset: {name!r} is not a field (fields: {', '.join(sorted(names))})")
        if name in changes:
            raise OperationError(400, f"reset: {name!r} is also in changes; give one or the other")


def _seq(tree: CommentedMap, key: str) -> CommentedSeq:
    if key not in tree or tree[key] is None:
        tree[key] = CommentedSeq()
    seq = tree[key]
    if not isinstance(seq, CommentedSeq):
        raise OperationError(400, f"{key}: expected a list in the file")
    return seq


def _find(seq: CommentedSeq, key: str, value: str, what: str) -> int:
    for i, item in enumerate(seq):
        if isinstance(item, CommentedMap) and str(item.get(key)) == value:
            return i
    raise OperationError(404, f"no {what} {value!r}")


def _patch(item: CommentedMap, changes: dict[str, Any], reset: list[str]) -> None:
    for name, value in changes.items():
        assign(item, name, value)
    for name in reset:
        if name in item:
            del item[name]


def _new_item(seq: CommentedSeq, values: dict[str, Any]) -> CommentedMap:
    """A list item in the style of the list's last item: a one-line ``{...}`` or a block."""
    flow = bool(len(seq)) and isinstance(seq[-1], CommentedMap) and bool(seq[-1].fa.flow_style())
    node: CommentedMap = to_node(values, flow=flow)
    return node


# ------------------------------------------------------------------ agents
@dataclass(frozen=True, config=_STRICT)
class AgentSpec:
    """An agent as written in agents.yaml (``acd.core.config.AgentConfig``)."""

    id: str
    name: str = ""
    endpoint: str | None = None
    languages: list[str] = field(default_factory=list)
    skills: dict[str, int] = field(default_factory=dict)
    """Skill -> level 1..10."""
    queues: dict[str, int] = field(default_factory=dict)
    """Queue -> this agent's priority (1 first)."""
    user: str | None = None
    teams: list[str] = field(default_factory=list)
    """Wallboard groups (R23)."""


@dataclass(frozen=True, config=_STRICT)
class AgentChanges:
    name: str | None = None
    endpoint: str | None = None
    languages: list[str] | None = None
    skills: dict[str, int] | None = None
    queues: dict[str, int] | None = None
    user: str | None = None
    teams: list[str] | None = None

    given: tuple[str, ...] = ()
    """The fields set by this change (filled in from the input; a field not given stays as written)."""

    @model_validator(mode="before")
    @classmethod
    def _given_fields(cls, data: Any) -> Any:
        return _note_given(data)


@dataclass(frozen=True, config=_STRICT)
class AddAgent:
    agent: AgentSpec

    def target(self, config_dir: Path) -> str:
        return AGENTS_FILE

    def apply(self, tree: CommentedMap) -> None:
        seq = _seq(tree, "agents")
        values = {k: v for k, v in asdict(self.agent).items() if v not in (None, "", [], {})}
        seq.append(_new_item(seq, values))

    def describe(self) -> str:
        return f"add agent {self.agent.id}"


def _update_entry(tree: CommentedMap, section: str, key: str, value: str, what: str, model: type[Any],
                  given: Any, reset: list[str]) -> None:
    """Patch one entry of a list (an agent, a queue) with the fields given and the fields reset."""
    changes = _given(given)
    _check_reset(reset, model, changes)
    if not changes and not reset:
        raise OperationError(400, "nothing to change: give changes or reset")
    seq = _seq(tree, section)
    _patch(seq[_find(seq, key, value, what)], changes, reset)


@dataclass(frozen=True, config=_STRICT)
class UpdateAgent:
    id: str
    changes: AgentChanges = AgentChanges()
    reset: list[str] = field(default_factory=list)

    def target(self, config_dir: Path) -> str:
        return AGENTS_FILE

    def apply(self, tree: CommentedMap) -> None:
        _update_entry(tree, "agents", "id", self.id, "agent", AgentChanges, self.changes, self.reset)

    def describe(self) -> str:
        return f"update agent {self.id}: {', '.join([*_given(self.changes), *self.reset])}"


@dataclass(frozen=True, config=_STRICT)
class DisableAgent:
    """Take the agent out of agents.yaml: no more calls; one on a call is logged out after it (the core's
    reconfigure). The history keeps the entry: roll this change back to enable the agent again."""

    id: str

    def target(self, config_dir: Path) -> str:
        return AGENTS_FILE

    def apply(self, tree: CommentedMap) -> None:
        seq = _seq(tree, "agents")
        del seq[_find(seq, "id", self.id, "agent")]

    def describe(self) -> str:
        return f"disable agent {self.id}"


# ------------------------------------------------------------------ queues
@dataclass(frozen=True, config=_STRICT)
class RelaxSpec:
    after_s: float
    min_level: int | None = None
    drop: list[str] = field(default_factory=list)


@dataclass(frozen=True, config=_STRICT)
class NoAnswerSpec:
    state: Literal["not_ready", "ready"] = "not_ready"
    reason: str | None = "no_answer"


@dataclass(frozen=True, config=_STRICT)
class WallboardSpec:
    waiting_warn: int | None = None
    waiting_alarm: int | None = None
    longest_wait_warn_s: float | None = None
    longest_wait_alarm_s: float | None = None
    service_level_warn_pct: float | None = None
    service_level_alarm_pct: float | None = None


@dataclass(frozen=True, config=_STRICT)
class QueueChanges:
    """The queue's settings an admin changes in the console (``acd.core.config.QueueConfig``)."""

    strategy: str | list[str] | None = None
    required_skills: dict[str, int] | None = None
    language_skill: bool | None = None
    wrapup_s: float | None = None
    ring_timeout_s: float | None = None
    max_wait_s: float | None = None
    overflow: str | None = None
    when_empty: str | None = None
    announce_every_s: float | None = None
    sl_threshold_s: float | None = None
    """Service-level threshold (seconds)."""
    relax: list[RelaxSpec] | None = None
    no_answer: NoAnswerSpec | None = None
    estimator: str | None = None
    topics: list[str] | None = None
    """Topics agents pick from (R16, R22)."""
    script: str | None = None
    """The agent's script on the desktop."""
    wallboard: WallboardSpec | None = None
    """Thresholds that colour the wallboard's figures of this queue (R23)."""

    given: tuple[str, ...] = ()
    """The fields set by this change (filled in from the input; a field not given stays as written)."""

    @model_validator(mode="before")
    @classmethod
    def _given_fields(cls, data: Any) -> Any:
        return _note_given(data)


@dataclass(frozen=True, config=_STRICT)
class UpdateQueue:
    name: str
    changes: QueueChanges = QueueChanges()
    reset: list[str] = field(default_factory=list)

    def target(self, config_dir: Path) -> str:
        return QUEUES_FILE

    def apply(self, tree: CommentedMap) -> None:
        _update_entry(tree, "queues", "name", self.name, "queue", QueueChanges, self.changes, self.reset)

    def describe(self) -> str:
        return f"update queue {self.name}: {', '.join([*_given(self.changes), *self.reset])}"


# ------------------------------------------------------------------ acd.yaml
@dataclass(frozen=True, config=_STRICT)
class SetNotReadyReasons:
    reasons: list[str]

    def target(self, config_dir: Path) -> str:
        return ACD_FILE

    def apply(self, tree: CommentedMap) -> None:
        assign(tree, "not_ready_reasons", list(self.reasons))

    def describe(self) -> str:
        return f"not-ready reasons: {', '.join(self.reasons)}"


# ------------------------------------------------------------------ scenarios and schedules
def scenario_files(config_dir: Path) -> list[Path]:
    folder = config_dir / SCENARIOS_DIR
    return sorted(p for p in folder.glob("*.yaml") if p.is_file() and not p.name.startswith("_"))


def schedule_files(config_dir: Path) -> list[Path]:
    folder = config_dir / SCENARIOS_DIR
    return sorted(p for p in folder.glob("_*.yaml") if p.is_file())


def _peek(path: Path) -> Any:
    try:
        return plain(load(path.read_text(encoding="utf-8")).tree)
    except Exception:  # a broken file is the loader's to report; it just names nothing here
        return {}


def scenario_file(config_dir: Path, name: str) -> str:
    for path in scenario_files(config_dir):
        data = _peek(path)
        declared = data.get("name") if isinstance(data, dict) else None
        if str(declared or path.stem) == name:
            return str(path.relative_to(config_dir))
    raise OperationError(404, f"no scenario {name!r}")


@dataclass(frozen=True, config=_STRICT)
class SetNumbers:
    """The numbers a scenario serves. To move a number, remove it from one scenario, then add it to the
    other (a number served twice is refused by the loader)."""

    scenario: str
    numbers: list[str]

    def target(self, config_dir: Path) -> str:
        return scenario_file(config_dir, self.scenario)

    def apply(self, tree: CommentedMap) -> None:
        assign(tree, "numbers", list(self.numbers))  # numbers that stay keep their spelling and quotes

    def describe(self) -> str:
        return f"numbers of scenario {self.scenario}: {', '.join(self.numbers)}"


@dataclass(frozen=True, config=_STRICT)
class ScheduleChanges:
    """Business hours and holidays of a shared schedule (``routing.schedule.Schedule``)."""

    timezone: str | None = None
    weekly: dict[str, list[str]] | None = None
    """Weekday (mon..sun) -> open ranges such as ``09:00-18:00``; a day left out is closed."""
    holidays_country: str | None = None
    holiday_hours: list[str] | None = None
    """Open ranges on public holidays ([] closed)."""
    extra_holidays: list[str] | None = None
    """Dates (YYYY-MM-DD) closed like a holiday."""
    special_days: dict[str, list[str]] | None = None
    """Date -> open ranges that day, winning over everything else (moved working days, short days)."""

    given: tuple[str, ...] = ()
    """The fields set by this change (filled in from the input; a field not given stays as written)."""

    @model_validator(mode="before")
    @classmethod
    def _given_fields(cls, data: Any) -> Any:
        return _note_given(data)


@dataclass(frozen=True, config=_STRICT)
class SetSchedule:
    """Create or change a shared schedule (``scenarios/_*.yaml``) that scenarios name in ``hours`` steps."""

    name: str
    changes: ScheduleChanges = ScheduleChanges()
    reset: list[str] = field(default_factory=list)

    def target(self, config_dir: Path) -> str:
        for path in schedule_files(config_dir):
            data = _peek(path)
            if isinstance(data, dict) and self.name in (data.get("schedules") or {}):
                return str(path.relative_to(config_dir))
        files = schedule_files(config_dir)
        return str(files[0].relative_to(config_dir)) if files else DEFAULT_SCHEDULES_FILE

    def apply(self, tree: CommentedMap) -> None:
        changes = _given(self.changes)
        _check_reset(self.reset, ScheduleChanges, changes)
        if "schedules" not in tree or tree["schedules"] is None:
            tree["schedules"] = CommentedMap()
        schedules = tree["schedules"]
        if self.name not in schedules:
            schedules[self.name] = to_node({}, flow=False)
        item = schedules[self.name]
        if "weekly" in changes and isinstance(item.get("weekly"), CommentedMap):
            weekly = changes.pop("weekly")
            _patch(item["weekly"], weekly, [d for d in list(item["weekly"]) if d not in weekly])
        elif "weekly" in changes:
            weekly_node = CommentedMap()
            for day, hours in changes.pop("weekly").items():
                weekly_node[day] = to_node(hours, flow=True)
            item["weekly"] = weekly_node
        _patch(item, changes, self.reset)

    def describe(self) -> str:
        return f"schedule {self.name}: {', '.join([*_given(self.changes), *self.reset])}"
