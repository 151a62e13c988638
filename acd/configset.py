"""The whole configuration directory, loaded and cross-checked as one immutable ``ConfigSet``.

``load_config(Path("config"))`` reads everything the daemon loads: ``acd.yaml``, ``queues.yaml``,
``agents.yaml``, ``scenarios/*.yaml`` (files named ``_*.yaml`` hold shared schedules),
``prompts/<lang>.yaml``, ``regions.yaml`` and the QA forms in ``qa/``. It either returns a complete,
consistent set (with its ``warnings``) or raises ``ConfigError`` listing every error found in every file as
``file:line: field: message``, with a "did you mean" where a name is close to a known one.

One mistake gives one error: a file that cannot be read (missing, empty, a YAML error) is reported once,
and the references to its names elsewhere are counted under it rather than each reported as unknown
(``acd.yamlconf.Findings``). The scenario checks themselves live in ``routing.checks``; this module
composes them with the checks of the other files. The daemon swaps sets atomically on reload
(``routing/reload.py``); a call keeps the scenario object it started with, so it finishes on that version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from acd.asterisk_conf import find_sounds_dir
from acd.core.config import LANGUAGE_PREFIX, AgentConfig, AgentsFile, QueueConfig, QueuesFile
from acd.settings import Settings, load_settings
from acd.yamlconf import ConfigError, ConfigProblem, Findings, YamlDoc, did_you_mean, read_yaml
from ivr.catalogue import PROMPT_ID, Catalogue
from routing.checks import (
    AGENTS,
    QUEUES,
    SCHEDULES,
    Names,
    ScenarioChecks,
    ScenarioContext,
    SoundDirs,
    duplicate_keys,
    model_problems,
    prompts_root,
)
from routing.flow import Flow
from routing.loaded import LoadedScenario
from routing.model import Language, Scenario, ScheduleLibrary
from routing.numbers import normalise
from routing.schedule import Schedule

if TYPE_CHECKING:
    from recording.qa import QaForm

__all__ = ["ConfigSet", "LoadedScenario", "PromptFile", "Schemas", "load_config", "load_prompts"]

LANGUAGES: tuple[str, ...] = get_args(Language)
LANGUAGE_ALIASES = {"kz": "kk", "kaz": "kk", "qaz": "kk", "rus": "ru", "eng": "en",
                    **{x: x for x in LANGUAGES}}
"""Usual ways of writing a language code wrongly: ``kz`` is the country, the language is ``kk``."""


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
    qa_forms: Mapping[str, QaForm] = field(default_factory=dict)
    """QA forms of ``qa/`` by id (the daemon's web API serves them)."""
    warnings: Sequence[ConfigProblem] = ()
    """What ``acd check`` prints as warnings and the daemon logs; none of it stops the set from loading."""
    checked: Sequence[str] = ()
    """One line per part read, for ``acd check``'s summary."""

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
        """What was checked, one line per part, for ``acd check``."""
        lines: list[str] = []
        for line in self.checked:
            lines.append(line)
            if line.startswith("scenarios/"):
                for s in self.scenarios.values():
                    nums = ", ".join(n for n, sc in self.numbers.items() if sc == s.name)
                    lines.append(f"  {s.name} ({s.file}, version {s.version}): {nums}")
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


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


@dataclass
class _Items:
    """The items of a file's list or mapping (``queues:``, ``agents:``, ``schedules:``) validated one by
    one, so that one bad item does not make every other name in the file unknown."""

    valid: list[tuple[str | int, Any]] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)
    unreadable: bool = False


