"""FEEL's built-in function library (DMN 1.5 10.3.4), apart from the temporal functions (``_feel_temporal``).

CONTRACT STUB: ``BUILTINS`` maps each function name (with its spaces: ``string length``) to a FeelFunction
that takes positional or named arguments; the built-ins work fills it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from efficacy_flow.policy._feel_values import FeelFunction

__all__ = ["BUILTINS"]

BUILTINS: Final[Mapping[str, FeelFunction]] = {}
