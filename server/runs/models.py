"""Runs, the node runs inside them, their event log and their artifacts.

Every state change is a compare-and-set UPDATE made by ``services``; nothing
else writes these tables. ``RunEvent.seq`` is gapless per run because it is
allocated under the run row's lock in the same transaction as the change it
reports.
"""

import uuid

from django.conf import settings
from django.db import models

from server.accounts.models import Workspace
from server.workflows.models import Workflow, WorkflowVersion


class RunState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NodeState(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})
TERMINAL_NODE_STATES = frozenset(
    {NodeState.SUCCEEDED, NodeState.FAILED, NodeState.SKIPPED, NodeState.CANCELLED}
)
LIVE_NODE_STATES = frozenset(
    {NodeState.PENDING, NodeState.QUEUED, NodeState.RUNNING, NodeState.RETRYING}
)


class Trigger(models.TextChoices):
    MANUAL = "manual"
    API = "api"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"
    RESUME = "resume"


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="runs")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="runs")
    inputs = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resumed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resumptions"
    )
    max_concurrency = models.PositiveIntegerField(default=8)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    next_seq = models.PositiveBigIntegerField(default=1)
    # Counters kept by the runs service under the run's lock, so a transition
    # needs no COUNT over the run's nodes: nodes holding a concurrency slot
    # (dispatched, running or waiting to retry), nodes queued for a slot, and
    # nodes not yet in a final state (the run ends when this reaches zero).
    active_nodes = models.PositiveIntegerField(default=0)
    waiting_nodes = models.PositiveIntegerField(default=0)
    unfinished_nodes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the duration budget runs out; the reaper fails it then.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "state", "created_at"]),
            models.Index(fields=["workflow", "-created_at"]),
            models.Index(fields=["state", "deadline_at"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    @property
    def last_seq(self) -> int:
        return self.next_seq - 1


class NodeRun(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="node_runs")
    node_id = models.CharField(max_length=200)
    node_type = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=NodeState.choices, default=NodeState.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    unresolved_edges = models.PositiveIntegerField(
        default=0, help_text="Incoming edges whose source has not finished yet."
    )
    taken_edges = models.PositiveIntegerField(
        default=0, help_text="Incoming edges that were taken (their value crosses)."
    )
    taken_out = models.JSONField(
        default=list, blank=True, help_text="Ids of this node's outgoing edges that were taken."
    )
    edge_values = models.JSONField(
        default=dict, blank=True, help_text="Values of taken edges with a transform, by edge id."
    )
    config_hash = models.CharField(max_length=64, blank=True)
    input_hash = models.CharField(max_length=64, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    output_artifact = models.ForeignKey(
        "Artifact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.JSONField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    lost_workers = models.PositiveIntegerField(
        default=0, help_text="Times a worker vanished while running this node."
    )
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its task was published; null while it waits for a slot.",
    )
    retry_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id"], name="unique_node_run"),
        ]
        indexes = [
            models.Index(fields=["run", "state"]),
            models.Index(fields=["state", "heartbeat_at"]),
            models.Index(fields=["state", "dispatched_at"]),
            models.Index(fields=["state", "retry_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.state})"


class RunEvent(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    ts = models.DateTimeField()
    type = models.CharField(max_length=32)
    node_id = models.CharField(
        max_length=200, blank=True, default="", help_text="Empty for run events."
    )
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="unique_run_event_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.type}"

    def as_message(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "type": self.type,
            "node_id": self.node_id or None,
            "data": self.data,
        }


class Artifact(models.Model):
    """A node output too large to keep inline, stored compressed in object storage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    node_id = models.CharField(max_length=200)
    storage_key = models.CharField(max_length=500, unique=True)
    size = models.PositiveBigIntegerField(help_text="Bytes before compression.")
    compressed_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100, default="application/json")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.storage_key
