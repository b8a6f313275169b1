"""Who is calling: an :class:`Authenticator` turns a request's headers into an engine ``Actor``.

The built-in one, :class:`TokenAuthenticator`, reads ``Authorization: Bearer <token>`` and looks the token's
SHA-256 up in ``service.yaml``; a host with single sign-on passes its own authenticator to
:func:`~efficacy_flow.service.create_app` (docs/service.md, "Authentication").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from efficacy_flow.clock import Clock
from efficacy_flow.engine import Actor
from efficacy_flow.service._settings import TokenSettings

__all__ = ["AuthenticationFailed", "Authenticator", "TokenAuthenticator", "hash_token"]


class AuthenticationFailed(Exception):
    """An authenticator refuses the request's credentials with a reason the caller may see (401)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@runtime_checkable
class Authenticator(Protocol):
    """The single sign-on seam: the actor a request's headers (names in lower case) stand for, or None when
    they carry no credentials it knows (401). Raise :class:`AuthenticationFailed` to say why it refuses.

    It is called on a worker thread for every ``/api/`` request; it must not block for long.
    """

    def authenticate(self, headers: Mapping[str, str]) -> Actor | None: ...


def hash_token(token: str) -> str:
    """The SHA-256 of a bearer token as ``service.yaml`` holds it (64 lowercase hex digits)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenAuthenticator:
    """Bearer tokens from ``service.yaml``, compared by their SHA-256; an expired one is refused, as read on
    the engine's clock."""

    def __init__(self, tokens: Iterable[TokenSettings], clock: Clock) -> None:
        self._by_hash = {entry.sha256: entry for entry in tokens}
        self._clock = clock

    def authenticate(self, headers: Mapping[str, str]) -> Actor | None:
        value = headers.get("authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        entry = self._by_hash.get(hash_token(token))
        if entry is None:
            return None
        if entry.expires_at is not None and self._clock.now() >= entry.expires_at:
            raise AuthenticationFailed(f"the token expired at {entry.expires_at.isoformat()}")
        return Actor(entry.actor, roles=entry.roles, unit=entry.unit)
