"""The saved-state format and its upgrade chain.

Every saved instance is ``{"format_version": N, "workflow": {...}}`` as compressed JSON (zstd; zlib as
written before, and ``_spiff.decompress_state`` reads both). When the format changes, the new version's number
goes into ``STATE_FORMAT_VERSION`` and a function ``N -> N+1`` into ``UPGRADES``; loading applies the chain
from whatever version was saved. Golden saved instances of every format live in tests/engine/golden/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from efficacy_flow.errors import StoreError

__all__ = ["UPGRADES", "upgrade"]

#: Format 1 is the first released format; ``UPGRADES[n]`` turns format n into format n + 1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upgrade(body: dict[str, Any]) -> dict[str, Any]:
    """Bring a saved state up to the current format.

    Raises:
        StoreError: the state has no format version, or one newer than this version of efficacy_flow reads.
    """
    from efficacy_flow.engine._spiff import STATE_FORMAT_VERSION

    version = body.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise StoreError(f"saved state has no valid format_version ({version!r})", format_version=version)
    if version > STATE_FORMAT_VERSION:
        raise StoreError(
            f"saved state format {version} is newer than this efficacy_flow reads ({STATE_FORMAT_VERSION})",
            format_version=version,
        )
    while version < STATE_FORMAT_VERSION:
        body = UPGRADES[version](body)
        version += 1
        body["format_version"] = version
    return body
