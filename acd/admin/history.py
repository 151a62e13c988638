"""The history of configuration changes: one JSON record per change, in ``<paths.var>/config-history/``.

A record holds who, when, which file, what was done, the unified diff, and the file's whole text before and
after (config files are a few kilobytes; whole texts make a rollback byte-exact even after hand edits of
other lines). Records are written like the config files: a temporary file, fsync, atomic rename, fsync of
the folder. Why here and not in ``config/.history`` or the database:
docs/decisions/admin-01-config-history.md.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

_NAME = re.compile(r"^(\d{6,})\.json$")
_SECRET_KEY = re.compile(r"((?:password|token|secret)\s*:\s*)(\"[^\"]*\"|'[^']*'|[^,}\s#]+)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


def redact(text: str) -> str:
    """``text`` without the secrets a lab's acd.yaml may hold (``token: ...``, ``password: ...``, the
    password of a database URL), for diffs shown over the API. The records on disk keep the whole text:
    a rollback must give back the exact bytes."""
    return _URL_PASSWORD.sub(r"\1***\3", _SECRET_KEY.sub(r"\1***", text))


@dataclass(frozen=True)
class ChangeRecord:
    id: int
    at: str
    """UTC, ISO 8601."""
    who: str
    file: str
    """Relative to the config directory (``agents.yaml``, ``scenarios/_schedules.yaml``)."""
    action: str
    """What was done, in one line (``add agent agent9``, ``rollback of change 3``)."""
    before_version: str | None
    """None: the file did not exist."""
    after_version: str
    diff: str
    before: str | None
    after: str
    rollback_of: int | None = None
    warnings: list[str] = field(default_factory=list)
    """The loader's warnings on the new configuration (``acd check``'s; they do not stop a change)."""

    def shown_diff(self) -> str:
        return redact(self.diff)

    def summary(self) -> dict[str, object]:
        """The record without the texts, for lists."""
        return {k: v for k, v in asdict(self).items() if k not in ("before", "after", "diff")}


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` so that ``path`` holds either its old or its new content, even after a crash. The file
    keeps its permissions; a new one gets ``mode`` (default: the umask's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        elif mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class History:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self) -> list[tuple[int, Path]]:
        if not self.folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.folder.iterdir() if (m := _NAME.match(p.name))]
        return sorted(found)

    def next_id(self) -> int:
        paths = self._paths()
        return paths[-1][0] + 1 if paths else 1

    def add(self, record: ChangeRecord) -> None:
        path = self.folder / f"{record.id:06d}.json"
        if path.exists():
            raise FileExistsError(f"history record {record.id} exists")
        # owner only: a lab's acd.yaml may hold tokens, and records keep whole texts
        atomic_write(path, json.dumps(asdict(record), ensure_ascii=False, indent=1).encode(), mode=0o600)

    def get(self, change_id: int) -> ChangeRecord | None:
        path = self.folder / f"{change_id:06d}.json"
        if not path.is_file():
            return None
        return ChangeRecord(**json.loads(path.read_text(encoding="utf-8")))

    def list(self, *, file: str | None = None, limit: int = 100) -> list[ChangeRecord]:
        """Newest first."""
        out: list[ChangeRecord] = []
        for _, path in reversed(self._paths()):
            record = ChangeRecord(**json.loads(path.read_text(encoding="utf-8")))
            if file is None or record.file == file:
                out.append(record)
                if len(out) >= limit:
                    break
        return out
