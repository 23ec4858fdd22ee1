"""Group commit: kept control nodes recorded in few transactions, each transition still whole.

Run in this process, task by task (the published tasks are collected instead
of sent), so the statements and the transactions can be counted.
"""

import itertools
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server import queues
from server.accounts.models import WorkspaceSpend
from server.accounts.services import create_workspace
from server.runs import dispatch, statements
from server.runs.journal import NodeTask
from server.runs.models import NodeRun, Run
from server.runs.services import continuation, start
from server.workflows import services as workflow_services
from tests.support.documents import chain, document, edge, fan_out, node
from tests.support.runs import assert_log_is_sound, events_of
from workers.runtime.node_runner import run_batch, run_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tasks(monkeypatch, settings):
    """The node tasks the code publishes, to run here in order."""
    settings.CELERY_BROKER_URL = "memory://"
    published: list[NodeTask] = []
    monkeypatch.setattr(start, "send_node_tasks", published.extend)
    monkeypatch.setattr(continuation, "send_node_tasks", published.extend)
    return published


@pytest.fixture
def unhurried(monkeypatch):
    """Groups bounded by their nodes, not by a loaded machine's clock: commits can be counted."""
    monkeypatch.setattr(continuation, "GROUP_WINDOW_S", 60.0)
    monkeypatch.setattr(continuation, "QUICK_S", 60.0)


def allow(settings, max_nodes: int, slice_s: float = 60) -> None:
    settings.AGENTLOOM_RUNS = {
        **settings.AGENTLOOM_RUNS,
        "continuation_max_nodes": max_nodes,
        "continuation_slice_s": slice_s,
    }


def new_run(doc) -> Run:
    user = get_user_model().objects.create_user("grouped")
    workspace = create_workspace(owner=user, name="grouped")
    workflow = workflow_services.create_workflow(user=user, workspace_id=workspace.pk, document=doc)
    return start.create_run(workflow=workflow, user=user, inputs={})


def failing_at(doc: dict, node_id: str) -> dict:
    """The document with that transformer raising an error."""
    for item in doc["nodes"]:
        if item["id"] == node_id:
            item["data"]["config"]["expression"] = '$error("boom")'
    return doc


def drain(run: Run, tasks: list[NodeTask]) -> int:
    """Run the input's task and every task published after it; how many tasks ran."""
    tasks.clear()
    run_task(str(run.pk), "input", worker="test#1")
    ran = 1
    while tasks:
        task = tasks.pop(0)
        run_task(task.run_id, task.node_id, worker="test#1")
        ran += 1
    return ran


def test_a_chain_is_recorded_in_few_transactions_with_every_transition(settings, tasks, unhurried):
    allow(settings, 1000)
    run = new_run(chain(120, expression="'ok'"))
    with CaptureQueriesContext(connection) as queries:
        drain(run, tasks)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    assert_log_is_sound(run.pk)
    nodes = NodeRun.objects.filter(run=run)
    assert {(n.state, n.attempt) for n in nodes} == {("succeeded", 1)}
    per_node = Counter(e.node_id for e in events_of(run.pk) if e.type.startswith("node."))
    assert set(per_node.values()) == {3}, "queued, started, succeeded: each once"
    sqls = [q["sql"] for q in queries.captured_queries]
    commits = sum(1 for sql in sqls if sql.upper().startswith("COMMIT"))
    # 122 nodes: the input's own transaction and groups of many nodes, not one per node.
    assert commits < 30, commits
    # Per grouped node, its compare-and-set and the statement counting, queuing and
    # leasing its successor: three writes of a row folded into one.
    assert len(sqls) < 3 * 122, len(sqls)
    # Each node keeps its own times, though recorded in a shared transaction.
    by_id = {n.node_id: n for n in nodes}
    path = ["input", *(f"n{i}" for i in range(120)), "output"]
    for before, after in itertools.pairwise(path):
        assert by_id[before].finished_at <= by_id[after].started_at <= by_id[after].finished_at


