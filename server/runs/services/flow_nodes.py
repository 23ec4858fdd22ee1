"""`workflow` and `map` nodes (SPEC §12): child runs started, counted and turned into an output.

A ready node of these types waits (``waiting``: no worker, no slot). Once
that is committed its ``node.waiting`` event reaches ``on_run_events`` (a
receiver of ``run_events_committed``), which calls ``advance``. The end of
each of its child runs asks for an advance task instead (``request_advance``):
it queues behind the children already queued, and every child that ends
before it runs is counted by it, so a map's children cost one advance for
many ends rather than one each (ends arriving together are grouped further:
see ``advance``). ``advance`` holds the parent run's lock and works
only from rows: what the node stored when it began (the evaluated
inputs, or the list of items, in ``NodeRun.input``) and its child runs
(``Run.parent_run``/``parent_node``/``parent_step``, unique). It starts what
is missing (the first child; the next iteration; more items while fewer than
``max_parallel`` run) and, once the children decide it, records the node's
end through ``execution`` like any node's (compare-and-set from ``waiting``).
A lost after-commit call or advance task (a crash between commit and call,
a worker killed with the task) is repaired by the reaper (``sweep``): it
advances every such node with no child left running; while children still
run, the next one to end asks again once the lost request has expired.
So a duplicate call, a crash or two at once change nothing twice: a child of
a step is found rather than started again, and the end is one compare-and-set.

A ``workflow`` node's children are its iterations (``parent_step`` 1, 2, …);
a ``map`` node's are its items (``parent_step`` = the item's index).
"""

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q

from server.core.errors import Conflict
from server.core.limits import engine_limits
from server.runs import dispatch, pinned, selectors, statements
from server.runs.journal import RunJournal
from server.runs.models import TERMINAL_RUN_STATES, NodeRun, NodeState, Run, RunEvent, RunState
from server.runs.outputs import StoredOutput, store_output
from server.runs.services.approvals import waiting_claim
from server.runs.services.child_runs import Child, ChildRunError, Target, child_target, start_many
from server.runs.services.execution import Claim, NodeError, NodeResult, fail_node, succeed_node
from server.runs.services.start import transition
from server.runs.services.stopping import cancel_run
from workers.engine.document import Graph
from workers.engine.expressions import (
    ExpressionBudget,
    ExpressionError,
    evaluate,
    evaluate_condition,
)
from workers.engine.flow import (
    CHILD_NODE_TYPES,
    MAX_MAP_ITEMS,
    WAITING_KIND,
    ChildConfig,
    ChildResult,
    as_items,
    child_error,
    item_inputs,
    iteration_inputs,
    map_output,
)
from workers.engine.hashing import input_hash

logger = logging.getLogger(__name__)

RUN_ENDS = frozenset({"run.succeeded", "run.failed", "run.cancelled"})
_FAILED = (RunState.FAILED, RunState.CANCELLED)
_LIVE = (RunState.QUEUED, RunState.RUNNING)
# Child ends reported per transaction: a bound on one call's work (the rest
# are reported by the next call, which the reaper makes if nothing else does).
_REPORTS_PER_STEP = 1000
# An advance task asked for and not begun stands for this long for the ends
# that follow: past it (the task was lost), the next end asks again.
_ADVANCE_REQUEST_S = 10
# Items read one by one (a JSON path each) when starting at most this many
# children; more (a map's first batch after a crash) read the whole list once.
_ITEMS_BY_PATH = 16


def on_run_events(sender: Any, run: Run, events: list[RunEvent], **kwargs: Any) -> None:
    """After a commit: start the children of nodes that began waiting; count a child's end.

    Never raises: it runs among a transition's after-commit effects, and what
    it could not do the reaper does (``sweep``).
    """
    try:
        for event in events:
            if event.type == "node.waiting" and event.data.get("kind") == WAITING_KIND:
                advance(run.pk, event.node_id)
        if _parent_waits(run) and any(e.type in RUN_ENDS for e in events):
            request_advance(run.parent_run_id, run.parent_node)
    except Exception:
        logger.exception("could not advance a node waiting for child runs (the reaper will)")


def _parent_waits(run: Run) -> bool:
    """Whether the run is the child of a map or workflow node (an agent's tool polls its own)."""
    if run.parent_run_id is None:
        return False
    return pinned.node_type(run.parent_run_id, run.parent_node) in CHILD_NODE_TYPES


def advance_request_key(run_id: Any, node_id: str) -> str:
    """The cache key that stands for an advance of the node queued and not begun."""
    return f"agentloom:advance-requested:{run_id}:{node_id}"


