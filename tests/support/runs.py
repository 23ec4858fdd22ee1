"""Starting runs through the API and waiting for them, as a user's script would."""

import time
from typing import Any

from server.runs.models import TERMINAL_RUN_STATES, NodeRun, Run, RunEvent


def save_workflow(api: Any, doc: dict[str, Any]) -> str:
    """A new workflow of this document, which must have no error; its id."""
    workflow = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert workflow.status_code == 201, workflow.content
    errors = [p for p in workflow.json()["problems"] if p["severity"] == "error"]
    assert not errors, errors
    return str(workflow.json()["id"])


def run_workflow(
    api: Any, workflow_id: str, inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A run of the workflow, accepted: the answer's body."""
    response = api.post(
        f"/api/v1/workflows/{workflow_id}/runs/", {"inputs": inputs or {}}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def start_run(
    api: Any, doc: dict[str, Any], inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    return run_workflow(api, save_workflow(api, doc), inputs)


def wait_for_run(
    run_id: Any, timeout: float = 60, states: frozenset[str] = TERMINAL_RUN_STATES
) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.state in states:
            return run
        time.sleep(0.05)
    nodes = list(NodeRun.objects.filter(run_id=run_id).values_list("node_id", "state"))
    raise AssertionError(f"run {run_id} still {run.state} after {timeout}s: {nodes}")


def wait_for_node(run_id: Any, node_id: str, state: str, timeout: float = 30) -> NodeRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = NodeRun.objects.get(run_id=run_id, node_id=node_id)
        if node.state == state:
            return node
        time.sleep(0.05)
    raise AssertionError(f"{node_id} is {node.state}, not {state}, after {timeout}s")


def events_of(run_id: Any) -> list[RunEvent]:
    return list(RunEvent.objects.filter(run_id=run_id).order_by("seq"))


def nodes_of(run_id: Any) -> dict[str, NodeRun]:
    return {n.node_id: n for n in NodeRun.objects.filter(run_id=run_id)}


def assert_log_is_sound(run_id: Any) -> None:
    """Gapless seq from 1; one success per node; nothing starts again after it succeeded."""
    events = events_of(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    succeeded: set[str] = set()
    for event in events:
        if event.type == "node.succeeded":
            assert event.node_id not in succeeded, f"{event.node_id} succeeded twice"
            succeeded.add(event.node_id)
        if event.type == "node.started":
            assert event.node_id not in succeeded, f"{event.node_id} started again after success"
