"""``acd check`` and ``acd schema``: the integrator registers these typer functions in ``acd/cli.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from acd.configset import PromptFile, load_config
from acd.core.config import AgentsFile, QueuesFile
from acd.yamlconf import ConfigError
from routing.model import Scenario, ScheduleLibrary

SCHEMAS: dict[str, Any] = {
    "scenario": Scenario, "schedules": ScheduleLibrary, "queues": QueuesFile, "agents": AgentsFile,
    "prompts": PromptFile,
}
"""File kind -> its pydantic model: scenarios/*.yaml, scenarios/_*.yaml, queues.yaml, agents.yaml,
prompts/<lang>.yaml."""


def check(dir: Annotated[Path, typer.Argument(help="The config directory")] = Path("config")) -> None:  # noqa: A002
    """Validate the whole config directory; every problem on stderr as file:line: field: message."""
    try:
        config = load_config(dir)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        n = len(exc.problems)
        typer.echo(f"{n} problem{'s' if n != 1 else ''} in {dir}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{dir}: valid")
    typer.echo(config.summary())


def json_schema(kind: str = "all") -> dict[str, Any]:
    if kind == "all":
        return {name: model.model_json_schema() for name, model in SCHEMAS.items()}
    return dict(SCHEMAS[kind].model_json_schema())


def schema(
    kind: Annotated[Literal["all", "scenario", "schedules", "queues", "agents", "prompts"],
                    typer.Argument(help="Which file's schema")] = "all",
) -> None:
    """Print the JSON Schema of the config files, for editors (e.g. yaml-language-server)."""
    typer.echo(json.dumps(json_schema(kind), ensure_ascii=False, indent=2))
