from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from server.accounts.selectors import workspace_ids_for
from server.credentials.models import Credential
from server.credentials.usage import CredentialUser
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


def _names_credential(document: Any, credential_id: str) -> bool:
    nodes = document.get("nodes") if isinstance(document, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        data = node.get("data") if isinstance(node, dict) else None
        config = data.get("config") if isinstance(data, dict) else None
        if isinstance(config, dict) and config.get("credential") == credential_id:
            return True
    return False


def workflows_naming_credential(credential: Credential) -> list[Workflow]:
    """The workflows of the credential's workspace whose current version names it."""
    workflows = Workflow.objects.filter(workspace_id=credential.workspace_id)
    target = str(credential.pk)
    if connection.features.supports_json_field_contains:
        # One indexed containment test in Postgres instead of reading every document.
        pattern = [{"data": {"config": {"credential": target}}}]
        return list(workflows.filter(document__nodes__contains=pattern).only("id", "name"))
    return [
        workflow
        for workflow in workflows.only("id", "name", "document")
        if _names_credential(workflow.document, target)
    ]


def credential_users(credential: Credential, **kwargs: Any) -> list[CredentialUser]:
    """The answer to the credentials app's ``credential_users`` signal (its usage.py)."""
    return [CredentialUser(str(w.pk), w.name) for w in workflows_naming_credential(credential)]
