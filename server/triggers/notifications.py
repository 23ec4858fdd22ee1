"""Notifications of a run's end (SPEC §13): signed webhooks and email, retried and logged.

A workflow lists its targets in ``settings.notifications`` of its document:
``[{"on": ["failed", "succeeded"], "kind": "webhook", "url", "credential"?} |
{"on": [...], "kind": "email", "to": [...]}]``. A webhook is signed, like an
incoming hook, with the ``token`` of the named ``http`` credential: a document
is exported and shown, so it never holds a secret itself.

When a run's end is committed (``run_events_committed``), one delivery row per
target is written, unique per (run, target, event). Beat's job sends the due
rows through the outbound guard and retries failures with backoff.
"""

import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db.models import F
from django.utils import timezone

from server.accounts.models import Workspace
from server.credentials.crypto import decrypt_secret
from server.credentials.models import Credential, Provider
from server.egress import EgressError, EgressRefused, fetch
from server.runs.models import Run, RunEvent
from server.triggers.models import DeliveryState, NotificationDelivery
from server.triggers.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_of
from server.workflows.models import Workflow, WorkflowVersion
from server.workflows.services import update_workflow

logger = logging.getLogger(__name__)

# A run notifies once per event and target: for `waiting`, when its first approval starts to wait.
EVENTS = {"run.succeeded": "succeeded", "run.failed": "failed", "node.waiting": "waiting"}
MAX_TARGETS = 10
MAX_RECIPIENTS = 20
MAX_URL_LENGTH = 2000
MAX_ATTEMPTS = 6
_CLAIM_S = 120
_BACKOFF_CAP_S = 300
_email = EmailValidator()


def _target(raw: Any) -> dict[str, Any] | None:
    """A target as stored on its deliveries, or None for one that cannot be used."""
    if not isinstance(raw, dict) or not isinstance(raw.get("on"), list):
        return None
    on = [event for event in raw["on"] if event in EVENTS.values()]
    if raw.get("kind") == "webhook":
        url, credential = raw.get("url"), raw.get("credential")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return None
        if len(url) > MAX_URL_LENGTH or not (credential is None or isinstance(credential, str)):
            return None
        return {"on": on, "kind": "webhook", "url": url, "credential": credential}
    if raw.get("kind") == "email":
        to = raw.get("to")
        if not isinstance(to, list) or not 0 < len(to) <= MAX_RECIPIENTS:
            return None
        try:
            for address in to:
                _email(address)
        except (ValidationError, TypeError, AttributeError):
            return None
        return {"on": on, "kind": "email", "to": to}
    return None


def _targets_in(document: Any) -> tuple[dict[str, Any] | None, ...]:
    """The document's targets by index; None stands for one that cannot be used."""
    run_settings = document.get("settings") if isinstance(document, dict) else None
    raw = run_settings.get("notifications") if isinstance(run_settings, dict) else None
    if not isinstance(raw, list):
        return ()
    return tuple(_target(item) for item in raw[:MAX_TARGETS])


@lru_cache(maxsize=1024)
def _targets(version_id: int) -> tuple[dict[str, Any] | None, ...]:
    """The version's targets by index (versions never change, so this is cached)."""
    document = WorkflowVersion.objects.values_list("document", flat=True).get(pk=version_id)
    return _targets_in(document)


def targets_of(workflow: Workflow) -> list[dict[str, Any]]:
    """The usable targets of the workflow's current document, as the settings API shows them."""
    return [
        {key: value for key, value in target.items() if value is not None}
        for target in _targets_in(workflow.document)
        if target is not None
    ]


def set_targets(
    *, workflow: Workflow, user: Any, expected_version: int, targets: list[dict[str, Any]]
) -> Workflow:
    """Replace ``settings.notifications``: a new version of the workflow, made against
    ``expected_version`` like any edit (a 409 if someone saved since)."""
    document = dict(workflow.document)
    document["settings"] = {**(document.get("settings") or {}), "notifications": targets}
    return update_workflow(
        workflow=workflow,
        user=user,
        expected_version=expected_version,
        document=document,
        message="Notifications changed",
    )


