"""``acd prompts build``: the integrator registers ``prompts_build`` in ``acd/cli.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acd.configset import load_prompts
from acd.yamlconf import ConfigError
from ivr.build import ToolMissing, build_prompts


def prompts_build(
    config_dir: Annotated[Path, typer.Option("--config-dir", "-c", help="The config directory")]
    = Path("config"),
    out: Annotated[Path, typer.Option(help="Sounds directory (Asterisk layout: <lang>/acd/<id>.wav)")]
    = Path("var/sounds"),
    force: Annotated[bool, typer.Option(help="Overwrite existing files (recordings too!)")] = False,
) -> None:
    """Speak every missing prompt and number word with espeak-ng (kk, ru, en) into OUT."""
    try:
        catalogue = load_prompts(config_dir)
        report = build_prompts(catalogue, out, force=force)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except ToolMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for path in [*report.made, *report.copied]:
        typer.echo(f"  {path}")
    typer.echo(report.summary())