class _Loader:
    """One pass over a config directory, gathering every finding before giving up."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.f = Findings()
        self.checked: list[str] = []
        self.roots: dict[str, tuple[int, str]] = {}
        """Root-cause key -> (index of its error, what its consequences are called, ``{s}`` for a plural)."""
        self.docs: dict[str, YamlDoc] = {}
        """Files read without error, for the checks that span two of them."""
        self.offered: set[str] = set()
        """Languages some scenario offers."""
        self.stray: dict[Path, int] = {}
        """``x.yaml`` -> index of the error about the ``x.yml`` found instead."""

    @property
    def problems(self) -> list[ConfigProblem]:
        return self.f.errors

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.dir.parent)) if self.dir.parent != Path() else str(path)
        except ValueError:
            return str(path)

    def root(self, key: str, problem: ConfigProblem, what: str) -> None:
        """A root-cause error: its consequences elsewhere are counted under it, not reported."""
        self.f.error(problem)
        self.roots.setdefault(key, (self.f.errors.index(problem), what))

    def file_problem(self, path: Path, message: str) -> ConfigProblem:
        return ConfigProblem(self.shown(path), None, "", message)

    def read(self, path: Path) -> YamlDoc | None:
        try:
            return read_yaml(path, self.shown(path))
        except ConfigError as exc:
            for p in exc.problems:
                self.f.error(p)
            return None

    def read_root(self, path: Path, key: str, what: str, missing: str | None) -> YamlDoc | None:
        """Read a file other files refer to; a missing (when ``missing`` says why it is needed), empty or
        unreadable one is a root cause under ``key``."""
        if not path.exists():
            if missing is not None:
                self.missing(path, key, f"file missing: {missing}", what)
            return None
        before = len(self.f.errors)
        doc = self.read(path)
        if doc is None:
            self.roots.setdefault(key, (before, what))
            return None
        if doc.empty:
            self.root(key, self.file_problem(path, "the file is empty (or only comments)"), what)
            return None
        return doc

    def model(self, doc: YamlDoc | None, model: type[Any], prefix: tuple[str | int, ...] = ()) -> Any:
        if doc is None:
            return None
        try:
            return model.model_validate(doc.data)
        except ValidationError as exc:
            for p in model_problems(doc, exc, prefix):
                self.f.error(p)
            return None

    def items(self, doc: YamlDoc, key: str, model: type[BaseModel], name_field: str | None,
              whole: type[BaseModel]) -> _Items:
        """Validate ``doc``'s ``key`` item by item (a list, or a mapping when ``name_field`` is None)."""
        out = _Items()
        data = doc.data
        seq = data.get(key) if isinstance(data, dict) else None
        shape_ok = (isinstance(data, dict) and set(data) <= {key}
                    and isinstance(seq, (list if name_field else dict)))
        if not shape_ok:
            if self.model(doc, whole) is None:
                out.unreadable = True
                return out
            seq = [] if name_field else {}
        pairs = list(enumerate(seq)) if isinstance(seq, list) else list(seq.items())  # type: ignore[union-attr]
        for k, raw in pairs:
            try:
                value = model.model_validate(raw)
            except ValidationError as exc:
                for p in model_problems(doc, exc, (key, k)):
                    self.f.error(p)
                name = raw.get(name_field) if name_field and isinstance(raw, dict) else k
                if isinstance(name, str):
                    out.broken.add(name)
                continue
            out.valid.append((k, value))
        return out

    # ------------------------------------------------------------------ parts
    def stray_files(self) -> None:
        """``*.yml`` files are not read anywhere: refuse them rather than ignore them silently (a scenario
        saved as ``193.yml`` would leave its number without a scenario)."""
        for folder in (self.dir, self.dir / "scenarios", self.dir / "prompts", self.dir / "qa"):
            for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
                self.f.error(self.file_problem(
                    path, f"only .yaml files are read: rename it to {path.stem}.yaml (as it is, it is "
                    "ignored)"))
                self.stray[path.with_suffix(".yaml")] = len(self.f.errors) - 1

    def missing(self, path: Path, key: str, message: str, what: str) -> None:
        """A needed file is missing: the root cause, unless it is there as ``.yml`` (already reported)."""
        if path in self.stray:
            self.roots.setdefault(key, (self.stray[path], what))
        else:
            self.root(key, self.file_problem(path, message), what)

    def settings(self) -> Settings:
        path = self.dir / "acd.yaml"
        if not path.exists():
            self.f.warn(self.file_problem(path, "no acd.yaml: every setting takes its default"))
            return Settings()
        doc = self.read(path)
        if doc is None:
            return Settings()
        if doc.empty:
            self.f.error(self.file_problem(path, "the file is empty (or only comments): write the settings "
                                                 "(`acd schema acd`), or `{}` to take every default"))
            return Settings()
        try:
            settings = load_settings(path)
        except ConfigError as exc:
            for p in exc.problems:
                self.f.error(ConfigProblem(self.shown(path), p.line, p.field, p.message))
            return Settings()
        self.checked.append(f"acd.yaml: settings (ARI {settings.ari.url}, time zone {settings.timezone}, "
                            f"{len(settings.users)} API users)")
        self.docs["acd"] = doc
        return settings

    def queues(self) -> tuple[dict[str, QueueConfig], Names]:
        path = self.dir / "queues.yaml"
        what = "reference{s} to a queue"
        doc = self.read_root(path, QUEUES, what, "every scenario and agent names its queues here")
        if doc is None:
            return {}, Names((), unreadable=True)
        before = len(self.f.errors)
        items = self.items(doc, "queues", QueueConfig, "name", QueuesFile)
        if items.unreadable:
            self.roots.setdefault(QUEUES, (before, what))
            return {}, Names((), unreadable=True)
        if items.broken:
            self.roots.setdefault(QUEUES, (before, "reference{s} to an invalid queue"))
        out: dict[str, QueueConfig] = {}
        for i, q in items.valid:
            if q.name in out:
                self.f.error(doc.problem(["queues", i, "name"], f"queue {q.name!r} is defined twice"))
            out[q.name] = q
        if not out and not items.broken:
            self.root(QUEUES, doc.problem(["queues"], "no queue is defined"), what)
            return out, Names((), unreadable=True)
        self.checked.append(f"queues.yaml: {len(out)} queues: {', '.join(out)}")
        self.docs["queues"] = doc
        return out, Names(tuple(out), frozenset(items.broken))

    def agents(self, queues: Mapping[str, QueueConfig],
               queue_names: Names) -> tuple[dict[str, AgentConfig], bool]:
        """The agents, and whether agents.yaml is free of errors (else who speaks what is not judged)."""
        path = self.dir / "agents.yaml"
        before = len(self.f.errors)
        what = "language{s} offered in scenarios"
        doc = self.read_root(path, AGENTS, what, "queues need agents to serve them")
        if doc is None:
            return {}, False
        items = self.items(doc, "agents", AgentConfig, "id", AgentsFile)
        out: dict[str, AgentConfig] = {}
        known_skills = {s for q in queues.values() for s in q.required_skills}
        known_skills |= {s for q in queues.values() for step in q.relax for s in step.drop if s != "*"}
        for i, a in items.valid:
            if a.id in out:
                self.f.error(doc.problem(["agents", i, "id"], f"agent {a.id!r} is defined twice"))
            for q in a.queues:
                if q not in queues:
                    if queue_names.judged(q):
                        self.f.error(doc.problem(["agents", i, "queues", q],
                                                 f"unknown queue {q!r}{did_you_mean(q, queues)}"))
                    else:
                        self.f.suppressed[QUEUES] += 1
            for j, lang in enumerate(a.languages):
                if lang not in LANGUAGES:
                    hint = did_you_mean(lang, LANGUAGES, LANGUAGE_ALIASES)
                    self.f.error(doc.problem(["agents", i, "languages", j],
                                             f"unknown language {lang!r}{hint}: languages are "
                                             f"{', '.join(LANGUAGES)}"))
            if not queue_names.unreadable:
                for skill in a.skills:
                    if skill in known_skills or skill.startswith(LANGUAGE_PREFIX):
                        continue
                    # A skill no queue requires may be meant (for reports, for a queue to come); one that
                    # is close to a required one is a typo that would keep the agent from those calls.
                    hint = did_you_mean(skill, known_skills)
                    if hint:
                        self.f.error(doc.problem(["agents", i, "skills", skill],
                                                 f"skill {skill!r} is required by no queue{hint}"))
            out[a.id] = a
        if not out and not items.broken and not items.unreadable:
            self.root(AGENTS, doc.problem(["agents"], "no agent is defined"), what)
        if len(self.f.errors) == before:
            self.checked.append(f"agents.yaml: {len(out)} agents")
        return out, len(self.f.errors) == before

    def settings_against(self, settings: Settings, queues: Mapping[str, QueueConfig],
                         agents: Mapping[str, AgentConfig], agents_ok: bool) -> None:
        """acd.yaml against queues and agents: an API user acting as an agent names an existing agent; a
        queue's not-ready reason after a missed call is one of ``not_ready_reasons`` (the list agents and
        reports know)."""
        acd, qdoc = self.docs.get("acd"), self.docs.get("queues")
        if acd is not None and agents_ok:
            for i, user in enumerate(settings.users):
                if user.agent is not None and user.agent not in agents:
                    self.f.error(acd.problem(["users", i, "agent"], f"unknown agent {user.agent!r}"
                                             f"{did_you_mean(user.agent, agents)} (agents.yaml)"))
        if acd is not None and qdoc is not None:
            reasons = settings.not_ready_reasons
            for i, q in enumerate(qdoc.data.get("queues", [])):
                name = q.get("name") if isinstance(q, dict) else None
                conf = queues.get(name) if isinstance(name, str) else None
                policy = conf.no_answer if conf is not None else None
                if policy and policy.state == "not_ready" and policy.reason and policy.reason not in reasons:
                    self.f.error(qdoc.problem(
                        ["queues", i, "no_answer", "reason"],
                        f"not-ready reason {policy.reason!r}{did_you_mean(policy.reason, reasons)} is not in "
                        f"acd.yaml's not_ready_reasons ({', '.join(reasons)})"))

    def core_checks(self, queues: Mapping[str, QueueConfig], agents: Mapping[str, AgentConfig]) -> None:
        from acd.core.validate import validate

        shown = self.shown(self.dir / "queues.yaml")
        for message in validate(list(queues.values()), list(agents.values())):
            self.f.error(ConfigProblem(shown, None, "", message))

    def prompts(self) -> tuple[Catalogue, set[str]]:
        """The catalogue, and the languages whose file exists but could not be loaded."""
        texts: dict[str, dict[str, str]] = {}
        broken: set[str] = set()
        for path in _yaml_files(self.dir / "prompts"):
            lang = path.stem
            before = len(self.f.errors)
            doc = self.read_root(path, prompts_root(lang), "prompt{s} in " + lang, None)
            parsed = self.model(doc, PromptFile)
            if parsed is not None:
                texts[lang] = dict(parsed.root)
            else:
                broken.add(lang)
                self.roots.setdefault(prompts_root(lang), (before, "prompt{s} in " + lang))
        if texts:
            self.checked.append(f"prompts/: {', '.join(sorted(texts))}")
        return Catalogue.of(texts), broken

    def shared_schedules(self) -> tuple[dict[str, Schedule], Names]:
        out: dict[str, Schedule] = {}
        broken: set[str] = set()
        unreadable = False
        for path in _yaml_files(self.dir / "scenarios"):
            if not path.name.startswith("_"):
                continue
            doc = self.read_root(path, SCHEDULES, "use{s} of a shared schedule", None)
            if doc is None:
                unreadable = True
                continue
            before = len(self.f.errors)
            items = self.items(doc, "schedules", Schedule, None, ScheduleLibrary)
            if items.unreadable:
                self.roots.setdefault(SCHEDULES, (before, "use{s} of a shared schedule"))
                unreadable = True
            broken |= items.broken
            for name, sched in items.valid:
                assert isinstance(name, str)
                if name in out:
                    self.f.error(doc.problem(["schedules", name],
                                             f"schedule {name!r} is also defined in another shared file"))
                out[name] = sched
        if broken:
            first = next((i for i, p in enumerate(self.f.errors) if "schedules." in p.field), 0)
            self.roots.setdefault(SCHEDULES, (first, "use{s} of an invalid schedule"))
        return out, Names(tuple(out), frozenset(broken), unreadable)

    def scenarios(self, ctx: ScenarioContext, prompt_files: set[str]
                  ) -> tuple[dict[str, LoadedScenario], dict[str, str]]:
        out: dict[str, LoadedScenario] = {}
        numbers: dict[str, tuple[str, str]] = {}
        # A scenario's version covers the shared schedules too: editing _schedules.yaml changes routing.
        files = _yaml_files(self.dir / "scenarios")
        shared = b"".join(p.read_bytes() for p in files if p.name.startswith("_"))
        parsed: list[tuple[Path, YamlDoc, Scenario]] = []
        for path in files:
            if path.name.startswith("_"):
                continue
            doc = self.read(path)
            if doc is None:
                continue
            if doc.empty:
                self.f.error(self.file_problem(path, "the file is empty (or only comments): delete it or "
                                                     "write the scenario (docs/scenarios.md)"))
                continue
            for p in duplicate_keys(doc):
                self.f.error(p)
            sc: Scenario | None = self.model(doc, Scenario)
            if sc is not None:
                parsed.append((path, doc, sc))
        # A language offered without its prompts file: one error on the file, not one per prompt.
        offered: dict[str, list[str]] = {}
        for path, _, sc in parsed:
            for lang_ in sc.languages:
                lang = str(lang_)
                offered.setdefault(lang, []).append(sc.name or path.stem)
        missing = {lang for lang in offered if lang not in prompt_files}
        for lang in sorted(missing):
            who = offered[lang]
            names = f"scenarios {', '.join(who)} offer" if len(who) > 1 else f"scenario {who[0]} offers"
            self.missing(self.dir / "prompts" / f"{lang}.yaml", prompts_root(lang),
                         f"file missing: {names} {lang}, and every prompt they play needs its text here",
                         "prompt{s} in " + lang)
        ctx = replace(ctx, unreadable_prompt_languages=ctx.unreadable_prompt_languages | frozenset(missing))
        self.offered = set(offered)
        for path, doc, sc in parsed:
            name = sc.name or path.stem
            if name in out:
                self.f.error(doc.problem(["name"],
                                         f"scenario name {name!r} is also used by {out[name].file}"))
            for i, num in enumerate(sc.numbers):
                if num in numbers and numbers[num][0] != name:
                    other, where = numbers[num]
                    self.f.error(doc.problem(["numbers", i],
                                             f"number {num} is also served by scenario {other!r} ({where})"))
                numbers.setdefault(num, (name, doc.path))
            flow = Flow.of(sc)
            ScenarioChecks(self.f, doc, sc, flow, ctx).run()
            out[name] = LoadedScenario(name, doc.path, content_version(path.read_bytes() + shared), sc, flow)
        scen_dir = self.shown(self.dir / "scenarios")
        if not out and not any(p.file.startswith(scen_dir) for p in self.f.errors):
            self.f.error(ConfigProblem(scen_dir, None, "",
                                       "no scenario: add one file per number or set of numbers"))
        shared_n = len(ctx.schedules)
        self.checked.append(f"scenarios/: {len(out)} scenarios, {shared_n} shared schedules")
        return out, {n: s for n, (s, _) in numbers.items()}

    def regions(self) -> None:
        """regions.yaml (callers' number prefixes -> region, for the CDR): checked here so that
        ``acd check`` finds its mistakes; the CDR writer loads it."""
        from cdr.regions import RegionsConfig

        path = self.dir / "regions.yaml"
        if not path.is_file():
            return
        doc = self.read(path)
        if doc is None:
            return
        if doc.empty:
            self.f.error(self.file_problem(path, "the file is empty (or only comments): delete it to take "
                                                 "the defaults"))
            return
        regions: RegionsConfig | None = self.model(doc, RegionsConfig)
        if regions is not None:
            self.checked.append(f"regions.yaml: {len(regions.mobile)} mobile prefixes, "
                                f"{len(regions.areas)} area codes")

    def qa_forms(self) -> dict[str, QaForm]:
        """The QA forms of ``qa/``, checked as the daemon loads them (``recording.qa``)."""
        from recording.qa import load_forms

        folder = self.dir / "qa"
        if not folder.is_dir():
            return {}
        try:
            forms = load_forms(folder)
        except ConfigError as exc:
            for p in exc.problems:
                self.f.error(ConfigProblem(self.shown(Path(p.file)), p.line, p.field, p.message))
            return {}
        self.checked.append(f"qa/: {len(forms)} QA form{'s' if len(forms) != 1 else ''}: {', '.join(forms)}")
        return forms

    def sound_dirs(self, settings: Settings) -> SoundDirs:
        asterisk = find_sounds_dir(settings.paths.asterisk_sounds).path
        roots = [settings.paths.sounds]
        if asterisk is not None and asterisk.resolve() != settings.paths.sounds.resolve():
            roots.append(asterisk)  # the documented layout has both the same (docs/deploy-asterisk.md): once
        dirs = SoundDirs(roots)
        if dirs.roots:
            self.checked.append(f"sound: files looked up in {', '.join(str(r) for r in dirs.roots)}")
        else:
            self.checked.append(f"sound: files not checked (none of {', '.join(str(r) for r in roots)} "
                                "exists here)")
        return dirs

    def prompt_audio(self, prompts: Catalogue, sounds: SoundDirs) -> None:
        """Prompts are played as ``sound:acd/<id>`` in the call's language: warn, once per language, when
        their audio is not where Asterisk looks (not built with ``acd prompts build``, not copied)."""
        if not sounds.roots:
            return
        for lang in sorted(self.offered & set(prompts.languages)):
            ids = sorted(prompts.texts[lang])
            missing = [pid for pid in ids if not sounds.has_in(f"acd/{pid}", lang)]
            if not missing:
                continue
            where = " or ".join(str(root / lang / "acd") for root in sounds.roots)
            listed = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
            self.f.warn(self.file_problem(
                self.dir / "prompts" / f"{lang}.yaml",
                f"{len(missing)} of {len(ids)} prompts have no audio in {where} ({listed}): Asterisk would "
                "play silence; run `acd prompts build` (docs/prompts.md)"))

    def finish(self) -> None:
        """Say under each root cause how many of its consequences were not reported."""
        for key, (index, what) in self.roots.items():
            self.f.annotate(key, index, what)