def request_advance(run_id: Any, node_id: str) -> None:
    """Queue an advance of the node, unless one is queued that has not begun.

    Without the cache or the broker the advance is made here and now.
    """
    key = advance_request_key(run_id, node_id)
    try:
        if not cache.add(key, 1, timeout=_ADVANCE_REQUEST_S):
            return
        dispatch.send_advance(str(run_id), node_id)
    except dispatch.PUBLISH_ERRORS:
        logger.warning("could not queue an advance of %s/%s; advancing now", run_id, node_id)
        with contextlib.suppress(*dispatch.PUBLISH_ERRORS):
            cache.delete(key)
        advance(run_id, node_id)


def advance_requested(run_id: Any, node_id: str) -> None:
    """The queued advance: from now on an end asks for another, which counts what this misses."""
    cache.delete(advance_request_key(run_id, node_id))
    advance(run_id, node_id)


@dataclass(frozen=True)
class _End:
    """How a waiting node ends: an output (or one reused from the resumed run) or an error."""

    output: Any = None
    reused: StoredOutput | None = None
    error: NodeError | None = None


def advance(run_id: Any, node_id: str) -> None:
    """Report the children that ended, start the missing ones or record the node's end.

    Nothing if the node no longer waits. The ends reported are those of every
    child not reported yet (``Run.reported_to_parent``), so children ending
    together are counted by whichever call comes first, in one transaction.

    Ends are grouped: a call that finds another one advancing the node (its
    advisory lock, only ever tried) leaves its child's end to that one instead
    of queueing on the parent run's lock. The end was committed before the
    try, so the holder, which looks again after its own commit, sees it; hence
    called outside any transaction (after a commit, or by the reaper).
    """
    while _advance_once(run_id, node_id):
        pass


def _advance_once(run_id: Any, node_id: str) -> bool:
    """One advance; whether children ended meanwhile that are not reported yet."""
    node = (
        NodeRun.objects.filter(
            run_id=run_id,
            node_id=node_id,
            node_type__in=CHILD_NODE_TYPES,
            state=NodeState.WAITING,
        )
        .defer("input", "output")
        .first()
    )
    if node is None:
        return False
    claim = waiting_claim(node)
    with transaction.atomic():
        if not statements.try_advance_lock(run_id, node_id):
            return False
        with transition(run_id) as journal:
            if journal.run.state != RunState.RUNNING:
                return False
            held = NodeRun.objects.filter(pk=node.pk, state=NodeState.WAITING, attempt=node.attempt)
            if not held.exists():
                return False
            step = _Step(journal, pinned.graph_for_version(claim.version_id), claim, node.pk)
            step.report_ends()
            end = step.run()
    if end is not None:
        _settle(claim, node.pk, end)
        return False
    return step.children.filter(state__in=TERMINAL_RUN_STATES, reported_to_parent=False).exists()


