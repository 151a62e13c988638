"""The writer's journal: every record accepted by ``emit`` is appended here before it is written.

The writer batches records in memory for up to ``batch_wait_s``; a process killed in that window (SIGKILL,
OOM, a crash) would lose them. Each ``emit`` therefore appends one JSON line to ``journal.jsonl`` with a
plain ``write`` (about a microsecond; the kernel keeps it even if the process dies, only a power cut can
lose it, and that is what the spool's fsync is for). When the in-memory queue is empty and every batch is
in the database or the spool, the journal is truncated. At start, what is left in it is moved to the spool
and replayed; rows are idempotent by event id, so records that did reach the database are not doubled.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson
import structlog

from acd.events import CdrRecord
from cdr.spool import record_from_dict, record_to_dict

log = structlog.get_logger("cdr.journal")


class Journal:
    def __init__(self, directory: Path | str) -> None:
        self.path = Path(directory) / "journal.jsonl"
        self._fd: int | None = None
        self._dirty = False
        self._failed = False

    def recover(self) -> list[CdrRecord]:
        """Records a previous process accepted and may not have stored (torn last line skipped)."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        out: list[CdrRecord] = []
        for line in lines:
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                out.append(record_from_dict(orjson.loads(line)))
        return out

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o640)

    def write(self, record: CdrRecord) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, orjson.dumps(record_to_dict(record), default=repr) + b"\n")
            self._dirty = True
        except OSError as exc:  # a full disk must not stop calls; the record is still in memory
            if not self._failed:
                log.error("cdr.journal_write_failed", error=str(exc), path=str(self.path))
            self._failed = True

    def reset(self) -> None:
        """Everything journalled is stored (database or spool)."""
        if self._fd is not None and self._dirty:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            self._dirty = False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
