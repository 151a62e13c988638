"""The config editor: typed operations on the YAML in ``config/``, which stays the single source of truth.

One change goes: read the file and check the admin's version (the hash of the content they read; a stale
one is a ``Conflict``, HTTP 409) -> apply the operation to the round-trip tree -> validate the whole new
configuration with the daemon's own loader on a temporary copy of the directory (``Invalid`` lists the
loader's ``file:line`` messages; nothing is written) -> replace the file atomically -> record the change in
the history -> reload the daemon (``ConfigAdmin``). Changes are serialised by one lock, so two admins
cannot interleave between the version check and the write.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acd.admin.history import ChangeRecord, History, atomic_write
from acd.admin.operations import Operation, OperationError, scenario_files
from acd.admin.yamledit import load, merge3, plain, unified_diff
from acd.configset import load_config
from acd.yamlconf import ConfigError


def version_of(text: str | None) -> str | None:
    """A file's version: the first 16 hex digits of the SHA-256 of its bytes; None when it does not exist."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Conflict(Exception):
    """The file is not the one the admin read (HTTP 409)."""

    def __init__(self, file: str, message: str, current_version: str | None) -> None:
        super().__init__(message)
        self.file = file
        self.message = message
        self.current_version = current_version


class Invalid(Exception):
    """The new configuration does not load; ``problems`` are the loader's ``file:line: field: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FileState:
    file: str
    version: str | None
    text: str | None


@dataclass(frozen=True)
class ConfigStatus:
    """The running directory as the loader sees it now."""

    valid: bool
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems_by_file: dict[str, list[str]] = field(default_factory=dict)


class ConfigEditor:
    """Synchronous core (run it in a worker thread from asyncio: the loader takes a while)."""

    def __init__(self, config_dir: Path, history: History, *, clock: Callable[[], float] = time.time,
                 loader: Callable[[Path], Any] = load_config) -> None:
        self.dir = Path(config_dir)
        self.history = history
        self.clock = clock
        self.loader = loader
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ reading
    def path(self, file: str) -> Path:
        path = (self.dir / file).resolve()
        if self.dir.resolve() not in path.parents or path.suffix != ".yaml":
            raise OperationError(400, f"{file!r} is not a YAML file of the config directory")
        return path

    def read(self, file: str) -> FileState:
        path = self.path(file)
        text = path.read_text(encoding="utf-8") if path.is_file() else None
        return FileState(file, version_of(text), text)

    def data(self, file: str) -> tuple[str | None, Any]:
        """A file's version and its content as plain data (None when the file is missing)."""
        state = self.read(file)
        if state.text is None:
            return None, None
        return state.version, plain(load(state.text).tree)

    def shown(self, file: str) -> str:
        """A file as the loader names it in messages (``config/agents.yaml``)."""
        return f"{self.dir.name}/{file}"

    def status(self) -> ConfigStatus:
        try:
            loaded = self.loader(self.dir)
        except ConfigError as exc:
            by_file: dict[str, list[str]] = {}
            for problem in exc.problems:
                by_file.setdefault(problem.file, []).append(str(problem))
            return ConfigStatus(False, [str(p) for p in exc.problems], problems_by_file=by_file)
        return ConfigStatus(True, warnings=[str(w) for w in getattr(loaded, "warnings", ())])

    def scenarios(self) -> list[dict[str, Any]]:
        """Each scenario file with its name, numbers, version and the loader's problems in it."""
        status = self.status()
        out = []
        for path in scenario_files(self.dir):
            file = str(path.relative_to(self.dir))
            state = self.read(file)
            try:
                data = load(state.text or "").tree
            except Exception:
                data = {}
            name = str(data.get("name") or path.stem) if isinstance(data, dict) else path.stem
            numbers = [str(n) for n in (data.get("numbers") or [])] if isinstance(data, dict) else []
            problems = status.problems_by_file.get(self.shown(file), [])
            out.append({"name": name, "file": file, "version": state.version, "numbers": numbers,
                        "valid": not problems, "problems": problems})
        return out

    # ------------------------------------------------------------------ writing
    def validate(self, file: str, text: str | None) -> list[str]:
        """Load the whole directory with ``file`` replaced by ``text`` (None: removed); Invalid on errors,
        else the loader's warnings."""
        with tempfile.TemporaryDirectory(prefix="acd-admin-") as tmp:
            copy = Path(tmp) / self.dir.name  # same name: the loader's messages name the real file
            shutil.copytree(self.dir, copy, ignore=shutil.ignore_patterns(".*"), symlinks=False)
            target = copy / file
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            try:
                loaded = self.loader(copy)
            except ConfigError as exc:
                raise Invalid([str(p) for p in exc.problems]) from exc
            return [str(w) for w in getattr(loaded, "warnings", ())]

    def change(self, op: Operation, expected_version: str | None, who: str) -> ChangeRecord:
        """Apply ``op`` to the file it names; ``expected_version`` is the version the admin read (None: the
        file did not exist)."""
        with self._lock:
            file = op.target(self.dir)
            state = self.read(file)
            self._check(state, expected_version)
            doc = load(state.text or "")
            op.apply(doc.tree)
            new = doc.dump()
            if new == state.text:
                raise OperationError(400, f"{op.describe()}: {file} already says so; nothing to change")
            return self._write(state, new, who, op.describe(), None)

    def rollback(self, change_id: int, who: str) -> ChangeRecord:
        """Undo one change as a new change. Later changes to other lines of the file stay; a later change of
        the same lines is a Conflict (roll that one back first)."""
        with self._lock:
            record = self.history.get(change_id)
            if record is None:
                raise OperationError(404, f"no change {change_id}")
            state = self.read(record.file)
            if state.text == record.after:
                new: str | None = record.before
            elif state.text is None or record.before is None:
                raise Conflict(record.file, f"{record.file} was created or removed since change {change_id}; "
                               "it cannot be rolled back", state.version)
            else:
                new = merge3(record.after, state.text, record.before)
                if new is None:
                    later = [r.id for r in self.history.list(file=record.file) if r.id > change_id]
                    ids = ", ".join(map(str, later))
                    raise Conflict(record.file, f"later changes to {record.file} ({ids}"
                                   " or a hand edit) touch the same lines as change "
                                   f"{change_id}: roll those back first", state.version)
            if new == state.text:
                raise OperationError(400, f"change {change_id} is already undone")
            action = f"rollback of change {change_id} ({record.action})"
            return self._write(state, new, who, action, change_id)

    def _check(self, state: FileState, expected: str | None) -> None:
        if expected == state.version:
            return
        last = next(iter(self.history.list(file=state.file, limit=1)), None)
        by = " (edited outside the console)"
        if last is not None and last.after_version == state.version:
            by = f" (last change {last.id} by {last.who} at {last.at}: {last.action})"
        raise Conflict(state.file, f"{state.file} has changed since you read it: your version {expected}, "
                       f"now {state.version}{by}. Read it again and redo your change.", state.version)

    def _write(self, state: FileState, new: str | None, who: str, action: str,
               rollback_of: int | None) -> ChangeRecord:
        warnings = self.validate(state.file, new)
        path = self.path(state.file)
        if new is None:
            path.unlink()
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        else:
            atomic_write(path, new.encode("utf-8"))
        record = ChangeRecord(
            id=self.history.next_id(), at=datetime.fromtimestamp(self.clock(), UTC).isoformat(), who=who,
            file=state.file, action=action, before_version=state.version, after_version=version_of(new) or "",
            diff=unified_diff(state.text or "", new or "", state.file), before=state.text, after=new or "",
            rollback_of=rollback_of, warnings=warnings)
        self.history.add(record)
        return record


