"""Structured logs: one event a line, JSON in production, pretty on a terminal (DESIGN.md).

Two processors keep a log line bounded and readable whatever arrives from the network (issue 12):
- ``bound_fields``: a string field longer than ``MAX_FIELD_CHARS`` is cut, with how much was cut
  (a traceback, ``exception``, may be up to ``MAX_TRACEBACK_CHARS``); strings inside a list, tuple or dict
  field are cut the same way. A fuzzed ARI event can no longer write a megabyte line.
- ``ari_errors_as_outcomes``: an ``AriError`` logged with its exception (``log.exception``) is a refused
  command (a channel that hung up meanwhile: 404 on ``DELETE /channels/...``), an outcome of the call and
  not a bug: it is logged as a warning with the one-line ``error`` ARI gave, without a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from acd.ari.errors import AriError

MAX_FIELD_CHARS = 2000
"""The longest string a log field keeps."""
MAX_TRACEBACK_CHARS = 20000
"""The longest traceback (``exception`` field) kept: enough for any real one."""
_MAX_ITEMS = 100
"""Items kept of a list/tuple/dict field."""


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def _cut(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    return f"{value[:limit]}... [{len(value) - limit} more characters]"


def _bounded(value: Any, limit: int, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, bytes):
        return _cut(value.decode("utf-8", "replace"), limit)
    if depth >= 2:
        return value if isinstance(value, int | float | bool | None) else _cut(repr(value), limit)
    if isinstance(value, list | tuple):
        return [_bounded(v, limit, depth + 1) for v in value[:_MAX_ITEMS]]
    if isinstance(value, dict):
        return {_cut(str(k), 200): _bounded(v, limit, depth + 1) for k, v in list(value.items())[:_MAX_ITEMS]}
    return value


def bound_fields(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Cut every long string field (see the module's docstring)."""
    for key, value in event_dict.items():
        if isinstance(value, str | bytes | list | tuple | dict):
            limit = MAX_TRACEBACK_CHARS if key == "exception" else MAX_FIELD_CHARS
            event_dict[key] = _bounded(value, limit)
    return event_dict


def ari_errors_as_outcomes(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """An AriError's traceback becomes its one-line message, at warning level (see the docstring)."""
    exc_info = event_dict.get("exc_info")
    if exc_info is True:
        exc_info = sys.exc_info()
    exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if isinstance(exc, AriError):
        del event_dict["exc_info"]
        event_dict.setdefault("error", str(exc))
        if event_dict.get("level") in ("error", "critical", "exception"):
            event_dict["level"] = "warning"
    return event_dict


def configure_logging(
    fmt: str = "auto", level: str = "info", stream: Any = None, *, cache: bool = False
) -> None:
    """``fmt``: auto (console on a TTY, JSON otherwise), json or console.

    ``cache``: each module's logger is built once, at its first use after this call, instead of at every
    call (a new logger object and printer per line was a quarter of the cost of logging, 2 % of the
    daemon's CPU under load, docs/benchmarks.md). For the daemon's own process only: a test that configures
    logging twice would keep the first configuration in every logger already used."""
    stream = stream or sys.stderr
    printer = structlog.PrintLogger(stream)  # one printer (and its lock) for every logger
    as_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (structlog.processors.JSONRenderer(serializer=_orjson_dumps) if as_json
                     else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            ari_errors_as_outcomes,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            bound_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=lambda *_args: printer,
        cache_logger_on_first_use=cache,
    )
