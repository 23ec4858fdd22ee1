"""What a worker does with one node task: claim, gather input, execute, record.

The state changes are the runs service's; the decisions are the engine's;
this module only wires them to the model layer, keeps every claimed node alive
until its end is recorded (heartbeats) and keeps a running model call honest
(stop checks, coalesced token batches).
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from server.core.limits import engine_limits
from server.credentials.resolution import model_access
from server.runs import pinned, selectors
from server.runs.dispatch import run_stop_signalled
from server.runs.outputs import StoredOutput, preview, store_output
from server.runs.services import execution
from server.runs.services.continuation import Continuation
from workers.engine.document import AGENT_TYPES, Graph
from workers.engine.expressions import ExpressionError
from workers.engine.hashing import input_hash
from workers.engine.prompts import build_messages
from workers.engine.scheduling import node_output_for_control
from workers.engine.tools import agent_tools
from workers.llm.calls import call_model
from workers.llm.types import ModelCallError, ModelRequest
from workers.runtime.agent_loop import AgentLoop, AgentLoopError
from workers.runtime.http_node import HttpNodeError, run_http_node
from workers.runtime.token_streams import token_streams

logger = logging.getLogger(__name__)

# A dropped database connection: the task is retried (tasks.py).
RETRIED_ERRORS = (OperationalError, InterfaceError)


def run_task(run_id: str, node_id: str, *, worker: str) -> None:
    """A node task: its node, then the control nodes that became ready, while the allowance lasts.

    Eager continuation (server/runs/services/continuation.py): the nodes its
    successes make ready that it keeps run here, without a trip through the
    broker. A kept node has no task of its own to retry: after a dropped
    database connection it goes back to the broker with the rest.
    """
    claim = execution.claim_node(run_id, node_id, worker=worker)
    if claim is None:
        return
    more = Continuation.for_task(worker, heartbeats)
    try:
        _run_held(claim, more)
        _run_kept(more)
    finally:
        _give_back(more)


def run_batch(nodes: list[tuple[str, str]], *, worker: str) -> None:
    """A batch task ((run id, node id) pairs, dispatch.py): those still free run as kept nodes."""
    more = Continuation.for_task(worker, heartbeats)
    try:
        more.take_batch([(run_id, node_id) for run_id, node_id in nodes])
        _run_kept(more)
    finally:
        _give_back(more)


def _run_kept(more: Continuation) -> None:
    """The kept nodes, pure control ones in groups, while the allowance lasts."""
    while more.held:
        if more.groupable():
            try:
                failed = more.run_together(_outcome)
            except RETRIED_ERRORS:
                logger.warning("kept nodes go back to the broker after an error")
                connection.close()
                return
            if failed is not None:
                failed_claim, error, node_input = failed
                execution.fail_node(failed_claim, error, node_input=_recordable(node_input))
            continue
        if (claim := more.next()) is None:
            return
        try:
            with heartbeats.holding(claim):
                _run_claimed(claim, keep_ready=more.keeper(claim))
        except RETRIED_ERRORS:
            logger.warning("%s goes back to the broker after an error", claim.node_id)
            connection.close()
            more.put_back(claim)
            return


def run_node(run_id: str, node_id: str, *, worker: str) -> None:
    """One node and only it: what its success makes ready is published."""
    claim = execution.claim_node(run_id, node_id, worker=worker)
    if claim is not None:
        _run_held(claim)


def _run_held(claim: execution.Claim, more: Continuation | None = None) -> None:
    """Run the node a task was sent for; a dropped connection retries the task."""
    with heartbeats.holding(claim):
        try:
            _run_claimed(claim, keep_ready=more.keeper(claim) if more else None)
        except RETRIED_ERRORS:
            _release(claim)
            raise


def _give_back(more: Continuation) -> None:
    """The kept nodes not started go back to the broker; if that fails, the reaper frees them."""
    if not more.held:
        return
    try:
        more.release()
    except RETRIED_ERRORS:
        connection.close()
        logger.warning("could not give kept nodes back after an error", exc_info=True)


def _release(claim: execution.Claim) -> None:
    """Give the lease back for the retry; if that fails too, the reaper frees the node."""
    try:
        connection.close()
        execution.release(claim)
    except RETRIED_ERRORS:
        logger.warning("could not release %s after an error", claim.node_id, exc_info=True)


def _run_claimed(claim: execution.Claim, *, keep_ready: execution.KeepReady | None) -> None:
    outcome = _outcome(claim)
    if outcome is None:
        return
    if isinstance(outcome, tuple):
        error, node_input = outcome
        execution.fail_node(claim, error, node_input=_recordable(node_input))
        return
    execution.succeed_node(claim, outcome, keep_ready=keep_ready)


def _outcome(
    claim: execution.Claim,
) -> execution.NodeResult | tuple[execution.NodeError, Any] | None:
    """The node's result, or its error and its input; None if its model call was cancelled."""
    node_id = claim.node_id
    graph = pinned.graph_for_version(claim.version_id)
    node_input: Any = None
    try:
        node_input = selectors.node_input(graph, node_id, claim.sources, claim.run_inputs)
        config_hash = pinned.config_hash(claim.version_id, node_id)
        hash_of_input = input_hash(node_input)
        reused = selectors.reusable_output(
            claim.resumed_from_id, node_id, config_hash, hash_of_input
        )
        if reused is not None:
            return execution.NodeResult(
                output=reused,
                node_input=_recordable(node_input),
                config_hash=config_hash,
                input_hash=hash_of_input,
                reused=True,
            )
        return _execute(claim, graph, node_input, config_hash, hash_of_input)
    except ExpressionError as exc:
        return execution.NodeError(exc.code, exc.message), node_input
    except (ModelCallError, HttpNodeError, AgentLoopError) as exc:
        if exc.code == "cancelled":
            return None
        return execution.NodeError(exc.code, exc.message, retryable=exc.retryable), node_input


