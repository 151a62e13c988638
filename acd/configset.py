"""The whole configuration directory, loaded and cross-checked as one immutable ``ConfigSet``.

``load_config(Path("config"))`` reads ``acd.yaml`` (defaults when absent), ``queues.yaml``,
``agents.yaml``, ``scenarios/*.yaml`` (files named ``_*.yaml`` hold shared schedules) and
``prompts/<lang>.yaml``. It either returns a complete, consistent set or raises ``ConfigError`` listing
every problem found in every file as ``file:line: field: message``, with a "did you mean" where a name is
close to a known one. The daemon swaps sets atomically on reload (``routing/reload.py``); a call keeps the
scenario object it started with, so it finishes on that version.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator
from ruamel.yaml.comments import CommentedMap

from acd.core.config import AgentConfig, AgentsFile, QueueConfig, QueuesFile
from acd.settings import Settings, load_settings
from acd.yamlconf import ConfigError, ConfigProblem, YamlDoc, format_loc, load_model, read_yaml
from ivr.announcements import ANNOUNCEMENT_PROMPTS
from ivr.catalogue import PROMPT_ID, Catalogue, is_literal_media
from routing.flow import Flow, Loc
from routing.model import (
    STEP_KINDS,
    HangupStep,
    HoursStep,
    InfoStep,
    LanguageMenuStep,
    MenuStep,
    PlayStep,
    QueueStep,
    Scenario,
    ScheduleLibrary,
    TransferStep,
    VoicemailStep,
)
from routing.numbers import normalise
from routing.schedule import Schedule


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario as loaded: its model, where it came from, and its version (hash of the file's bytes and
    of the shared ``scenarios/_*.yaml``)."""

    name: str
    file: str
    version: str
    scenario: Scenario
    flow: Flow = field(repr=False, compare=False)


@dataclass(frozen=True)
class ConfigSet:
    directory: Path
    settings: Settings
    queues: Mapping[str, QueueConfig]
    agents: Mapping[str, AgentConfig]
    scenarios: Mapping[str, LoadedScenario]
    """By scenario name."""
    numbers: Mapping[str, str]
    """Canonical dialled number (``routing.numbers.normalise``) -> scenario name."""
    schedules: Mapping[str, Schedule]
    """Shared schedules (``scenarios/_*.yaml``); a scenario's own come first (``schedule_for``)."""
    prompts: Catalogue

    def scenario_for(self, dialled: str) -> LoadedScenario | None:
        """The scenario serving a dialled number, written any usual way; None when no scenario does."""
        try:
            name = self.numbers.get(normalise(dialled))
        except ValueError:
            return None
        return self.scenarios.get(name) if name else None

    def schedule_for(self, scenario: Scenario, name: str) -> Schedule:
        return scenario.schedules.get(name) or self.schedules[name]

    def summary(self) -> str:
        """One line per part, for ``acd check``."""
        lines = [f"{len(self.queues)} queues: {', '.join(self.queues)}",
                 f"{len(self.agents)} agents",
                 f"prompts in {', '.join(self.prompts.languages) or 'no language'}"]
        for s in self.scenarios.values():
            nums = ", ".join(n for n, sc in self.numbers.items() if sc == s.name)
            lines.append(f"scenario {s.name} ({s.file}, version {s.version}): {nums}")
        return "\n".join(lines)


class PromptFile(RootModel[dict[str, str]]):
    """``config/prompts/<lang>.yaml``: prompt id -> the text it says."""

    @field_validator("root")
    @classmethod
    def _ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not PROMPT_ID.match(key):
                raise ValueError(f"prompt id {key!r}: use lower-case letters, digits, _ and -")
            if not text.strip():
                raise ValueError(f"prompt {key!r} has no text")
        return value


class Schemas(BaseModel):
    """Bundle of every file's model, for ``acd schema``."""

    model_config = ConfigDict(extra="forbid")
    scenario: Scenario | None = Field(None, description="config/scenarios/<name>.yaml")
    queues: QueuesFile | None = Field(None, description="config/queues.yaml")
    agents: AgentsFile | None = Field(None, description="config/agents.yaml")


