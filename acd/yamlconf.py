"""Read admin-edited YAML into pydantic models, with every error naming file, line and field.

ruamel.yaml's round-trip loader keeps the line of each mapping key and sequence item (``.lc``); a pydantic
error's ``loc`` (("steps", 3, "queue")) is walked through that tree to the nearest line we know. Messages
look like ``config/scenarios/193.yaml:14: steps[3].queue: unknown queue 'second_lin'``.
"""

from __future__ import annotations

import contextlib
import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

M = TypeVar("M", bound=BaseModel)


Severity = Literal["error", "warning"]
"""An error stops the daemon from loading the configuration (``acd check`` exits 1); a warning is printed
and logged but the configuration loads (docs/configuration.md, "Errors and warnings")."""


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.severity == "warning":
            where += ": warning"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_warning(self) -> ConfigProblem:
        return ConfigProblem(self.file, self.line, self.field, self.message, "warning")


class ConfigError(Exception):
    """One or more problems in configuration files; ``str()`` lists them one per line.

    ``problems`` are the errors; ``warnings`` found in the same pass ride along so that ``acd check``
    can show them too."""

    def __init__(self, problems: Iterable[ConfigProblem], warnings: Iterable[ConfigProblem] = ()) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Findings:
    """What one pass over configuration files found: errors, warnings, and the consequences of a broken
    file that were not reported one by one.

    "One mistake, one error": when a file cannot be read (a YAML error, empty, missing), the names it
    defines are unknown, and every reference to them elsewhere would be reported as unknown too. Those
    references are counted under ``suppressed[root]`` instead, and the root cause says how many there
    were (``annotate``)."""

    errors: list[ConfigProblem] = field(default_factory=list)
    warnings: list[ConfigProblem] = field(default_factory=list)
    suppressed: Counter[str] = field(default_factory=Counter)

    def error(self, problem: ConfigProblem) -> None:
        if problem not in self.errors:
            self.errors.append(problem)

    def warn(self, problem: ConfigProblem) -> None:
        warning = problem.as_warning()
        if warning not in self.warnings:
            self.warnings.append(warning)

    def annotate(self, root: str, problem_index: int, what: str) -> None:
        """Add "[N <what> elsewhere not checked ...]" to the root-cause error at ``problem_index``;
        ``what`` has ``{s}`` where a plural takes an s (``reference{s} to a queue``)."""
        n = self.suppressed.pop(root, 0)
        if n and 0 <= problem_index < len(self.errors):
            p = self.errors[problem_index]
            things = what.format(s="s" if n != 1 else "")
            self.errors[problem_index] = ConfigProblem(
                p.file, p.line, p.field, f"{p.message} [{n} {things} elsewhere not checked until this is "
                "fixed]", p.severity)


def did_you_mean(name: str, known: Iterable[str], aliases: dict[str, str] | None = None) -> str:
    """`` (did you mean 'x'?)`` for a name close to a known one, never the name itself; ``aliases`` are
    usual mistakes difflib would not find (``kz`` for ``kk``)."""
    candidates = [k for k in known if k != name]
    if aliases and name.lower() in aliases and aliases[name.lower()] in candidates:
        return f" (did you mean {aliases[name.lower()]!r}?)"
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class YamlDoc:
    """A parsed YAML file: its plain data, and the ruamel tree to find lines in."""

    path: str
    tree: Any
    empty: bool = False
    """The file holds no YAML document at all (empty, or only comments)."""

    @property
    def data(self) -> Any:
        return _plain(self.tree)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node of ``loc`` found in the file."""
        node, line = self.tree, _own_line(self.tree)
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                with contextlib.suppress(KeyError, TypeError):
                    line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                with contextlib.suppress(KeyError, TypeError):
                    line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        return line

    def problem(self, loc: Sequence[str | int], message: str) -> ConfigProblem:
        return ConfigProblem(self.path, self.line_of(loc), format_loc(loc), message)


def _own_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_yaml(path: Path | str, display: str | None = None) -> YamlDoc:
    """Parse one file; a syntax error becomes a ConfigError with its line."""
    shown = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(shown, None, "", f"cannot read: {exc.strerror or exc}")]) from exc
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = " ".join(filter(None, [exc.context, exc.problem])) or str(exc)
        raise ConfigError([ConfigProblem(shown, line, "", f"YAML syntax: {msg}")]) from exc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate keys)
        raise ConfigError([ConfigProblem(shown, None, "", f"YAML: {exc}")]) from exc
    return YamlDoc(shown, tree if tree is not None else CommentedMap(), empty=tree is None)


def validation_problems(
    doc: YamlDoc, exc: ValidationError, prefix: Sequence[str | int] = ()
) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [*prefix, *(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))]
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here)"
        elif err["type"] == "missing":
            msg = "required field missing"
        problems.append(doc.problem(loc, msg.removeprefix("Value error, ")))
    return problems


def load_model(path: Path | str, model: type[M], display: str | None = None) -> M:
    """Read ``path`` and validate it as ``model``; raise ConfigError listing every problem with its line."""
    doc = read_yaml(path, display)
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(doc, exc)) from exc
