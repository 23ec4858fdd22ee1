"""Reads of runs: what a node receives, what a resumed run can keep, what a user may see."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, QuerySet

from server.accounts.selectors import workspace_ids_for
from server.runs.models import NodeRun, NodeState, Run
from server.runs.outputs import StoredOutput, load_output
from server.runs.statements import NodeRow
from workers.engine.document import Graph
from workers.engine.scheduling import build_node_input


def runs_for(user: Any) -> QuerySet[Run]:
    return Run.objects.filter(workspace_id__in=workspace_ids_for(user))


def node_counts(run_ids: list[Any]) -> dict[Any, dict[str, int]]:
    counts: dict[Any, dict[str, int]] = {run_id: {} for run_id in run_ids}
    rows = (
        NodeRun.objects.filter(run_id__in=run_ids)
        .values("run_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["run_id"]][row["state"]] = row["n"]
    return counts


def node_input(
    graph: Graph, node_id: str, sources: Mapping[str, NodeRow], run_inputs: Any
) -> dict[str, Any]:
    """The node's input object: the values of the taken incoming edges, plus ``run``.

    The input object is described in docs/workflow-document.md.

    ``sources`` are the node's succeeded predecessors, as its claim read them.
    """
    outputs: dict[str, Any] = {}
    edge_values: dict[str, Any] = {}
    for edge in graph.in_edges(node_id):
        source = sources.get(edge.source)
        if source is None or edge.id not in source.taken_out:
            continue
        if edge.id in source.edge_values:
            edge_values[edge.id] = source.edge_values[edge.id]
            continue
        if edge.source not in outputs:
            outputs[edge.source] = load_output(source.output, source.artifact_id)
        edge_values[edge.id] = outputs[edge.source]
    return build_node_input(graph, node_id, edge_values, run_inputs)


def reusable_output(
    resumed_from_id: Any, node_id: str, config_hash: str, input_hash: str
) -> StoredOutput | None:
    """The earlier run's output of this node if its config and input are unchanged."""
    if resumed_from_id is None:
        return None
    earlier = (
        NodeRun.objects.filter(
            run_id=resumed_from_id,
            node_id=node_id,
            state=NodeState.SUCCEEDED,
            config_hash=config_hash,
            input_hash=input_hash,
        )
        .select_related("output_artifact")
        .first()
    )
    if earlier is None:
        return None
    value = load_output(earlier.output, earlier.output_artifact_id)
    return StoredOutput(value=value, inline=earlier.output, artifact=earlier.output_artifact)


def resume_preview(run: Run, version_id: int, graph: Graph) -> list[dict[str, str]]:
    """For each node of the version to resume with: will it keep its output, and why not.

    ``keep``: succeeded before with the same config (it still re-runs if an
    upstream change alters its input); ``changed``: its config differs from
    the earlier run's; ``run``: it did not succeed before, or is new.
    """
    from workers.engine.hashing import node_config_hash

    earlier = dict(
        NodeRun.objects.filter(run=run, state=NodeState.SUCCEEDED).values_list(
            "node_id", "config_hash"
        )
    )
    plan = []
    for node_id in graph.nodes:
        if node_id not in earlier:
            status = "run"
        elif earlier[node_id] == node_config_hash(graph, node_id):
            status = "keep"
        else:
            status = "changed"
        plan.append({"node_id": node_id, "status": status})
    return plan
