"""Contact lists: read a CSV or XLSX file, check every row, then store the good ones in one transaction.

The file needs a ``phone`` column (also accepted: ``number``, ``телефон``, ``телефон нөмірі``); ``name``
and ``language`` are optional; every other column is kept as a contact field, shown to the agent and
available to the script as ``{column}``. Column names are compared without case and surrounding spaces.

Row by row: the number is put in the canonical form inbound numbers have (``routing.numbers``) and checked
against the campaign's dialling rules (``outbound.dialrules``); bad rows and repeats of an earlier row's
number are reported by line and skipped; numbers on the do-not-call list are skipped and counted. A file
that cannot be read, lacks the phone column or a column the script needs is refused as a whole.

"Nothing half-imported": :func:`read_contacts` does all the checking without touching the database, and
:func:`store_contacts` writes the result in a single transaction, so a failure leaves no contact behind.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from outbound.config import Campaign
from outbound.dialrules import check_number
from outbound.schema import campaign_contacts, campaign_row

PHONE_COLUMNS = ("phone", "number", "телефон", "телефон нөмірі", "номер")
LANGUAGES = ("kk", "ru")
MAX_FIELD_CHARS = 1000


class ContactFileError(Exception):
    """The file as a whole cannot be imported (unreadable, no phone column, a needed column missing)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Contact:
    phone: str
    name: str
    language: str | None
    fields: dict[str, str]
    line: int


@dataclass
class ImportReport:
    """What an import would do (dry run) or did: contacts to store and rows skipped with their reasons."""

    source: str
    rows: int = 0
    contacts: list[Contact] = field(default_factory=list)
    bad: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    do_not_call: list[RowProblem] = field(default_factory=list)
    already_in_campaign: int = 0
    stored: int = 0

    @property
    def skipped(self) -> list[RowProblem]:
        return sorted([*self.bad, *self.duplicates, *self.do_not_call], key=lambda p: p.line)

    def summary(self) -> str:
        return (f"{self.source}: {self.rows} rows, {len(self.contacts)} contacts to import, "
                f"{len(self.bad)} invalid, {len(self.duplicates)} duplicates, "
                f"{len(self.do_not_call)} on the do-not-call list")


def _rows_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")  # Excel's "CSV" on a Russian-locale Windows
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    for row in reader:
        yield reader.line_num, row


def _rows_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        for index, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield index, [_cell(v) for v in values]
    finally:
        wb.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into Excel: 77011234567.0
    return str(value).strip()


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _rows_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _rows_csv(path)
    raise ContactFileError(f"{path}: give a .csv or .xlsx file (not {suffix or 'no extension'})")


def read_contacts(path: Path, campaign: Campaign, do_not_call: set[str] | frozenset[str] = frozenset()
                  ) -> ImportReport:
    """Check every row of ``path`` for ``campaign``; no database is touched. Raises ContactFileError."""
    report = ImportReport(str(path))
    header: list[str] | None = None
    try:
        rows = _rows(path)
        seen: dict[str, int] = {}
        phone_col = name_col = lang_col = -1
        extra: list[tuple[int, str]] = []
        for line, values in rows:
            if header is None:
                if not any(v.strip() for v in values):
                    continue
                header = [v.strip().lower() for v in values]
                phone_col, name_col, lang_col, extra = _columns(path, header, campaign)
                continue
            if not any(str(v).strip() for v in values):
                continue  # blank lines (Excel leaves many) are not rows
            report.rows += 1
            cells = [*values, *[""] * (len(header) - len(values))]
            if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
                report.bad.append(RowProblem(line, f"{len(values)} cells but {len(header)} columns"))
                continue
            raw_phone = cells[phone_col].strip()
            if not raw_phone:
                report.bad.append(RowProblem(line, "no phone number"))
                continue
            verdict = check_number(raw_phone, campaign.dialling_rules)
            if not verdict.ok or verdict.number is None:
                report.bad.append(RowProblem(line, verdict.reason or "invalid number"))
                continue
            number = verdict.number
            if number in seen:
                report.duplicates.append(RowProblem(line, f"{number} repeats line {seen[number]}"))
                continue
            seen[number] = line
            if number in do_not_call:
                report.do_not_call.append(RowProblem(line, f"{number} is on the do-not-call list"))
                continue
            language = cells[lang_col].strip().lower() if lang_col >= 0 else ""
            if language and language not in LANGUAGES:
                report.bad.append(RowProblem(line, f"language {language!r}: give kk, ru or leave it empty"))
                continue
            fields = {name: cells[i].strip() for i, name in extra}
            long = [k for k, v in fields.items() if len(v) > MAX_FIELD_CHARS]
            if long:
                report.bad.append(RowProblem(line, f"column {long[0]!r} is longer than {MAX_FIELD_CHARS} "
                                             "characters"))
                continue
            name = cells[name_col].strip() if name_col >= 0 else ""
            report.contacts.append(Contact(number, name, language or None, fields, line))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ContactFileError(f"{path}: cannot read: {exc}") from exc
    except ContactFileError:
        raise
    except Exception as exc:  # openpyxl raises zipfile/XML errors of many kinds for a broken workbook
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            raise ContactFileError(f"{path}: not a readable XLSX workbook: {exc}") from exc
        raise
    if header is None:
        raise ContactFileError(f"{path}: the file is empty (no header row)")
    return report


def _columns(path: Path, header: list[str], campaign: Campaign
             ) -> tuple[int, int, int, list[tuple[int, str]]]:
    phones = [i for i, h in enumerate(header) if h in PHONE_COLUMNS]
    if not phones:
        raise ContactFileError(f"{path}: no phone column in the header ({', '.join(header)}); "
                               f"name one of: {', '.join(PHONE_COLUMNS)}")
    if len(phones) > 1:
        raise ContactFileError(f"{path}: more than one phone column: {', '.join(header[i] for i in phones)}")
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        raise ContactFileError(f"{path}: column {dup[0]!r} appears twice in the header")
    missing = [f for f in campaign.contact_fields if f not in header]
    if missing:
        raise ContactFileError(f"{path}: the campaign's script needs column(s) {', '.join(missing)}; "
                               f"the file has {', '.join(header)}")
    name_col = header.index("name") if "name" in header else -1
    lang_col = header.index("language") if "language" in header else -1
    extra = [(i, h) for i, h in enumerate(header)
             if h and i not in (phones[0], name_col, lang_col)]
    return phones[0], name_col, lang_col, extra


async def store_contacts(engine: AsyncEngine, campaign: Campaign, report: ImportReport,
                         now: datetime | None = None) -> ImportReport:
    """Write the checked contacts of ``report`` in one transaction (all or nothing). Numbers already in
    the campaign are left as they are (re-importing a file adds only the new contacts)."""
    at = now or datetime.now(UTC)
    async with engine.begin() as conn:
        cid = await campaign_row(conn, campaign.name, campaign.description, at)
        existing = set((await conn.execute(
            select(campaign_contacts.c.phone).where(campaign_contacts.c.campaign_id == cid))).scalars())
        new = [c for c in report.contacts if c.phone not in existing]
        report.already_in_campaign = len(report.contacts) - len(new)
        if new:
            await conn.execute(campaign_contacts.insert(), [
                dict(campaign_id=cid, phone=c.phone, name=c.name or None, language=c.language,
                     fields=c.fields, source=Path(report.source).name, source_line=c.line, imported_at=at,
                     status="pending", attempts=0)
                for c in new])
        report.stored = len(new)
    return report
