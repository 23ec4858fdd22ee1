"""What starts runs without a person: cron schedules and webhook triggers (SPEC §13).

A slot fires once because its ``ScheduleFiring`` row is unique per
``(schedule, slot)`` and is written in the transaction that starts the run. A
webhook's secret is kept only as a Fernet token (server/credentials/crypto.py).
"""

import uuid

from django.conf import settings
from django.db import models

from server.accounts.models import Workspace
from server.runs.models import Run
from server.workflows.models import Workflow


class Overlap(models.TextChoices):
    SKIP = "skip"  # a slot whose previous run still runs starts nothing
    QUEUE = "queue"  # it waits for that run to end (one slot waits at most)
    ALLOW = "allow"  # it starts at once


class CatchUp(models.TextChoices):
    NONE = "none"
    LATEST = "latest"


class Schedule(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="schedules")
    cron = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC")
    inputs = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    overlap = models.CharField(max_length=8, choices=Overlap.choices, default=Overlap.SKIP)
    catch_up = models.CharField(max_length=8, choices=CatchUp.choices, default=CatchUp.NONE)
    next_fire_at = models.DateTimeField(
        null=True, blank=True, help_text="The next slot (UTC); null when disabled or never again."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["enabled", "next_fire_at"])]

    def __str__(self) -> str:
        return f"{self.cron} ({self.timezone})"


class FiringOutcome(models.TextChoices):
    STARTED = "started"
    SKIPPED = "skipped"  # overlap: the previous run had not ended
    WAITING = "waiting"  # overlap queue: starts when the previous run ends
    FAILED = "failed"  # the run could not start (invalid workflow, budget, inputs)


class ScheduleFiring(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="firings")
    slot = models.DateTimeField()
    outcome = models.CharField(max_length=8, choices=FiringOutcome.choices)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-slot"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "slot"], name="one_firing_per_slot"),
        ]
        indexes = [
            models.Index(fields=["outcome", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} @ {self.slot:%Y-%m-%d %H:%M}Z ({self.outcome})"


class Respond(models.TextChoices):
    ACCEPTED = "accepted"
    OUTPUT = "output"


class WebhookTrigger(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    require_signature = models.BooleanField(default=True)
    inputs = models.TextField(
        blank=True, help_text="JSONata over {body, headers, query}; empty: the JSON body."
    )
    respond = models.CharField(max_length=8, choices=Respond.choices, default=Respond.ACCEPTED)
    wait_s = models.PositiveIntegerField(default=10)
    rate_per_minute = models.PositiveIntegerField(default=600)
    token = models.CharField(max_length=64, unique=True, editable=False)
    secret_token = models.BinaryField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class WebhookCall(models.Model):
    """A call that sent an Idempotency-Key, and its run: kept 24 h, so a retry finds the run."""

    trigger = models.ForeignKey(WebhookTrigger, on_delete=models.CASCADE, related_name="calls")
    idempotency_key = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_call_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} {self.idempotency_key or '-'}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"  # to send at next_attempt_at (again, after a failure)
    DELIVERED = "delivered"
    FAILED = "failed"  # refused, or out of attempts


class NotificationDelivery(models.Model):
    """One notification of one run event to one target of ``settings.notifications``.

    Unique per (run, target, event), so the event is notified once however
    often it is published; a sender claims a row by moving its
    ``next_attempt_at`` forward, so a sender that dies gives it back.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    target = models.PositiveIntegerField(
        help_text="Index in the workflow's settings.notifications."
    )
    event = models.CharField(max_length=16)
    kind = models.CharField(max_length=8)
    config = models.JSONField(help_text="The target: url and credential id, or email addresses.")
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "target", "event"], name="one_delivery_per_event_and_target"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.run_id} {self.event} -> {self.kind} ({self.state})"
