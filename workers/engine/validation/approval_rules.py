"""The rules of an `approval` node's config and of its outgoing edges (engine/approval.py)."""

from collections.abc import Mapping
from typing import Any

from workers.engine.approval import EDGE_LABELS, EDITORS, MAX_APPROVERS, ON_TIMEOUT
from workers.engine.document import blank_to_none
from workers.engine.limits import Limits
from workers.engine.validation.http_rules import TemplateCheck
from workers.engine.validation.report import Report, Where

# Usernames as Django's default user model allows them.
_MAX_USERNAME_CHARS = 150


def check_approval(
    report: Report,
    config: Mapping[str, Any],
    typed: Mapping[str, Any],
    limits: Limits,
    where: Where,
    check_template: TemplateCheck,
    run_budget_s: float | None,
) -> None:
    """Report every problem of an approval node's config; `typed` holds its well-typed fields."""
    if blank_to_none(config.get("message")) is None:
        report.error(
            "missing_required", "an approval needs a message for its approvers", where.at("message")
        )
    elif "message" in typed:
        check_template(typed["message"], "message", where)
    _check_approvers(report, config.get("approvers"), where.at("approvers"))
    report.check_between(typed, "timeout_s", where, 0, limits.max_run_duration_s, low_excluded=True)
    report.check_choice(typed, "on_timeout", ON_TIMEOUT, where)
    timeout_s = typed.get("timeout_s")
    if run_budget_s is not None and timeout_s is not None and timeout_s > run_budget_s:
        report.warning(
            "approval_outlives_budget",
            f"the approval waits up to {timeout_s:g} s, longer than the run's duration budget "
            f"({run_budget_s:g} s), which keeps counting while it waits: the run would fail first",
            where.node_id,
        )


def _check_approvers(report: Report, approvers: object, where: Where) -> None:
    if approvers is None or approvers == EDITORS:
        return
    if not isinstance(approvers, list):
        report.error(
            "invalid_type",
            f"approvers must be {EDITORS!r} or a list of usernames",
            where,
        )
        return
    if not approvers:
        report.error("missing_required", "the list of approvers is empty", where)
    elif len(approvers) > MAX_APPROVERS:
        report.error(
            "out_of_range", f"at most {MAX_APPROVERS} approvers, not {len(approvers)}", where
        )
    for name in approvers:
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_USERNAME_CHARS:
            report.error(
                "invalid_value",
                f"each approver must be a username of 1 to {_MAX_USERNAME_CHARS} characters",
                where,
            )
            return
    if len(set(approvers)) < len(approvers):
        report.error("invalid_value", "an approver is listed twice", where)


def check_approval_edge(report: Report, source: str, label: str, where: Where) -> None:
    """An edge leaving an approval follows a decision: its label must name one."""
    if label.strip().casefold() not in EDGE_LABELS:
        report.error(
            "invalid_value",
            f"an edge leaving approval {source!r} is labelled approved, rejected or nothing "
            "(which follows approved)",
            where.at("label"),
        )