def on_run_events(sender: Any, run: Run, events: Sequence[RunEvent], **kwargs: Any) -> None:
    """Write the deliveries a run's end calls for. Never raises into the publisher."""
    ended = [EVENTS[event.type] for event in events if event.type in EVENTS]
    if not ended:
        return
    try:
        now = timezone.now()
        rows = [
            NotificationDelivery(
                run_id=run.pk,
                target=index,
                event=event,
                kind=target["kind"],
                config=target,
                next_attempt_at=now,
            )
            for index, target in enumerate(_targets(run.version_id))
            if target is not None
            for event in ended
            if event in target["on"]
        ]
        if rows:
            NotificationDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    except Exception:
        logger.exception("notifications: could not record the deliveries of run %s", run.pk)


def send_due_notifications(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    due = NotificationDelivery.objects.filter(
        state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    for delivery_id in list(due[:100]):
        # The claim: whoever moves next_attempt_at first sends; a sender that
        # dies leaves it to be sent again after _CLAIM_S.
        claimed = NotificationDelivery.objects.filter(
            pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + timedelta(seconds=_CLAIM_S), attempts=F("attempts") + 1)
        if claimed:
            delivery = NotificationDelivery.objects.select_related("run__workflow").get(
                pk=delivery_id
            )
            counts[_send(delivery)] += 1
    return counts


def _send(delivery: NotificationDelivery) -> str:
    try:
        if delivery.kind == "webhook":
            status = _post(delivery)
            delivery.last_status = status
            ok, final, error = 200 <= status < 300, False, f"answered {status}"
        else:
            _mail(delivery)
            ok, final, error = True, False, ""
    except EgressRefused as refused:
        ok, final, error = False, True, str(refused)
    except (EgressError, OSError) as failure:
        ok, final, error = False, False, str(failure)
    except Exception as failure:  # a credential gone or unreadable, a bad address
        ok, final, error = False, True, type(failure).__name__
    now = timezone.now()
    if ok:
        delivery.state, delivery.delivered_at, delivery.last_error = (
            DeliveryState.DELIVERED,
            now,
            "",
        )
        outcome = "delivered"
    elif final or delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, delivery.last_error = DeliveryState.FAILED, error[:500]
        outcome = "failed"
    else:
        backoff = min(2 ** (delivery.attempts - 1), _BACKOFF_CAP_S)
        delivery.next_attempt_at = now + timedelta(seconds=backoff)
        delivery.last_error = error[:500]
        outcome = "retrying"
    delivery.save(
        update_fields=["state", "delivered_at", "last_error", "last_status", "next_attempt_at"]
    )
    return outcome


def _payload(delivery: NotificationDelivery) -> dict[str, Any]:
    run = delivery.run
    return {
        "event": f"run.{delivery.event}",
        "delivery": delivery.pk,
        "run": {
            "id": str(run.pk),
            "workspace": str(run.workspace_id),
            "workflow": str(run.workflow_id),
            "state": run.state,
            "trigger": run.trigger,
            "error": run.error,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
    }


def _signing_key(workspace_id: Any, credential_id: str | None) -> str | None:
    if credential_id is None:
        return None
    credential = Credential.objects.get(
        pk=credential_id, workspace_id=workspace_id, provider=Provider.HTTP
    )
    token: str = decrypt_secret(credential.secret_token)["token"]
    return token


def _post(delivery: NotificationDelivery) -> int:
    run = delivery.run
    body = json.dumps(_payload(delivery), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Agentloom-Event": f"run.{delivery.event}",
        "X-Agentloom-Delivery": str(delivery.pk),
    }
    key = _signing_key(run.workspace_id, delivery.config.get("credential"))
    if key is not None:
        stamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = stamp
        headers[SIGNATURE_HEADER] = signature_of(key, stamp, body)
    allowed = (
        Workspace.objects.filter(pk=run.workspace_id)
        .values_list("allowed_domains", flat=True)
        .first()
    )
    response = fetch(
        "POST",
        delivery.config["url"],
        workspace_id=run.workspace_id,
        allowed_domains=allowed or (),
        headers=headers,
        content=body,
        timeout_s=10,
        max_bytes=64 * 1024,
    )
    return response.status_code


def _mail(delivery: NotificationDelivery) -> None:
    run = delivery.run
    subject = f"[Agentloom] {run.workflow.name}: run {delivery.event}"
    lines = [f"Run {run.pk} of {run.workflow.name} {delivery.event}."]
    if run.error:
        lines.append(f"Error: {run.error.get('message', run.error)}")
    send_mail(
        subject,
        "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        delivery.config["to"],
        fail_silently=False,
    )
