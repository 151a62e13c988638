"""Stored QA evaluations (R15): scores kept with the recording, shown whenever it is opened.

Scores are validated against the form (``recording.qa.weighted_total``) before anything is written, and
the form's id and version are stored with them, so a later edit of the form never changes old totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from recording.qa import AgentQuality, QaForm, Spread, agent_averages, calibration, weighted_total
from recording.schema import DISPUTE_STATUSES, qa_evaluations


async def add_evaluation(db: AsyncEngine, form: QaForm, *, call_id: str, agent_id: str, evaluator: str,
                         scores: Mapping[str, float], now: datetime, recording_id: int | None = None,
                         comment: str | None = None) -> dict[str, Any]:
    """Score a call; ScoreError (naming the criterion) for scores the form refuses."""
    total = weighted_total(form, scores)
    values = dict(recording_id=recording_id, call_id=call_id, agent_id=agent_id, evaluator=evaluator,
                  form_id=form.id, form_version=form.version, scores=dict(scores), total=total,
                  comment=comment, dispute="none", created_at=now)
    async with db.begin() as conn:
        result = await conn.execute(qa_evaluations.insert().values(**values))
    return {"id": int(result.inserted_primary_key[0]), **values}  # type: ignore[index]


async def evaluations_of(db: AsyncEngine, *, recording_id: int | None = None,
                         call_id: str | None = None) -> list[dict[str, Any]]:
    query = select(qa_evaluations).order_by(qa_evaluations.c.created_at, qa_evaluations.c.id)
    if recording_id is not None:
        query = query.where(qa_evaluations.c.recording_id == recording_id)
    if call_id is not None:
        query = query.where(qa_evaluations.c.call_id == call_id)
    async with db.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def get_evaluation(db: AsyncEngine, evaluation_id: int) -> dict[str, Any] | None:
    async with db.connect() as conn:
        query = select(qa_evaluations).where(qa_evaluations.c.id == evaluation_id)
        row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def set_dispute(db: AsyncEngine, evaluation_id: int, status: str) -> bool:
    """Open or resolve an agent's dispute of an evaluation; an open dispute keeps the recording from purge."""
    if status not in DISPUTE_STATUSES:
        raise ValueError(f"dispute must be one of {', '.join(DISPUTE_STATUSES)}")
    async with db.begin() as conn:
        result = await conn.execute(update(qa_evaluations).where(qa_evaluations.c.id == evaluation_id)
                                    .values(dispute=status))
        return bool(result.rowcount)


async def agent_report(db: AsyncEngine, *, since: datetime | None = None,
                       until: datetime | None = None) -> list[AgentQuality]:
    """Per-agent averages over evaluations created in [since, until)."""
    query = select(qa_evaluations.c.agent_id, qa_evaluations.c.scores, qa_evaluations.c.total)
    if since is not None:
        query = query.where(qa_evaluations.c.created_at >= since)
    if until is not None:
        query = query.where(qa_evaluations.c.created_at < until)
    async with db.connect() as conn:
        rows = (await conn.execute(query)).all()
    return agent_averages((r.agent_id, r.scores, r.total) for r in rows)


async def call_calibration(db: AsyncEngine, call_id: str) -> tuple[list[dict[str, Any]], list[Spread]]:
    """All evaluations of one call and how far their evaluators disagree."""
    evals = await evaluations_of(db, call_id=call_id)
    return evals, calibration((e["scores"], e["total"]) for e in evals)
