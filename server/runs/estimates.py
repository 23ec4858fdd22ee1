"""The pre-run estimate of tokens and cost (docs/run-semantics.md, "Budgets and estimates")."""

from dataclasses import asdict
from typing import Any

from server.core.errors import ApiError
from server.runs.pinned import graph_for_version
from server.workflows.models import Workflow, WorkflowVersion
from workers.engine.estimate import estimate_run
from workers.llm.catalog import model_price


def estimate_for(
    workflow: Workflow, version_number: int | None, inputs: dict[str, Any]
) -> dict[str, Any]:
    number = version_number if version_number is not None else workflow.version
    version = WorkflowVersion.objects.filter(workflow=workflow, number=number).first()
    if version is None:
        raise ApiError(
            "not_found", f"Version {number} of this workflow does not exist.", status_code=404
        )
    if not version.is_valid:
        raise ApiError(
            "invalid_workflow",
            "Fix the workflow's problems to get an estimate.",
            problems=version.problems,
        )
    return asdict(estimate_run(graph_for_version(version.pk), inputs, model_price))
