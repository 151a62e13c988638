"""Quality assessment (R15): evaluation forms, scoring, per-agent averages and calibration.

A form is a YAML file under ``config/qa/``: criteria (greeting, etiquette, correctness, closing, ...) each
with a weight and a scale. Weights must add up to 100 (or to 1.0); a form that does not is refused with
the file and line, like every other admin-edited file. A score is a number within its criterion's scale;
the total is the weighted mean of each score's position on its scale, in percent (0..100), so criteria
with different scales (0-5, 0-10, yes/no as 0-1) combine fairly.

Pure functions over plain data: storing an evaluation is ``recording.store``'s job.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from acd.yamlconf import ConfigError, ConfigProblem, read_yaml, validation_problems

_WEIGHT_TOTALS = (100.0, 1.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = ""
    weight: float = Field(gt=0)
    min: float = 0
    max: float = 5
    description: str = ""

    @model_validator(mode="after")
    def _scale(self) -> Criterion:
        if self.max <= self.min:
            raise ValueError(f"scale max ({self.max:g}) must be above min ({self.min:g})")
        return self


class QaForm(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(1, ge=1)
    title: str = ""
    criteria: list[Criterion] = Field(min_length=1)

    def criterion(self, cid: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == cid), None)


class ScoreError(ValueError):
    """Scores that do not fit the form: ``field`` names the criterion for the API's 400."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def load_form(path: Path | str) -> QaForm:
    """Read one form; ConfigError with file:line for bad YAML, bad fields, duplicate criteria, bad weights."""
    doc = read_yaml(path)
    data = doc.data
    if isinstance(data, dict):
        data.setdefault("id", Path(path).stem)
    try:
        form = QaForm.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(doc, exc)) from exc
    problems: list[ConfigProblem] = []
    seen: set[str] = set()
    for i, c in enumerate(form.criteria):
        if c.id in seen:
            problems.append(doc.problem(["criteria", i, "id"], f"duplicate criterion {c.id!r}"))
        seen.add(c.id)
    total = sum(c.weight for c in form.criteria)
    if not any(math.isclose(total, t, rel_tol=1e-9, abs_tol=1e-9) for t in _WEIGHT_TOTALS):
        message = f"weights add up to {total:g}, they must add up to 100 (or 1.0)"
        problems.append(doc.problem(["criteria"], message))
    if problems:
        raise ConfigError(problems)
    return form


def load_forms(directory: Path | str) -> dict[str, QaForm]:
    """Every ``*.yaml`` form of a directory by id; every problem of every file in one ConfigError."""
    forms: dict[str, QaForm] = {}
    where: dict[str, str] = {}
    problems: list[ConfigProblem] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            form = load_form(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if form.id in forms:
            message = f"form {form.id!r} already defined in {where[form.id]}"
            problems.append(ConfigProblem(str(path), None, "id", message))
            continue
        forms[form.id] = form
        where[form.id] = str(path)
    if problems:
        raise ConfigError(problems)
    return forms


def weighted_total(form: QaForm, scores: Mapping[str, float]) -> float:
    """Validate ``scores`` against the form and return the weighted total in percent (0..100).

    Every criterion must be scored, none unknown, each within its scale: a half-filled form would make
    agents' averages incomparable.
    """
    unknown = sorted(set(scores) - {c.id for c in form.criteria})
    if unknown:
        raise ScoreError(unknown[0], f"not a criterion of form {form.id!r}")
    weight_sum = sum(c.weight for c in form.criteria)
    total = 0.0
    for c in form.criteria:
        if c.id not in scores:
            raise ScoreError(c.id, "missing score")
        value = scores[c.id]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ScoreError(c.id, f"score must be a number, got {value!r}")
        if not c.min <= value <= c.max:
            raise ScoreError(c.id, f"score {value:g} outside the scale {c.min:g}..{c.max:g}")
        total += c.weight * (value - c.min) / (c.max - c.min)
    return round(100.0 * total / weight_sum, 2)


@dataclass(frozen=True)
class Spread:
    """How far evaluators of one call disagree on one criterion (or on the total)."""

    criterion: str
    n: int
    min: float
    max: float
    mean: float
    stddev: float
    """Population standard deviation: the evaluators present are the whole group being calibrated."""

    @property
    def range(self) -> float:
        return self.max - self.min


def _spread(name: str, values: Sequence[float]) -> Spread:
    return Spread(name, len(values), min(values), max(values), round(statistics.fmean(values), 3),
                  round(statistics.pstdev(values), 3) if len(values) > 1 else 0.0)


def calibration(evaluations: Iterable[tuple[Mapping[str, float], float]]) -> list[Spread]:
    """Spread per criterion, then ``total``, over several evaluations (scores, total) of one call."""
    per: dict[str, list[float]] = {}
    totals: list[float] = []
    for scores, total in evaluations:
        for cid, value in scores.items():
            per.setdefault(cid, []).append(float(value))
        totals.append(float(total))
    if not totals:
        return []
    return [_spread(cid, vals) for cid, vals in per.items()] + [_spread("total", totals)]


@dataclass(frozen=True)
class AgentQuality:
    agent: str
    evaluations: int
    average_total: float
    criteria: dict[str, float]
    """Average raw score per criterion (on the criterion's own scale)."""


def agent_averages(rows: Iterable[tuple[str, Mapping[str, float], float]]) -> list[AgentQuality]:
    """Per-agent quality from (agent, scores, total) rows, best average first."""
    by_agent: dict[str, list[tuple[Mapping[str, float], float]]] = {}
    for agent, scores, total in rows:
        by_agent.setdefault(agent, []).append((scores, total))
    out = []
    for agent, evals in by_agent.items():
        crit: dict[str, list[float]] = {}
        for scores, _ in evals:
            for cid, v in scores.items():
                crit.setdefault(cid, []).append(float(v))
        out.append(AgentQuality(agent, len(evals), round(statistics.fmean(t for _, t in evals), 2),
                                {k: round(statistics.fmean(v), 2) for k, v in crit.items()}))
    return sorted(out, key=lambda a: (-a.average_total, a.agent))
