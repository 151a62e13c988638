"""``acd prompts build``: the integrator registers ``prompts_build`` in ``acd/cli.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acd.asterisk_conf import SoundsDir
from acd.configset import load_prompts
from acd.settings import PathSettings, load_settings
from acd.yamlconf import ConfigError
from ivr.build import ToolMissing, build_prompts, core_sounds_dir


def _paths(config_dir: Path) -> tuple[PathSettings, str]:
    """``paths`` of the config directory's acd.yaml (defaults when there is none) and where they came from."""
    path = config_dir / "acd.yaml"
    if not path.is_file():
        return PathSettings(), "default"
    return load_settings(path).paths, str(path)


def prompts_build(
    config_dir: Annotated[Path, typer.Option("--config-dir", "-c", help="The config directory")]
    = Path("config"),
    out: Annotated[Path | None, typer.Option(
        help="Where to write (Asterisk layout <lang>/acd/<id>.wav); default: paths.sounds of acd.yaml")]
    = None,
    core_sounds: Annotated[Path | None, typer.Option(
        help="Asterisk's sounds directory with its core digits; default paths.asterisk_sounds of acd.yaml, "
             "else astdatadir of /etc/asterisk/asterisk.conf, else /var/lib/asterisk/sounds or "
             "/usr/share/asterisk/sounds")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files (recordings too!)")] = False,
) -> None:
    """Speak every missing prompt and number word with espeak-ng (kk, ru, en) into OUT."""
    try:
        paths, origin = _paths(config_dir)
        catalogue = load_prompts(config_dir)
        core = (SoundsDir(core_sounds, "--core-sounds") if core_sounds is not None
                else core_sounds_dir(paths.asterisk_sounds))
        dest = out if out is not None else paths.sounds
        typer.echo(f"core sounds: {core.describe()}")
        typer.echo(f"writing to: {dest} ({'--out' if out is not None else f'paths.sounds of {origin}'})")
        report = build_prompts(catalogue, dest, force=force, system_sounds=core.path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except ToolMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for path in [*report.made, *report.copied]:
        typer.echo(f"  {path}")
    for note in report.notes:
        typer.echo(f"note: {note}")
    if core.path is not None and dest.resolve() != core.path.resolve():
        typer.echo(f"note: Asterisk plays sound:acd/<id> from {core.path}/<lang>/acd/, not from {dest}: "
                   f"on the Asterisk host set paths.sounds to {core.path} (docs/prompts.md)")
    typer.echo(report.summary())