def test_a_failing_node_in_a_group_ends_it_and_is_recorded_alone(settings, tasks):
    allow(settings, 1000)
    run = new_run(failing_at(chain(10, expression="'ok'"), "n6"))
    drain(run, tasks)
    run.refresh_from_db()
    assert run.state == "failed"
    assert_log_is_sound(run.pk)
    states = dict(NodeRun.objects.filter(run=run).values_list("node_id", "state"))
    assert [states[f"n{i}"] for i in range(6)] == ["succeeded"] * 6
    assert states["n6"] == "failed"
    assert {states[f"n{i}"] for i in range(7, 10)} == {"cancelled"}


def test_a_join_waits_for_branches_recorded_in_other_groups(settings, tasks):
    allow(settings, 3)
    branches = [f"b{i}" for i in range(7)]
    doc = document(
        [
            node("input", "input"),
            *(node(b, expression="'ok'") for b in branches),
            node("join", expression="'ok'"),
            node("output", "output"),
        ],
        [
            *(edge("input", b) for b in branches),
            *(edge(b, "join") for b in branches),
            edge("join", "output"),
        ],
    )
    run = new_run(doc)
    drain(run, tasks)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    assert_log_is_sound(run.pk)
    join = NodeRun.objects.get(run=run, node_id="join")
    assert (join.state, join.attempt) == ("succeeded", 1)


@pytest.fixture
def messages(monkeypatch, settings):
    """The messages the code publishes, batches as the broker gets them, to run here in order."""
    settings.CELERY_BROKER_URL = "memory://"
    published: list[dispatch.Message] = []

    def publish(tasks: list[NodeTask]) -> None:
        published.extend(dispatch.messages_for(tasks))

    monkeypatch.setattr(start, "send_node_tasks", publish)
    monkeypatch.setattr(continuation, "send_node_tasks", publish)
    return published


def deliver(message: dispatch.Message) -> None:
    if message.name == dispatch.EXECUTE_NODES_TASK:
        (nodes,) = message.args
        run_batch(nodes, worker="test#2")
    else:
        run_id, node_id = message.args
        run_task(run_id, node_id, worker="test#2")


def test_a_fan_out_goes_in_batches_recorded_together_each_node_once(settings, messages, unhurried):
    allow(settings, 100)
    width = 300
    run = new_run(fan_out(width))
    messages.clear()
    with CaptureQueriesContext(connection) as queries:
        run_task(str(run.pk), "input", worker="test#1")
        # The input's task keeps 100 branches; the other 200 go in batches of 25.
        assert [len(m.args[0]) for m in messages] == [dispatch.BATCH_NODES] * 8
        while messages:
            message = messages.pop(0)
            deliver(message)
            # Delivered twice (a worker lost before its ack): the second finds nothing to do.
            deliver(message)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    assert_log_is_sound(run.pk)
    nodes = NodeRun.objects.filter(run=run)
    assert {(n.state, n.attempt) for n in nodes} == {("succeeded", 1)}
    per_node = Counter(e.node_id for e in events_of(run.pk) if e.type.startswith("node."))
    assert set(per_node.values()) == {3}, "queued, started, succeeded: each once"
    sqls = [q["sql"] for q in queries.captured_queries]
    commits = sum(1 for sql in sqls if sql.upper().startswith("COMMIT"))
    assert commits < 20, commits
    # Per branch its compare-and-set; the edges at the join are counted once per group.
    assert len(sqls) < 1.3 * width, len(sqls)
    assert sum(1 for sql in sqls if "WITH resolved" in sql) < 20


