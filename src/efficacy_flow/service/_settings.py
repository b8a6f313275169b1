"""``service.yaml``: who may call the API (bearer tokens, kept as SHA-256 hashes), how large a body may be,
how fast one token may call, how long idempotency keys are kept (docs/service.md, "Configuration")."""

from __future__ import annotations

from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from efficacy_flow._parsing import load_yaml
from efficacy_flow.errors import InvalidInput

__all__ = ["RateLimit", "ServiceSettings", "TokenSettings"]

_MODEL = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class TokenSettings(BaseModel):
    """One bearer token and the actor it stands for."""

    model_config = _MODEL

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """The token's SHA-256, 64 lowercase hex digits (``printf %s "$TOKEN" | sha256sum``); never the token."""
    actor: str = Field(min_length=1, max_length=200)
    """The actor id the engine records (``Actor.id``)."""
    roles: tuple[str, ...] = ()
    """The actor's roles: BPMN lane names (``Actor.roles``)."""
    unit: str | None = None
    """The actor's unit, if any (``Actor.unit``)."""
    expires_at: AwareDatetime | None = None
    """When the token stops being accepted (an instant with its offset); none: it does not expire."""


class RateLimit(BaseModel):
    """At most ``requests`` per ``per_seconds`` for one token (or one client address without a token), in
    each API process: a token bucket of that size, refilled evenly."""

    model_config = _MODEL

    requests: int = Field(default=600, ge=1)
    """The bucket's size: requests allowed in a burst."""
    per_seconds: float = Field(default=60.0, gt=0)
    """The time in which a spent bucket fills again."""


class ServiceSettings(BaseModel):
    """The HTTP service's configuration (``service.yaml``)."""

    model_config = _MODEL

    tokens: tuple[TokenSettings, ...] = ()
    """The bearer tokens the built-in authenticator accepts."""
    max_body_bytes: int = Field(default=1 << 20, ge=1)
    """The largest request body accepted (413 beyond it, refused before the body is read whole)."""
    rate_limit: RateLimit = RateLimit()
    """Requests per token and process (429 with ``Retry-After`` beyond it)."""
    idempotency_hours: float = Field(default=24.0, gt=0)
    """How long an ``Idempotency-Key`` is remembered."""
    sse_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    """How often an event stream looks for new outbox events when it has none to send."""

    @classmethod
    def from_yaml(cls, path: str | Path) -> ServiceSettings:
        """Read a ``service.yaml``.

        Raises:
            InvalidInput: the file is missing, not YAML, or does not validate (``path``, ``errors``).
        """
        where = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {where}: {exc.strerror}", path=where) from None
        loaded = load_yaml(data, where, InvalidInput, dates_as_text=True)
        try:
            return cls.model_validate(loaded if loaded is not None else {})
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or "(file)", "problem": e["msg"]}
                for e in exc.errors()
            ]
            named = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
            raise InvalidInput(f"{where} does not validate: {named}", path=where, errors=errors) from None