def content_version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _problems(doc: YamlDoc, exc: ValidationError) -> list[ConfigProblem]:
    """Pydantic errors as file:line problems; the step union's tags are dropped from locations and an
    unknown step kind gets a suggestion."""
    out = []
    for err in exc.errors(include_url=False):
        # drop pydantic's union member names ("function-after[...]", "literal['a','b']", "list[...]")
        raw = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
        loc: list[str | int] = []
        for i, part in enumerate(raw):
            if (part in STEP_KINDS and i > 0 and isinstance(raw[i - 1], int) and i + 1 < len(raw)
                    and raw[i + 1] == part):
                continue
            loc.append(part)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here)"
        elif err["type"] == "missing":
            msg = "required field missing"
        elif err["type"] == "step_kind" and isinstance(err.get("input"), dict):
            keys = [k for k in err["input"] if k != "label"]
            kinds = [k for k in keys if k in STEP_KINDS]
            if len(kinds) > 1:
                msg = f"a step has exactly one kind, found {', '.join(kinds)}: split it into several steps"
            else:
                hint = did_you_mean(str(keys[0]), STEP_KINDS) if keys else ""
                what = f"unknown step {keys[0]!r}{hint}; " if keys else ""
                msg = what + msg
        problem = doc.problem(loc, msg)
        if problem not in out:
            out.append(problem)
    return out


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


