"""Every change to a workflow goes through here.

A write names the version it edited. The update is a compare-and-set on
``version``: if someone saved in between, nothing is written and the caller
gets 409 with the current version, so no save silently overwrites another.
"""

import enum
import uuid
from collections.abc import Iterable
from typing import Any, Literal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from server.core.errors import Conflict
from server.workflows.documents import checked_document
from server.workflows.models import Workflow, WorkflowTag, WorkflowVersion
from workers.engine import document as engine_document


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


# An edit that leaves a nullable setting as it is (None sets it to null).
UNCHANGED: Literal[_Unchanged.UNCHANGED] = _Unchanged.UNCHANGED


def normalise_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = tag.strip()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def _derived_fields(document: dict[str, Any], problems: list[dict[str, object]]) -> dict[str, Any]:
    return {
        "document": document,
        "name": str(document.get("name") or "Untitled workflow")[:200],
        "description": str(document.get("description") or ""),
        "node_count": len(document.get("nodes") or []),
        "problems": problems,
    }


def _set_tags(workflow: Workflow, tags: list[str]) -> None:
    WorkflowTag.objects.filter(workflow=workflow).exclude(name__in=tags).delete()
    existing = set(WorkflowTag.objects.filter(workflow=workflow).values_list("name", flat=True))
    WorkflowTag.objects.bulk_create(
        [WorkflowTag(workflow=workflow, name=t) for t in tags if t not in existing]
    )


def _snapshot(workflow: Workflow, *, author: Any, message: str) -> WorkflowVersion:
    return WorkflowVersion.objects.create(
        workflow=workflow,
        number=workflow.version,
        document=workflow.document,
        node_count=workflow.node_count,
        problems=workflow.problems,
        author=author,
        message=message[:500],
    )


@transaction.atomic
def create_workflow(
    *,
    user: Any,
    workspace_id: uuid.UUID,
    document: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    tags: Iterable[str] = (),
    message: str = "Created",
    retention_days: int | None = None,
) -> Workflow:
    document = dict(document) if document is not None else engine_document.new_document()
    if name is not None:
        document["name"] = name
    if description is not None:
        document["description"] = description
    problems = checked_document(document, workspace_id)
    workflow = Workflow.objects.create(
        workspace_id=workspace_id,
        version=1,
        created_by=user,
        updated_by=user,
        retention_days=retention_days,
        **_derived_fields(document, problems),
    )
    _set_tags(workflow, normalise_tags(tags))
    _snapshot(workflow, author=user, message=message)
    return workflow


def _conflict(workflow_id: uuid.UUID, expected_version: int) -> Conflict:
    current = Workflow.objects.filter(pk=workflow_id).values("version", "updated_at").first()
    current_version = current["version"] if current else None
    return Conflict(
        "version_conflict",
        f"This workflow changed since version {expected_version}; "
        f"the current version is {current_version}.",
        current_version=current_version,
        updated_at=current["updated_at"].isoformat() if current else None,
    )


@transaction.atomic
def update_workflow(
    *,
    workflow: Workflow,
    user: Any,
    expected_version: int,
    document: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    message: str = "",
    retention_days: int | _Unchanged | None = UNCHANGED,
) -> Workflow:
    """Apply an edit made against ``expected_version``; a new version if the document changed.

    ``retention_days`` is a setting of the workflow, not of its document: it
    changes no version.
    """
    new_document = dict(document) if document is not None else dict(workflow.document)
    if name is not None:
        new_document["name"] = name
    if description is not None:
        new_document["description"] = description
    document_changed = new_document != workflow.document
    fields: dict[str, Any] = {"updated_by": user, "updated_at": timezone.now()}
    if retention_days is not UNCHANGED:
        fields["retention_days"] = retention_days
    if document_changed:
        fields.update(
            _derived_fields(
                new_document,
                checked_document(new_document, workflow.workspace_id, workflow.pk),
            )
        )
        fields["version"] = F("version") + 1
    updated = Workflow.objects.filter(pk=workflow.pk, version=expected_version).update(**fields)
    if not updated:
        raise _conflict(workflow.pk, expected_version)
    workflow.refresh_from_db()
    if tags is not None:
        _set_tags(workflow, normalise_tags(tags))
    if document_changed:
        _snapshot(workflow, author=user, message=message)
    return workflow


def restore_version(
    *, workflow: Workflow, user: Any, number: int, expected_version: int
) -> Workflow:
    """Copy an old snapshot forward as a new version; history is never rewritten."""
    snapshot = WorkflowVersion.objects.get(workflow=workflow, number=number)
    return update_workflow(
        workflow=workflow,
        user=user,
        expected_version=expected_version,
        document=snapshot.document,
        message=f"Restored version {number}",
    )


def delete_workflow(*, workflow: Workflow) -> None:
    workflow.delete()
