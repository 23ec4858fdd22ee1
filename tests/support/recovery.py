"""Recovery after a worker was killed: the reaper's passes in the test process, a fresh worker."""

import threading
from typing import Any

from django.db import connection

from server.runs.models import NodeRun, Run
from server.runs.services import reaper
from tests.support.processes import start_worker
from tests.support.runs import assert_log_is_sound, events_of, wait_for_run


class Reaper:
    """The beat task's work, on a timer, in the test process."""

    def __init__(self, interval: float = 0.5) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            reaper.reap()
        connection.close()

    def __enter__(self) -> "Reaper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def finished_by_a_survivor(run_id: Any, name: str, env: dict[str, str], timeout: float) -> Run:
    """The run's end, once a fresh one-process worker and the reaper took over the dead one's."""
    survivor = start_worker(name, pool="prefork", concurrency=1, **env)
    try:
        with Reaper(interval=0.2):
            return wait_for_run(run_id, timeout=timeout)
    finally:
        survivor.stop()


def succeeded_nodes(run_id: Any) -> list[str]:
    return [e.node_id for e in events_of(run_id) if e.type == "node.succeeded"]


def assert_each_node_succeeded_once(run: Run, node_ids: list[str]) -> None:
    assert run.state == "succeeded", run.error
    assert sorted(succeeded_nodes(run.pk)) == sorted(node_ids)
    assert_log_is_sound(run.pk)


def assert_requeued_once(run_id: Any, node_ids: list[str]) -> None:
    """These nodes, and no other, lost their worker once and ran again as a second attempt."""
    lost = NodeRun.objects.filter(run_id=run_id, lost_workers__gt=0)
    assert {(n.node_id, n.attempt, n.lost_workers) for n in lost} == {
        (node_id, 2, 1) for node_id in node_ids
    }
