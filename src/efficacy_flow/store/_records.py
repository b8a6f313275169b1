"""Rows as named, frozen records (the store's vocabulary; it knows nothing of BPMN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from efficacy_flow.calendar import TimeLimit

__all__ = [
    "AppraisalCounts",
    "AuditRecord",
    "CardRecord",
    "CaseFactsRecord",
    "CommitToken",
    "DeadlineRecord",
    "IdempotencyRecord",
    "IncidentRecord",
    "InstanceRecord",
    "OutboxRecord",
    "TaskRecord",
]


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One process instance: its saved workflow state and bookkeeping.

    ``incident_id`` names the instance's failing step while an incident for it is retrying or open (None
    otherwise).
    """

    id: str
    process_id: str
    definition_hash: str
    business_key: str | None
    status: str
    version: int
    state: bytes
    format_version: int
    first_responder: str
    suspended_at: datetime | None
    created_at: datetime
    updated_at: datetime
    audit_seq: int
    audit_head: str
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A user task: ``status`` is ``ready``, ``completed`` or ``cancelled``.

    Schema 4: ``assignee`` is the person who claimed it or was assigned it (认领/指派; only they may complete
    it), ``urges`` how often it was urged (催办) and ``last_urged_at`` when last.
    """

    id: str
    instance_id: str
    element_id: str
    name: str
    role: str | None
    unit: str | None
    status: str
    ready_at: datetime
    due_at: datetime | None
    closed_at: datetime | None = None
    closed_by: str | None = None
    assignee: str | None = None
    urges: int = 0
    last_urged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    """A pending timer.

    ``due_at`` is None while the instance is suspended; ``remaining`` then holds the time that was left
    (``TimeLimit(3, WORKING_DAYS)``, ``TimeLimit(120, MINUTES)``). ``task_id`` is the user task the timer is
    attached to. ``claimed_by``/``lease_until``: the worker that claimed the due row to fire it, and until
    when. ``incident_id``: set while the instance's incident parks the row (it is then never claimed).
    """

    id: str
    instance_id: str
    task_id: str | None
    element_id: str
    kind: str
    interrupting: bool
    due_at: datetime | None
    remaining: TimeLimit | None = None
    fired_at: datetime | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit event; ``before``/``after`` are canonical JSON text."""

    instance_id: str
    seq: int
    at: datetime
    actor: str | None
    kind: str
    before: str | None
    after: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A failed step of an instance (a timer or a message job), retried with backoff, then left open.

    ``kind`` is ``"timer"`` or ``"message"``; ``status`` is ``"retrying"`` (``next_attempt_at`` says when),
    ``"open"`` (retries used up: an operator repairs and retries it) or ``"resolved"`` (``resolved_at``,
    ``resolved_by``). ``error`` is the failure's error class name, ``message`` its text; ``payload`` is JSON
    text (a message job's name and payload). ``claimed_by``/``lease_until``: the worker retrying it, and until
    when.
    """

    id: str
    instance_id: str
    element_id: str | None
    kind: str
    status: str
    error: str
    message: str
    attempts: int
    payload: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One event for other systems (schema 4), appended in the transaction of the call that caused it.

    ``seq`` grows in commit order without gaps a reader could see filled later; ``payload`` is JSON text.
    """

    seq: int
    kind: str
    instance_id: str | None
    task_id: str | None
    unit: str | None
    at: datetime
    payload: str


@dataclass(frozen=True, slots=True)
class CommitToken:
    """One write transaction's commit on a SQLite file store, as :meth:`Store.unchanged_since` checks it.

    ``generation`` names the write connection it ran on, ``data_version`` is that connection's ``PRAGMA
    data_version`` inside the transaction (it changes when any *other* connection commits), and ``commits`` is
    the store's count of its own commits, this one included (which the connection's own later commits raise).
    """

    generation: int
    data_version: int
    commits: int


@dataclass(frozen=True, slots=True)
class CardRecord:
    """A card of electronic supervision (电子监察): a warning (预警), a yellow card (黄牌: the limit ran
    out) or a red card (红牌: still not done when the 督办 period ran out), kept after it is cleared.

    ``due_at`` is when the limit the card is about runs out (for a red card: when the 督办 period did);
    ``cleared_at`` when the step it is about was done (or the case ended); ``deduction`` and ``action``
    what the card rules decided (扣分, 书面督办, 约谈), ``source`` where the rule comes from.
    ``escalate_at``: when an open yellow card turns red; ``escalate_remaining``: what was left of the 督办
    period while the instance is suspended; ``escalated_at``: when it turned red.
    ``claimed_by``/``lease_until``: the worker escalating it.
    """

    id: str
    instance_id: str
    process_id: str
    task_id: str | None
    element_id: str | None
    unit: str | None
    level: str
    limit_name: str
    issued_at: datetime
    due_at: datetime | None
    cleared_at: datetime | None
    reason: str
    deduction: float
    action: str | None
    source: str
    escalate_at: datetime | None = None
    escalate_remaining: TimeLimit | None = None
    escalated_at: datetime | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseFactsRecord:
    """The facts of one case the appraisal figures count (settings.yaml ``appraisal``; engine/_facts.py).

    ``period``: the month it was received (YYYY-MM, China time), ``week`` its ISO week (YYYY-Www);
    ``repeated``: it repeats an earlier case (重复诉求). ``signed_at``/``sign_late``: when the unit
    responded (签收) and whether after its deadline; ``replied_at``: the reply to the requester (反馈);
    ``closed_at``: the process reached its end (办结); ``limits_missed``: how many handling limits ran out;
    ``first_rating``/``rating``: the requester's first and latest rating (``rating_defaulted``: the latest
    was deemed, not given); ``solved``: the requester's answer to "was it solved?".
    """

    instance_id: str
    process_id: str
    period: str
    week: str | None
    repeated: bool | None
    received_at: datetime
    status: str
    unit: str | None
    region: str | None
    case_type: str | None
    category: str | None
    sector: str | None
    signed_at: datetime | None
    sign_late: bool | None
    replied_at: datetime | None
    closed_at: datetime | None
    limits_missed: int
    first_rating: str | None
    rating: str | None
    rating_defaulted: bool | None
    solved: bool | None
    updated_at: datetime
    #: Schema 7: 申诉复核 removed its 差评 (set by the review's completion, never by the case's own saves).
    rating_removed: bool | None = None


@dataclass(frozen=True, slots=True)
class AppraisalCounts:
    """The appraisal counts of one group of cases (store/_reader.py ``appraisal``): ``key`` holds the
    group's dimension values in the order asked for. ``rated`` and ``bad`` leave out the 差评 that 申诉复核
    removed (schema 7), which ``removed`` counts."""

    key: tuple[str | None, ...]
    received: int
    responded: int
    responded_on_time: int
    replied: int
    replied_on_time: int
    completed: int
    completed_on_time: int
    rated: int
    satisfied: int
    bad: int
    solved_answered: int
    solved: int
    repeats: int = 0
    removed: int = 0


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """An idempotency key of the HTTP service (schema 8): who sent it, the hash of the request it came with,
    and, once the request was answered, the response's ``status`` and ``body`` (both None while it runs)."""

    actor_id: str
    key: str
    request_hash: str
    status: int | None
    body: bytes | None
    created_at: datetime
    completed_at: datetime | None
