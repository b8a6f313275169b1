"""The tick loop, and worker identity and leases for several engines running :meth:`Engine.tick` on one
database.

Each engine claims the due deadline rows it is about to fire with its worker id and a lease expiry
(``now + lease``, on the engine's clock); a worker that dies holding claims strands nothing: once the lease
has expired, any worker claims the rows again. See docs/operations.md (leases) for choosing the lease.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TypeVar

from efficacy_flow.engine._views import TimerFired
from efficacy_flow.errors import ConcurrentUpdate, EfficacyFlowError, InvalidInput
from efficacy_flow.store import CardRecord, IncidentRecord, Store, Transaction

__all__ = ["DEFAULT_LEASE", "checked_lease", "checked_worker_id", "default_worker_id", "run_tick"]

log = logging.getLogger("efficacy_flow.engine")

_Claimed = TypeVar("_Claimed")

#: How long a claim holds: far longer than firing one batch takes, short enough that a dead worker's timers
#: fire a few minutes late at worst.
DEFAULT_LEASE = timedelta(minutes=5)


def default_worker_id() -> str:
    """``hostname:pid:random`` — unique per engine object, readable in ``ef_deadlines.claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def checked_worker_id(worker_id: str | None) -> str:
    """The given worker id (non-empty, at most 200 characters, the column's width) or a default one."""
    if worker_id is None:
        return default_worker_id()
    if not worker_id.strip() or len(worker_id) > 200:
        raise InvalidInput("a worker id needs 1 to 200 characters", worker_id=worker_id)
    return worker_id


def checked_lease(lease: timedelta) -> timedelta:
    """The lease, which must be positive (a claim that expires at once would be claimed again in a loop)."""
    if lease <= timedelta(0):
        raise InvalidInput(f"the lease must be positive, got {lease}", lease=lease)
    return lease


def run_tick(
    store: Store,
    fire: Callable[[str], list[TimerFired]],
    retry: Callable[[IncidentRecord], list[TimerFired]],
    now: datetime,
    worker: str,
    lease_until: datetime,
    batch: int,
    escalate: Callable[[CardRecord], None] | None = None,
) -> list[TimerFired]:
    """Claim due deadline rows ``batch`` at a time for ``worker`` and ``fire`` each claimed instance; then
    claim the failed steps whose next attempt is due and ``retry`` each.

    ``fire`` and ``retry`` record a failing instance's step as an incident (which parks its rows: they are not
    claimed again), so one failing instance never stops the others; an instance another call changed meanwhile
    (``ConcurrentUpdate``) is released at the end, for the next tick.
    """
    fired: list[TimerFired] = []
    busy: list[str] = []
    # Rows claimed here hold until lease_until > now, so nothing is claimed twice and each loop ends.
    for claimed in _batches(store, lambda tx: tx.claim_due(now, worker, lease_until, batch)):
        for instance_id in claimed:
            try:
                fired.extend(fire(instance_id))
            except ConcurrentUpdate:
                busy.append(instance_id)
    for due in _batches(store, lambda tx: tx.claim_retries(now, worker, lease_until, batch)):
        for incident in due:
            try:
                fired.extend(retry(incident))
            except ConcurrentUpdate:
                log.info("tick: instance %s changed while its step was retried", incident.instance_id)
    if escalate is not None:
        # Then the yellow cards whose 督办 period ran out (engine/_ladder.py): each turned red in its own
        # transaction, rolled back if it fails; a failure is logged and the card left claimed until its lease
        # ends (a later tick retries it), so one card never stops the others or the tick.
        for cards in _batches(store, lambda tx: tx.claim_escalations(now, worker, lease_until, batch)):
            for card in cards:
                try:
                    escalate(card)
                except EfficacyFlowError as failed:
                    log.warning("tick: card %s could not be escalated: %s", card.id, failed)
                except Exception:  # a defect, not the card's: logged with its trace, the tick goes on
                    log.exception("tick: card %s could not be escalated", card.id)
    if busy:
        with store.transaction() as tx:
            tx.release_claims(worker, busy)
    return fired


def _batches(store: Store, claim: Callable[[Transaction], list[_Claimed]]) -> Iterator[list[_Claimed]]:
    """Claim batch after batch, each in its own transaction, until a claim finds nothing."""
    while True:
        with store.transaction() as tx:
            claimed = claim(tx)
        if not claimed:
            return
        yield claimed
