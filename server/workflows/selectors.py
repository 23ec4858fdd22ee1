from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from server.accounts.selectors import roles_by_workspace, workspace_ids_for
from server.core.rows import instance_from_row, model_columns
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


# What starting a run does not read of its workflow: the large columns.
NOT_READ_TO_RUN = ("document", "problems", "description")


def runnable_workflow(user: Any, workflow_id: Any) -> Workflow:
    """The caller's workflow without what starting a run does not need; 404 if not theirs.

    A plain statement (``server.core.rows``): every run started through the
    API asks, and through the ORM its building cost more than its answer.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(Workflow, 'w', exclude=NOT_READ_TO_RUN)} "
            f"FROM {Workflow._meta.db_table} w WHERE w.id = %s",
            [Workflow._meta.pk.get_db_prep_value(workflow_id, connection)],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404
    workflow = instance_from_row(Workflow, row, connection.alias, exclude=NOT_READ_TO_RUN)
    if workflow.workspace_id not in roles_by_workspace(user):
        raise Http404
    return workflow


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
