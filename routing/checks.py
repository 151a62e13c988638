"""Checks of one scenario file against the rest of the configuration (queues, agents, prompts, schedules,
sound files), with every finding as ``file:line: field: message``.

These belong to routing: they know what a scenario means. ``acd.configset`` reads the files and composes
these checks with its own; routing never imports ``acd.configset`` (docs/architecture.md).

"One mistake, one error": a reference to a name whose defining file could not be read (``Names.unreadable``)
or whose own definition is invalid (``Names.broken``) is not reported again here; it is counted in
``Findings.suppressed`` under the root cause, which ``acd.configset`` reports once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarint import ScalarInt

from acd.core.config import AgentConfig, QueueConfig
from acd.yamlconf import ConfigProblem, Findings, YamlDoc, did_you_mean, format_loc
from ivr.announcements import ANNOUNCEMENT_PROMPTS
from ivr.catalogue import Catalogue, is_literal_media
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
    TransferStep,
    VoicemailStep,
)
from routing.schedule import Schedule

QUEUES = "queues"
SCHEDULES = "schedules"
AGENTS = "agents"


def prompts_root(lang: str) -> str:
    """The ``Findings.suppressed`` key of prompt references in ``lang`` (its file is missing or broken)."""
    return f"prompts:{lang}"


@dataclass(frozen=True)
class Names:
    """The names a file defines, as far as it could be read."""

    defined: Collection[str]
    broken: frozenset[str] = frozenset()
    """Names whose own definition is invalid (reported there)."""
    unreadable: bool = False
    """The file itself could not be read (missing, empty, YAML error): no name can be judged."""

    def judged(self, name: str) -> bool:
        """May a reference to ``name`` be called unknown? Not when the cause lies in the defining file."""
        return not self.unreadable and name not in self.broken


class SoundDirs:
    """Where Asterisk looks for ``sound:<name>`` played in a language, as far as this machine can tell.

    Asterisk (main/file.c, ``fileexists_core``) tries ``<lang>/<name>``, then ``<name>`` without a
    language, then ``en/<name>``, with any format extension. Debian's core-sounds packages install a
    language as ``en_US_f_Allison``/``ru_RU_f_IvrvoiceRU`` and link ``en``/``ru`` to them; both are tried.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = tuple(r for r in roots if r.is_dir())

    def _dirs(self, root: Path, lang: str) -> Iterator[Path]:
        for code in (lang, "", "en"):
            if not code:
                yield root
                continue
            yield root / code
            yield from sorted(root.glob(f"{code}_*"))

    def has(self, name: str, lang: str) -> bool:
        name = name.removesuffix(".wav")
        return any(any(d.glob(f"{name}.*")) for root in self.roots for d in self._dirs(root, lang))

    def has_in(self, name: str, lang: str) -> bool:
        """In the language's own folder, without falling back to another language (a prompt of the
        catalogue: a Kazakh caller must not hear the English one)."""
        return any(any(d.glob(f"{name}.*")) for root in self.roots
                   for d in (root / lang, *sorted(root.glob(f"{lang}_*"))))


@dataclass(frozen=True)
class ScenarioContext:
    """The rest of the configuration, as a scenario's checks see it."""

    queues: Mapping[str, QueueConfig]
    queue_names: Names
    prompts: Catalogue
    schedules: Mapping[str, Schedule]
    schedule_names: Names
    agents: Mapping[str, AgentConfig] = field(default_factory=dict)
    agents_judged: bool = True
    """False when agents.yaml has errors: who speaks what is then not judged."""
    unreadable_prompt_languages: frozenset[str] = frozenset()
    """Languages whose ``prompts/<lang>.yaml`` is missing or broken (reported once, there)."""
    sounds: SoundDirs | None = None
    """None: sound files are not checked."""


def model_problems(doc: YamlDoc, exc: ValidationError, prefix: Loc = ()) -> list[ConfigProblem]:
    """Pydantic errors (of a scenario, or of the item at ``prefix`` of a file) as file:line problems; the
    unions' tags are dropped from locations and an unknown step kind gets a suggestion."""
    out: list[ConfigProblem] = []
    for err in exc.errors(include_url=False):
        # drop pydantic's union member names ("function-after[...]", "literal['a','b']", "list[...]")
        raw = [*prefix, *(p for p in err["loc"]
                          if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))]
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
        # A value that fits no member of a union (``strategy: fastest``) fails once per member: one
        # mistake, one error, so only the first message per location is kept.
        if not any(p.line == problem.line and p.field == problem.field for p in out):
            out.append(problem)
    return out


