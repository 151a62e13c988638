"""The form's answers as the desktop saves them (outbound/campaign_store.py): an unknown question, a value
that does not fit or a required question left empty is refused and nothing is stored; a productive form
closes its contact; the export carries the answers, in CSV and XLSX."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from acd.web.campaigns import _xlsx
from cdr.db import make_engine, migrate
from outbound import campaign_store as store
from outbound.config import load_campaign
from outbound.contacts import Contact, ImportReport, store_contacts

SURVEY = Path(__file__).resolve().parents[2] / "config" / "campaigns" / "survey.yaml"
NOW = 1795496400.0


async def test_answers_are_checked_stored_per_attempt_and_exported(tmp_path: Path) -> None:
    campaign = load_campaign(SURVEY)
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    try:
        await migrate(db)
        report = ImportReport("c.csv", rows=1)
        report.contacts = [Contact("7011234567", "Асель", "kk", {"first_name": "Асель",
                                                                  "last_call_topic": "billing"}, 2)]
        await store_contacts(db, campaign, report)
        cid = await store.campaign_id(db, campaign, NOW)
        contact = (await store.due_contacts(db, cid, NOW, 1, set()))[0]
        attempt = await store.start_attempt(db, cid, contact, mode="predictive", call_id="call-1", now=NOW)
        ref = await store.attempt_of_call(db, "call-1")
        assert ref is not None and ref.attempt_id == attempt

        with pytest.raises(store.AnswerError) as refused:
            await store.save_answers(db, campaign, ref, {"consent": True, "consnet": True}, NOW)
        assert refused.value.problems == {"consnet": "no such question in the form"}
        with pytest.raises(store.AnswerError) as refused:
            await store.save_answers(db, campaign, ref, {"satisfaction": 9}, NOW)
        assert set(refused.value.problems) == {"consent", "satisfaction"}
        progress = await store.progress(db, campaign)
        assert progress.answers["consent"]["answered"] == 0  # nothing half-saved

        answers = {"consent": True, "satisfaction": 4, "topics": ["billing", "outage"]}
        assert await store.save_answers(db, campaign, ref, answers, NOW, agent="agent1") is True
        assert await store.finish_attempt(db, campaign, attempt, contact.id, "answered", now=NOW + 60,
                                          answered_at=NOW + 10) == "done"
        progress = await store.progress(db, campaign)
        assert (progress.contacts, progress.done, progress.reached, progress.productive) == (1, 1, 1, 1)
        assert progress.answers["satisfaction"]["average"] == 4.0
        assert progress.answers["topics"]["counts"] == {"billing": 1, "outage": 1}
        assert progress.agents["agent1"].talk_s == pytest.approx(50)

        header, rows = await store.export_rows(db, campaign)
        got = dict(zip(header, rows[0], strict=True))
        assert (got["phone"], got["first_name"], got["agent"], got["consent"], got["topics"]) == (
            "7011234567", "Асель", "agent1", "yes", "billing, outage")
        sheet = load_workbook(io.BytesIO(_xlsx(header, rows))).active
        assert [c.value for c in sheet[1]] == header
        assert sheet.cell(2, header.index("satisfaction") + 1).value == 4
    finally:
        await db.dispose()