class _Loader:
    """One pass over a config directory, gathering every problem before giving up."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.problems: list[ConfigProblem] = []
        self.queues_ok = True
        """False when queues.yaml itself is broken: references to queues are then not judged."""

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.dir.parent)) if self.dir.parent != Path() else str(path)
        except ValueError:
            return str(path)

    def regions(self) -> None:
        """regions.yaml (callers' number prefixes -> region, for the CDR): checked here so that
        ``acd check`` finds its mistakes; the CDR writer loads it."""
        from cdr.regions import RegionsConfig

        path = self.dir / "regions.yaml"
        if path.is_file():
            try:
                load_model(path, RegionsConfig, display=self.shown(path))
            except ConfigError as exc:
                self.problems += exc.problems

    def read(self, path: Path) -> YamlDoc | None:
        try:
            return read_yaml(path, self.shown(path))
        except ConfigError as exc:
            self.problems += exc.problems
            return None

    def model(self, doc: YamlDoc | None, model: type[Any]) -> Any:
        if doc is None:
            return None
        try:
            return model.model_validate(doc.data)
        except ValidationError as exc:
            self.problems += _problems(doc, exc)
            return None

    def l_problem(self, problem: ConfigProblem) -> None:
        self.problems.append(problem)

    def add(self, doc: YamlDoc, loc: Loc | list[str | int], message: str) -> None:
        self.problems.append(doc.problem(list(loc), message))

    # ------------------------------------------------------------------ parts
    def settings(self) -> Settings:
        path = self.dir / "acd.yaml"
        if not path.exists():
            return Settings()
        try:
            return load_settings(path)
        except ConfigError as exc:
            self.problems += exc.problems
            return Settings()

    def queues(self) -> tuple[dict[str, QueueConfig], YamlDoc | None]:
        doc = self.read(self.dir / "queues.yaml") if (self.dir / "queues.yaml").exists() else None
        before = len(self.problems)
        parsed: QueuesFile | None = self.model(doc, QueuesFile)
        self.queues_ok = len(self.problems) == before
        out: dict[str, QueueConfig] = {}
        for i, q in enumerate(parsed.queues if parsed else []):
            if q.name in out and doc is not None:
                self.add(doc, ["queues", i, "name"], f"queue {q.name!r} is defined twice")
            out[q.name] = q
        return out, doc

    def agents(self, queues: Mapping[str, QueueConfig]) -> dict[str, AgentConfig]:
        doc = self.read(self.dir / "agents.yaml") if (self.dir / "agents.yaml").exists() else None
        parsed: AgentsFile | None = self.model(doc, AgentsFile)
        out: dict[str, AgentConfig] = {}
        for i, a in enumerate(parsed.agents if parsed else []):
            assert doc is not None
            if a.id in out:
                self.add(doc, ["agents", i, "id"], f"agent {a.id!r} is defined twice")
            for q in a.queues:
                if self.queues_ok and q not in queues:
                    self.add(doc, ["agents", i, "queues", q], f"unknown queue {q!r}{did_you_mean(q, queues)}")
            out[a.id] = a
        return out

    def prompts(self) -> Catalogue:
        texts: dict[str, dict[str, str]] = {}
        for path in _yaml_files(self.dir / "prompts"):
            doc = self.read(path)
            parsed = self.model(doc, PromptFile)
            if parsed is not None:
                texts[path.stem] = dict(parsed.root)
        return Catalogue.of(texts)

    def core_checks(self, queues: Mapping[str, QueueConfig], agents: Mapping[str, AgentConfig],
                    queues_doc: YamlDoc | None) -> None:
        try:
            from acd.core.validate import validate
        except ImportError:  # the core's own checks are optional while it is being written
            return
        shown = queues_doc.path if queues_doc else self.shown(self.dir / "queues.yaml")
        for message in validate(list(queues.values()), list(agents.values())):
            self.problems.append(ConfigProblem(shown, None, "", message))

    def shared_schedules(self) -> dict[str, Schedule]:
        out: dict[str, Schedule] = {}
        for path in _yaml_files(self.dir / "scenarios"):
            if not path.name.startswith("_"):
                continue
            doc = self.read(path)
            lib: ScheduleLibrary | None = self.model(doc, ScheduleLibrary)
            for name, sched in (lib.schedules.items() if lib else ()):
                if name in out and doc is not None:
                    self.add(doc, ["schedules", name],
                             f"schedule {name!r} is also defined in another shared file")
                out[name] = sched
        return out

    def scenarios(self, queues: Mapping[str, QueueConfig], prompts: Catalogue,
                  schedules: Mapping[str, Schedule]) -> tuple[dict[str, LoadedScenario], dict[str, str]]:
        out: dict[str, LoadedScenario] = {}
        numbers: dict[str, tuple[str, str]] = {}
        # A scenario's version covers the shared schedules too: editing _schedules.yaml changes routing.
        files = _yaml_files(self.dir / "scenarios")
        shared = b"".join(p.read_bytes() for p in files if p.name.startswith("_"))
        for path in _yaml_files(self.dir / "scenarios"):
            if path.name.startswith("_"):
                continue
            doc = self.read(path)
            if doc is None:
                continue
            self.duplicate_keys(doc)
            sc: Scenario | None = self.model(doc, Scenario)
            if sc is None:
                continue
            name = sc.name or path.stem
            if name in out:
                self.add(doc, ["name"], f"scenario name {name!r} is also used by {out[name].file}")
            for i, num in enumerate(sc.numbers):
                if num in numbers and numbers[num][0] != name:
                    other, where = numbers[num]
                    self.add(doc, ["numbers", i],
                             f"number {num} is also served by scenario {other!r} ({where})")
                numbers.setdefault(num, (name, doc.path))
            flow = Flow.of(sc)
            _ScenarioChecks(self, doc, sc, flow, queues, prompts, schedules).run()
            out[name] = LoadedScenario(name, doc.path, content_version(path.read_bytes() + shared), sc, flow)
        if not out and not any(p.file.startswith(self.shown(self.dir / "scenarios")) for p in self.problems):
            self.problems.append(ConfigProblem(self.shown(self.dir / "scenarios"), None, "",
                                               "no scenario: add one file per number or set of numbers"))
        return out, {n: s for n, (s, _) in numbers.items()}

    def duplicate_keys(self, doc: YamlDoc) -> None:
        """Keys that differ in YAML but not as text (``1:`` and ``"1":``): a DTMF key used twice."""
        def walk(node: Any, loc: list[str | int]) -> None:
            if isinstance(node, CommentedMap):
                seen: set[str] = set()
                for k, v in node.items():
                    if str(k) in seen:
                        what = "DTMF key" if loc and loc[-1] == "options" else "key"
                        try:
                            line: int | None = node.lc.key(k)[0] + 1
                        except (KeyError, TypeError):
                            line = doc.line_of(loc)
                        message = f"{what} {str(k)!r} used twice"
                        self.l_problem(ConfigProblem(doc.path, line, format_loc(loc), message))
                    seen.add(str(k))
                    walk(v, [*loc, str(k)])
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, [*loc, i])
        walk(doc.tree, [])


class _ScenarioChecks:
    """Cross-references of one scenario against the rest of the configuration."""

    def __init__(self, loader: _Loader, doc: YamlDoc, sc: Scenario, flow: Flow,
                 queues: Mapping[str, QueueConfig], prompts: Catalogue,
                 schedules: Mapping[str, Schedule]) -> None:
        self.l, self.doc, self.sc, self.flow = loader, doc, sc, flow
        self.queues, self.prompts, self.schedules = queues, prompts, schedules

    def err(self, loc: Iterable[str | int], message: str) -> None:
        self.l.add(self.doc, list(loc), message)

    def run(self) -> None:
        for label, loc in self.flow.duplicate_labels:
            first = format_loc(self.flow.labels[label])
            self.err([*loc, "label"], f"label {label!r} is used twice (first at {first})")
        for node in self.flow:
            self.step(node.loc, node.kind, node.step)
        self.prompt_refs()
        overflow = {name: (q.overflow if q.overflow and q.overflow.startswith("label:") else None)
                    for name, q in self.queues.items()}
        dead = self.flow.dead_loops(overflow)
        if dead:
            where = next((n for n in dead if n.kind == "goto"), dead[-1])
            cycle = ", ".join(format_loc(n.loc) for n in dead[:6]) + (", ..." if len(dead) > 6 else "")
            self.err([*where.loc, where.kind], f"a loop with no exit: a call can go round {cycle} forever "
                     "(add a way out: a queue, hangup, voicemail, or a fallback that leaves)")

    def target(self, loc: Loc, target: str, *, for_queue: str | None = None) -> None:
        kind, _, rest = target.partition(":")
        if kind == "queue" and self.l.queues_ok and rest not in self.queues:
            self.err(loc, f"unknown queue {rest!r}{did_you_mean(rest, self.queues)}")
        elif kind == "label" and rest not in self.flow.labels:
            via = f" (overflow of queue {for_queue!r} in queues.yaml)" if for_queue else ""
            self.err(loc, f"unknown label {rest!r}{via}{did_you_mean(rest, self.flow.labels)}")
        elif kind == "branch" and rest not in self.sc.branches:
            self.err(loc, f"unknown branch {rest!r}{did_you_mean(rest, self.sc.branches)} "
                     "(define it under branches:)")

    def step(self, loc: Loc, kind: str, step: Any) -> None:
        here = (*loc, kind)
        if kind == "goto" and step.goto not in self.flow.labels:
            self.err(here, f"unknown label {step.goto!r}{did_you_mean(step.goto, self.flow.labels)}")
        elif isinstance(step, QueueStep):
            name = step.queue.name
            if self.l.queues_ok and name not in self.queues:
                self.err((*here, "name"), f"unknown queue {name!r}{did_you_mean(name, self.queues)}")
            if step.queue.overflow:
                self.target((*here, "overflow"), step.queue.overflow)
            elif name in self.queues and self.queues[name].overflow:
                self.target((*here, "name"), self.queues[name].overflow or "", for_queue=name)
        elif isinstance(step, TransferStep):
            self.target((*here, "to"), step.transfer.to)
        elif isinstance(step, HoursStep):
            sched = step.hours.schedule
            if sched not in self.sc.schedules and sched not in self.schedules:
                known = [*self.sc.schedules, *self.schedules]
                self.err((*here, "schedule"), f"unknown schedule {sched!r}{did_you_mean(sched, known)}")
        elif isinstance(step, LanguageMenuStep):
            for key, lang in step.language_menu.options.items():
                if lang not in self.sc.languages:
                    self.err((*here, "options", key), f"language {lang!r} is not in the scenario's languages "
                             f"{self.sc.languages}")

    def prompt_refs(self) -> None:
        """Every prompt played must exist in every language of the scenario."""
        refs: list[tuple[Loc, str]] = []
        for i, ref in enumerate(self.sc.voicemail.greeting):
            refs.append((("voicemail", "greeting", i), ref))
        for node in self.flow:
            refs += [((*node.loc, node.kind, *sub), ref) for sub, ref in _prompts_of(node.step)]
            q = node.step.queue if isinstance(node.step, QueueStep) else None
            if q is not None and (q.announce_position or q.announce_wait):
                refs += [((*node.loc, node.kind), ref) for ref in ANNOUNCEMENT_PROMPTS]
        reported: set[str] = set()
        for loc, ref in refs:
            if is_literal_media(ref):
                continue
            missing = [lang for lang in self.sc.languages if not self.prompts.has(lang, ref)]
            if missing and ref not in reported:
                reported.add(ref)
                hint = did_you_mean(ref, self.prompts.ids())
                files = ", ".join(f"prompts/{lang}.yaml" for lang in missing)
                self.err(loc, f"prompt {ref!r} has no text in {', '.join(missing)}{hint} (add it to {files})")


def _prompts_of(step: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    Found = Iterator[tuple[tuple[str | int, ...], str]]

    def each(field_name: str, refs: list[str] | None) -> Found:
        for i, ref in enumerate(refs or []):
            yield (field_name, i), ref

    if isinstance(step, PlayStep):
        for i, ref in enumerate(step.play):
            yield (i,), ref
    elif isinstance(step, HangupStep):
        for i, ref in enumerate(step.hangup or []):
            yield (i,), ref
    elif isinstance(step, LanguageMenuStep):
        yield from each("prompt", step.language_menu.prompt)
        if step.language_menu.retries:
            yield ("retries",), "invalid_input"  # played by the interpreter after an invalid key
    elif isinstance(step, MenuStep):
        m = step.menu
        yield from each("prompt", m.prompt)
        yield from each("invalid_prompt", m.invalid_prompt)
        yield from each("timeout_prompt", m.timeout_prompt)
    elif isinstance(step, QueueStep):
        q = step.queue
        yield from each("periodic_prompt", q.periodic_prompt)
        if q.recording_notice:
            yield from each("recording_notice_prompt", q.recording_notice_prompt)
    elif isinstance(step, VoicemailStep) and step.voicemail:
        yield from each("greeting", step.voicemail.greeting)
        yield from each("goodbye", step.voicemail.goodbye)
    elif isinstance(step, TransferStep):
        yield from each("prompt", step.transfer.prompt)
    elif isinstance(step, InfoStep):
        yield from each("prompt", step.info.prompt)
        yield from each("goodbye", step.info.goodbye)


def load_prompts(directory: Path | str) -> Catalogue:
    """Only the prompt texts (``prompts build`` needs no valid scenarios); ConfigError on a bad file."""
    ld = _Loader(Path(directory))
    catalogue = ld.prompts()
    if ld.problems:
        raise ConfigError(ld.problems)
    return catalogue


def load_config(directory: Path | str) -> ConfigSet:
    """Load and cross-check a config directory; ConfigError lists every problem as
    ``file:line: field: message``."""
    d = Path(directory)
    if not d.is_dir():
        raise ConfigError([ConfigProblem(str(d), None, "", "not a directory")])
    ld = _Loader(d)
    settings = ld.settings()
    queues, queues_doc = ld.queues()
    agents = ld.agents(queues)
    if not ld.problems:  # the core judges a consistent pair of files only, so its messages add to ours
        ld.core_checks(queues, agents, queues_doc)
    prompts = ld.prompts()
    schedules = ld.shared_schedules()
    scenarios, numbers = ld.scenarios(queues, prompts, schedules)
    ld.regions()
    if ld.problems:
        raise ConfigError(ld.problems)
    return ConfigSet(
        directory=d, settings=settings, queues=MappingProxyType(queues), agents=MappingProxyType(agents),
        scenarios=MappingProxyType(scenarios), numbers=MappingProxyType(numbers),
        schedules=MappingProxyType(schedules), prompts=prompts)
