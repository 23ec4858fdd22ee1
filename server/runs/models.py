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
    # An approval waiting for a decision (SPEC §12): it holds no worker and no slot.
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})
TERMINAL_NODE_STATES = frozenset(
    {NodeState.SUCCEEDED, NodeState.FAILED, NodeState.SKIPPED, NodeState.CANCELLED}
)
LIVE_NODE_STATES = frozenset(
    {NodeState.PENDING, NodeState.QUEUED, NodeState.RUNNING, NodeState.RETRYING, NodeState.WAITING}
)


class Trigger(models.TextChoices):
    MANUAL = "manual"
    API = "api"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"
    RESUME = "resume"
    # A child run started by an agent's workflow tool (its parent is ``parent_run``).
    WORKFLOW = "workflow"


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
    # A child run: the run, node and agent step that started it (SPEC §11, §12).
    parent_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    parent_node = models.CharField(
        max_length=200, blank=True, default="", help_text="The id of the node that started it."
    )
    parent_step = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The parent agent's step, loop iteration or map item that waits for this run.",
    )
    # Set under the parent's lock when its `workflow` or `map` node counts this
    # child's end (``node.child``): each end is counted and reported once.
    reported_to_parent = models.BooleanField(default=False)
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
            # Retention's pass: finished runs, oldest first.
            models.Index(fields=["state", "finished_at"]),
        ]
        constraints = [
            # A step starts at most one child, however often its worker is replaced.
            models.UniqueConstraint(
                fields=["parent_run", "parent_node", "parent_step"],
                condition=models.Q(parent_run__isnull=False),
                name="unique_child_run_step",
            ),
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


class SideEffectState(models.TextChoices):
    DONE = "done"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"
    MANUAL = "manual"


class SideEffect(models.Model):
    """One call that acted on the world, appended with the step that made it (SPEC §11).

    Written in the transaction that records the step, so a recorded step always
    has its row and a step that was not recorded has none. ``compensation`` is
    the reverse request already rendered over the step's input and response (no
    secret: the credential is applied when it is sent), or ``{"manual": ...}``.
    A rollback marks rows ``rollback_requested_at``; the one compensation being
    sent is held by ``claimed_at`` (a lease, so a lost worker's is taken over).
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="side_effects")
    node_id = models.CharField(max_length=200)
    attempt = models.PositiveIntegerField()
    step = models.PositiveIntegerField(default=0, help_text="0 for an http node's own call.")
    method = models.CharField(max_length=10)
    host = models.CharField(max_length=255)
    path = models.TextField()
    status = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=500, blank=True)
    credential_id = models.UUIDField(null=True, blank=True)
    compensation = models.JSONField(null=True, blank=True)
    state = models.CharField(
        max_length=24, choices=SideEffectState.choices, default=SideEffectState.DONE
    )
    error = models.JSONField(null=True, blank=True)
    rollback_requested_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "node_id", "attempt", "step"], name="unique_side_effect_step"
            ),
        ]
        indexes = [models.Index(fields=["state", "rollback_requested_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.host}{self.path} ({self.state})"


class AgentStepKind(models.TextChoices):
    MODEL = "model"
    TOOL = "tool"


class AgentStep(models.Model):
    """One durable step of an agent's tool loop: a model turn or a tool call's result (SPEC §11).

    The conversation is the node's opening messages followed by every step's
    ``message`` in ``index`` order, so the steps are the messages so far. A
    step is written (with its events and any side effect) before the loop
    goes on: a worker that takes the node over after a crash replays them and
    sends no tool call whose result is here. ``request_hash`` fingerprints
    what produced the step (the conversation sent to the model, or the tool
    call); ``config_hash`` and ``input_hash`` let a resumed run reuse them.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="agent_steps")
    node_id = models.CharField(max_length=200)
    index = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=AgentStepKind.choices)
    attempt = models.PositiveIntegerField()
    call_id = models.CharField(max_length=200, blank=True, help_text="A tool step's call.")
    name = models.CharField(max_length=200, blank=True, help_text="A tool step's tool.")
    request_hash = models.CharField(max_length=64)
    config_hash = models.CharField(max_length=64)
    input_hash = models.CharField(max_length=64)
    message = models.JSONField(help_text="What the step appended to the conversation.")
    result = models.JSONField(
        default=dict, help_text="A model turn's usage and cost; a tool call's status and size."
    )
    reused = models.BooleanField(default=False, help_text="Copied from the resumed run.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "node_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id", "index"], name="unique_agent_step"),
        ]

    def __str__(self) -> str:
        return f"{self.node_id}#{self.index} {self.kind}"


class Approval(models.Model):
    """What an approval node waiting in a run asks, of whom, until when, and what was decided.

    Written with the node's move to ``waiting``; the decision is written with
    its move to ``succeeded``. It waits while its node run is ``waiting``.
    """

    node_run = models.OneToOneField(NodeRun, on_delete=models.CASCADE, related_name="approval")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="approvals")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=200)
    message = models.TextField()
    approvers = models.JSONField(
        default=list, help_text="Usernames who may decide; empty: the workspace's editors."
    )
    on_timeout = models.CharField(max_length=8)
    requested_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    decision = models.CharField(max_length=8, blank=True, help_text="Empty until decided.")
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    timed_out = models.BooleanField(default=False)

    class Meta:
        # What waits is found through its node run's state (indexed), not through these rows.
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"approval {self.node_id} of {self.run_id} ({self.decision or 'waiting'})"
