"""``acd check`` and ``acd schema``: the whole configuration directory, as the daemon loads it.

They live beside ``acd.configset`` rather than in ``routing``: they compose every area's files (routing's
scenarios, the core's queues and agents, the CDR's regions, recording's QA forms, the daemon's settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from acd.configset import PromptFile, load_config
from acd.core.config import AgentsFile, QueuesFile
from acd.settings import Settings
from acd.yamlconf import ConfigError, ConfigProblem
from outbound.callbacks import load_callbacks_config
from outbound.config import load_campaigns
from routing.model import Scenario, ScheduleLibrary

SchemaKind = Literal["all", "acd", "scenario", "schedules", "queues", "agents", "prompts", "regions", "qa"]


def _schemas() -> dict[str, Any]:
    """File kind -> its pydantic model: acd.yaml, scenarios/*.yaml, scenarios/_*.yaml, queues.yaml,
    agents.yaml, prompts/<lang>.yaml, regions.yaml, qa/*.yaml."""
    from cdr.regions import RegionsConfig
    from recording.qa import QaForm

    return {
        "acd": Settings, "scenario": Scenario, "schedules": ScheduleLibrary, "queues": QueuesFile,
        "agents": AgentsFile, "prompts": PromptFile, "regions": RegionsConfig, "qa": QaForm,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _print(problems: list[ConfigProblem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)


def check(
    dir: Annotated[Path, typer.Argument(help="The config directory")] = Path("config"),  # noqa: A002
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the check too (exit 1).")] = False,
) -> None:
    """Validate everything the daemon loads from the config directory: acd.yaml, queues, agents, scenarios,
    prompts, regions, QA forms, sound files. Errors and warnings go to stderr as file:line: field: message;
    exit 1 on any error (or warning with --strict)."""
    try:
        config = load_config(dir)
        load_callbacks_config(dir / "callbacks.yaml", config.schedules)  # R25 deadlines (outbound/)
        campaigns = load_campaigns(dir / "campaigns", known_queues=config.queues,  # issue 15
                                   known_agents=config.agents)
    except ConfigError as exc:
        _print(exc.problems)
        _print(exc.warnings)
        warned = f" and {_plural(len(exc.warnings), 'warning')}" if exc.warnings else ""
        typer.echo(f"{_plural(len(exc.problems), 'error')}{warned} in {dir}", err=True)
        raise typer.Exit(1) from exc
    _print(list(config.warnings))
    if config.warnings:
        typer.echo(f"{_plural(len(config.warnings), 'warning')} in {dir}", err=True)
    if strict and config.warnings:
        raise typer.Exit(1)
    warned = f" ({_plural(len(config.warnings), 'warning')})" if config.warnings else ""
    typer.echo(f"{dir}: valid{warned}; checked:")
    typer.echo(config.summary())
    if campaigns:
        typer.echo(f"  campaigns: {', '.join(c.name for c in campaigns)}")


def json_schema(kind: str = "all") -> dict[str, Any]:
    schemas = _schemas()
    if kind == "all":
        return {name: model.model_json_schema() for name, model in schemas.items()}
    return dict(schemas[kind].model_json_schema())


def schema(
    kind: Annotated[SchemaKind,
                    typer.Argument(help="Which file's schema (acd = acd.yaml, qa = a QA form)")] = "all",
) -> None:
    """Print the JSON Schema of the config files, for editors (e.g. yaml-language-server)."""
    typer.echo(json.dumps(json_schema(kind), ensure_ascii=False, indent=2))
