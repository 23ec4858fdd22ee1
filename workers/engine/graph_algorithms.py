"""Directed-graph algorithms on plain adjacency maps, all O(V+E) and iterative.

Iterative because a 5,000-node chain would exceed Python's recursion limit.
Nodes are strings; `successors` maps a node to the targets of its edges (one
entry per edge, so parallel edges are allowed) and may omit nodes without
outgoing edges. Every function keeps the order of `nodes`, so results are
deterministic for a given document.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

Successors = Mapping[str, Sequence[str]]


def topological_order(nodes: Iterable[str], successors: Successors) -> list[str]:
    """Kahn's algorithm. Nodes on a cycle, or downstream of one, are left out,
    so the result is shorter than `nodes` exactly when the graph has a cycle.
    """
    indegree = dict.fromkeys(nodes, 0)
    for node in indegree:
        for target in successors.get(node, ()):
            indegree[target] += 1
    order = [node for node, count in indegree.items() if count == 0]
    # `order` doubles as the FIFO queue: nodes are appended once their last
    # predecessor is placed, and placed in the order they were appended.
    for node in order:
        for target in successors.get(node, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                order.append(target)
    return order


def reachable(starts: Iterable[str], successors: Successors) -> set[str]:
    """Every node a path leads to from `starts`, the starts included."""
    seen = set(starts)
    stack = list(seen)
    while stack:
        for target in successors.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def find_cycles(nodes: Sequence[str], successors: Successors) -> list[tuple[str, ...]]:
    """One cycle per tangle of cycles (strongly connected component).

    A dense tangle holds exponentially many cycles, so each component is
    reported once, by the shortest cycle through its first node. A cycle is
    given as its node path with the first node repeated at the end.
    """
    component_of = _strongly_connected_components(nodes, successors)
    members = Counter(component_of.values())
    cycles = []
    reported: set[int] = set()
    for node in nodes:
        component = component_of[node]
        if component in reported:
            continue
        if members[component] > 1 or node in successors.get(node, ()):
            reported.add(component)
            cycles.append(_shortest_cycle(node, component, component_of, successors))
    return cycles


def _strongly_connected_components(nodes: Sequence[str], successors: Successors) -> dict[str, int]:
    """Tarjan's algorithm with an explicit stack: node -> component number."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    component_of: dict[str, int] = {}
    stack: list[str] = []
    for root in nodes:
        if root in index:
            continue
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        work = [(root, iter(successors.get(root, ())))]
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = lowlink[target] = len(index)
                    stack.append(target)
                    work.append((target, iter(successors.get(target, ()))))
                    break
                if target not in component_of:  # still on the stack
                    lowlink[node] = min(lowlink[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    # The component's root index names the component.
                    while True:
                        member = stack.pop()
                        component_of[member] = index[node]
                        if member == node:
                            break
    return component_of


def _shortest_cycle(
    start: str, component: int, component_of: Mapping[str, int], successors: Successors
) -> tuple[str, ...]:
    """Breadth-first search from `start` back to itself, inside its component."""
    parent: dict[str, str] = {}
    frontier = [start]
    for node in frontier:
        for target in successors.get(node, ()):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return (*reversed(path), start)
            if target not in parent and component_of.get(target) == component:
                parent[target] = node
                frontier.append(target)
    raise AssertionError(f"{start!r} is in a cyclic component but on no cycle")