@dataclass(frozen=True)
class Applied:
    record: ChangeRecord
    reloaded: bool
    """False: the daemon refused the reload (see the problems); the file is written all the same."""
    reload_problems: list[str] = field(default_factory=list)


Reload = Callable[[], Awaitable[tuple[bool, list[str]]]]
"""Reload the daemon now: (accepted, the loader's problems when refused)."""


class ConfigAdmin:
    """The editor for asyncio callers: loader work in a worker thread, then the daemon's reload."""

    def __init__(self, editor: ConfigEditor, reload: Reload | None = None) -> None:
        self.editor = editor
        self._reload = reload
        self._lock = asyncio.Lock()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def change(self, op: Operation, expected_version: str | None, who: str) -> Applied:
        async with self._lock:
            record = await asyncio.to_thread(self.editor.change, op, expected_version, who)
            return await self._reloaded(record)

    async def rollback(self, change_id: int, who: str) -> Applied:
        async with self._lock:
            record = await asyncio.to_thread(self.editor.rollback, change_id, who)
            return await self._reloaded(record)

    async def reload(self) -> tuple[bool, list[str]]:
        if self._reload is None:
            return False, ["no daemon to reload"]
        return await self._reload()

    async def _reloaded(self, record: ChangeRecord) -> Applied:
        if self._reload is None:
            return Applied(record, False, ["no daemon to reload"])
        ok, problems = await self._reload()
        return Applied(record, ok, problems)
