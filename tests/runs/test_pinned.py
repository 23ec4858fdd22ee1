"""The per-process cache of what a run pins: bounded, keyed by run and node."""

import uuid

from server.runs import pinned
from server.runs.statements import NodeRow


def _row(output: object) -> NodeRow:
    return NodeRow(
        state="succeeded",
        attempt=1,
        node_type="transformer",
        output=output,
        artifact_id=None,
        taken_out=frozenset(),
        edge_values={},
    )


def test_succeeded_rows_are_kept_per_run_and_node():
    first, second = uuid.uuid4(), uuid.uuid4()
    pinned.remember_succeeded_row(first, "a", _row(1))
    pinned.remember_succeeded_row(str(second), "a", _row(2))
    assert pinned.succeeded_row(str(first), "a") == _row(1)
    assert pinned.succeeded_row(second, "a") == _row(2)
    assert pinned.succeeded_row(first, "b") is None


def test_the_least_recently_read_rows_go_first_when_full(monkeypatch):
    monkeypatch.setattr(pinned, "_SUCCEEDED_ROWS_MAX", 3)
    run = uuid.uuid4()
    for node_id in "abc":
        pinned.remember_succeeded_row(run, node_id, _row(node_id))
    assert pinned.succeeded_row(run, "a") is not None
    pinned.remember_succeeded_row(run, "d", _row("d"))
    assert pinned.succeeded_row(run, "b") is None
    assert [pinned.succeeded_row(run, n) is not None for n in "acd"] == [True, True, True]
