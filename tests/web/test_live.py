"""Health, metrics, agent states (R4, R23), live queues, call topics (R16, R22), reports."""

from __future__ import annotations

import re
import sys
import types
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from acd.settings import Settings
from acd.web.app import create_app
from tests.web.conftest import REPO, USERS, Api, FakeEngine, auth


async def test_health_reports_ari_and_db(api: Api) -> None:
    r = await api.client.get("/health")
    body = await r.json()
    assert r.status == 200 and body["ari_connected"] and body["db_reachable"] and body["version"]
    api.engine.connected = False
    r = await api.client.get("/health")
    assert r.status == 503 and (await r.json())["ari_connected"] is False


class _UnreachableDb:
    """Stands in for an engine whose server is down: every connection attempt fails."""

    def connect(self) -> Any:
        raise ConnectionRefusedError("connection refused")


async def test_health_is_503_when_the_database_is_gone(aiohttp_client: Any) -> None:
    app = create_app(settings=Settings(users=USERS), engine=FakeEngine(), db=_UnreachableDb(),  # type: ignore[arg-type]
                     metrics=CollectorRegistry(), clock=lambda: 0.0)
    client = await aiohttp_client(app)
    r = await client.get("/health")
    body = await r.json()
    assert r.status == 503 and body["db_reachable"] is False and body["ari_connected"] is True
    assert body["db_detail"] == "ConnectionRefusedError"


async def test_metrics_are_prometheus_text(api: Api) -> None:
    r = await api.client.get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "acd_calls_offered_total 3.0" in await r.text()


async def test_agent_changes_own_state_with_a_configured_reason(api: Api) -> None:
    r = await api.client.post("/api/agents/a1/state", json={"state": "login"}, headers=auth("agent1"))
    assert r.status == 200 and (await r.json())["state"] == "ready"
    r = await api.client.post("/api/agents/a1/state", json={"state": "not_ready", "reason": "lunch"},
                              headers=auth("agent1"))
    assert r.status == 200
    assert api.engine.state_changes == [("a1", "ready", None, None), ("a1", "not_ready", "lunch", None)]


@pytest.mark.parametrize(("body", "field"), [
    ({"state": "not_ready"}, "reason"),
    ({"state": "not_ready", "reason": "nap"}, "reason"),
    ({"state": "dancing"}, "state"),
    ({}, "state"),
    ({"state": 5}, "state"),
])
async def test_bad_state_requests_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    r = await api.client.post("/api/agents/a1/state", json=body, headers=auth("agent1"))
    assert r.status == 400
    assert (await r.json())["field"] == field
    assert api.engine.state_changes == []


async def test_agent_cannot_change_someone_else(api: Api) -> None:
    r = await api.client.post("/api/agents/a2/state", json={"state": "logout"}, headers=auth("agent1"))
    assert r.status == 403
    assert api.engine.agents["a2"] == "ready"


async def test_supervisor_forces_ready_or_logout_but_not_a_break(api: Api) -> None:
    r = await api.client.post("/api/agents/a2/state", json={"state": "logout"}, headers=auth("sup"))
    assert r.status == 200 and (await r.json())["by"] == "sup"
    assert api.engine.state_changes == [("a2", "logged_out", None, "sup")]
    r = await api.client.post("/api/agents/a2/state", json={"state": "not_ready", "reason": "break"},
                              headers=auth("admin"))
    assert r.status == 403
    r = await api.client.post("/api/agents/zz/state", json={"state": "ready"}, headers=auth("admin"))
    assert r.status == 404


async def test_refused_transition_is_409_with_the_engines_message(api: Api) -> None:
    api.engine.agents["a1"] = "on_call"
    r = await api.client.post("/api/agents/a1/state", json={"state": "ready"}, headers=auth("sup"))
    assert r.status == 409
    assert (await r.json())["error"] == "agent is on a call: ready after the call"


