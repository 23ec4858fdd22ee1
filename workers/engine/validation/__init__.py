"""Workflow document validation, run on save, import and run.

`validate_document` walks an untrusted document once and returns every
problem at once, so the canvas can show them all side by side. It never
raises on bad input, and its cost is bounded: O(V+E) for the walk, and one
`ExpressionBudget` of parse time for the JSONata in it. The problem codes are
listed in `workers.engine.problems`.

* `report`: collecting problems, and the type checks every part shares;
* `values`: the bounds of every number a user can set;
* `models`: whether each model can be called in the workflow's workspace;
* `checker`: the walk over settings, inputs, nodes, edges and the graph.
"""

from collections.abc import Callable

from workers.engine.limits import DEFAULT_LIMITS, Limits
from workers.engine.problems import Problem
from workers.engine.validation.checker import DocumentChecker
from workers.engine.validation.flow_rules import References
from workers.engine.validation.models import (
    MODEL_CODES,
    WorkspaceModels,
    model_problems,
    provider_of,
)

__all__ = ["MODEL_CODES", "WorkspaceModels", "model_problems", "provider_of", "validate_document"]


def _every_model_is_known(model: str) -> bool:
    return True


def validate_document(
    document: object,
    *,
    limits: Limits = DEFAULT_LIMITS,
    is_known_model: Callable[[str], bool] = _every_model_is_known,
    workspace: WorkspaceModels | None = None,
    document_bytes: int | None = None,
    workflow_id: str | None = None,
    references: References | None = None,
) -> list[Problem]:
    """Every problem in `document`, errors and warnings, in document order.

    `workspace` says what the workflow's workspace can call; without it only
    model names are checked, not whether they can be called (`models`).

    `document_bytes` is the size of the document as received; the size limit
    is checked only when it is given, since re-serialising to measure would
    cost more than the rest of the validation.

    `workflow_id` is the document's own workflow, when it has one: a workflow
    tool naming it is refused (a run would call itself until the depth limit).
    `references` gives, for a workflow id, the workflow ids its document runs
    in `workflow` and `map` nodes: a child that runs this workflow back is refused.
    """
    if not isinstance(document, dict):
        return [Problem("invalid_document", "the workflow document must be a JSON object")]
    checker = DocumentChecker(limits, is_known_model, workspace, workflow_id, references)
    checker.check_document(document, document_bytes)
    return checker.problems
