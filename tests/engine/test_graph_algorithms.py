"""Cycles, reachability and ordering, on random graphs and on very large ones."""

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.documents import chain, document, edge, node
from workers.engine import graph_algorithms
from workers.engine.validation import validate_document

Graph = tuple[list[str], list[tuple[str, str]]]


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 30) -> Graph:
    """A random DAG: edges only go forward in a random order of the nodes."""
    count = draw(st.integers(min_value=1, max_value=max_nodes))
    order = draw(st.permutations([f"n{index}" for index in range(count)]))
    pairs = [(order[i], order[j]) for i in range(count) for j in range(i + 1, count)]
    edges = draw(st.lists(st.sampled_from(pairs), max_size=60)) if pairs else []
    return sorted(order), edges


def successors_of(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, list[str]]:
    successors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for source, target in edges:
        successors[source].append(target)
    return successors


def as_document(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, Any]:
    return document(
        [node(node_id, "transformer", expression="$") for node_id in nodes],
        [
            # Distinct handles, so parallel edges do not share an input key.
            edge(f"e{index}", source, target, target_handle=f"h{index}")
            for index, (source, target) in enumerate(edges)
        ],
    )


def assert_is_cycle(path: tuple[str, ...], edges: list[tuple[str, str]]) -> None:
    assert len(path) >= 2
    assert path[0] == path[-1]
    assert len(set(path[:-1])) == len(path) - 1, "a cycle visits each node once"
    assert all(pair in set(edges) for pair in itertools.pairwise(path))


@given(dags())
def test_a_dag_is_never_reported_cyclic(graph: Graph) -> None:
    nodes, edges = graph
    codes = {problem.code for problem in validate_document(as_document(nodes, edges))}
    assert "cycle" not in codes
    assert "unreachable_node" not in codes


@given(dags(), st.data())
def test_one_back_edge_is_always_found_with_a_real_path(graph: Graph, data: st.DataObject) -> None:
    nodes, edges = graph
    successors = successors_of(nodes, edges)
    start = data.draw(st.sampled_from(nodes))
    # A back edge from anything reachable from `start` (or `start` itself)
    # closes a cycle through `start`.
    end = data.draw(st.sampled_from(sorted(graph_algorithms.reachable([start], successors))))
    edges = [*edges, (end, start)]
    cycles = [p for p in validate_document(as_document(nodes, edges)) if p.code == "cycle"]
    assert len(cycles) == 1
    assert cycles[0].path is not None
    assert_is_cycle(cycles[0].path, edges)
    assert cycles[0].node_id == cycles[0].path[0]


@st.composite
def digraphs(draw: st.DrawFn) -> Graph:
    count = draw(st.integers(min_value=1, max_value=12))
    nodes = [f"n{index}" for index in range(count)]
    pairs = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes))
    return nodes, draw(st.lists(pairs, max_size=30))


@settings(max_examples=300)
@given(digraphs())
def test_one_cycle_per_tangle(graph: Graph) -> None:
    nodes, edges = graph
    successors = successors_of(nodes, edges)
    reach = {
        node_id: graph_algorithms.reachable(successors[node_id], successors) for node_id in nodes
    }
    # Brute force: two nodes share a tangle when each reaches the other.
    tangles = {
        frozenset(other for other in nodes if other in reach[node_id] and node_id in reach[other])
        for node_id in nodes
        if node_id in reach[node_id]
    }
    cycles = graph_algorithms.find_cycles(nodes, successors)
    for cycle in cycles:
        assert_is_cycle(cycle, edges)
    homes = [next(tangle for tangle in tangles if set(cycle) <= tangle) for cycle in cycles]
    assert sorted(map(sorted, homes)) == sorted(map(sorted, tangles))


@given(dags())
def test_topological_order_puts_every_edge_forward(graph: Graph) -> None:
    nodes, edges = graph
    order = graph_algorithms.topological_order(nodes, successors_of(nodes, edges))
    position = {node_id: index for index, node_id in enumerate(order)}
    assert sorted(order) == sorted(nodes)
    assert all(position[source] < position[target] for source, target in edges)


def test_a_5000_node_chain_validates_without_recursion_errors() -> None:
    assert validate_document(chain(5000)) == []


def test_a_5000_node_cycle_is_found_whole() -> None:
    doc = chain(5000)
    doc["nodes"][-1]["type"] = "transformer"
    doc["nodes"][-1]["data"]["config"] = {"expression": "$"}
    doc["nodes"][0]["type"] = "transformer"
    doc["nodes"][0]["data"]["config"] = {"expression": "$"}
    doc["edges"].append(edge("back", "n4999", "n0"))
    cycles = [p for p in validate_document(doc) if p.code == "cycle"]
    assert len(cycles) == 1
    assert cycles[0].path == (*(f"n{index}" for index in range(5000)), "n0")


def test_a_wide_5000_node_graph_validates() -> None:
    middle = [node(f"m{index}", "transformer", expression="$") for index in range(4998)]
    nodes = [node("in", "input"), *middle, node("out", "output")]
    edges = [edge(f"a{index}", "in", f"m{index}") for index in range(4998)]
    edges += [edge(f"b{index}", f"m{index}", "out") for index in range(4998)]
    assert validate_document(document(nodes, edges)) == []


def test_a_dense_tangle_is_one_problem() -> None:
    nodes = [f"n{index}" for index in range(60)]
    edges = [(a, b) for a in nodes for b in nodes if a != b]
    problems = validate_document(as_document(nodes, edges))
    cycles = [p for p in problems if p.code == "cycle"]
    assert len(cycles) == 1
    assert cycles[0].path == ("n0", "n1", "n0")
