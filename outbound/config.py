"""Campaign configuration: ``config/campaigns/<name>.yaml``, checked like the rest of the config.

A campaign says who calls (queue, agents, caller id), when (a calling window in local time and days), how
often (attempts and retry delays per outcome), how fast (dialing mode, drop-rate target, lines per agent,
trunk channels), what the agent reads (a script per language, Markdown with ``{contact fields}``) and what
the agent fills in (a form whose answers decide whether the call was "productive", the figure a survey
tender pays for). Every error names file, line and field (``acd.yamlconf``), and all problems of a
folder are reported at once, so an admin fixes a file in one pass.

``load_campaigns(folder)`` is the entry point for the daemon's config set; ``acd campaigns check DIR``
runs it from the command line.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from acd.yamlconf import ConfigError, ConfigProblem, YamlDoc, read_yaml
from routing.numbers import BadNumber, normalise
from routing.schedule import WEEKDAYS, Hours, parse_range

OUTCOMES = ("answered", "no_answer", "busy", "congestion", "unreachable", "dropped")
"""How one dialling attempt can end (the Dial results of Asterisk, plus ``dropped``: answered by the
called party while no agent was free, see docs/outbound.md)."""

Outcome = Literal["answered", "no_answer", "busy", "congestion", "unreachable", "dropped"]
Mode = Literal["preview", "progressive", "predictive"]
Language = Literal["kk", "ru"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
QuestionType = Literal["single_choice", "multiple_choice", "number", "text", "rating", "yes_no"]

STANDARD_FIELDS = ("phone", "name", "language")
"""Contact fields every contact has (``name`` and ``language`` may be empty); others are declared in
``contact_fields`` and come from the contact file's extra columns."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$")
_UNIT_S = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_duration(value: Any) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` -> seconds; ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"duration {value!r}: give seconds or e.g. 90s, 15m, 2h, 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"duration {value!r}: give seconds or e.g. 90s, 15m, 2h, 1d")
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds < 0:
        raise ValueError(f"duration {value!r} is negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """When contacts may be called, in the campaign's local time zone. Outside it nothing is dialled."""

    days: list[Weekday] = Field(default_factory=lambda: list(_WORKDAYS), description="Weekdays with calls")
    hours: Hours = Field(default_factory=lambda: ["10:00-20:00"],
                         description="Local hours on those days, e.g. [10:00-13:00, 14:00-20:00]")
    start_date: date | None = Field(None, description="First day of the campaign (YYYY-MM-DD)")
    end_date: date | None = Field(None, description="Last day of the campaign (YYYY-MM-DD), inclusive")

    @model_validator(mode="after")
    def _opens(self) -> Window:
        if not self.days:
            raise ValueError("the calling window never opens: no days (give e.g. days: [mon, tue, wed])")
        if not self.hours:
            raise ValueError("the calling window never opens: no hours (give e.g. hours: [10:00-20:00])")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day is listed twice in days")
        if self.start_date and self.end_date:
            if self.end_date < self.start_date:
                raise ValueError(f"the calling window never opens: end_date {self.end_date} is before "
                                 f"start_date {self.start_date}")
            span = (self.end_date - self.start_date).days + 1
            weekdays = {WEEKDAYS[(self.start_date + timedelta(d)).weekday()] for d in range(min(span, 7))}
            if not weekdays & set(self.days):
                raise ValueError(f"the calling window never opens: no {'/'.join(self.days)} between "
                                 f"{self.start_date} and {self.end_date}")
        return self


class Retry(_Strict):
    """What to do after an attempt ended with one outcome: call again after ``after``, at most ``max`` times
    in all for this outcome (default: the campaign's ``max_attempts``)."""

    after: Duration = Field(description="Delay before the next attempt: seconds or 90s, 15m, 2h, 1d")
    max: int | None = Field(None, ge=1, description="Attempts ending this way before the contact is closed")


def _retry_short_form(value: Any) -> Any:
    return {"after": value} if isinstance(value, int | float | str) and not isinstance(value, bool) else value


RetryRule = Annotated[Retry | None, BeforeValidator(_retry_short_form)]


_DEFAULT_RETRY: dict[Outcome, Retry | None] = {
    "no_answer": Retry(after=7200), "busy": Retry(after=900), "congestion": Retry(after=600),
    "unreachable": Retry(after=14400), "dropped": Retry(after=1800)}


class Attempts(_Strict):
    """Attempts per contact; an outcome without a rule (or ``null``) closes the contact."""

    max: int = Field(3, ge=1, le=20, description="Attempts per contact in all")
    retry: dict[Outcome, RetryRule] = Field(
        default_factory=lambda: dict(_DEFAULT_RETRY),
        description="Per outcome (answered, no_answer, busy, congestion, unreachable, dropped): delay "
        "before calling again, e.g. busy: 15m, or {after: 2h, max: 2}. 'answered' applies only to answered "
        "calls that were not productive.")


class Dialing(_Strict):
    mode: Mode = Field("progressive", description="preview: the agent sees the contact and dials; "
                       "progressive: one line per free agent; predictive: more lines than free agents")
    drop_rate_target: float = Field(
        0.03, gt=0, le=0.2, description="Predictive: answered calls with no free agent, as a fraction of "
        "answered calls over the campaign (0.03 = 3 %)")
    max_lines_per_agent: float = Field(3.0, ge=1, le=10, description="Ceiling of lines per ready agent")
    trunk_channels: int = Field(30, ge=1, description="Channels of the trunk for this campaign (a limit)")
    ring_timeout_s: float = Field(30, ge=5, le=120, description="Give up on an unanswered call after this")
    drop_after_s: float = Field(2.0, ge=0, le=10, description="An answered call waiting this long for a "
                                "free agent hears the drop message and is recorded as dropped")
    endpoint: str = Field("PJSIP/{e164}@trunk", description="What Asterisk dials for a contact: {number} "
                          "is the canonical number (7012345678), {e164} the international one (+77012345678)")
    paused: bool = Field(False, description="The daemon dials nothing for this campaign while true")
    priority: int = Field(-10, le=-1, description="Queue priority of answered campaign calls: below the "
                          "inbound callers' (0 and up), so an agent is offered inbound first")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        tech, sep, rest = value.partition("/")
        if not sep or not tech or ("{number}" not in rest and "{e164}" not in rest):
            raise ValueError(f"endpoint {value!r}: give e.g. PJSIP/{{e164}}@trunk ({{number}} or {{e164}} "
                             "is replaced by the contact's number)")
        return value

    def dial_string(self, number: str) -> str:
        """The endpoint Asterisk dials for a canonical ``number`` (routing.numbers.normalise)."""
        e164 = number if number.startswith("+") else f"+7{number}"
        return self.endpoint.replace("{number}", number).replace("{e164}", e164)

    @field_validator("drop_rate_target", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip()[:-1]) / 100
            except ValueError:
                return value
        if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value <= 20:
            raise ValueError(f"{value} is read as a fraction: write 3% or 0.03 for three per cent")
        return value


Text = dict[Language, str]


class Question(_Strict):
    """One question of the form; ``text`` per language as the agent reads it."""

    id: str = Field(description="Short name (a-z, 0-9, _): the column in exports and in productive rules")
    type: QuestionType
    text: Text = Field(description="The question per language: {kk: ..., ru: ...}")
    required: bool = Field(False, description="The agent cannot close the form without it")
    options: list[str] = Field(default_factory=list, description="Answers of a choice question")
    min: float | None = Field(None, description="number/rating: smallest value (rating default 1)")
    max: float | None = Field(None, description="number/rating: largest value (rating default 5)")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"question id {value!r}: lower-case letters, digits and _ only, starting "
                             "with a letter")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Question:
        choice = self.type in ("single_choice", "multiple_choice")
        if choice and len(self.options) < 2:
            raise ValueError(f"a {self.type} question needs at least two options")
        if not choice and self.options:
            raise ValueError(f"options only belong to choice questions, not to {self.type}")
        if len(set(self.options)) != len(self.options):
            raise ValueError("an option is listed twice")
        if self.type not in ("number", "rating") and (self.min is not None or self.max is not None):
            raise ValueError(f"min/max only belong to number and rating questions, not to {self.type}")
        lo, hi = self.bounds
        if lo is not None and hi is not None and hi < lo:
            raise ValueError(f"max {hi:g} is below min {lo:g}")
        return self

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        if self.type == "rating":
            return (1.0 if self.min is None else self.min), (5.0 if self.max is None else self.max)
        return self.min, self.max

    def check_answer(self, value: Any) -> str | None:
        """Why ``value`` is not a valid answer (None when it is); for the desktop's form and the API."""
        if value is None or value == "" or value == []:
            return "an answer is required" if self.required else None
        if self.type == "yes_no":
            return None if isinstance(value, bool) else "answer yes or no"
        if self.type == "text":
            return None if isinstance(value, str) else "answer with text"
        if self.type == "single_choice":
            return None if value in self.options else f"not one of the options: {value!r}"
        if self.type == "multiple_choice":
            if not isinstance(value, list) or any(v not in self.options for v in value):
                return f"not a list of the options: {value!r}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "answer with a number"
        if self.type == "rating" and value != int(value):
            return "a rating is a whole number"
        lo, hi = self.bounds
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            low, high = ("-inf" if lo is None else f"{lo:g}"), ("inf" if hi is None else f"{hi:g}")
            return f"{value:g} is outside {low}..{high}"
        return None


class Condition(_Strict):
    """One condition on an answer; a call is productive when every condition holds."""

    question: str = Field(description="A question id of the form")
    answered: bool | None = Field(None, description="true: the question has any answer")
    is_in: list[str | bool | float] | None = Field(None, alias="in",
                                                   description="The answer is one of these")
    at_least: float | None = Field(None, description="number/rating: the answer is at least this")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> Condition:
        given = [n for n, v in (("answered", self.answered), ("in", self.is_in), ("at_least", self.at_least))
                 if v is not None]
        if len(given) != 1:
            raise ValueError("a productive condition has exactly one of answered, in, at_least")
        return self

    def holds(self, answers: dict[str, Any]) -> bool:
        value = answers.get(self.question)
        present = value not in (None, "", [])
        if self.answered is not None:
            return present == self.answered
        if not present:
            return False
        if self.is_in is not None:
            values = value if isinstance(value, list) else [value]
            return any(v in self.is_in for v in values)
        return isinstance(value, int | float) and self.at_least is not None and value >= self.at_least


class Form(_Strict):
    questions: list[Question] = Field(description="Questions in the order the agent asks them")
    productive: list[Condition] | None = Field(
        None, description="When the call counts as productive (all conditions hold); default: every "
        "required question is answered")

    @model_validator(mode="after")
    def _refs(self) -> Form:
        ids = [q.id for q in self.questions]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"question id {dup[0]!r} is used twice")
        if not self.questions:
            raise ValueError("a form needs at least one question")
        return self

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def is_productive(self, answers: dict[str, Any]) -> bool:
        """Does a filled form make the call productive (the count the tender pays for)?"""
        if self.productive is not None:
            return all(c.holds(answers) for c in self.productive)
        required = [q for q in self.questions if q.required]
        return bool(required) and all(answers.get(q.id) not in (None, "", []) for q in required)

    def check_answers(self, answers: dict[str, Any]) -> dict[str, str]:
        """Problems per question id (unknown ids included); empty when the form may be saved."""
        problems = {k: "no such question in the form" for k in answers if self.question(k) is None}
        for q in self.questions:
            why = q.check_answer(answers.get(q.id))
            if why:
                problems[q.id] = why
        return problems


class DiallingRules(_Strict):
    """Which external numbers may be dialled (see outbound/dialrules.py for the built-in refusals)."""

    allowed_prefixes: list[str] = Field(
        default_factory=lambda: ["7"],
        description="Canonical numbers (routing.numbers: 10 national digits, or +CC... abroad) must start "
        "with one of these; ['7'] allows Kazakh mobiles (70x, 74x, 77x) and city numbers (7xx)")
    refused_prefixes: list[str] = Field(default_factory=list,
                                        description="More prefixes never to dial (on top of the built-ins)")


class Campaign(_Strict):
    """One outbound campaign (a survey, a reminder round); see docs/outbound.md."""

    name: str = Field(description="The campaign's name: the file name without .yaml")
    description: str = ""
    queue: str = Field(description="Queue whose agents work the campaign (skills and language as inbound)")
    agents: list[str] = Field(default_factory=list, description="Only these agents (default: the queue's)")
    caller_id: str = Field(description="Number shown to the called party, e.g. +7 727 258 15 00")
    timezone: str = Field("Asia/Almaty", description="IANA time zone of the calling window")
    window: Window = Field(default_factory=Window)
    attempts: Attempts = Field(default_factory=Attempts)
    dialing: Dialing = Field(default_factory=Dialing)
    dialling_rules: DiallingRules = Field(default_factory=DiallingRules)
    do_not_call: list[str] = Field(
        default_factory=list, description="Numbers never to call (any format), on top of do_not_call_file")
    do_not_call_file: str | None = Field(None, description="A file of numbers never to call, one a line, "
                                         "relative to this campaign file")
    contact_fields: list[str] = Field(
        default_factory=list, description="Extra contact columns the script uses (must be in the file)")
    script: Text = Field(description="What the agent says per language (Markdown with {contact fields})")
    form: Form

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Almaty)") from exc
        return value

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, value: str) -> str:
        try:
            return normalise(value)
        except BadNumber as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("contact_fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        for f in value:
            if not _ID.match(f):
                raise ValueError(f"contact field {f!r}: lower-case letters, digits and _ only")
            if f in STANDARD_FIELDS:
                raise ValueError(f"{f!r} is a standard contact field; do not list it")
        return value

    @property
    def known_fields(self) -> tuple[str, ...]:
        return (*STANDARD_FIELDS, *self.contact_fields)

    def in_window(self, at: float) -> bool:
        """May a contact be called at the epoch instant ``at``? (days, hours and dates in local time)"""
        local = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(self.timezone))
        w = self.window
        if (w.start_date and local.date() < w.start_date) or (w.end_date and local.date() > w.end_date):
            return False
        if WEEKDAYS[local.weekday()] not in w.days:
            return False
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(s <= minute < e for s, e in (parse_range(r) for r in w.hours))

    def render_script(self, language: str, contact: dict[str, str]) -> str:
        """The script in ``language`` (falling back to the other one) with the contact's fields filled in."""
        text = self.script.get(language) or next(iter(self.script.values()))  # type: ignore[call-overload]
        return text.format_map(_Blank(contact))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def script_fields(text: str) -> list[str]:
    """The ``{field}`` names a script uses; ValueError for a malformed brace."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _semantic(doc: YamlDoc, c: Campaign, stem: str, known_queues: Iterable[str] | None,
              known_agents: Iterable[str] | None) -> list[ConfigProblem]:
    """Cross-field checks pydantic cannot make on one field: names, references, script fields."""
    out: list[ConfigProblem] = []
    if c.name != stem:
        out.append(doc.problem(["name"], f"the name {c.name!r} must be the file's name {stem!r}"))
    if known_queues is not None and c.queue not in set(known_queues):
        out.append(doc.problem(["queue"], f"unknown queue {c.queue!r}"))
    if known_agents is not None:
        known = set(known_agents)
        for i, a in enumerate(c.agents):
            if a not in known:
                out.append(doc.problem(["agents", i], f"unknown agent {a!r}"))
    if not c.script:
        out.append(doc.problem(["script"], "a script needs at least one language (kk or ru)"))
    for lang, text in c.script.items():
        try:
            names = script_fields(text)
        except ValueError as exc:
            out.append(doc.problem(["script", lang], f"bad {{field}} braces: {exc}"))
            continue
        for name in names:
            if name not in c.known_fields:
                out.append(doc.problem(["script", lang], f"unknown contact field {{{name}}}; known: "
                                       f"{', '.join(c.known_fields)} (declare others in contact_fields)"))
    for i, cond in enumerate(c.form.productive or []):
        q = c.form.question(cond.question)
        loc: list[str | int] = ["form", "productive", i, "question"]
        if q is None:
            out.append(doc.problem(loc, f"unknown form field {cond.question!r}; the form asks: "
                                   f"{', '.join(x.id for x in c.form.questions)}"))
        elif cond.at_least is not None and q.type not in ("number", "rating"):
            out.append(doc.problem(loc, f"at_least needs a number or rating question, {q.id!r} is {q.type}"))
        elif cond.is_in is not None and q.type in ("single_choice", "multiple_choice"):
            for v in cond.is_in:
                if v not in q.options:
                    out.append(doc.problem(loc, f"{v!r} is not an option of {q.id!r}"))
    for i, q in enumerate(c.form.questions):
        for lang in c.script:
            if lang not in q.text:
                out.append(doc.problem(["form", "questions", i, "text"],
                                       f"no {lang} text while the script has {lang}"))
    if c.do_not_call_file is not None:
        path = Path(doc.path).parent / c.do_not_call_file
        if not path.is_file():
            out.append(doc.problem(["do_not_call_file"], f"no such file: {path}"))
    for i, number in enumerate(c.do_not_call):
        try:
            normalise(number)
        except BadNumber as exc:
            out.append(doc.problem(["do_not_call", i], str(exc)))
    return out


def _problems(doc: YamlDoc, exc: ValidationError) -> list[ConfigProblem]:
    """Pydantic errors as file:line problems, without pydantic's union member names in the field path
    (``function-before[...]``, ``nullable[Retry]``), as acd/configset.py does for scenario steps."""
    out: list[ConfigProblem] = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here)"
        elif err["type"] == "missing":
            msg = "required field missing"
        problem = doc.problem(loc, msg)
        if problem not in out:
            out.append(problem)
    return out


def load_campaign(path: Path, *, known_queues: Iterable[str] | None = None,
                  known_agents: Iterable[str] | None = None, display: str | None = None) -> Campaign:
    """Read and check one campaign file; ConfigError lists every problem with file:line."""
    doc = read_yaml(path, display)
    data = doc.data
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(doc, exc)) from exc
    problems = _semantic(doc, campaign, path.stem, known_queues, known_agents)
    if problems:
        raise ConfigError(problems)
    return campaign


def load_campaigns(folder: Path | str, *, known_queues: Iterable[str] | None = None,
                   known_agents: Iterable[str] | None = None) -> list[Campaign]:
    """Every ``*.yaml`` campaign of ``folder`` (none when it does not exist), or a ConfigError with the
    problems of all files together. Pass the queue and agent names of the config set to check references.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []
    queues = None if known_queues is None else list(known_queues)
    agents = None if known_agents is None else list(known_agents)
    campaigns: list[Campaign] = []
    problems: list[ConfigProblem] = []
    for path in files:
        try:
            campaigns.append(load_campaign(path, known_queues=queues, known_agents=agents))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return campaigns


def dnc_numbers(campaign: Campaign, campaign_file: Path) -> set[str]:
    """The campaign's do-not-call list, canonical; the file's unreadable lines are skipped by the checker
    (a number that does not parse cannot match a contact anyway)."""
    numbers = {normalise(n) for n in campaign.do_not_call}
    if campaign.do_not_call_file is not None:
        path = campaign_file.parent / campaign.do_not_call_file
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                try:
                    numbers.add(normalise(line))
                except BadNumber:
                    continue
    return numbers