class _Step:
    """One advance of a waiting node, under its run's lock."""

    def __init__(self, journal: RunJournal, graph: Graph, claim: Claim, pk: int) -> None:
        self.journal = journal
        self.graph = graph
        self.claim = claim
        self.pk = pk
        self.node_id = claim.node_id
        self.config = ChildConfig.from_config(claim.node_type, graph.nodes[claim.node_id].config)
        self.children = Run.objects.filter(parent_run_id=claim.run_id, parent_node=claim.node_id)
        self._target: Target | None = None
        self.reported = False

    @property
    def _step_key(self) -> str:
        return "index" if self.config.is_map else "iteration"

    def report_ends(self) -> None:
        """A ``node.child`` for each child that ended since the last report, in step order."""
        ended = list(
            self.children.filter(state__in=TERMINAL_RUN_STATES, reported_to_parent=False)
            .order_by("parent_step")
            .values_list("pk", "parent_step", "state", "error")[:_REPORTS_PER_STEP]
        )
        if not ended:
            return
        Run.objects.filter(pk__in=[pk for pk, *_ in ended]).update(reported_to_parent=True)
        for pk, step, state, error in ended:
            data: dict[str, Any] = {"child_run_id": str(pk), self._step_key: step, "state": state}
            if error:
                data["error"] = error
            self.journal.emit("node.child", self.node_id, **data)
        self.reported = True

    def run(self) -> _End | None:
        try:
            stored = self._stored()
            if isinstance(stored, _End):
                return stored
            if self.config.is_map:
                return self._map(stored["total"])
            return self._loop(stored["inputs"])
        except ChildRunError as exc:
            return _End(error=NodeError(exc.code, f"could not start a child run: {exc.message}"))

    # Beginning: the node's input, evaluated once and kept.

    def _stored(self) -> dict[str, Any] | _End:
        """What the node stored when it began; evaluated and stored now if it has not begun."""
        stored = NodeRun.objects.filter(pk=self.pk).values_list("input__total", "input__inputs")
        total, inputs = stored.get()
        if total is not None or inputs is not None:
            return {"total": total, "inputs": inputs}
        return self._begin()

    def _begin(self) -> dict[str, Any] | _End:
        claim = self.claim
        sources = [edge.source for edge in self.graph.in_edges(self.node_id)]
        rows = statements.node_rows(claim.run_id, sources)[1] if sources else {}
        node_input = selectors.node_input(self.graph, self.node_id, rows, claim.run_inputs)
        hashes = {
            "input_hash": input_hash(node_input),
            "config_hash": pinned.config_hash(claim.version_id, self.node_id),
        }
        NodeRun.objects.filter(pk=self.pk).update(**hashes)
        reused = selectors.reusable_output(
            claim.resumed_from_id, self.node_id, hashes["config_hash"], hashes["input_hash"]
        )
        if reused is not None:
            return _End(reused=reused)
        limits = engine_limits()
        budget = ExpressionBudget.for_node(limits)
        expression = self.config.items if self.config.is_map else self.config.inputs
        try:
            value = (
                evaluate(expression, node_input, limits=limits, budget=budget) if expression else {}
            )
        except ExpressionError as exc:
            what = "items" if self.config.is_map else "inputs"
            return _End(error=NodeError(exc.code, f"{what}: {exc.message}"))
        if self.config.is_map:
            items = as_items(value)
            if len(items) > MAX_MAP_ITEMS:
                return _End(
                    error=NodeError(
                        "too_many_items",
                        f"items gave {len(items):,} items; a map runs at most {MAX_MAP_ITEMS:,}",
                    )
                )
            stored: dict[str, Any] = {"total": len(items), "items": items}
            NodeRun.objects.filter(pk=self.pk).update(input=stored)
            self._progress(0, len(items), 0)
            self._start_items(0, items[: self.config.max_parallel])
            return {"total": len(items)}
        if not isinstance(value, dict):
            return _End(error=NodeError("invalid_inputs", "inputs must give an object"))
        NodeRun.objects.filter(pk=self.pk).update(input={"inputs": value})
        return {"inputs": value}

    # A workflow node: one child at a time, repeated until its condition holds.

    def _loop(self, base: dict[str, Any]) -> _End | None:
        latest = (
            self.children.order_by("-parent_step")
            .values("parent_step", "state", "output", "error", "reported_to_parent")
            .first()
        )
        if latest is None:
            self._start([(1, base)])
            return None
        if not latest["reported_to_parent"]:
            return None
        iteration = latest["parent_step"] or 0
        result = ChildResult(latest["state"], latest["output"], latest["error"])
        if not result.succeeded:
            return _End(error=NodeError(*child_error(result, f"iteration {iteration}")))
        condition = self.config.repeat_until
        if condition is None:
            return _End(output=result.output)
        limits = engine_limits()
        try:
            done = evaluate_condition(
                condition,
                {"output": result.output, "iteration": iteration},
                limits=limits,
                budget=ExpressionBudget.for_node(limits),
            )
        except ExpressionError as exc:
            return _End(error=NodeError(exc.code, f"repeat_until: {exc.message}"))
        if done:
            return _End(output=result.output)
        if iteration >= self.config.max_iterations:
            self.journal.emit(
                "node.log",
                self.node_id,
                level="warning",
                message=f"repeat_until still false after {iteration} iterations "
                "(max_iterations); the last output is the node's.",
            )
            return _End(output=result.output)
        self._start([(iteration + 1, iteration_inputs(base, result.output, self._inputs()))])
        return None

    # A map node: one child per item, at most max_parallel at once.

    def _map(self, total: int) -> _End | None:
        counted = Q(state__in=TERMINAL_RUN_STATES, reported_to_parent=True)
        counts = self.children.aggregate(
            started=Count("pk"),
            ended=Count("pk", filter=counted),
            failed=Count("pk", filter=counted & Q(state__in=_FAILED)),
        )
        started, ended, failed = counts["started"], counts["ended"], counts["failed"]
        if self.reported:
            self._progress(ended, total, failed)
        if failed and self.config.on_item_error == "fail":
            first = (
                self.children.filter(state__in=_FAILED, reported_to_parent=True)
                .order_by("parent_step")
                .values("parent_step", "state", "error")
                .first()
            )
            if first is not None:
                result = ChildResult(first["state"], None, first["error"])
                index = first["parent_step"]
                return _End(error=NodeError(*child_error(result, f"item {index}")))
        if ended >= total:
            rows = self.children.order_by("parent_step").values_list("state", "output", "error")
            results = [ChildResult(state, output, error) for state, output, error in rows]
            return _End(output=map_output(results, self.config.on_item_error))
        room = min(self.config.max_parallel - (started - ended), total - started)
        if room > 0:
            self._start_items(started, self._items(started, room))
        return None

    def _progress(self, done: int, total: int, failed: int) -> None:
        self.journal.emit("node.progress", self.node_id, done=done, total=total, failed=failed)

    def _items(self, start: int, count: int) -> list[Any]:
        """Items ``start`` to ``start + count`` of the stored list, without reading all of it."""
        if count <= _ITEMS_BY_PATH:
            paths = [f"input__items__{index}" for index in range(start, start + count)]
            return list(NodeRun.objects.filter(pk=self.pk).values_list(*paths).get())
        items = NodeRun.objects.filter(pk=self.pk).values_list("input__items", flat=True).get()
        return list(items[start : start + count])

    def _start_items(self, start: int, items: Iterable[Any]) -> None:
        declared = self._inputs()
        self._start(
            [
                (start + offset, item_inputs(item, start + offset, declared))
                for offset, item in enumerate(items)
            ]
        )

    # Children.

    def _child(self) -> Target:
        """The child workflow, looked up (and the depth limit checked) once per advance."""
        if self._target is None:
            self._target = child_target(self.claim, self.config.workflow, self.config.version)
        return self._target

    def _inputs(self) -> frozenset[str]:
        return self._child().declared

    def _start(self, steps: list[tuple[int, dict[str, Any]]]) -> None:
        """Children of these (step, inputs), started together: one INSERT, one publish."""
        children = [
            Child(step, inputs, self._earlier_child(step, inputs)) for step, inputs in steps
        ]
        started = start_many(self.claim, self._child(), children)
        for child, run in zip(children, started, strict=True):
            self.journal.emit(
                "node.child",
                self.node_id,
                child_run_id=str(run.pk),
                **{self._step_key: child.step},
                state=run.state,
            )

    def _earlier_child(self, step: int, inputs: dict[str, Any]) -> Run | None:
        """The same step's child in the run this one resumes, if it had the same inputs.

        The new child resumes it: each of its nodes whose hashes match keeps
        its output, so a child that succeeded runs none of its nodes again.
        """
        if self.claim.resumed_from_id is None:
            return None
        earlier = Run.objects.filter(
            parent_run_id=self.claim.resumed_from_id,
            parent_node=self.node_id,
            parent_step=step,
        ).first()
        if earlier is None or input_hash(earlier.inputs) != input_hash(inputs):
            return None
        return earlier


