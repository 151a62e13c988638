"""One exception family for every failed ARI command.

Why one family: the engine treats a failed command (channel gone, not in Stasis, Asterisk 500) as an
outcome of the call, never as a crash of the daemon. Catch ``AriError`` for "the command did not happen",
or a subclass where the reason matters (``AriNotFound``: the channel hung up meanwhile).
"""

from __future__ import annotations


class AriError(Exception):
    """A non-2xx answer from ARI (or no answer at all: ``status`` 0)."""

    def __init__(self, status: int, message: str, method: str = "", path: str = "") -> None:
        super().__init__(f"ARI {method} {path} -> {status}: {message}".replace("  ", " "))
        self.status = status
        self.message = message
        self.method = method
        self.path = path


class AriBadRequest(AriError):
    """400: a parameter is missing or invalid (also: addChannel with an unknown channel)."""


class AriAuthError(AriError):
    """401: wrong ARI user or password (ari.conf). Retrying cannot help."""


class AriNotFound(AriError):
    """404: the channel, bridge, playback or recording does not exist (any more)."""


class AriConflict(AriError):
    """409: wrong state for the operation, most often "Channel not in Stasis application"."""


class AriInvalidState(AriError):
    """412: "Channel in invalid state", e.g. answering or playing to a channel that is Down or Ringing."""


class AriUnprocessable(AriError):
    """422: well-formed but impossible, e.g. removing a channel that is not in the bridge."""


class AriServerError(AriError):
    """5xx: Asterisk failed the command (allocation failed, no media, ...). A failed command, not a crash."""


class AriConnectionError(AriError):
    """No HTTP answer: connection refused or reset, or the request timed out (``status`` 0)."""


_BY_STATUS: dict[int, type[AriError]] = {
    400: AriBadRequest,
    401: AriAuthError,
    404: AriNotFound,
    409: AriConflict,
    412: AriInvalidState,
    422: AriUnprocessable,
}


def error_for(status: int, message: str, method: str = "", path: str = "") -> AriError:
    """The most specific exception for an HTTP status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = AriServerError if status >= 500 else AriError
    return cls(status, message, method, path)


def error_message(body: object, fallback: str) -> str:
    """The text of an ARI error body: ``{"message": ...}``, or ``{"error": ...}`` for some 500s."""
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return fallback
