"""The writer's append-only disk spool: where CDR records wait while the database is unreachable.

One JSON line per record, fsync'd per batch, replayed in order when the database is back; the file is
removed only after every line was written (rows are idempotent by event id, so a replay cut short and
repeated never doubles anything). Records the schema cannot hold go to ``rejects.jsonl`` with the reason:
kept for a human, never dropped silently.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from acd.events import AgentEvent, CallEvent, CdrRecord, RecordingEvent

_RECORDING_FIELDS = ("name", "kind", "at", "call_id", "fmt", "recording_kind", "agent", "status",
                     "size_bytes", "sha256", "duration_s", "reason", "event_id")


def record_to_dict(record: CdrRecord) -> dict[str, Any]:
    if isinstance(record, RecordingEvent):
        return {"type": "recording", **{f: getattr(record, f) for f in _RECORDING_FIELDS}}
    if isinstance(record, CallEvent):
        return {"type": "call", "call_id": record.call_id, "kind": record.kind, "at": record.at,
                "data": record.data, "event_id": record.event_id}
    return {"type": "agent", "agent_id": record.agent_id, "state": record.state, "at": record.at,
            "previous": record.previous, "reason": record.reason, "by": record.by, "call_id": record.call_id,
            "event_id": record.event_id}


def record_from_dict(d: dict[str, Any]) -> CdrRecord:
    if d.get("type") == "recording":
        size, duration = d.get("size_bytes"), d.get("duration_s")
        return RecordingEvent(name=d["name"], kind=d["kind"], at=float(d["at"]), call_id=d.get("call_id"),
                              fmt=d.get("fmt"), recording_kind=d.get("recording_kind"), agent=d.get("agent"),
                              status=d.get("status"), size_bytes=None if size is None else int(size),
                              sha256=d.get("sha256"),
                              duration_s=None if duration is None else float(duration),
                              reason=d.get("reason"), event_id=d["event_id"])
    if d.get("type") == "agent":
        return AgentEvent(agent_id=d["agent_id"], state=d["state"], at=float(d["at"]),
                          previous=d.get("previous"), reason=d.get("reason"), by=d.get("by"),
                          call_id=d.get("call_id"),
                          event_id=d["event_id"])
    return CallEvent(call_id=d["call_id"], kind=d["kind"], at=float(d["at"]), data=d.get("data") or {},
                     event_id=d["event_id"])


def _default(obj: Any) -> Any:
    return repr(obj)


class Spool:
    def __init__(self, directory: Path | str) -> None:
        self.dir = Path(directory)
        self.path = self.dir / "spool.jsonl"
        self.rejects_path = self.dir / "rejects.jsonl"

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def append(self, records: list[CdrRecord]) -> None:
        """Append and fsync; raises OSError if the disk refuses (the caller logs it loudly)."""
        if not records:
            return
        data = b"".join(orjson.dumps(record_to_dict(r), default=_default) + b"\n" for r in records)
        self._append(self.path, data)

    def reject(self, record: CdrRecord | dict[str, Any], reason: str) -> None:
        body = record if isinstance(record, dict) else record_to_dict(record)
        line = orjson.dumps({"reason": reason, "record": body}, default=_default)
        self._append(self.rejects_path, line + b"\n")

    def _append(self, path: Path, data: bytes) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, chunk: int = 500) -> Iterator[list[CdrRecord]]:
        """The spooled records in order, in chunks. A torn or unreadable line (a crash mid-write) is moved
        to the rejects file rather than blocking the replay."""
        if not self.pending():
            return
        out: list[CdrRecord] = []
        with self.path.open("rb") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    out.append(record_from_dict(orjson.loads(line)))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    text = line.decode(errors="replace")
                    bad = orjson.dumps({"reason": f"unreadable spool line {n}: {exc}", "line": text})
                    self._append(self.rejects_path, bad + b"\n")
                    continue
                if len(out) >= chunk:
                    yield out
                    out = []
        if out:
            yield out

    def count(self) -> int:
        if not self.pending():
            return 0
        with self.path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())

    def clear(self) -> None:
        """Called once everything read was written to the database."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
