from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from server.accounts.selectors import workspace_ids_for
from server.workflows.models import Workflow, WorkflowTag


def workflows_for(user: Any) -> QuerySet[Workflow]:
    """The workflows of the caller's workspaces; anything else does not exist for them."""
    return (
        Workflow.objects.filter(workspace_id__in=workspace_ids_for(user))
        .select_related("created_by", "updated_by")
        .prefetch_related(
            Prefetch("tags", queryset=WorkflowTag.objects.only("workflow_id", "name"))
        )
    )


def runnable_workflows(user: Any) -> QuerySet[Workflow]:
    """The caller's workflows with just what starting a run needs (no document, tags, users)."""
    return Workflow.objects.filter(workspace_id__in=workspace_ids_for(user)).only(
        "id", "workspace_id", "name", "version"
    )


def workflow_list(
    user: Any, *, workspace: UUID | None = None, query: str | None = None, tag: str | None = None
) -> QuerySet[Workflow]:
    workflows = workflows_for(user).defer("document", "problems")
    if workspace:
        workflows = workflows.filter(workspace_id=workspace)
    if query:
        workflows = workflows.filter(Q(name__icontains=query) | Q(description__icontains=query))
    if tag:
        workflows = workflows.filter(tags__name=tag)
    return workflows