def duplicate_keys(doc: YamlDoc) -> list[ConfigProblem]:
    """Keys that differ in YAML but not as text (``1:`` and ``"1":``): a DTMF key used twice."""
    out: list[ConfigProblem] = []

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
                    out.append(ConfigProblem(doc.path, line, format_loc(loc), message))
                seen.add(str(k))
                walk(v, [*loc, str(k)])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*loc, i])
    walk(doc.tree, [])
    return out


def _written(value: ScalarInt) -> str:
    width = getattr(value, "_width", None)
    text = str(int(value))
    return text.zfill(width) if isinstance(width, int) and width > len(text) else text


def number_warnings(doc: YamlDoc) -> list[ConfigProblem]:
    """Telephone numbers written unquoted in a way YAML reads as another integer (``0193`` is 193).

    A plain unquoted ``193`` is fine; a leading zero, an octal/hex prefix or an underscore changes the
    number, and the scenario then serves a number nobody dials."""
    out: list[ConfigProblem] = []
    tree = doc.tree
    if not isinstance(tree, CommentedMap):
        return out
    places: list[tuple[list[str | int], Any]] = []
    numbers = tree.get("numbers")
    if isinstance(numbers, CommentedSeq):
        places += [(["numbers", i], v) for i, v in enumerate(numbers)]
    branches = tree.get("branches")
    if isinstance(branches, CommentedMap):
        places += [(["branches", str(k)], v) for k, v in branches.items()]
    for loc, value in places:
        if isinstance(value, ScalarInt) and not isinstance(value, bool):
            written = _written(value)
            if written != str(int(value)):
                msg = f"number {written} is read by YAML as {int(value)}: quote it (\"{written}\")"
            else:
                msg = f"this number is read by YAML as {int(value)}: quote it as it is dialled"
            out.append(doc.problem(loc, msg).as_warning())
    return out


def queues_used(sc: Scenario, flow: Flow, queues: Mapping[str, QueueConfig]) -> dict[str, Loc]:
    """Every queue a call of this scenario may wait in (queue steps, ``queue:`` transfers and overflows,
    and the queues' own overflow chains), with where the scenario names it first."""
    out: dict[str, Loc] = {}

    def add(name: str, loc: Loc) -> None:
        while name and name not in out:
            out[name] = loc
            q = queues.get(name)
            name = (q.overflow_queue or "") if q else ""

    for node in flow:
        step = node.step
        if isinstance(step, QueueStep):
            add(step.queue.name, (*node.loc, node.kind, "name"))
            if step.queue.overflow and step.queue.overflow.startswith("queue:"):
                add(step.queue.overflow.removeprefix("queue:"), (*node.loc, node.kind, "overflow"))
        elif isinstance(step, TransferStep) and step.transfer.to.startswith("queue:"):
            add(step.transfer.to.removeprefix("queue:"), (*node.loc, node.kind, "to"))
    return out


