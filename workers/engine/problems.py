"""Validation problems and their stable codes.

Clients switch on `code`, so codes never change meaning once published. `field`
is a JSON path into the document (`nodes[3].data.config.temperature`), `path` the
node ids of a cycle (first id repeated at the end), `position` a character offset
into the expression or prompt named by `field`.

Structural codes — the document's shape is wrong or a limit is exceeded; the
server refuses to save such a document:

=============================  ==============================================
code                           meaning
=============================  ==============================================
invalid_document               the document is not a JSON object
unsupported_schema_version     `schema_version` is missing or not 1
invalid_type                   a field has the wrong JSON type
missing_field                  a field the document's shape needs is absent
                               (`nodes`, `edges`, a node's or edge's `id`,
                               a node's `type`, an edge's `source`/`target`)
duplicate_node_id              two nodes share an id (the later one is named)
duplicate_edge_id              two edges share an id (the later one is named)
unknown_node_type              a node's `type` is not a known node type
unknown_node                   an edge's `source` or `target` names no node
too_many_nodes                 more nodes than `Limits.max_nodes`
too_many_edges                 more edges than `Limits.max_edges`
document_too_large             the serialised document exceeds
                               `Limits.max_document_bytes`
prompt_too_long                a prompt or system prompt exceeds
                               `Limits.max_prompt_chars`
expression_too_long            a JSONata expression exceeds
                               `Limits.max_expression_chars`
=============================  ==============================================

Other errors — the document is saved and the problems are shown; a run refuses
to start while any error remains:

=============================  ==============================================
cycle                          the edges form a cycle (`path` shows one)
unknown_handle                 an edge leaves or enters a handle the node does
                               not have
reserved_input_key             an edge would deliver its value under `run`,
                               which is reserved for the run inputs
missing_required               a value needed to run is absent (a
                               transformer's expression, a model, a
                               `fallback_output`, an input's `type`)
out_of_range                   a number is outside its allowed range
invalid_value                  a string is not one of the allowed values
expression_syntax              a JSONata expression does not parse
expression_budget_exceeded     the validation pass ran out of parse time
                               (`Limits.validation_parse_ms`) before it
                               could check this expression
unknown_model                  the model is not one this deployment offers
model_unavailable              the model's provider has no credential in the
                               workflow's workspace and no operator key
credential_not_found           an agent names a credential that is not one
                               of the workflow's workspace
credential_mismatch            an agent's credential is for another provider
                               than its model's
invalid_model_name             a model name for a credential that serves any
                               name is not one a server can be asked for
tools_unsupported              an agent offers tools but its model cannot
                               call tools (no function calling)
=============================  ==============================================

Warnings — worth a look, never blocking:

=============================  ==============================================
unreachable_node               no path leads to the node from an input node or
                               a root, so it can never run
disconnected_node              the node has no edges at all
no_input_node                  the workflow has no `input` node
no_output_node                 the workflow has no `output` node
unlabeled_route                a coordinator's outgoing edge has no label, so
                               the coordinator can never route to it
approval_outlives_budget       an approval's `timeout_s` is longer than the
                               run's duration budget, which counts its wait
=============================  ==============================================
"""

from dataclasses import dataclass, fields
from typing import Literal

Severity = Literal["error", "warning"]

STRUCTURAL_CODES: frozenset[str] = frozenset(
    {
        "invalid_document",
        "unsupported_schema_version",
        "invalid_type",
        "missing_field",
        "duplicate_node_id",
        "duplicate_edge_id",
        "unknown_node_type",
        "unknown_node",
        "too_many_nodes",
        "too_many_edges",
        "document_too_large",
        "prompt_too_long",
        "expression_too_long",
    }
)

ERROR_CODES: frozenset[str] = STRUCTURAL_CODES | {
    "cycle",
    "unknown_handle",
    "reserved_input_key",
    "missing_required",
    "out_of_range",
    "invalid_value",
    "expression_syntax",
    "expression_budget_exceeded",
    "unknown_model",
    "model_unavailable",
    "credential_not_found",
    "credential_mismatch",
    "invalid_model_name",
    "tools_unsupported",
}

WARNING_CODES: frozenset[str] = frozenset(
    {
        "unreachable_node",
        "disconnected_node",
        "no_input_node",
        "no_output_node",
        "unlabeled_route",
        "approval_outlives_budget",
    }
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a workflow document, as the API reports it."""

    code: str
    message: str
    severity: Severity = "error"
    node_id: str | None = None
    edge_id: str | None = None
    field: str | None = None
    path: tuple[str, ...] | None = None
    position: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The API's JSON form (docs/workflow-document.md); absent details left out, not null."""
        result: dict[str, object] = {}
        for attribute in fields(self):
            value = getattr(self, attribute.name)
            if value is not None:
                result[attribute.name] = list(value) if attribute.name == "path" else value
        return result