def _recordable(node_input: Any) -> Any:
    """The input as kept on the node run: whole when small, else a preview."""
    if node_input is None:
        return None
    size = StoredOutput.size_of(node_input)
    if size <= engine_limits().max_inline_output_bytes:
        return node_input
    return {"$truncated": True, "bytes": size, "preview": preview(node_input)}


def _execute(
    claim: execution.Claim,
    graph: Graph,
    node_input: dict[str, Any],
    config_hash: str,
    hash_of_input: str,
) -> execution.NodeResult:
    limits = engine_limits()
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    cost_usd = 0.0
    record_with = None
    if claim.node_type in AGENT_TYPES:
        output = _call_agent(claim, graph, node_input, (config_hash, hash_of_input))
        usage, cost_usd = output["usage"], output["cost_usd"]
    elif claim.node_type == "http":
        output, record_with = run_http_node(claim, graph, node_input)
    else:
        output = node_output_for_control(
            graph, claim.node_id, node_input, limits=limits, budget=claim.budget
        )
    return execution.NodeResult(
        output=store_output(claim.run_id, claim.node_id, claim.attempt, output),
        node_input=_recordable(node_input),
        config_hash=config_hash,
        input_hash=hash_of_input,
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
        cost_usd=cost_usd,
        record_with=record_with,
    )


def _call_agent(
    claim: execution.Claim, graph: Graph, node_input: dict[str, Any], hashes: tuple[str, str]
) -> dict[str, Any]:
    config = graph.agent_config(claim.node_id)
    system, user = build_messages(
        graph, claim.node_id, node_input, limits=engine_limits(), budget=claim.budget
    )
    options = dict(config.extra)
    if graph.nodes[claim.node_id].type == "coordinator":
        options["route_labels"] = [e.label for e in graph.out_edges(claim.node_id) if e.label]
    # The key and endpoint of this workspace (docs/credentials.md), passed with the call.
    access = model_access(claim.workspace_id, config.model, config.extra.get("credential"))
    request = ModelRequest(
        model=access.model,
        system_prompt=system,
        user_prompt=user,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        timeout_s=config.timeout_s,
        stream=config.stream,
        response_format=config.response_format,
        attempt=claim.attempt,
        options=options,
        api_base=access.api_base,
        api_key=access.api_key,
        api_version=access.api_version,
        transport=access.transport,
    )
    tools = agent_tools(graph.nodes[claim.node_id].config)
    # The node run's expression time does not run while the model thinks.
    with claim.budget.paused(), RunningNode(claim) as watch:
        if tools.tools:
            loop = AgentLoop(
                claim,
                request,
                tools,
                hashes=hashes,
                budget=graph.settings.budget,
                should_stop=watch.should_stop,
            )
            return loop.run()
        result = call_model(request, on_delta=watch.on_delta, should_stop=watch.should_stop)
    return result.as_output()


Key = tuple[Any, str, int]


def _key(claim: execution.Claim) -> Key:
    return (claim.run_id, claim.node_id, claim.attempt)


