"""Each node task reaches exactly one queue: the one it is published to."""

from server import queues
from server.celery import app


def test_each_queue_has_its_own_binding():
    # The configured queues, not app.amqp.queues: an unsharded publish (an
    # in-memory broker in another test) adds the bare pool name to the latter.
    bindings = {q.name: (q.exchange.name, q.routing_key) for q in app.conf.task_queues}
    assert bindings == {name: (name, name) for name in queues.all_queues()}


def test_every_pool_has_its_shards_and_the_reaper_its_own_queue():
    assert queues.all_queues() == [
        *(f"agents.{i}" for i in range(8)),
        *(f"control.{i}" for i in range(8)),
        "maintenance",
    ]


def test_a_task_sent_to_one_queue_is_routed_only_there():
    for queue in queues.all_queues():
        route = app.amqp.router.route({"queue": queue}, "agentloom.execute_node")
        assert route["queue"].name == queue
        assert route["queue"].exchange.name == queue
        assert route["queue"].routing_key == queue


def test_an_unrouted_task_goes_to_the_maintenance_queue():
    route = app.amqp.router.route({}, "agentloom.reap")
    assert route["queue"].name == queues.MAINTENANCE
