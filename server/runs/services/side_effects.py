"""The side-effect log and rollback (SPEC §11, docs/api.md, "Side effects and rollback").

A side effect is recorded in the transaction of the step that made it
(``record``). A rollback (``request_rollback``) marks the run's side effects
that can be undone; a durable task (``compensate_next``, looped by the worker)
then sends their compensations newest first, one at a time. Each one is held
by a lease (``claimed_at``) while it is sent, and its outcome is one
compare-and-set with its event: a duplicate task finds the row held or done
and sends nothing, and a worker killed mid-send leaves a lease that expires,
after which the sweep (``stalled_rollbacks``) sends the task again. A
compensation is sent with an ``Idempotency-Key`` of its own, so the one case a
crash cannot rule out (sent, not recorded) is harmless to a server that
honours it.

Manual compensations are not sent: they become ``manual``, listed for a
person, who resolves each (``resolve``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from server.core.errors import ApiError
from server.runs import http_calls
from server.runs.journal import RunJournal
from server.runs.models import TERMINAL_RUN_STATES, Run, SideEffect, SideEffectState
from server.runs.services.start import transition

# A compensation has this long past the guard's own total timeout before
# another worker may take it over.
_LEASE_MARGIN_S = 5.0
# A requested rollback no worker has touched for this long gets its task again.
_UNTOUCHED_S = 10.0


@dataclass(frozen=True)
class Effect:
    """What a step did, as the log keeps it: no credential, no query string."""

    node_id: str
    attempt: int
    step: int
    method: str
    url: str
    status: int
    idempotency_key: str
    credential_id: str | None
    compensation: dict[str, Any] | None


def record(journal: RunJournal, effect: Effect) -> None:
    """Append the side effect; called inside the transaction that records its step."""
    parsed = http_calls.PreparedRequest(effect.method, effect.url).parsed_url
    SideEffect.objects.create(
        run_id=journal.run.pk,
        node_id=effect.node_id,
        attempt=effect.attempt,
        step=effect.step,
        method=effect.method,
        host=parsed.host[:255],
        path=parsed.path,
        status=effect.status,
        idempotency_key=effect.idempotency_key[:500],
        credential_id=uuid.UUID(effect.credential_id) if effect.credential_id else None,
        compensation=effect.compensation,
    )


def _lease_s() -> float:
    return float(settings.AGENTLOOM_EGRESS["total_timeout_s"]) + _LEASE_MARGIN_S


def request_rollback(run_id: Any) -> bool:
    """Mark what a rollback undoes; True when a compensation task is needed.

    Refused while the run is not finished. Side effects already compensated, or
    irreversible, are left alone, so a second rollback undoes nothing twice; a
    failed compensation is tried again.
    """
    with transition(run_id) as journal:
        if journal.run.state not in TERMINAL_RUN_STATES:
            raise ApiError(
                "run_not_finished",
                f"The run is {journal.run.state}; roll back a finished, failed or cancelled run.",
                status_code=409,
            )
        effects = SideEffect.objects.filter(run_id=run_id, compensation__isnull=False)
        pending = effects.filter(
            state=SideEffectState.DONE, rollback_requested_at__isnull=False
        ).exists()
        manual = Q(compensation__has_key="manual")
        marked = effects.filter(manual, state=SideEffectState.DONE).update(
            state=SideEffectState.MANUAL, rollback_requested_at=journal.now
        )
        retried = effects.filter(state=SideEffectState.COMPENSATION_FAILED).update(
            state=SideEffectState.DONE,
            rollback_requested_at=journal.now,
            claimed_at=None,
            error=None,
        )
        requested = effects.filter(
            ~manual, state=SideEffectState.DONE, rollback_requested_at__isnull=True
        ).update(rollback_requested_at=journal.now)
        if not (pending or marked or retried or requested):
            raise ApiError(
                "nothing_to_roll_back",
                "This run has no side effect left to compensate.",
                status_code=409,
            )
        return pending or bool(retried or requested)


def compensate_next(run_id: Any) -> bool:
    """Send the newest requested compensation and record its outcome; False when none is left.

    Also False when the newest is held by another worker: that one goes on
    with the rest, so the order stays newest first.
    """
    now = timezone.now()
    effect = (
        SideEffect.objects.filter(
            run_id=run_id,
            state=SideEffectState.DONE,
            rollback_requested_at__isnull=False,
            compensation__isnull=False,
        )
        .order_by("-id")
        .first()
    )
    if effect is None:
        return False
    stale = now - timedelta(seconds=_lease_s())
    taken = (
        SideEffect.objects.filter(pk=effect.pk, state=SideEffectState.DONE)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    if not taken:
        return False
    error = _send_compensation(run_id, effect)
    with transition(run_id) as journal:
        state = SideEffectState.COMPENSATION_FAILED if error else SideEffectState.COMPENSATED
        recorded = SideEffect.objects.filter(
            pk=effect.pk, state=SideEffectState.DONE, claimed_at=now
        ).update(state=state, error=error, finished_at=journal.now)
        if recorded:
            journal.emit(
                f"sideeffect.{state}",
                effect.node_id,
                side_effect_id=effect.pk,
                method=effect.method,
                host=effect.host,
                path=effect.path,
                **({"error": error} if error else {}),
            )
    return True


def _send_compensation(run_id: Any, effect: SideEffect) -> dict[str, str] | None:
    """The error of sending ``effect``'s compensation, or None when it was answered."""
    request = http_calls.PreparedRequest.from_dict(effect.compensation or {})
    try:
        workspace_id = _workspace_of(run_id)
        auth = http_calls.authentication(
            workspace_id, str(effect.credential_id) if effect.credential_id else None
        )
        http_calls.send(
            workspace_id,
            request,
            auth,
            timeout_s=float(settings.AGENTLOOM_EGRESS["total_timeout_s"]),
            extra_headers={"Idempotency-Key": f"agentloom-compensation-{effect.pk}"},
        )
    except http_calls.HttpCallError as exc:
        return {"code": exc.code, "message": exc.message}
    return None


