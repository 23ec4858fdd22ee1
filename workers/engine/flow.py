"""The `workflow` and `map` nodes (SPEC §12): their configs, and what their child runs add up to.

Both run other workflows of the workspace as child runs and wait for them
without holding a worker. A `workflow` node runs one child at a time: once,
or again and again with its previous output (`repeat_until`) up to
`max_iterations`, a bounded loop. A `map` node runs one child per item of a
list, `max_parallel` at a time, and outputs their outputs in item order.

Everything here is pure: the runs service evaluates the expressions, starts
the children and records the node's end (server/runs/services/flow_nodes.py).
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OnItemError = Literal["fail", "skip", "collect"]

ON_ITEM_ERROR: tuple[OnItemError, ...] = ("fail", "skip", "collect")
# The node types that wait for child runs, and what their `node.waiting` event says they wait for.
CHILD_NODE_TYPES = ("workflow", "map")
WAITING_KIND = "children"

MAX_ITERATIONS = 100
DEFAULT_MAX_ITERATIONS = 10
MAX_PARALLEL = 1000
DEFAULT_MAX_PARALLEL = 10
# A map's list is kept with its node run and each item becomes a run: a list
# longer than this fails the node rather than flooding the workspace.
MAX_MAP_ITEMS = 10_000
# A child that repeats receives its previous output under this input name,
# and a map's child its item and index under these (each when the child
# declares it: run inputs it does not declare would be refused).
PREVIOUS_KEY = "previous"
ITEM_KEY = "item"
INDEX_KEY = "index"


def new_workflow_node_config() -> dict[str, Any]:
    """The config a new `workflow` node starts with: no child picked yet."""
    return {
        "workflow": "",
        "version": None,
        "inputs": "{}",
        "repeat_until": None,
        "max_iterations": None,
        "on_error": None,
    }


def new_map_config() -> dict[str, Any]:
    """The config a new `map` node starts with."""
    return {
        "items": "",
        "workflow": "",
        "version": None,
        "max_parallel": DEFAULT_MAX_PARALLEL,
        "on_item_error": "fail",
        "on_error": None,
    }


def is_workflow_id(value: str) -> bool:
    """Whether `value` is a workflow's id (a UUID), the only way a node names its child."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) <= 36


@dataclass(frozen=True)
class ChildConfig:
    """A `workflow` or `map` node's config with every default resolved (it passed validation)."""

    node_type: str
    workflow: str
    version: int | None
    # workflow: the child's inputs (JSONata over the node's input), None for {}.
    inputs: str | None
    repeat_until: str | None
    max_iterations: int
    # map: the list (JSONata over the node's input).
    items: str
    max_parallel: int
    on_item_error: OnItemError

    @classmethod
    def from_config(cls, node_type: str, config: Mapping[str, Any]) -> "ChildConfig":
        def text(key: str) -> str | None:
            value = config.get(key)
            return value if isinstance(value, str) and value.strip() else None

        repeat_until = text("repeat_until")
        return cls(
            node_type=node_type,
            workflow=(text("workflow") or "").strip(),
            version=config.get("version"),
            inputs=text("inputs"),
            repeat_until=repeat_until,
            max_iterations=(config.get("max_iterations") or DEFAULT_MAX_ITERATIONS)
            if repeat_until
            else 1,
            items=text("items") or "[]",
            max_parallel=config.get("max_parallel") or DEFAULT_MAX_PARALLEL,
            on_item_error=config.get("on_item_error") or "fail",
        )

    @property
    def is_map(self) -> bool:
        return self.node_type == "map"


def as_items(value: Any) -> list[Any]:
    """The list a map's `items` expression gave, read as JSONata sequences read.

    Undefined is no item and a single value one item: a path that matches
    once yields the value itself, not a list of one.
    """
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def declared_only(inputs: Mapping[str, Any], declared: Iterable[str]) -> dict[str, Any]:
    """The inputs the child declares: a map's `item`/`index`, a loop's `previous`, when wanted."""
    names = set(declared)
    return {key: value for key, value in inputs.items() if key in names}


def iteration_inputs(
    base: Mapping[str, Any], previous: Any, declared: Iterable[str]
) -> dict[str, Any]:
    """A repeated child's inputs: the first iteration's, with `previous` if the child takes it."""
    inputs = dict(base)
    if PREVIOUS_KEY in set(declared):
        inputs[PREVIOUS_KEY] = previous
    return inputs


def item_inputs(item: Any, index: int, declared: Iterable[str]) -> dict[str, Any]:
    """A map child's inputs: `{item, index}`, each if the child declares it."""
    return declared_only({ITEM_KEY: item, INDEX_KEY: index}, declared)


@dataclass(frozen=True)
class ChildResult:
    """How one child run ended, in item order for a map."""

    state: str
    output: Any
    error: Mapping[str, Any] | None

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"


def map_output(results: Sequence[ChildResult], on_item_error: OnItemError) -> list[Any]:
    """The map's output: its children's outputs in item order.

    `skip` leaves the failed items out; `collect` puts `{"error": ...}` in
    their place; `fail` never gets here with a failed item (the node failed).
    """
    output: list[Any] = []
    for result in results:
        if result.succeeded:
            output.append(result.output)
        elif on_item_error == "collect":
            output.append({"error": dict(result.error or {"code": result.state})})
    return output


def child_error(result: ChildResult, what: str) -> tuple[str, str]:
    """The node's error code and message for a child that did not succeed."""
    error = result.error or {}
    code = str(error.get("code") or f"child_{result.state}")
    message = str(error.get("message") or f"the child run {result.state}")
    return code, f"{what} {result.state}: {message}"


def flow_references(document: Mapping[str, Any]) -> frozenset[str]:
    """The workflow ids a document's `workflow` and `map` nodes run (lower-case).

    For the recursion check: a workflow whose child runs it back would
    start runs until the depth limit stopped it.
    """
    found: set[str] = set()
    nodes = document.get("nodes")
    for node in nodes if isinstance(nodes, list) else ():
        if not isinstance(node, dict) or node.get("type") not in CHILD_NODE_TYPES:
            continue
        data = node.get("data")
        config = data.get("config") if isinstance(data, dict) else None
        workflow = config.get("workflow") if isinstance(config, dict) else None
        if isinstance(workflow, str) and workflow.strip():
            found.add(workflow.strip().lower())
    return frozenset(found)