def test_a_batch_leaves_the_nodes_another_delivery_holds(settings, messages):
    allow(settings, 1)
    run = new_run(fan_out(4))
    messages.clear()
    run_task(str(run.pk), "input", worker="test#1")
    tasks = [NodeTask(m.args[0], m.args[1], m.pool) for m in messages]
    assert [t.node_id for t in tasks] == ["w1", "w2", "w3"]
    messages.clear()
    allow(settings, 100)
    [batch] = dispatch.messages_for(tasks)
    assert batch.name == dispatch.EXECUTE_NODES_TASK
    # Another delivery (a task the reaper re-sent) holds w2 when the batch arrives.
    held = statements.lease_node(run.pk, "w2", "other#9", timezone.now(), [])
    assert held is not None
    deliver(batch)
    states = dict(NodeRun.objects.filter(run=run).values_list("node_id", "state"))
    assert states == {
        "input": "succeeded",
        **dict.fromkeys(["w0", "w1", "w3"], "succeeded"),
        "w2": "queued",
        "output": "pending",
    }
    assert NodeRun.objects.get(run=run, node_id="w2").worker == "other#9"
    # The holder gives it back; its task runs it, and the join.
    statements.release_leases([(run.pk, "w2", held[0])], "other#9", timezone.now())
    run_task(str(run.pk), "w2", worker="test#3")
    while messages:
        deliver(messages.pop(0))
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    assert_log_is_sound(run.pk)
    assert {(n.state, n.attempt) for n in NodeRun.objects.filter(run=run)} == {("succeeded", 1)}


def runs_in_one_workspace(name: str, docs: list[dict]) -> list[Run]:
    """A run of each document, all in one new workspace."""
    user = get_user_model().objects.create_user(name)
    workspace = create_workspace(owner=user, name=name)
    return [
        start.create_run(
            workflow=workflow_services.create_workflow(
                user=user, workspace_id=workspace.pk, document=doc
            ),
            user=user,
            inputs={},
        )
        for doc in docs
    ]


def first_tasks(runs: list[Run]) -> list[NodeTask]:
    return [NodeTask(str(run.pk), "input", queues.CONTROL) for run in runs]


def run_until_done(messages: list[dispatch.Message]) -> None:
    while messages:
        message = messages.pop(0)
        deliver(message)
        # Delivered twice (a worker lost before its ack): the second finds nothing to do.
        deliver(message)


def assert_each_node_once(runs: list[Run]) -> None:
    for run in runs:
        assert_log_is_sound(run.pk)
        per_node = Counter(
            (e.node_id, e.type) for e in events_of(run.pk) if e.type.startswith("node.")
        )
        assert set(per_node.values()) == {1}, per_node


def test_a_batch_carries_first_nodes_of_several_runs_of_one_workspace(settings, messages):
    """A map's children: their first nodes reach a worker together, each run recorded whole."""
    allow(settings, 100)
    ours = runs_in_one_workspace("batched", [chain(1, expression="'ok'") for _ in range(6)])
    (theirs,) = runs_in_one_workspace("other", [chain(1, expression="'ok'")])
    messages.clear()
    batches = dispatch.messages_for(first_tasks([*ours, theirs]))
    # One batch for our workspace's six runs; the other workspace's run goes alone, to its shard.
    assert [m.name for m in batches] == [dispatch.EXECUTE_NODES_TASK, dispatch.EXECUTE_NODE_TASK]
    assert sorted(batches[0].args[0]) == sorted((str(run.pk), "input") for run in ours)
    assert batches[1].args == (str(theirs.pk), "input")
    with CaptureQueriesContext(connection) as queries:
        deliver(batches[0])
    leases = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert sum(1 for sql in leases if "SET worker" in sql) == 1, "the six leased in one statement"
    run_until_done([*messages, *batches])
    for run in [*ours, theirs]:
        run.refresh_from_db()
        assert run.state == "succeeded", run.error
        assert run.output == {"output": {"n0": "ok"}}
    assert_each_node_once([*ours, theirs])


def test_a_run_that_fails_in_a_batch_gives_back_only_its_own_nodes(settings, messages):
    allow(settings, 100)
    failing = failing_at(fan_out(3, expression="'ok'"), "w1")
    runs = runs_in_one_workspace("failing", [failing, fan_out(3, expression="'ok'")])
    messages.clear()
    [batch] = dispatch.messages_for(first_tasks(runs))
    deliver(batch)
    failed, succeeded = runs
    succeeded.refresh_from_db()
    assert succeeded.state == "succeeded", "its nodes were run in the batch, not given back"
    run_until_done(messages)
    failed.refresh_from_db()
    assert (failed.state, succeeded.state) == ("failed", "succeeded")
    assert NodeRun.objects.get(run=failed, node_id="output").state == "cancelled"
    assert set(NodeRun.objects.filter(run=succeeded).values_list("state", flat=True)) == {
        "succeeded"
    }
    assert_each_node_once(runs)


