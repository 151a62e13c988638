"""Report output formats: a rich table for the terminal, CSV, XLSX (the tender's Russian titles by
default), JSON. Renderers walk ``ReportResult.tables()``: the main table, then its sections."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

import orjson

from cdr.reports.base import Column, ReportResult, Section

FORMATS = ("table", "csv", "xlsx", "json")


def cell(row: dict[str, Any], col: Column, lang: str) -> Any:
    """A row's value for ``col``; rows may carry an English label as ``<key>_en``."""
    if lang == "en" and f"{col.key}_en" in row:
        return row[f"{col.key}_en"]
    return row.get(col.key)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, date | time | datetime):
        return value.isoformat()
    return str(value)


def _totals(section: Section, lang: str) -> dict[str, Any] | None:
    if not section.totals:
        return None
    t = dict(section.totals)
    first = section.columns[0].key
    if lang == "en" and t.get(first) == "Итого":
        t[first] = "Total"
    return t


def to_csv(result: ReportResult, lang: str = "ru") -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    for i, sec in enumerate(result.tables()):
        if i:
            w.writerow([])
            w.writerow([sec.title(lang)])
        w.writerow([c.title(lang) for c in sec.columns])
        for row in sec.rows:
            w.writerow([text(cell(row, c, lang)) for c in sec.columns])
        if (t := _totals(sec, lang)) is not None:
            w.writerow([text(t.get(c.key)) for c in sec.columns])
    return buf.getvalue()


def to_json(result: ReportResult) -> bytes:
    return orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


def to_xlsx(result: ReportResult, lang: str = "ru") -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.drawing.image import Image  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    wb = Workbook()
    first = True
    for sec in result.tables():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = (sec.key if not first else result.name)[:31]
        if first:
            period = f"{result.start.isoformat()} - {result.end.isoformat()} ({result.tz})"
            ws.append([f"{result.title(lang)}: {period}"])
            ws["A1"].font = Font(bold=True)
        ws.append([c.title(lang) for c in sec.columns])
        for c in ws[ws.max_row]:
            c.font = Font(bold=True)
        for row in sec.rows:
            ws.append([_xl(cell(row, c, lang)) for c in sec.columns])
        if (t := _totals(sec, lang)) is not None:
            ws.append([_xl(t.get(c.key)) for c in sec.columns])
            for c in ws[ws.max_row]:
                c.font = Font(bold=True)
        for i, col in enumerate(sec.columns, 1):
            ws.column_dimensions[ws.cell(row=2 if first else 1, column=i).column_letter].width = \
                max(10, min(40, len(col.title(lang)) + 2))
        if first:
            for line in [*result.notes, *result.warnings]:
                ws.append([line])
            if result.chart_png:
                img = Image(io.BytesIO(result.chart_png))
                ws.add_image(img, f"A{ws.max_row + 2}")
        first = False
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _print_transposed(console: Any, title: str, titles: list[str], rows: list[list[str]]) -> None:
    """Figures down, days (rows) across, in as many tables as the terminal's width needs."""
    from rich.table import Table

    label_w = max(len(h) for h in titles[1:]) + 3
    col_w = max(len(r[j]) for r in rows for j in range(len(titles))) + 3
    per_table = max(1, (console.width - label_w) // col_w)
    for start in range(0, len(rows), per_table):
        chunk = rows[start:start + per_table]
        table = Table(title=title, show_lines=False)
        table.add_column(titles[0])
        for r in chunk:
            table.add_column(r[0], justify="right")
        for j, h in enumerate(titles[1:], 1):
            table.add_row(h, *(r[j] for r in chunk))
        console.print(table)


def _xl(value: Any) -> Any:
    if isinstance(value, time):
        return value.isoformat()
    return value


def print_table(result: ReportResult, lang: str = "ru", console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for i, sec in enumerate(result.tables()):
        title = (f"{result.title(lang)} {result.start.isoformat()} - {result.end.isoformat()}" if i == 0
                 else sec.title(lang))
        rows = [[text(cell(row, c, lang)) for c in sec.columns] for row in sec.rows]
        if (t := _totals(sec, lang)) is not None:
            rows.append([text(t.get(c.key)) for c in sec.columns])
        titles = [c.title(lang) for c in sec.columns]
        widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(titles)]
        if sum(w + 3 for w in widths) <= console.width or len(titles) < 3:
            table = Table(title=title, show_lines=False)
            for c, h in zip(sec.columns, titles, strict=True):
                table.add_column(h, justify="left" if c.kind in ("str", "date", "time") else "right")
            for n, r in enumerate(rows):
                table.add_row(*r, style="bold" if t is not None and n == len(rows) - 1 else None)
            console.print(table)
        else:  # too wide for the terminal (the R17 form has 17 columns): one row per figure instead
            _print_transposed(console, title, titles, rows)
    for line in result.notes:
        console.print(line, style="dim")
    for line in result.warnings:
        console.print(f"WARNING: {line}", style="bold red")
