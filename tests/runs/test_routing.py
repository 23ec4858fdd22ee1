"""Each node task reaches exactly one queue: the one for its kind of work."""

from workers.app import app


def test_each_queue_has_its_own_binding():
    bindings = {q.name: (q.exchange.name, q.routing_key) for q in app.amqp.queues.values()}
    assert bindings == {"agents": ("agents", "agents"), "control": ("control", "control")}


def test_a_task_sent_to_one_queue_is_routed_only_there():
    for queue in ("agents", "control"):
        route = app.amqp.router.route({"queue": queue}, "agentloom.execute_node")
        assert route["queue"].name == queue
        assert route["queue"].exchange.name == queue
        assert route["queue"].routing_key == queue