def _settle(claim: Claim, pk: int, end: _End) -> None:
    """Record the node's end; a failed node's children still running are cancelled."""
    stored_input = NodeRun.objects.filter(pk=pk).values_list("input", flat=True).get()
    hashes = NodeRun.objects.filter(pk=pk).values("config_hash", "input_hash").get()
    if end.error is not None:
        fail_node(claim, end.error, node_input=stored_input)
        live = Run.objects.filter(
            parent_run_id=claim.run_id, parent_node=claim.node_id, state__in=_LIVE
        ).values_list("pk", flat=True)
        for child_id in list(live):
            with contextlib.suppress(Conflict):
                cancel_run(child_id, reason="The node that started it failed.")
        return
    output = end.reused or store_output(claim.run_id, claim.node_id, claim.attempt, end.output)
    succeed_node(
        claim,
        NodeResult(
            output=output,
            node_input=stored_input,
            config_hash=hashes["config_hash"],
            input_hash=hashes["input_hash"],
            reused=end.reused is not None,
        ),
    )


def sweep() -> int:
    """The reaper's part: advance waiting nodes none of whose children still runs.

    They missed the call that should have moved them on (a crash right after
    a commit); advancing one that did not changes nothing.
    """
    running_child = Run.objects.filter(
        parent_run_id=OuterRef("run_id"), parent_node=OuterRef("node_id"), state__in=_LIVE
    )
    stuck = list(
        NodeRun.objects.filter(
            state=NodeState.WAITING,
            node_type__in=CHILD_NODE_TYPES,
            run__state=RunState.RUNNING,
        )
        .filter(~Exists(running_child))
        .values_list("run_id", "node_id")[:1000]
    )
    for run_id, node_id in stuck:
        advance(run_id, node_id)
    return len(stuck)
