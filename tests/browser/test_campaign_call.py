"""An agent's campaign call on the desktop (issue 15): the contact, the script in the contact's language
and the form appear when the dialer connects the answered contact; a required question is enforced; the
answers saved are stored for that attempt and make the call productive."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.async_api import expect

from outbound.config import load_campaign
from outbound.contacts import Contact, ImportReport, store_contacts
from tests.browser.conftest import IMG, Desk

expect.set_options(timeout=45_000)

CAMPAIGN = """
name: poll
queue: general
caller_id: +7 727 258 15 00
window: {days: [mon, tue, wed, thu, fri, sat, sun], hours: ["00:00-23:59"]}
dialing: {mode: progressive}
contact_fields: [first_name]
script:
  ru: "**Здравствуйте, {first_name}!** Это опрос службы 193."
  kk: "**Сәлеметсіз бе, {first_name}!** 193 қызметінің сауалнамасы."
form:
  questions:
    - {id: consent, type: yes_no, required: true, text: {ru: "Согласны ответить?", kk: "Жауап бересіз бе?"}}
    - {id: score, type: rating, text: {ru: "Оценка от 1 до 5", kk: "1-ден 5-ке дейін баға"}}
  productive:
    - {question: consent, in: [true]}
"""


async def _one_contact_campaign(desk: Desk, text: str) -> None:
    """config/campaigns holds only ``text`` (campaign poll) with one contact, Асель; agent1's phone and the
    called party answer after 2 s; the daemon restarts to read the campaign."""
    h = desk.h
    assert h.daemon is not None
    folder = h.config_dir / "campaigns"
    for old in folder.glob("*.yaml"):
        old.unlink()
    (folder / "poll.yaml").write_text(text, encoding="utf-8")
    report = ImportReport("contacts.csv", rows=1)
    report.contacts = [Contact("7011234567", "Асель Нурова", "ru", {"first_name": "Асель"}, 2)]
    await store_contacts(h.daemon.db, load_campaign(folder / "poll.yaml"), report,
                         now=datetime(2026, 11, 23, tzinfo=UTC))
    await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=2, hangup="caller")
    await h.sim_post("trunk/parties", {"answer_rate": 1.0, "answer_after_s": 2, "talk_s": 3600})
    await desk.restart_daemon()  # the daemon reads config/campaigns at start


async def test_the_agent_reads_the_script_and_fills_the_form_of_a_campaign_call(desk: Desk) -> None:
    h = desk.h
    await _one_contact_campaign(desk, CAMPAIGN)

    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await page.click("#btn-ready")  # the only ready agent: the dialer calls the contact for her

    box = page.locator("#campaign-call")
    await expect(box).to_be_visible()
    await expect(page.locator("#state-badge")).to_have_class(re.compile("state-on_call"))
    await expect(page.locator("#campaign-name")).to_have_text("poll")
    await expect(page.locator("#campaign-script strong")).to_have_text("Здравствуйте, Асель!")
    await expect(page.locator("#campaign-contact")).to_contain_text("Асель Нурова")
    await expect(page.locator('label[for="q-consent"]')).to_have_text("Согласны ответить? *")

    await page.fill("#q-score", "4")
    await page.click("#btn-campaign-save")  # consent is required
    await expect(page.locator("#err-consent")).not_to_be_empty()
    await page.select_option("#q-consent", "true")
    await page.click("#btn-campaign-save")
    await expect(page.locator("#campaign-saved")).to_be_visible()
    await page.screenshot(path=str(IMG / "agent-desktop-campaign.png"))

    rows = await h.rows("SELECT a.agent, a.productive, q.question, q.value FROM campaign_answers q "
                        "JOIN campaign_attempts a ON a.id = q.attempt_id ORDER BY q.question")
    assert [(r["agent"], bool(r["productive"]), r["question"], str(r["value"])) for r in rows] == [
        ("agent1", True, "consent", "true"), ("agent1", True, "score", "4")]


async def test_preview_the_agent_takes_the_next_contact_and_dials_it_from_the_desktop(desk: Desk) -> None:
    h = desk.h
    await _one_contact_campaign(desk, CAMPAIGN.replace("mode: progressive", "mode: preview"))

    page = await desk.new_page()
    await desk.login(page, "aigerim")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await page.click("#btn-ready")
    await page.click('#preview-campaigns button[data-campaign="poll"]')
    await expect(page.locator("#preview-facts")).to_contain_text("Асель Нурова")
    await expect(page.locator("#preview-script strong")).to_have_text("Здравствуйте, Асель!")
    await page.click("#btn-preview-dial")  # the agent's phone first, then the contact's
    await expect(page.locator("#campaign-call")).to_be_visible()
    await expect(page.locator("#campaign-name")).to_have_text("poll")
    attempts = await h.rows("SELECT mode, agent, outcome FROM campaign_attempts")
    assert [(a["mode"], a["agent"]) for a in attempts] == [("preview", "agent1")]
