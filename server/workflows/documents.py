"""The bridge between stored workflow documents and the engine's validator."""

import json
import uuid
from collections.abc import Callable
from typing import Any

from rest_framework import status

from server.core.errors import ApiError
from server.core.limits import engine_limits
from server.core.model_catalog import is_known_model
from server.credentials.availability import workspace_models
from server.workflows.models import Workflow, WorkflowVersion
from workers.engine.flow import flow_references, is_workflow_id
from workers.engine.problems import STRUCTURAL_CODES, Problem
from workers.engine.validation import MODEL_CODES, model_problems, validate_document


def encoded_size(document: Any) -> int:
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def problems_of(
    document: Any, workspace_id: uuid.UUID, workflow_id: uuid.UUID | None = None
) -> list[Problem]:
    """Every problem of ``document`` as a workflow of this workspace (its credentials count).

    ``workflow_id``: the workflow the document is (or will be) saved as, once it has an id.
    """
    return validate_document(
        document,
        limits=engine_limits(),
        is_known_model=is_known_model,
        workspace=workspace_models(workspace_id),
        document_bytes=encoded_size(document),
        workflow_id=None if workflow_id is None else str(workflow_id),
        references=_references_in(workspace_id),
    )


# Child workflows read per validation for the recursion check; past this, the
# depth limit stops a recursion at run time.
MAX_REFERENCE_LOOKUPS = 20


def _references_in(workspace_id: uuid.UUID) -> Callable[[str], frozenset[str] | None]:
    """For the validator: the workflows a workflow of this workspace runs (None: not looked up)."""
    found: dict[str, frozenset[str] | None] = {}

    def references(workflow_id: str) -> frozenset[str] | None:
        if workflow_id not in found:
            if len(found) >= MAX_REFERENCE_LOOKUPS or not is_workflow_id(workflow_id):
                return None
            document = (
                Workflow.objects.filter(pk=workflow_id, workspace_id=workspace_id)
                .values_list("document", flat=True)
                .first()
            )
            found[workflow_id] = None if document is None else flow_references(document)
        return found[workflow_id]

    return references


def as_dicts(problems: list[Problem]) -> list[dict[str, object]]:
    return [p.as_dict() for p in problems]


def checked_document(
    document: Any, workspace_id: uuid.UUID, workflow_id: uuid.UUID | None = None
) -> list[dict[str, object]]:
    """Validate a document about to be stored; refuse it if its shape is wrong.

    Shape problems (types, limits) mean the document cannot be edited or diffed
    sensibly, so nothing is stored. Graph problems (a cycle, an unknown model)
    are normal in a half-built graph: the document is stored and the problems are
    returned with it; running it is refused until they are fixed.
    """
    problems = problems_of(document, workspace_id, workflow_id)
    structural = [p for p in problems if p.code in STRUCTURAL_CODES]
    if structural:
        if any(p.code == "document_too_large" for p in structural):
            raise ApiError(
                "document_too_large",
                structural[0].message,
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                problems=as_dicts(structural),
            )
        raise ApiError("invalid_document", structural[0].message, problems=as_dicts(problems))
    return as_dicts(problems)


def has_errors(problems: list[dict[str, Any]]) -> bool:
    return any(p.get("severity") == "error" for p in problems)


def run_problems(version: WorkflowVersion, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    """The problems of ``version`` for a run starting now.

    Those saved with the version, except the model problems, which are checked
    again against the workspace as it is: a credential added since the save
    makes a model callable, one deleted makes it uncallable.
    """
    kept = [p for p in version.problems if p.get("code") not in MODEL_CODES]
    fresh = model_problems(
        version.document, is_known_model=is_known_model, workspace=workspace_models(workspace_id)
    )
    return kept + as_dicts(fresh)
