"""Who is calling: ``Authorization: Bearer <token>`` against the users of ``config/acd.yaml``.

Tokens are compared in constant time, and against every user whatever matched first, so the time taken
says nothing about which token is close. Tokens never reach a log line or an error message.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from acd.settings import User


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    agent: str | None = None
    """For role 'agent': the agent id this user works as."""

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role, "agent": self.agent}


class Authenticator:
    def __init__(self, users: Sequence[User]) -> None:
        self._entries: list[tuple[bytes, Principal]] = []
        for user in users:
            token = user.resolved_token()
            if token:  # a user whose token_env is unset cannot log in, rather than log in with ""
                self._entries.append((token.encode(), Principal(user.name, user.role, user.agent)))

    def authenticate(self, header: str | None) -> Principal | None:
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        given = token.strip().encode()
        found: Principal | None = None
        for expected, principal in self._entries:
            if hmac.compare_digest(given, expected) and found is None:
                found = principal
        return found
