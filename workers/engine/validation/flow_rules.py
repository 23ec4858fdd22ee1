"""The rules of a `workflow` or `map` node's config (engine/flow.py).

Numbers are strict integers (`typed_fields` refuses booleans, fractions and
integers past 2**53 before these see them); the child is named by its id,
and a node that names its own workflow is refused: the run would start
itself until the depth limit stopped it. A child whose own document runs
this workflow back is refused too when the caller can look it up
(`references`); recursion through more workflows is stopped at run time by
the depth limit.
"""

from collections.abc import Callable, Collection, Mapping
from typing import Any

from workers.engine.flow import (
    MAX_ITERATIONS,
    MAX_PARALLEL,
    ON_ITEM_ERROR,
    is_workflow_id,
)
from workers.engine.validation.report import Report, Where

# Given a workflow id, the workflow ids its current document runs (None: unknown).
References = Callable[[str], Collection[str] | None]
ExpressionCheck = Callable[[str, str, Where], None]


def check_child_node(
    report: Report,
    node_type: str,
    config: Mapping[str, Any],
    typed: Mapping[str, Any],
    known: Collection[str],
    where: Where,
    check_expression: ExpressionCheck,
    workflow_id: str | None,
    references: References | None,
) -> None:
    """Report every problem of a `workflow` or `map` node's config; `typed`: its well-typed fields.

    `known`: the keys the type understands; any other key is refused, since
    a misspelt `max_parallel` would silently run with the default.
    """
    for key in config:
        if key not in known:
            report.error(
                "invalid_value",
                f"{key!r} is not a setting of a {node_type} node "
                f"(they are {', '.join(sorted(known))})",
                where.at(key),
            )
    _check_workflow(report, config, typed, where, workflow_id, references)
    report.check_between(typed, "version", where, 1, 2**31 - 1)
    if node_type == "map":
        if not (typed.get("items") or "").strip():
            report.error(
                "missing_required",
                "a map needs items: an expression giving the list to map over",
                where.at("items"),
            )
        report.check_between(typed, "max_parallel", where, 1, MAX_PARALLEL)
        report.check_choice(typed, "on_item_error", ON_ITEM_ERROR, where)
        expressions: tuple[str, ...] = ("items",)
    else:
        report.check_between(typed, "max_iterations", where, 1, MAX_ITERATIONS)
        expressions = ("inputs", "repeat_until")
    for key in expressions:
        text = typed.get(key)
        if isinstance(text, str) and text.strip():
            check_expression(text, key, where)


def _check_workflow(
    report: Report,
    config: Mapping[str, Any],
    typed: Mapping[str, Any],
    where: Where,
    workflow_id: str | None,
    references: References | None,
) -> None:
    at = where.at("workflow")
    workflow = typed.get("workflow")
    if workflow is None or not workflow.strip():
        if config.get("workflow") is None or isinstance(config.get("workflow"), str):
            report.error("missing_required", "pick the workflow this node runs", at)
        return
    workflow = workflow.strip().lower()
    if not is_workflow_id(workflow):
        report.error("invalid_value", "workflow must be a workflow's id", at)
        return
    if workflow_id is None:
        return
    own = workflow_id.lower()
    if workflow == own:
        report.error(
            "invalid_value",
            "a node cannot run its own workflow (the run would start itself over and over)",
            at,
        )
        return
    runs_back = references(workflow) if references is not None else None
    if runs_back is not None and own in {ref.lower() for ref in runs_back}:
        report.error(
            "invalid_value",
            "this child workflow runs this workflow back (a recursion that would never end)",
            at,
        )
