"""The CDR's database fixture (SQLite, and PostgreSQL when ACD_TEST_PG_URL is set)."""

from tests.cdr.conftest import db_url  # noqa: F401
