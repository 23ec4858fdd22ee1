"""Workflows and their immutable version snapshots.

The JSON document (docs/workflow-document.md) is the truth. ``name``, ``description``,
``node_count`` and ``problems`` are copies derived from it at save time by
``services``, so lists never load or re-validate whole documents.
"""

import uuid

from django.conf import settings
from django.db import models

from server.accounts.models import Workspace


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    document = models.JSONField()
    node_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days its finished runs are kept, then deleted; null: the deployment's default.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["workspace", "-updated_at"])]

    def __str__(self) -> str:
        return self.name


class WorkflowTag(models.Model):
    """A tag on a workflow; a table rather than a JSON list so SQLite can filter on it too."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="unique_workflow_tag"),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """An immutable snapshot: runs pin one, history lists them, restore copies one forward."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    node_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="unique_workflow_version"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"

    @property
    def is_valid(self) -> bool:
        return not any(p.get("severity") == "error" for p in self.problems)
