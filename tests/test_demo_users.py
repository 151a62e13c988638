"""`acd demo` tells the user where its API is and how to log in (issue 9 §5: the token was never shown)."""

from __future__ import annotations

from pathlib import Path

import pytest

import acd.demo
from acd.demo import demo_users, users_banner, write_demo_config
from acd.settings import load_settings
from acd.web.auth import Authenticator
from tests.conftest import ROOT


def test_the_printed_credentials_log_in_to_the_demo_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(acd.demo, "ROOT", ROOT)
    users = demo_users()
    cfg = write_demo_config(tmp_path, ari_port=8088, http_port=8181, db_url="sqlite+aiosqlite:///x.db",
                            agents=4, users=users)
    banner = users_banner("http://127.0.0.1:8181", users)
    assert "http://127.0.0.1:8181" in banner
    for u in users:
        monkeypatch.setenv(u.token_env, u.token)
    auth = Authenticator(load_settings(cfg / "acd.yaml").users)
    roles = {}
    for u in users:
        assert u.token in banner and u.name in banner
        who = auth.authenticate(f"Bearer {u.token}")
        assert who is not None
        roles[who.role] = who.agent
    assert roles == {"supervisor": None, "admin": None, "reporting": None, "agent": "agent1"}
