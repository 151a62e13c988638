"""Contact import: bad rows reported by line and skipped, big XLSX files, all-or-nothing writes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from cdr.db import make_engine, migrate
from outbound.config import Campaign, dnc_numbers, load_campaign
from outbound.contacts import ContactFileError, read_contacts, store_contacts
from outbound.dialrules import check_number
from outbound.schema import campaign_contacts, campaigns

ROOT = Path(__file__).resolve().parents[2]
SURVEY = ROOT / "config" / "campaigns" / "survey.yaml"
TIMEOUT = 60

BAD_CSV = """\
phone,name,first_name,last_call_topic,city
+7 701 234 56 78,Иван,Иван,счёт,Алматы
87012345678,Повтор,,,
112,Экстренный,,,
abc,Буквы,,,
+7 701 000 00 00,Не звонить,,,
8 809 123 45 67,Платный,,,

7 727 258 15 00,Офис,,,Алматы
,Без номера,,,
+7 495 123 45 67,Москва,,,
"""


@pytest.fixture
def survey() -> Campaign:
    return load_campaign(SURVEY)


def test_bad_and_duplicate_rows_are_reported_by_line_and_skipped(tmp_path: Path, survey: Campaign) -> None:
    path = tmp_path / "list.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    report = read_contacts(path, survey, dnc_numbers(survey, SURVEY))
    assert [c.phone for c in report.contacts] == ["7012345678", "7272581500"]
    assert report.contacts[0].fields == {"first_name": "Иван", "last_call_topic": "счёт", "city": "Алматы"}
    assert report.contacts[1].line == 9  # the blank line 8 is not a row, but lines keep counting
    skipped = {p.line: p.reason for p in report.skipped}
    assert set(skipped) == {3, 4, 5, 6, 7, 10, 11}
    assert "repeats line 2" in skipped[3]
    assert "emergency" in skipped[4]
    assert "not a telephone number" in skipped[5]
    assert "do-not-call" in skipped[6]
    assert "premium" in skipped[7]
    assert "no phone number" in skipped[10]
    assert "allowed prefix" in skipped[11]  # a Russian number of zone +7: not allowed by default
    assert report.rows == 9  # the blank line is not a row


def test_a_file_without_the_scripts_column_is_refused_whole(tmp_path: Path, survey: Campaign) -> None:
    path = tmp_path / "list.csv"
    path.write_text("phone;name\n+77012345678;A\n", encoding="utf-8")
    with pytest.raises(ContactFileError, match="first_name"):
        read_contacts(path, survey)


def test_semicolon_csv_in_windows_1251_reads(tmp_path: Path, survey: Campaign) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("Телефон;first_name;last_call_topic\n8 701 111 22 33;Ольга;связь\n".encode("cp1251"))
    report = read_contacts(path, survey)
    assert [(c.phone, c.fields["first_name"]) for c in report.contacts] == [("7011112233", "Ольга")]


def _xlsx(path: Path, rows: int) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["Phone", "Name", "first_name", "last_call_topic", "Region"])
    for i in range(rows):
        # numbers typed into Excel come back as numbers; every 1000th row is broken
        phone: object = 77010000000 + i if i % 1000 else "not-a-number"
        ws.append([phone, f"Контакт {i}", f"Имя {i}", "счёт", "Алматы"])
    ws.append([77010000001, "Повтор", "", "", ""])
    wb.save(path)


async def test_a_5000_row_xlsx_imports_in_one_transaction(tmp_path: Path, survey: Campaign) -> None:
    path = tmp_path / "list.xlsx"
    _xlsx(path, 5200)
    report = read_contacts(path, survey, dnc_numbers(survey, SURVEY))
    assert report.rows == 5201
    assert [p.line for p in report.bad] == [2, 1002, 2002, 3002, 4002, 5002]  # header is row 1
    assert [p.line for p in report.duplicates] == [5202]
    assert len(report.contacts) == 5200 - 6
    assert report.contacts[0].fields["region"] == "Алматы"
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    try:
        await asyncio.wait_for(migrate(engine), TIMEOUT)
        stored = await asyncio.wait_for(store_contacts(engine, survey, report), TIMEOUT)
        assert stored.stored == 5194
        again = await asyncio.wait_for(store_contacts(engine, survey, report), TIMEOUT)
        assert again.stored == 0 and again.already_in_campaign == 5194
        async with engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(campaign_contacts))).scalar()
        assert n == 5194
    finally:
        await engine.dispose()


async def test_a_failing_write_leaves_nothing_half_imported(tmp_path: Path, survey: Campaign) -> None:
    path = tmp_path / "list.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    report = read_contacts(path, survey)
    # the same number twice would break the unique constraint in the middle of the insert
    report.contacts.append(replace(report.contacts[0], line=99))
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    try:
        await asyncio.wait_for(migrate(engine), TIMEOUT)
        with pytest.raises(IntegrityError):
            await asyncio.wait_for(store_contacts(engine, survey, report), TIMEOUT)
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(campaign_contacts))).scalar() == 0
            assert (await conn.execute(select(func.count()).select_from(campaigns))).scalar() == 0
    finally:
        await engine.dispose()


def test_cli_dry_run_prints_the_summary_and_the_bad_lines(tmp_path: Path) -> None:
    from acd.cli import _register, app

    _register()
    path = tmp_path / "list.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    db = tmp_path / "acd.db"
    result = CliRunner().invoke(app, ["campaigns", "import", str(SURVEY), str(path), "--dry-run",
                                      "--db", f"sqlite+aiosqlite:///{db}"])
    assert result.exit_code == 0, result.output
    assert "9 rows, 2 contacts to import, 5 invalid, 1 duplicates, 1 on the do-not-call list" in result.output
    assert f"{path}:4: 112 is an emergency number" in result.output
    assert not db.exists()
    strict = CliRunner().invoke(app, ["campaigns", "import", str(SURVEY), str(path), "--strict",
                                      "--db", f"sqlite+aiosqlite:///{db}"])
    assert strict.exit_code == 1 and "nothing imported" in strict.output
    assert not db.exists()


@pytest.mark.parametrize("raw", ["101", "102", "103", "104", "112", "1414", "193", "+7 809 123 45 67",
                                 "8-809-555-00-11", "", "ABC"])
def test_emergency_short_and_premium_numbers_are_refused(raw: str) -> None:
    assert not check_number(raw).ok


@pytest.mark.parametrize("raw", ["+7 701 234 56 78", "8 727 258 15 00", "87172123456"])
def test_kazakh_subscriber_numbers_are_allowed(raw: str) -> None:
    assert check_number(raw).ok
