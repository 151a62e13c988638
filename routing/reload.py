"""Hot reload of the configuration directory (R11: reloaded without dropping calls; an invalid file never
replaces a valid one).

A reload is asked for by SIGHUP (the daemon calls ``trigger()``) or noticed by polling the files' sizes
and modification times once a second (no inotify dependency; a config directory is a few dozen files).
Edits come in bursts (an editor writes, renames, touches), so a change is acted on once the files have
been still for ``debounce_s``. The new set is loaded in a worker thread; when valid, ``on_change`` gets it
and the daemon swaps its reference atomically; when not, the running set stays and every problem is
logged. Calls in progress hold their own scenario object and finish on the version they started with.

The reloader is given the loader (``acd.configset.load_config`` in the daemon): routing does not import
``acd.configset``, which composes routing's checks (no package cycle, docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import structlog

from acd.yamlconf import ConfigError
from routing.loaded import ReloadableConfig

C = TypeVar("C", bound=ReloadableConfig)

Fingerprint = dict[str, tuple[int, int, int]]


def fingerprint(directory: Path) -> Fingerprint:
    """(mtime_ns, size, crc32) of every file under ``directory``. A config directory is a few dozen small
    files, so reading them every second costs nothing, and the checksum catches an edit that keeps the
    size within one tick of a coarse file-system clock."""
    out: Fingerprint = {}
    for path in sorted(directory.rglob("*")):
        try:
            if path.is_file():
                st = path.stat()
                out[str(path)] = (st.st_mtime_ns, st.st_size, zlib.crc32(path.read_bytes()))
        except OSError:  # removed between listing and reading: the next poll sees it
            continue
    return out


class ConfigReloader(Generic[C]):
    def __init__(self, directory: Path | str, on_change: Callable[[C], None], *,
                 loader: Callable[[Path], C], debounce_s: float = 1.0, poll_s: float = 1.0,
                 log: Any = None) -> None:
        self.directory = Path(directory)
        self.on_change = on_change
        self.debounce_s = debounce_s
        self.poll_s = poll_s
        self.log = log if log is not None else structlog.get_logger("reload")
        self.loader = loader
        self.last_error: ConfigError | None = None
        """The problems of the last refused reload (None after a good one)."""
        self.reloads = 0
        """Successful reloads so far."""
        self._seen: Fingerprint = {}
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.Task[bool] | None = None
        self._lock = asyncio.Lock()
        self._done = asyncio.Event()

    async def start(self) -> None:
        """Take the files' current state as the running one and start watching."""
        self._seen = await asyncio.to_thread(fingerprint, self.directory)
        self._task = asyncio.create_task(self._watch(), name="config-reloader")

    async def stop(self) -> None:
        for task in (self._task, self._pending):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._pending = None

    def trigger(self) -> None:
        """Reload now (SIGHUP); safe to call from a signal handler installed with loop.add_signal_handler."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self.reload(), name="config-reload")

    async def wait_reloaded(self) -> None:
        """Until the next reload attempt (good or refused) has finished: for tests and the admin API."""
        self._done.clear()
        await self._done.wait()

    async def reload(self) -> bool:
        """Load, validate and hand over the directory's configuration; False (and logged) when refused."""
        async with self._lock:
            self._seen = await asyncio.to_thread(fingerprint, self.directory)
            try:
                config = await asyncio.to_thread(self.loader, self.directory)
            except ConfigError as exc:
                self.last_error = exc
                self.log.error("config.reload_refused", directory=str(self.directory),
                               problems=[str(p) for p in exc.problems])
                for problem in exc.problems:
                    self.log.error("config.problem", problem=str(problem))
                ok = False
            else:
                self.last_error = None
                self.reloads += 1
                self.on_change(config)
                self.log.info("config.reloaded", directory=str(self.directory),
                              scenarios={s.name: s.version for s in config.scenarios.values()})
                for warning in config.warnings:
                    self.log.warning("config.warning", problem=str(warning))
                ok = True
            self._done.set()
            return ok

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            current = await asyncio.to_thread(fingerprint, self.directory)
            if current == self._seen:
                continue
            # debounce: wait until the files stop changing
            while True:
                await asyncio.sleep(self.debounce_s)
                settled = await asyncio.to_thread(fingerprint, self.directory)
                if settled == current:
                    break
                current = settled
            if current != self._seen:
                await self.reload()