class Heartbeats:
    """Keeps alive every node this process holds, from its claim to its recorded end.

    One thread per process beats each held node every ``heartbeat_interval_s``
    (an agent's ``running`` row, a control node's lease), so that a long
    prompt build, input read, transformer or edge decision is not taken for a
    lost worker and started again. A node that ends sooner, as most control
    nodes do, costs no write. A beat that finds the node no longer held
    (cancelled, reaped) marks it lost; a model call stops at its next check.
    """

    def __init__(self) -> None:
        # The node's claim and when it was last known alive (monotonic clock).
        self._held: dict[Key, tuple[execution.Claim, float]] = {}
        self._lost: set[Key] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, claim: execution.Claim) -> Iterator[None]:
        self.hold(claim)
        try:
            yield
        finally:
            self.drop(claim)

    def hold(self, claim: execution.Claim) -> None:
        """Beat this node from now on (a node running, or kept to run next)."""
        with self._lock:
            self._held[_key(claim)] = (claim, time.monotonic())
            # Started on first use in each process: a prefork child inherits no threads.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="heartbeats", daemon=True)
                self._thread.start()

    def drop(self, claim: execution.Claim) -> None:
        with self._lock:
            self._held.pop(_key(claim), None)
            self._lost.discard(_key(claim))

    def is_lost(self, claim: execution.Claim) -> bool:
        return _key(claim) in self._lost

    def _loop(self) -> None:
        interval = settings.AGENTLOOM_RUNS["heartbeat_interval_s"]
        while True:
            # Waking twice per interval, a node goes at most 1.5 intervals unbeaten.
            time.sleep(interval / 2)
            silent_since = time.monotonic() - interval
            with self._lock:
                due = [
                    claim
                    for key, (claim, alive_at) in self._held.items()
                    if alive_at <= silent_since and key not in self._lost
                ]
            if due:
                for claim in due:
                    self._beat(claim)
                connection.close()

    def _beat(self, claim: execution.Claim) -> None:
        beat_at = time.monotonic()
        try:
            alive = execution.heartbeat(claim)
        except Exception:
            # A missed beat is tolerated: the reaper waits for several.
            logger.warning("heartbeat failed for %s", claim.node_id, exc_info=True)
            connection.close()
            return
        key = _key(claim)
        with self._lock:
            if key not in self._held:
                return
            if alive:
                self._held[key] = (claim, beat_at)
            else:
                self._lost.add(key)


heartbeats = Heartbeats()


class RunningNode:
    """Keeps a model call honest while it runs.

    ``should_stop`` is asked between tokens: the node is lost when a heartbeat
    or a token batch found it no longer held (cancelled, reaped, run failed),
    and it reads the cache's stop signal at most every 100 ms, so a cancel is
    seen well within the 2 s a cancel may take (docs/run-semantics.md). Streamed
    text goes to the process's ``token_streams``, and only up to the inline
    output limit: past it the event log would hold a second copy of an answer
    that object storage keeps.
    """

    _STOP_POLL_S = 0.1

    def __init__(self, claim: execution.Claim) -> None:
        self.claim = claim
        self._streamed_bytes = 0
        self._stream_capped = False
        self._stream_limit = engine_limits().max_inline_output_bytes
        self._last_stop_poll = 0.0
        self._stopped = False

    def __enter__(self) -> "RunningNode":
        # Hand the connection back while the model thinks: a slow call must
        # not hold one of the pool's connections for seconds.
        connection.close()
        return self

    def __exit__(self, *exc_info: object) -> None:
        token_streams.flush_run(self.claim.run_id)
        token_streams.forget(self.claim)

    def should_stop(self) -> bool:
        if self._stopped or heartbeats.is_lost(self.claim) or token_streams.is_lost(self.claim):
            return True
        now = time.monotonic()
        if now - self._last_stop_poll >= self._STOP_POLL_S:
            self._last_stop_poll = now
            self._stopped = run_stop_signalled(str(self.claim.run_id))
        return self._stopped

    def on_delta(self, text: str) -> None:
        if self._stream_capped:
            return
        encoded = text.encode()
        room = self._stream_limit - self._streamed_bytes
        if len(encoded) <= room:
            self._streamed_bytes += len(encoded)
            token_streams.add(self.claim, text)
            return
        self._stream_capped = True
        token_streams.add(self.claim, encoded[:room].decode(errors="ignore"))
        token_streams.flush_run(self.claim.run_id)
        execution.record_log(
            self.claim,
            "warning",
            f"Streaming stopped after {self._stream_limit:,} bytes; "
            "the whole answer is in the node's output.",
        )
        connection.close()
