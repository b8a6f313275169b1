"""The formulas of the indicators, as frozen configuration.

北京市接诉即办工作条例 第三十二条 makes 响应率、解决率、满意率 the core of appraisal without fixing how they
are computed (statutory-rules.md §3), and seed 003 reports 办结率 98.7% and 满意度 73.7% without stating its
denominators. So every choice a formula makes is a named field here, with the default stated; a jurisdiction
builds its own :class:`MetricsConfig` (or loads one from YAML with :meth:`MetricsConfig.from_mapping`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics._records import RATING_VALUES

__all__ = ["DEFAULT_METRICS_CONFIG", "ClosureBasis", "MetricsConfig", "RatingBasis", "YearBasis"]

#: What makes a case count as 办结: the process reached its end (``completed``), or the first reply went to
#: the requester (``replied`` — seed 003 reports 已回复 52532 of 53201 as 办结率 98.7%, i.e. reply = closure).
ClosureBasis = Literal["completed", "replied"]
#: Which rating of a reworked ticket counts: the ``final`` one (after rework) or the ``first``.
RatingBasis = Literal["final", "first"]
#: Which "year" admonitions are counted over (001_a86978e3ab2b148c.txt §四(五) says 当年 / 一年内 without
#: fixing it; processes/settings.yaml ``admonition_year``): the ``calendar`` year or the
#: ``rolling_12_months``.
YearBasis = Literal["calendar", "rolling_12_months"]

_CLOSURE: tuple[ClosureBasis, ...] = ("completed", "replied")
_RATING: tuple[RatingBasis, ...] = ("final", "first")
_YEAR: tuple[YearBasis, ...] = ("calendar", "rolling_12_months")
_ON_TIME_DENOMINATOR = ("closed", "received")


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """How 办结, 按时办结 and 满意 are counted and what each rate divides by.

    The formulas (each count per handling unit)::

        办结率     = 办结 / 受理
        按时办结率 = 按时办结 / 办结            (on_time_denominator="closed", default; or / 受理)
        满意率     = 满意 / 参评                 (参评: cases with a counted rating)

    Attributes:
        closure_basis: ``"completed"`` (default: the closed loop reached 办结) or ``"replied"`` (a reply
            went out; seed 003's basis).
        on_time_denominator: ``"closed"`` (default) or ``"received"``.
        satisfied_ratings: the ratings that count as 满意 (default 非常满意, 满意 and 基本满意, the usual
            12345 practice; a stricter jurisdiction counts only the top two).
        bad_ratings: the ratings that count as 差评 (default the bottom two of the five levels, 不满意 and
            非常不满意: 国办发〔2019〕51号's 好差评).
        rating_basis: ``"final"`` (default) or ``"first"`` rating of a reworked ticket.
        count_defaulted_ratings: whether a rating deemed given when the requester did not rate (settings.yaml
            ``default_rating``) counts as 参评 (default False: a deemed rating is not an opinion).
        admonition_year: the year admonitions are counted over (default ``"calendar"``, settings.yaml).
    """

    closure_basis: ClosureBasis = "completed"
    on_time_denominator: Literal["closed", "received"] = "closed"
    satisfied_ratings: frozenset[str] = field(
        default_factory=lambda: frozenset({"非常满意", "满意", "基本满意"})
    )
    bad_ratings: frozenset[str] = field(default_factory=lambda: frozenset({"不满意", "非常不满意"}))
    rating_basis: RatingBasis = "final"
    count_defaulted_ratings: bool = False
    admonition_year: YearBasis = "calendar"

    def __post_init__(self) -> None:
        object.__setattr__(self, "satisfied_ratings", frozenset(self.satisfied_ratings))
        object.__setattr__(self, "bad_ratings", frozenset(self.bad_ratings))
        _choice("closure_basis", self.closure_basis, _CLOSURE)
        _choice("on_time_denominator", self.on_time_denominator, _ON_TIME_DENOMINATOR)
        _choice("rating_basis", self.rating_basis, _RATING)
        _choice("admonition_year", self.admonition_year, _YEAR)
        unknown = sorted(self.satisfied_ratings - set(RATING_VALUES))
        if unknown or not self.satisfied_ratings:
            raise InvalidInput(
                f"satisfied_ratings must be a non-empty subset of {'/'.join(RATING_VALUES)} ({unknown})",
                field="satisfied_ratings",
                value=sorted(self.satisfied_ratings),
            )
        if not self.bad_ratings <= set(RATING_VALUES) or self.bad_ratings & self.satisfied_ratings:
            raise InvalidInput(
                f"bad_ratings must be a subset of {'/'.join(RATING_VALUES)} apart from satisfied_ratings",
                field="bad_ratings",
                value=sorted(self.bad_ratings),
            )
        if not isinstance(self.count_defaulted_ratings, bool):
            raise InvalidInput(
                "count_defaulted_ratings must be true or false", field="count_defaulted_ratings"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> MetricsConfig:
        """Build a config from a mapping (e.g. a YAML document); unknown keys are refused.

        Raises:
            InvalidInput: an unknown key or a value outside its choices (``field`` names it).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInput(
                f"unknown metrics settings: {', '.join(unknown)}", field=unknown[0], known=sorted(known)
            )
        kwargs = dict(values)
        for name in ("satisfied_ratings", "bad_ratings"):
            if name in kwargs:
                kwargs[name] = frozenset(kwargs[name])
        return cls(**kwargs)

    def describe(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values (for reports that state their formulas)."""
        return {
            "closure_basis": self.closure_basis,
            "on_time_denominator": self.on_time_denominator,
            "satisfied_ratings": [r for r in RATING_VALUES if r in self.satisfied_ratings],
            "bad_ratings": [r for r in RATING_VALUES if r in self.bad_ratings],
            "rating_basis": self.rating_basis,
            "count_defaulted_ratings": self.count_defaulted_ratings,
            "admonition_year": self.admonition_year,
        }


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(
            f"{name} must be one of {', '.join(allowed)}, got {value!r}",
            field=name,
            value=value,
            allowed=allowed,
        )


#: The defaults stated on :class:`MetricsConfig`.
DEFAULT_METRICS_CONFIG = MetricsConfig()
