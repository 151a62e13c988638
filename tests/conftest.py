"""Shared test fixtures: where ../shared is, and a fresh var/ per test."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ARI_DOCS = SHARED / "asterisk-ari"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing beside the clone ({SHARED})")
    return SHARED