def test_a_batch_out_of_time_gives_back_every_runs_nodes_in_one_statement(settings, messages):
    # The time slice ends after the first group: the other runs' nodes go back to the broker.
    allow(settings, 100, slice_s=1e-9)
    runs = runs_in_one_workspace("sliced", [chain(2, expression="'ok'") for _ in range(5)])
    messages.clear()
    [batch] = dispatch.messages_for(first_tasks(runs))
    with CaptureQueriesContext(connection) as queries:
        deliver(batch)
    sqls = [q["sql"] for q in queries.captured_queries]
    gave_back = [sql for sql in sqls if "SET heartbeat_at = NULL" in sql]
    assert len(gave_back) == 1, gave_back
    assert [m.name for m in messages] == [dispatch.EXECUTE_NODES_TASK]
    assert len(messages[0].args[0]) >= 4, "the runs not begun, and what the first one made ready"
    run_until_done(messages)
    for run in runs:
        run.refresh_from_db()
        assert run.state == "succeeded", run.error
    assert_each_node_once(runs)


def test_runs_of_a_batch_are_recorded_together_their_locks_taken_in_order(
    settings, messages, unhurried
):
    """Group commit across runs: one transaction, each run still whole and counted once."""
    allow(settings, 100)
    one_node = document([node("out", "output", expression="'x'")])
    # Fewer than the workspace's cap of running runs (20): all start at once.
    runs = runs_in_one_workspace("rows", [one_node] * 16)
    messages.clear()
    [batch] = dispatch.messages_for([NodeTask(str(r.pk), "out", queues.CONTROL) for r in runs])
    with CaptureQueriesContext(connection) as queries:
        deliver(batch)
    for run in runs:
        run.refresh_from_db()
        assert run.state == "succeeded", run.error
        assert run.output == {"out": "x"}
    assert_each_node_once(runs)
    sqls = [q["sql"] for q in queries.captured_queries]
    transactions = "\n".join(sqls).split("COMMIT")
    assert len(transactions) - 1 == 1, "the 16 runs' ends in one transaction"
    locked = re.findall(r"FROM runs_run WHERE id = '([0-9a-f-]+)'", transactions[0])
    assert len(locked) == 16
    assert locked == sorted(locked), "two rows never wait on each other"
    assert sum(1 for sql in sqls if "INSERT INTO accounts_workspacespend" in sql) == 1
    assert WorkspaceSpend.objects.get(workspace_id=runs[0].workspace_id).runs == 16


def test_a_batch_s_runs_go_on_level_by_level_in_one_transaction_each_locked_once(
    settings, messages, unhurried
):
    """A run the row holds is entered again for its next level: its row read and written once."""
    allow(settings, 100)
    runs = runs_in_one_workspace("levels", [chain(2, expression="'ok'") for _ in range(5)])
    messages.clear()
    [batch] = dispatch.messages_for(first_tasks(runs))
    with CaptureQueriesContext(connection) as queries:
        deliver(batch)
    for run in runs:
        run.refresh_from_db()
        assert run.state == "succeeded", run.error
        assert run.output == {"output": {"n1": "ok"}}
    assert_each_node_once(runs)
    sqls = [q["sql"] for q in queries.captured_queries]
    transactions = "\n".join(sqls).split("COMMIT")
    assert len(transactions) - 1 == 1, "four levels of five runs in one transaction"
    locked = re.findall(r"FROM runs_run WHERE id = '([0-9a-f-]+)'", transactions[0])
    assert locked == sorted({str(run.pk).replace("-", "") for run in runs}), "once each, in order"
    assert sum(1 for sql in sqls if sql.startswith("UPDATE runs_run SET")) == 5
    assert sum(1 for sql in sqls if sql.startswith("INSERT INTO runs_runevent")) == 1
    assert messages == [], "nothing went back to the broker"