def load_prompts(directory: Path | str) -> Catalogue:
    """Only the prompt texts (``prompts build`` needs no valid scenarios); ConfigError on a bad file."""
    ld = _Loader(Path(directory))
    catalogue, _ = ld.prompts()
    if ld.problems:
        raise ConfigError(ld.problems)
    return catalogue


def load_config(directory: Path | str) -> ConfigSet:
    """Load and cross-check a config directory; ConfigError lists every error as
    ``file:line: field: message`` (its ``warnings`` too); a valid set carries its warnings."""
    d = Path(directory)
    if not d.is_dir():
        raise ConfigError([ConfigProblem(str(d), None, "", "not a directory")])
    ld = _Loader(d)
    ld.stray_files()
    settings = ld.settings()
    queues, queue_names = ld.queues()
    agents, agents_ok = ld.agents(queues, queue_names)
    ld.settings_against(settings, queues, agents, agents_ok)
    if not ld.problems:  # the core judges a consistent pair of files only, so its messages add to ours
        ld.core_checks(queues, agents)
    prompts, broken_prompts = ld.prompts()
    schedules, schedule_names = ld.shared_schedules()
    sounds = ld.sound_dirs(settings)
    ctx = ScenarioContext(
        queues=queues, queue_names=queue_names, prompts=prompts, schedules=schedules,
        schedule_names=schedule_names, agents=agents, agents_judged=agents_ok,
        unreadable_prompt_languages=frozenset(broken_prompts), sounds=sounds)
    scenarios, numbers = ld.scenarios(ctx, set(prompts.languages) | broken_prompts)
    ld.prompt_audio(prompts, sounds)
    ld.regions()
    forms = ld.qa_forms()
    ld.finish()
    if ld.problems:
        raise ConfigError(ld.problems, ld.f.warnings)
    return ConfigSet(
        directory=d, settings=settings, queues=MappingProxyType(queues), agents=MappingProxyType(agents),
        scenarios=MappingProxyType(scenarios), numbers=MappingProxyType(numbers),
        schedules=MappingProxyType(schedules), prompts=prompts, qa_forms=MappingProxyType(forms),
        warnings=tuple(ld.f.warnings), checked=tuple(ld.checked))


