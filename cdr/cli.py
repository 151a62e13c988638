"""``acd report NAME``: run one of the tenders' reports from the command line.

The integrator registers ``report`` on the main typer app (``app.command()(report)``); here it also has a
small app of its own, ``python -m cdr.cli report daily --from 2026-11-01 --to 2026-11-30``.
Usage errors (a period backwards, an unknown report, an unwritable output) print one clear line on
stderr and exit with code 2.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from acd.yamlconf import ConfigError, load_model
from cdr.reports.base import SL_VARIANTS, ReportOptions, ReportResult
from cdr.sla import SlaTargets

DEFAULT_CONFIG = Path("config/acd.yaml")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"acd report: {message}", err=True)
    return typer.Exit(code)


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{flag} {value!r}: expected a date YYYY-MM-DD") from None


def _writable(path: Path) -> bool:
    parent = path.parent if str(path.parent) else Path(".")
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    return parent.is_dir() and os.access(parent, os.W_OK)


def report(
    name: Annotated[str, typer.Argument(help="calls | daily | topics | monthly | hourly | sla | callbacks")],
    from_: Annotated[str, typer.Option("--from", help="first local day, YYYY-MM-DD")],
    to: Annotated[str | None, typer.Option("--to", help="last local day (inclusive); default --from")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | csv | xlsx | json")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write (default: stdout; "
                                                "xlsx: NAME_FROM_TO.xlsx)")] = None,
    lang: Annotated[str, typer.Option("--lang", help="column titles: ru (the tender's forms) or en")] = "ru",
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: from the config, "
                                           "or ACD_DB_URL)")] = None,
    config: Annotated[Path, typer.Option("-c", "--config", help="the daemon's acd.yaml")] = DEFAULT_CONFIG,
    sl_variant: Annotated[str, typer.Option("--sl-variant", help=", ".join(SL_VARIANTS))] = "offered",
    sla: Annotated[Path | None, typer.Option("--sla", help="SLA targets YAML (default: sla.yaml beside "
                                             "the config, else the tenders' defaults)")] = None,
) -> None:
    """Print or save a CDR report for local days --from..--to."""
    from cdr.reports import REPORTS

    if name not in REPORTS:
        raise _fail(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    start = _day(from_, "--from")
    end = _day(to, "--to") if to else start
    if start > end:
        raise _fail(f"--from {start} is after --to {end}")
    if fmt not in ("table", "csv", "xlsx", "json"):
        raise _fail(f"unknown --format {fmt!r}: table, csv, xlsx or json")
    if lang not in ("ru", "en"):
        raise _fail(f"unknown --lang {lang!r}: ru or en")
    if sl_variant not in SL_VARIANTS:
        raise _fail(f"unknown --sl-variant {sl_variant!r}: {', '.join(SL_VARIANTS)}")
    if fmt == "xlsx" and output is None:
        output = Path(f"{name}_{start}_{end}.xlsx")
    if output is not None and not _writable(output):
        raise _fail(f"cannot write {output}: the directory is missing or not writable")
    tz, url, threshold, short = "Asia/Almaty", db or os.environ.get("ACD_DB_URL"), 30.0, 5.0
    try:
        if config.exists():
            from acd.settings import load_settings

            settings = load_settings(config)
            tz = settings.timezone
            url = url or settings.database.url.get_secret_value()
            threshold, short = settings.reports.sl_threshold_s, settings.reports.short_abandon_s
        sla_path = sla or (config.parent / "sla.yaml")
        targets = load_model(sla_path, SlaTargets) if sla_path.exists() else SlaTargets()
    except ConfigError as exc:
        raise _fail(str(exc), 1) from None
    if sla is not None and not sla.exists():
        raise _fail(f"--sla {sla}: no such file")
    if not url:
        raise _fail("no database: give --db URL, set ACD_DB_URL, or -c config/acd.yaml")
    options = ReportOptions.model_validate({"sl_threshold_s": threshold, "short_abandon_s": short,
                                            "sl_variant": sl_variant, "sla": targets,
                                            "chart": fmt in ("xlsx", "json")})
    try:
        result = asyncio.run(_run(url, name, start, end, tz, options))
    except Exception as exc:  # the database is unreachable or not an ACD database
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        raise _fail(f"cannot read the CDR at {_safe(url)}: {type(exc).__name__}: {first}", 1) from None
    _emit(result, fmt, lang, output)
    if result.warnings:
        for line in result.warnings:
            typer.echo(f"WARNING: {line}", err=True)


async def _run(url: str, name: str, start: date, end: date, tz: str, options: ReportOptions) -> ReportResult:
    from cdr.db import make_engine
    from cdr.reports import run_report

    engine = make_engine(url)
    try:
        return await run_report(engine, name, start, end, tz=tz, options=options)
    finally:
        await engine.dispose()


def _emit(result: ReportResult, fmt: str, lang: str, output: Path | None) -> None:
    from cdr.reports import render

    if fmt == "table" and output is None:
        render.print_table(result, lang)
        return
    if fmt == "xlsx":
        data: bytes = render.to_xlsx(result, lang)
    elif fmt == "json":
        data = render.to_json(result)
    elif fmt == "csv":
        data = render.to_csv(result, lang).encode("utf-8-sig" if output else "utf-8")
    else:
        from rich.console import Console

        console = Console(record=True, width=200, file=io.StringIO())
        render.print_table(result, lang, console)
        data = console.export_text().encode()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        typer.echo(f"written {output}", err=True)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the database"


app = typer.Typer(add_completion=False, help="CDR reports")
app.command()(report)

if __name__ == "__main__":
    app()
