"""Small builders of metrics records for the tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.metrics import AccountabilityRecord, CaseRecord, Rating

T0 = datetime(2025, 9, 15, 9, 0, tzinfo=CHINA_TZ)


def case(
    unit: str | None = "市住建局",
    *,
    closed: bool = True,
    replied: bool | None = None,
    late: int = 0,
    ratings: tuple[str, ...] = (),
    defaulted: tuple[bool, ...] = (),
    process_id: str = "complaint_closure",
    n: int = 0,
) -> CaseRecord:
    """A case received at T0 (+n minutes); closed a day later unless ``closed`` is False."""
    received = T0 + timedelta(minutes=n)
    flags = defaulted or (False,) * len(ratings)
    return CaseRecord(
        instance_id=f"case-{n}",
        process_id=process_id,
        unit=unit,
        received_at=received,
        replied_at=received + timedelta(hours=12) if (closed if replied is None else replied) else None,
        closed_at=received + timedelta(days=1) if closed else None,
        limits_missed=late,
        ratings=tuple(
            Rating(value, received + timedelta(hours=13 + i), defaulted=flag)
            for i, (value, flag) in enumerate(zip(ratings, flags, strict=True))
        ),
    )


def admonition(
    name: str,
    unit: str = "市住建局",
    *,
    at: datetime = T0,
    subject_type: str = "个人",
    decision: str | None = "效能告诫",
    grade_cap: str | None = None,
    public_criticism: bool = False,
    honours_revoked: bool = False,
    n: int = 0,
) -> AccountabilityRecord:
    """A case opened a day before ``at`` and decided at ``at`` (undecided if ``decision`` is None)."""
    return AccountabilityRecord(
        instance_id=f"acc-{n}",
        subject_type=subject_type,
        subject_name=name,
        unit=unit,
        opened_at=at - timedelta(days=1),
        decision=decision,
        decided_at=at if decision is not None else None,
        grade_cap=grade_cap,
        public_criticism=public_criticism,
        honours_revoked=honours_revoked,
    )
