"""Where a recording lives on disk, and the only way a stored path is turned back into a file.

Layout: ``<recordings dir>/YYYY/MM/DD/<call id>.<format>``, dated by the call's **local** date (the
configured time zone, Asia/Almaty by default). Admins and supervisors look for "the call of Tuesday
afternoon" in local days, and searches filter on local dates, so the folder a person opens by hand matches
the search. The name handed to ARI's ``record`` is the relative path without the extension
(``2026/11/23/1700000000.42``); Asterisk stores it under its own recording directory
(``/var/spool/asterisk/recording``), which ``paths.recordings`` points at on a real box (or a bind mount /
symlink of it), so the daemon never has to move the file.

Paths read back from the database are never trusted: ``resolve_inside`` refuses anything that leaves the
recordings directory (``..``, absolute paths, symlinks pointing out).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class UnsafePath(ValueError):
    """A recording path that would resolve outside the recordings directory."""


def safe_call_id(call_id: str) -> str:
    """The call id as a file name: Asterisk ids (``1700000000.42``) pass as is; anything else is defused."""
    cleaned = _UNSAFE.sub("_", call_id).lstrip(".")
    if not cleaned:
        raise ValueError(f"call id {call_id!r} gives no usable file name")
    return cleaned


def recording_name(call_id: str, started_at: float, tz: tzinfo, *, suffix: str = "") -> str:
    """The name for ARI's record (relative path, no extension), from the local date of ``started_at``.

    ``suffix`` separates several recordings of one call (a transfer, a voicemail): ``<id>-vm``.
    """
    day = datetime.fromtimestamp(started_at, UTC).astimezone(tz)
    base = safe_call_id(call_id) + (f"-{safe_call_id(suffix)}" if suffix else "")
    return f"{day:%Y/%m/%d}/{base}"


def relative_path(name: str, fmt: str) -> str:
    """What the ``recordings.path`` column holds: the name plus Asterisk's extension for the format."""
    return f"{name}.{fmt}"


def resolve_inside(root: Path, relative: str) -> Path:
    """The file for a stored relative path, or UnsafePath when it escapes ``root``."""
    if not relative or "\x00" in relative:
        raise UnsafePath("empty or invalid recording path")
    candidate = Path(relative)
    if candidate.is_absolute():
        raise UnsafePath(f"absolute recording path refused: {relative!r}")
    base = root.resolve()
    full = (base / candidate).resolve()
    if not full.is_relative_to(base):
        raise UnsafePath(f"recording path leaves the recordings directory: {relative!r}")
    return full