class ScenarioChecks:
    """Cross-references of one scenario against the rest of the configuration."""

    def __init__(self, findings: Findings, doc: YamlDoc, sc: Scenario, flow: Flow,
                 ctx: ScenarioContext) -> None:
        self.f, self.doc, self.sc, self.flow, self.ctx = findings, doc, sc, flow, ctx

    def err(self, loc: Iterable[str | int], message: str) -> None:
        self.f.error(self.doc.problem(list(loc), message))

    def run(self) -> None:
        for problem in number_warnings(self.doc):
            self.f.warn(problem)
        for label, loc in self.flow.duplicate_labels:
            first = format_loc(self.flow.labels[label])
            self.err([*loc, "label"], f"label {label!r} is used twice (first at {first})")
        for node in self.flow:
            self.step(node.loc, node.kind, node.step)
        self.prompt_refs()
        self.languages_spoken()
        overflow = {name: (q.overflow if q.overflow and q.overflow.startswith("label:") else None)
                    for name, q in self.ctx.queues.items()}
        dead = self.flow.dead_loops(overflow)
        if dead:
            where = next((n for n in dead if n.kind == "goto"), dead[-1])
            cycle = ", ".join(format_loc(n.loc) for n in dead[:6]) + (", ..." if len(dead) > 6 else "")
            self.err([*where.loc, where.kind], f"a loop with no exit: a call can go round {cycle} forever "
                     "(add a way out: a queue, hangup, voicemail, or a fallback that leaves)")

    def queue_ref(self, loc: Loc, name: str) -> bool:
        """Report an unknown queue; True when the queue exists."""
        if name in self.ctx.queues:
            return True
        if self.ctx.queue_names.judged(name):
            self.err(loc, f"unknown queue {name!r}{did_you_mean(name, self.ctx.queues)}")
        else:
            self.f.suppressed[QUEUES] += 1
        return False

    def target(self, loc: Loc, target: str, *, for_queue: str | None = None) -> None:
        kind, _, rest = target.partition(":")
        if kind == "queue":
            self.queue_ref(loc, rest)
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
            known = self.queue_ref((*here, "name"), name)
            if step.queue.overflow:
                self.target((*here, "overflow"), step.queue.overflow)
            elif known and self.ctx.queues[name].overflow:
                self.target((*here, "name"), self.ctx.queues[name].overflow or "", for_queue=name)
        elif isinstance(step, TransferStep):
            self.target((*here, "to"), step.transfer.to)
        elif isinstance(step, HoursStep):
            sched = step.hours.schedule
            if sched not in self.sc.schedules and sched not in self.ctx.schedules:
                if self.ctx.schedule_names.judged(sched):
                    names = [*self.sc.schedules, *self.ctx.schedules]
                    self.err((*here, "schedule"), f"unknown schedule {sched!r}{did_you_mean(sched, names)}")
                else:
                    self.f.suppressed[SCHEDULES] += 1
        elif isinstance(step, LanguageMenuStep):
            for key, lang in step.language_menu.options.items():
                if lang not in self.sc.languages:
                    self.err((*here, "options", key), f"language {lang!r} is not in the scenario's languages "
                             f"{self.sc.languages}")

    def prompt_refs(self) -> None:
        """Every prompt played must exist in every language of the scenario; every ``sound:`` file should
        exist where Asterisk looks for it (a warning: Asterisk would play silence)."""
        refs: list[tuple[Loc, str]] = []
        for i, ref in enumerate(self.sc.voicemail.greeting):
            refs.append((("voicemail", "greeting", i), ref))
        for node in self.flow:
            refs += [((*node.loc, node.kind, *sub), ref) for sub, ref in prompts_of(node.step)]
            q = node.step.queue if isinstance(node.step, QueueStep) else None
            if q is not None and (q.announce_position or q.announce_wait):
                refs += [((*node.loc, node.kind), ref) for ref in ANNOUNCEMENT_PROMPTS]
        reported: set[str] = set()
        unreadable = self.ctx.unreadable_prompt_languages
        for loc, ref in refs:
            if ref in reported:
                continue
            reported.add(ref)
            if is_literal_media(ref):
                self.sound_ref(loc, ref)
                continue
            missing = [lang for lang in self.sc.languages if not self.ctx.prompts.has(lang, ref)]
            for lang in missing:
                if lang in unreadable:
                    self.f.suppressed[prompts_root(lang)] += 1
            missing = [lang for lang in missing if lang not in unreadable]
            if missing:
                known = self.ctx.prompts.ids()  # a prompt of another language is missing, not misspelt
                hint = "" if ref in known else did_you_mean(ref, known)
                files = ", ".join(f"prompts/{lang}.yaml" for lang in missing)
                self.err(loc, f"prompt {ref!r} has no text in {', '.join(missing)}{hint} (add it to {files})")

    def sound_ref(self, loc: Loc, ref: str) -> None:
        sounds = self.ctx.sounds
        if sounds is None or not sounds.roots or not ref.startswith("sound:"):
            return
        name = ref.removeprefix("sound:")
        missing = [lang for lang in self.sc.languages if not sounds.has(name, lang)]
        if missing:
            where = ", ".join(str(r) for r in sounds.roots)
            self.f.warn(self.doc.problem(list(loc), f"{ref}: no such sound file for {', '.join(missing)} "
                                         f"in {where} (Asterisk would play silence)"))

    def languages_spoken(self) -> None:
        """A language the scenario offers must be spoken by some agent of each queue it leads to (with
        ``language_skill``): the language is never relaxed, so such callers could never be served."""
        used = queues_used(self.sc, self.flow, self.ctx.queues)
        for i, lang in enumerate(self.sc.languages):
            mute = []
            for name in used:
                q = self.ctx.queues.get(name)
                if q is None or not q.language_skill:
                    continue
                members = [a for a in self.ctx.agents.values() if name in a.queues]
                if not any(lang in a.languages for a in members):
                    mute.append(name)
            if not mute:
                continue
            if not self.ctx.agents_judged:
                self.f.suppressed[AGENTS] += 1
                continue
            queues = ("queues " if len(mute) > 1 else "queue ") + ", ".join(repr(q) for q in mute)
            self.err(["languages", i], f"language {lang!r} is offered but no agent of {queues} speaks "
                     f"it: such callers could never be served (add {lang} to an agent's "
                     "languages in agents.yaml, or drop it here)")


def prompts_of(step: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location within the step, prompt reference) of everything a step plays."""
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
        if q.callback_key:
            yield from each("callback_prompt", q.callback_prompt)
            yield from each("callback_confirm_prompt", q.callback_confirm_prompt)
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
