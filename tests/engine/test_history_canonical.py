"""The audit chain's canonical JSON is the stdlib's text, whichever encoder writes it (engine/_history.py).

The hash of every event covers this text, and chains written before orjson was used must still verify, so
``canonical`` must return exactly what ``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
default=str)`` returns, for every value, including Chinese keys (sort order), control characters, U+2028,
integers at and beyond 64 bits, floats and types orjson would write differently.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._audit import GENESIS, canonical, chain_hash


def _stdlib(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["受理", "转办", "\u2028", "\x7f", '\x00\n\t"\\', "a", "A", "é", "😀", ""]
)
_SCALARS = (
    _TEXT
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63 - 1, -(2**63), 2**64 - 1, 2**64, True, False, None])
    | st.floats(allow_nan=True, allow_infinity=True)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=20,
)


@given(_VALUES)
def test_canonical_is_the_stdlib_text(value: Any) -> None:
    assert canonical(value) == _stdlib(value)


@given(st.dictionaries(_TEXT, _TEXT | st.integers(), min_size=2, max_size=8))
def test_keys_sort_in_code_point_order(value: dict[str, Any]) -> None:
    assert canonical(value) == _stdlib(value)


def test_values_orjson_writes_differently_take_the_stdlib_path() -> None:
    at = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
    for value in (
        {"at": at},  # orjson would write RFC 3339 with a "T"; the stdlib's default=str writes a space
        {"ratio": 1e16},  # orjson: 1e16, the stdlib: 1e+16
        {"n": float("nan")},
        (1, "a"),
        {"big": 2**64},
        {"lone": "\ud800"},  # orjson refuses lone surrogates
    ):
        assert canonical(value) == _stdlib(value)


def test_the_chain_hash_is_unchanged() -> None:
    """A hash computed before orjson was used (pinned here) is computed again: old chains still verify."""
    at = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
    digest = chain_hash(GENESIS, "i-1", 1, at, "clerk", "task_completed", None, '{"data":{"note":"办结"}}')
    assert digest == "7c70a977097a51577540e6570a963ac8230040e5cf77f3eb5ee56a44b226c4db"


def _stdlib_hash(
    prev: str, instance_id: Any, seq: Any, at: datetime, actor: Any, kind: Any, before: Any, after: Any
) -> str:
    body = {
        "instance_id": instance_id,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "kind": kind,
        "before": before,
        "after": after,
    }
    return hashlib.sha256((prev + _stdlib(body)).encode("utf-8")).hexdigest()


_MAYBE_TEXT = _TEXT | st.none() | st.sampled_from(["\ud800", "x\udfff"])


@given(
    prev=_TEXT | st.sampled_from([GENESIS, "\ud800"]),
    instance_id=_TEXT | st.sampled_from(["\ud800"]),
    seq=st.integers(min_value=-(2**70), max_value=2**70),
    actor=_MAYBE_TEXT,
    kind=_TEXT,
    before=_MAYBE_TEXT,
    after=_MAYBE_TEXT,
)
def test_chain_hash_is_the_hash_of_the_stdlib_text(
    prev: str, instance_id: str, seq: int, actor: str | None, kind: str, before: str | None, after: str | None
) -> None:
    """The hash is sha256(previous hash + the stdlib's canonical text of the event), whichever path wrote it:
    lone surrogates (the stdlib path, and UTF-8 encoding then fails the same way on both), 64-bit edges."""
    at = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
    try:
        expected: str | type[Exception] = _stdlib_hash(prev, instance_id, seq, at, actor, kind, before, after)
    except UnicodeEncodeError:
        expected = UnicodeEncodeError
    try:
        got: str | type[Exception] = chain_hash(prev, instance_id, seq, at, actor, kind, before, after)
    except UnicodeEncodeError:
        got = UnicodeEncodeError
    assert got == expected


def test_chain_hash_of_values_that_are_not_text() -> None:
    """Values of other types (a stored row read back oddly) take the stdlib path, as before."""
    at = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
    for seq, actor in ((True, "clerk"), (1.0, "clerk"), (2**64, "clerk"), (3, 7), (3, at)):
        got = chain_hash(GENESIS, "i-1", seq, at, actor, "k", None, None)  # type: ignore[arg-type]
        assert got == _stdlib_hash(GENESIS, "i-1", seq, at, actor, "k", None, None)
