import json
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction
from rest_framework import status

from server.core.errors import ApiError
from server.core.limits import engine_limits
from server.core.model_catalog import is_known_model
from server.workflow_templates.models import Template
from server.workflow_templates.variables import (
    TooLarge,
    VariableError,
    check_definitions,
    resolve_values,
    substitute,
)
from server.workflows import services as workflow_services
from server.workflows.models import Workflow

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


def _check_variables(variables: Any) -> None:
    problems = check_definitions(variables, is_known_model)
    if problems:
        raise ApiError("invalid_variables", problems[0], problems=problems)


def create_template(
    *,
    workspace_id: uuid.UUID,
    name: str,
    description: str,
    category: str,
    variables: list[dict[str, Any]],
    document: dict[str, Any],
) -> Template:
    _check_variables(variables)
    return Template.objects.create(
        workspace_id=workspace_id,
        name=name,
        description=description,
        category=category,
        variables=variables,
        document=document,
    )


@transaction.atomic
def instantiate(
    *,
    template: Template,
    user: Any,
    workspace_id: uuid.UUID,
    values: dict[str, Any],
    name: str | None = None,
) -> Workflow:
    """A new workflow from the template, its variables replaced by typed values.

    The template's children are created first, in order, each a workflow of
    the same workspace that the ones after it name by id: all of them or none.
    """
    try:
        resolved = resolve_values(template.variables, values, is_known_model)
    except VariableError as exc:
        raise ApiError("invalid_variables", str(exc)) from exc
    message = f"Created from template {template.name}"
    children: dict[str, str] = {}
    for child in template.children:
        workflow = workflow_services.create_workflow(
            user=user,
            workspace_id=workspace_id,
            document=_document(child["document"], resolved, children),
            message=f"{message}, whose workflow runs it",
        )
        children[child["key"]] = str(workflow.pk)
    return workflow_services.create_workflow(
        user=user,
        workspace_id=workspace_id,
        document=_document(template.document, resolved, children),
        name=name,
        tags=[template.category] if template.category else (),
        message=message,
    )


def _document(
    document: dict[str, Any], values: dict[str, Any], children: dict[str, str]
) -> dict[str, Any]:
    limit = engine_limits().max_document_bytes
    try:
        substituted: dict[str, Any] = substitute(
            document, values, max_chars=limit, children=children
        )
    except TooLarge as exc:
        raise ApiError(
            "document_too_large", str(exc), status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        ) from exc
    return substituted


@transaction.atomic
def load_builtin_templates(directory: Path = BUILTIN_DIR) -> list[Template]:
    """Create or update every built-in template from its JSON file (idempotent)."""
    loaded = []
    for path in sorted(directory.glob("*.json")):
        spec = json.loads(path.read_text())
        _check_variables(spec["variables"])
        template, _ = Template.objects.update_or_create(
            key=path.stem,
            defaults={
                "workspace": None,
                "name": spec["name"],
                "description": spec["description"],
                "category": spec["category"],
                "variables": spec["variables"],
                "document": spec["document"],
                "children": spec.get("children", []),
            },
        )
        loaded.append(template)
    return loaded
