"""After a restart, the attempts whose channel was gone before the new daemon could adopt it
(outbound/campaign_store.py, ``recover_lost``; docs/decisions/outbound-06-campaign-restart.md): the CDR
decides. A conversation that ended while no daemon listened counts ``answered`` and its contact is not
called again; a line that left no call is ``congestion`` and due again at once; an adopted attempt is left
alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from cdr.db import make_engine, migrate
from cdr.schema import calls
from outbound import campaign_store as store
from outbound.config import load_campaign
from outbound.contacts import Contact, ImportReport, store_contacts
from outbound.schema import campaign_attempts, campaign_contacts

SURVEY = Path(__file__).resolve().parents[2] / "config" / "campaigns" / "survey.yaml"
NOW = 1795496400.0


async def test_lost_attempts_are_closed_from_the_cdr_and_adopted_ones_are_left_alone(tmp_path: Path) -> None:
    campaign = load_campaign(SURVEY)
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    try:
        await migrate(db)
        report = ImportReport("c.csv", rows=3)
        fields = {"first_name": "A", "last_call_topic": "billing"}
        report.contacts = [Contact(f"701123456{i}", f"C{i}", "kk", fields, i + 2) for i in range(3)]
        await store_contacts(db, campaign, report)
        cid = await store.campaign_id(db, campaign, NOW)
        due = await store.due_contacts(db, cid, NOW, 3, set())
        talked, lost, adopted = [
            await store.start_attempt(db, cid, c, mode="predictive", call_id=f"call-{i}", now=NOW)
            for i, c in enumerate(due)]
        async with db.begin() as conn:  # the conversation of call-0 ended while no daemon listened
            at = datetime.fromtimestamp(NOW + 5, UTC)
            await conn.execute(calls.insert().values(id="call-0", direction="outbound", agent="agent1",
                                                     arrived_at=at, answered_at=at))

        assert await store.recover_lost(db, campaign, cid, NOW + 100, followed={adopted}) == 2

        async with db.connect() as conn:
            a = {r.id: r for r in (await conn.execute(select(campaign_attempts))).all()}
            c = {r.id: r for r in (await conn.execute(select(campaign_contacts))).all()}
        assert (a[talked].outcome, a[talked].agent) == ("answered", "agent1")
        assert c[due[0].id].status == "done"  # not called again
        assert a[lost].outcome == "congestion"
        assert (c[due[1].id].status, c[due[1].id].next_attempt_at) == ("pending", None)  # due again now
        assert a[adopted].outcome is None and c[due[2].id].status == "in_progress"
    finally:
        await db.dispose()