async def test_agents_and_queues_snapshot_by_role(api: Api) -> None:
    r = await api.client.get("/api/agents", headers=auth("sup"))
    assert (await r.json())["agents"]["a2"] == {"state": "ready"}
    r = await api.client.get("/api/queues", headers=auth("rep"))
    body = await r.json()
    assert body["queues"]["general"]["waiting"] == 2 and "calls" not in body  # no callers' numbers
    r = await api.client.get("/api/queues", headers=auth("sup"))
    assert "call-1" in (await r.json())["calls"]


async def test_topic_by_the_agent_on_the_call_or_a_supervisor(api: Api) -> None:
    r = await api.client.post("/api/calls/call-1/topic", json={"topic": "tax refund", "comment": "form 270"},
                              headers=auth("agent1"))
    assert r.status == 200
    r = await api.client.post("/api/calls/call-1/topic", json={"topic": "x"}, headers=auth("agent2"))
    assert r.status == 403
    r = await api.client.post("/api/calls/call-1/topic", json={"topic": "  "}, headers=auth("sup"))
    assert r.status == 400 and (await r.json())["field"] == "topic"
    r = await api.client.post("/api/calls/nope/topic", json={"topic": "x"}, headers=auth("sup"))
    assert r.status == 404
    r = await api.client.post("/api/calls/call-1/topic", data=b"{not json", headers=auth("sup"))
    assert r.status == 400 and (await r.json())["field"] == "body"
    assert api.engine.topics == [("call-1", "tax refund", "form 270", "agent1")]


async def test_reports_run_over_local_dates_with_options(api: Api) -> None:
    r = await api.client.get("/api/reports/daily?from=2026-11-01&to=2026-11-03&queue=general,second_line",
                             headers=auth("rep"))
    assert r.status == 200, await r.text()
    body = await r.json()
    assert (body["report"], body["from"], body["to"], body["tz"]) == ("daily", "2026-11-01", "2026-11-03",
                                                                      "Asia/Almaty")
    assert len(body["rows"]) == 3  # one row a local day, even with no calls
    r = await api.client.get("/api/reports/nope?from=2026-11-01&to=2026-11-30", headers=auth("rep"))
    assert r.status == 404 and "unknown report" in (await r.json())["error"]
    r = await api.client.get("/api/reports/daily?from=2026-11-30&to=2026-11-01", headers=auth("rep"))
    assert r.status == 400 and "impossible" in (await r.json())["error"]
    r = await api.client.get("/api/reports/daily?from=yesterday&to=2026-11-01", headers=auth("rep"))
    assert r.status == 400 and (await r.json())["field"] == "from"
    r = await api.client.get("/api/reports/daily?to=2026-11-01", headers=auth("rep"))
    assert r.status == 400 and (await r.json())["field"] == "from"
    r = await api.client.get("/api/reports/daily?from=2026-11-01&to=2026-11-01&sl_variant=best",
                             headers=auth("rep"))
    assert r.status == 400 and (await r.json())["field"] == "sl_variant"
    r = await api.client.get("/api/reports/daily?from=2026-11-01&to=2026-11-01&colour=red",
                             headers=auth("rep"))
    assert r.status == 400 and (await r.json())["field"] == "colour"


async def test_reports_unavailable_is_a_clear_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cdr.reports", types.SimpleNamespace())
    r = await api.client.get("/api/reports/daily?from=2026-11-01&to=2026-11-30", headers=auth("sup"))
    assert r.status == 503 and "not available" in (await r.json())["error"]


async def test_the_health_body_is_the_one_docs_operations_describes(api: Api) -> None:
    """Issue 9 §5: docs/operations.md gave {"ari","db","version"}; an admin's probe reads the real keys."""
    doc = (REPO / "docs" / "operations.md").read_text()
    line = next(ln for ln in doc.split("\n- ") if ln.startswith("`GET /health`"))
    documented = set(re.findall(r'"(\w+)":', line))
    r = await api.client.get("/health")
    assert set(await r.json()) <= documented and "db_detail" in documented
