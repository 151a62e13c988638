"""Retention (R14): recordings older than the configured period are deleted, their rows kept as ``purged``.

The period is ``recording.retention_days`` (90 for "3 months", 730 for "2 years"). A recording is kept past
it while it is on legal hold or one of its evaluations has an open dispute (CONVENTIONS.md). CDR rows are
never touched: R27 keeps them two years whatever the recordings' retention. ``now`` is passed in, so a test
or an operator can ask "what would go on that date".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from recording.layout import UnsafePath, resolve_inside
from recording.schema import qa_evaluations, recordings

# ``recording`` too: no call lasts ``retention_days`` (at least a day), so a row still ``recording`` that old
# lost its end (the daemon also reconciles such rows: recording/reconcile.py); it must not outlive the period.
_PURGEABLE = ("done", "failed", "missing", "recording")


@dataclass
class PurgeResult:
    cutoff: datetime
    dry_run: bool
    purged: list[dict[str, Any]] = field(default_factory=list)
    """Rows (id, call_id, path, started_at, size_bytes) that went, or would go with dry_run."""
    kept: list[dict[str, Any]] = field(default_factory=list)
    """Rows past the cutoff kept for a reason ('legal_hold' or 'dispute')."""
    freed_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run, "freed_bytes": self.freed_bytes,
                "purged": self.purged, "kept": self.kept}


async def purge(db: AsyncEngine, now: datetime, dry_run: bool, *, root: Path,
                retention_days: int) -> PurgeResult:
    """Delete recordings started before ``now - retention_days``; with dry_run, only list them."""
    cutoff = now - timedelta(days=retention_days)
    disputed = exists().where(and_(qa_evaluations.c.recording_id == recordings.c.id,
                                   qa_evaluations.c.dispute == "open"))
    query = (select(recordings.c.id, recordings.c.call_id, recordings.c.path, recordings.c.started_at,
                    recordings.c.size_bytes, recordings.c.legal_hold, disputed.label("disputed"))
             .where(recordings.c.started_at < cutoff, recordings.c.status.in_(_PURGEABLE))
             .order_by(recordings.c.started_at))
    result = PurgeResult(cutoff=cutoff, dry_run=dry_run)
    async with db.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    for row in rows:
        item = {k: row[k] for k in ("id", "call_id", "path", "started_at", "size_bytes")}
        item["started_at"] = item["started_at"].isoformat()
        if row["legal_hold"] or row["disputed"]:
            result.kept.append({**item, "reason": "legal_hold" if row["legal_hold"] else "dispute"})
            continue
        result.purged.append(item)
        result.freed_bytes += int(row["size_bytes"] or 0)
        if dry_run:
            continue
        with contextlib.suppress(UnsafePath):  # a row pointing outside the directory never deletes anything
            resolve_inside(root, row["path"]).unlink(missing_ok=True)
        async with db.begin() as conn:
            await conn.execute(update(recordings).where(recordings.c.id == row["id"])
                               .values(status="purged", purged_at=now))
    return result
