"""Indicators of efficiency supervision: 办结率, 按时办结率, 满意率 per unit, and accountability outcomes.

Pure functions over plain records (:class:`CaseRecord`, :class:`AccountabilityRecord`), with the formulas as
frozen configuration (:class:`MetricsConfig`); :func:`collect_records` builds the records from an engine.
:func:`write_xes` and :func:`write_ocel` export the audit trail of a period as event logs for process mining.
docs/metrics.md gives the formulas, their defaults and sources.

>>> rows = unit_indicators(records)                       # doctest: +SKIP
>>> print(render_indicators(rows, total_indicators(rows)))  # doctest: +SKIP
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.metrics._accountability import (
    PERSON_DECISION,
    UNIT_DECISION,
    AccountabilityOutcomes,
    PersonOutcome,
    UnitOutcome,
    accountability_outcomes,
    admonitions_in_year,
    in_admonition_year,
)
from efficacy_flow.metrics._adapter import (
    ACCOUNTABILITY,
    COMPLAINT_CLOSURE,
    DEFAULT_CASE_PROCESSES,
    WINDOW_ESCALATION,
    AccountabilityProcess,
    CaseProcess,
    Records,
    accountability_record,
    case_record,
    collect_records,
)
from efficacy_flow.metrics._appraisal import (
    DIMENSION_LABELS,
    AppraisalRow,
    CardFigures,
    appraise,
    card_figures,
    hot_spots,
    rank,
    weekly_cards,
)
from efficacy_flow.metrics._appraisal_report import (
    REPORT_FORMATS,
    AppraisalReport,
    Table,
    appraisal_report,
    write_report,
)
from efficacy_flow.metrics._config import (
    DEFAULT_METRICS_CONFIG,
    ClosureBasis,
    MetricsConfig,
    RatingBasis,
    YearBasis,
)
from efficacy_flow.metrics._event_log import write_ocel, write_xes
from efficacy_flow.metrics._indicators import (
    TOTAL_LABEL,
    UNASSIGNED_LABEL,
    UnitIndicators,
    counted_rating,
    format_rate,
    is_closed,
    is_closed_on_time,
    total_indicators,
    unit_indicators,
)
from efficacy_flow.metrics._records import AccountabilityRecord, CaseRecord, Rating
from efficacy_flow.metrics._rectification import (
    DEFAULT_STANDARDS,
    Shortfall,
    Standards,
    open_rectifications,
    repeatedly_near_bottom,
    shortfalls,
)
from efficacy_flow.metrics._report import (
    INDICATOR_HEADINGS,
    display_width,
    render_accountability,
    render_indicators,
    render_table,
)
from efficacy_flow.metrics._section_chiefs import SECTION_CHIEF_DECISION, ChiefGrade, section_chief_grades

__all__ = [
    "ACCOUNTABILITY",
    "COMPLAINT_CLOSURE",
    "DEFAULT_CASE_PROCESSES",
    "DEFAULT_METRICS_CONFIG",
    "DEFAULT_STANDARDS",
    "DIMENSION_LABELS",
    "INDICATOR_HEADINGS",
    "PERSON_DECISION",
    "REPORT_FORMATS",
    "SECTION_CHIEF_DECISION",
    "TOTAL_LABEL",
    "UNASSIGNED_LABEL",
    "UNIT_DECISION",
    "WINDOW_ESCALATION",
    "AccountabilityOutcomes",
    "AccountabilityProcess",
    "AccountabilityRecord",
    "AppraisalReport",
    "AppraisalRow",
    "CardFigures",
    "CaseProcess",
    "CaseRecord",
    "ChiefGrade",
    "ClosureBasis",
    "MetricsConfig",
    "PersonOutcome",
    "Rating",
    "RatingBasis",
    "Records",
    "Shortfall",
    "Standards",
    "Table",
    "UnitIndicators",
    "UnitOutcome",
    "YearBasis",
    "accountability_outcomes",
    "accountability_record",
    "admonitions_in_year",
    "appraisal_report",
    "appraise",
    "card_figures",
    "case_record",
    "collect_records",
    "counted_rating",
    "display_width",
    "format_rate",
    "hot_spots",
    "in_admonition_year",
    "is_closed",
    "is_closed_on_time",
    "open_rectifications",
    "rank",
    "render_accountability",
    "render_indicators",
    "render_table",
    "repeatedly_near_bottom",
    "section_chief_grades",
    "shortfalls",
    "total_indicators",
    "unit_indicators",
    "weekly_cards",
    "write_ocel",
    "write_report",
    "write_xes",
]

_public.publish(globals())