def _workspace_of(run_id: Any) -> Any:
    return Run.objects.values_list("workspace_id", flat=True).get(pk=run_id)


def resolve(run_id: Any, side_effect_id: int, user: Any) -> SideEffect:
    """A person did a manual compensation: manual → compensated, with its event."""
    with transition(run_id) as journal:
        effect = SideEffect.objects.filter(run_id=run_id, pk=side_effect_id).first()
        if effect is None:
            raise ApiError("not_found", "No such side effect in this run.", status_code=404)
        if effect.state != SideEffectState.MANUAL:
            raise ApiError(
                "not_manual",
                f"This side effect is {effect.state}; only one waiting for a person is resolved.",
                status_code=409,
            )
        effect.state = SideEffectState.COMPENSATED
        effect.resolved_by = user
        effect.finished_at = journal.now
        effect.save(update_fields=["state", "resolved_by", "finished_at"])
        journal.emit(
            "sideeffect.compensated",
            effect.node_id,
            side_effect_id=effect.pk,
            method=effect.method,
            host=effect.host,
            path=effect.path,
            manual=True,
        )
    return effect


def stalled_rollbacks() -> list[str]:
    """Runs whose rollback no worker is carrying on (a lost task, a killed worker)."""
    now = timezone.now()
    stalled = SideEffect.objects.filter(
        state=SideEffectState.DONE, rollback_requested_at__isnull=False
    ).filter(
        Q(claimed_at__isnull=True, rollback_requested_at__lt=now - timedelta(seconds=_UNTOUCHED_S))
        | Q(claimed_at__lt=now - timedelta(seconds=_lease_s()))
    )
    return [str(run_id) for run_id in stalled.values_list("run_id", flat=True).distinct()]
