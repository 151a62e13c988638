"""The ARI client: REST (``AriClient``), the events WebSocket (``EventStream``) and typed models.

Import from here: ``from acd.ari import AriClient, EventStream, AriError, parse_event``.
"""

from acd.ari.client import AriClient
from acd.ari.errors import (
    AriAuthError,
    AriBadRequest,
    AriConflict,
    AriConnectionError,
    AriError,
    AriInvalidState,
    AriNotFound,
    AriServerError,
    AriUnprocessable,
)
from acd.ari.events import EventStream
from acd.ari.limiter import Priority
from acd.ari.models import Event, GenericEvent, MalformedEvent, parse_event

__all__ = [
    "AriAuthError",
    "AriBadRequest",
    "AriClient",
    "AriConflict",
    "AriConnectionError",
    "AriError",
    "AriInvalidState",
    "AriNotFound",
    "AriServerError",
    "AriUnprocessable",
    "Event",
    "EventStream",
    "GenericEvent",
    "MalformedEvent",
    "Priority",
    "parse_event",
]
