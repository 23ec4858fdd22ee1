"""Which ready nodes a worker may run itself after its own (eager continuation)."""

from tests.support.documents import agent, document, edge, node
from workers.engine.document import Graph
from workers.engine.scheduling import continuable


def graph() -> Graph:
    ids = ["t1", "writer", "t2", "coordinator", "output"]
    nodes = [
        node("input", "input"),
        node("t1"),
        agent("writer"),
        node("t2"),
        agent("coordinator", "coordinator"),
        node("output", "output"),
    ]
    return Graph.from_document(document(nodes, [edge("input", i) for i in ids]))


def test_control_nodes_in_the_order_given_and_never_an_agent():
    ready = ["t2", "writer", "coordinator", "output", "t1"]
    assert continuable(graph(), ready, 10) == ["t2", "output", "t1"]


def test_at_most_the_room_left():
    ready = ["t1", "writer", "t2", "output"]
    assert continuable(graph(), ready, 2) == ["t1", "t2"]
    assert continuable(graph(), iter(ready), 1) == ["t1"]


def test_no_room_keeps_nothing():
    assert continuable(graph(), ["t1", "t2"], 0) == []
    assert continuable(graph(), ["t1", "t2"], -3) == []


def test_an_http_node_goes_through_the_broker_like_an_agent() -> None:
    doc = document(
        [node("in", "input"), node("call", "http"), node("shape", "transformer")],
        [edge("in", "call"), edge("in", "shape")],
    )
    graph = Graph.from_document(doc)
    assert continuable(graph, ["call", "shape"], room=10) == ["shape"]
