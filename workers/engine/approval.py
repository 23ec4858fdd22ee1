"""The `approval` node (SPEC §12): its config, its output and the edges a decision takes.

An approval node waits for a person: it holds no worker while it waits, and
its decision (or its timeout) is its output. Edges labelled `approved` or
`rejected` follow the decision; unlabelled edges follow `approved`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from workers.engine.document import RUN_KEY

Decision = Literal["approve", "reject"]
OnTimeout = Literal["reject", "approve", "fail"]

DECISIONS: tuple[Decision, ...] = ("approve", "reject")
ON_TIMEOUT: tuple[OnTimeout, ...] = ("reject", "approve", "fail")
# `approvers` is this word (the workspace's owners and editors) or a list of usernames.
EDITORS = "editors"
APPROVED_LABEL = "approved"
REJECTED_LABEL = "rejected"
# An unlabelled edge follows `approved`, so a plain approval gate needs no label.
EDGE_LABELS = ("", APPROVED_LABEL, REJECTED_LABEL)
MAX_APPROVERS = 100
MAX_COMMENT_CHARS = 4000
# Shorter than a new workflow's run budget (an hour), which keeps counting while a run waits.
DEFAULT_TIMEOUT_S = 1800.0
DEFAULT_MESSAGE = "Please review this step's input and approve or reject it."


def new_approval_config() -> dict[str, Any]:
    """The config a new approval node starts with."""
    return {
        "message": DEFAULT_MESSAGE,
        "approvers": EDITORS,
        "timeout_s": DEFAULT_TIMEOUT_S,
        "on_timeout": "reject",
        "on_error": None,
    }


@dataclass(frozen=True)
class ApprovalConfig:
    """An approval node's config with every default resolved (the document passed validation)."""

    message: str
    # None means the workspace's owners and editors.
    usernames: tuple[str, ...] | None
    timeout_s: float
    on_timeout: OnTimeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "ApprovalConfig":
        approvers = config.get("approvers")
        timeout_s = config.get("timeout_s")
        return cls(
            message=config.get("message") or DEFAULT_MESSAGE,
            usernames=tuple(approvers) if isinstance(approvers, list) else None,
            timeout_s=float(DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s),
            on_timeout=config.get("on_timeout") or "reject",
        )


def decision_output(
    decision: Decision,
    *,
    by: str | None,
    comment: str,
    timed_out: bool,
    node_input: Mapping[str, Any],
) -> dict[str, Any]:
    """The node's output: the decision, and its input passed through for the nodes after it."""
    return {
        "decision": decision,
        "approved": decision == "approve",
        "by": by,
        "comment": comment,
        "timed_out": timed_out,
        "input": {key: value for key, value in node_input.items() if key != RUN_KEY},
    }


def decision_labels(output: Any) -> frozenset[str]:
    """The edge labels (as `scheduling` compares them) a decision output takes."""
    approved = isinstance(output, dict) and output.get("approved") is True
    return frozenset({APPROVED_LABEL, ""}) if approved else frozenset({REJECTED_LABEL})
