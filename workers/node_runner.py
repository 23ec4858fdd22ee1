"""What a worker does with one node task: claim, gather input, execute, record.

The state changes are the runs service's; the decisions are the engine's;
this module only wires them to the model layer and keeps a running model call
honest (heartbeats, stop checks, coalesced token batches).
"""

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection

from server.core.limits import engine_limits
from server.runs import pinned, selectors, services
from server.runs.dispatch import run_stop_signalled
from server.runs.outputs import StoredOutput, preview, store_output
from workers.engine.document import AGENT_TYPES, Graph
from workers.engine.expressions import ExpressionError
from workers.engine.hashing import input_hash
from workers.engine.prompts import build_messages
from workers.engine.scheduling import node_output_for_control
from workers.llm.calls import call_model
from workers.llm.types import ModelCallError, ModelRequest
from workers.token_streams import token_streams

logger = logging.getLogger(__name__)


def run_node(run_id: str, node_id: str, *, worker: str) -> None:
    claim = services.claim_node(run_id, node_id, worker=worker)
    if claim is None:
        return
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
            result = services.NodeResult(
                output=reused,
                node_input=_recordable(node_input),
                config_hash=config_hash,
                input_hash=hash_of_input,
                reused=True,
            )
        else:
            result = _execute(claim, graph, node_input, config_hash, hash_of_input)
    except ExpressionError as exc:
        error = services.NodeError(exc.code, exc.message)
        services.fail_node(claim, error, node_input=_recordable(node_input))
        return
    except ModelCallError as exc:
        if exc.code != "cancelled":
            error = services.NodeError(exc.code, exc.message, retryable=exc.retryable)
            services.fail_node(claim, error, node_input=_recordable(node_input))
        return
    services.succeed_node(claim, result)


def _recordable(node_input: Any) -> Any:
    """The input as kept on the node run: whole when small, else a preview."""
    if node_input is None:
        return None
    size = StoredOutput.size_of(node_input)
    if size <= engine_limits().max_inline_output_bytes:
        return node_input
    return {"$truncated": True, "bytes": size, "preview": preview(node_input)}


def _execute(
    claim: services.Claim,
    graph: Graph,
    node_input: dict[str, Any],
    config_hash: str,
    hash_of_input: str,
) -> services.NodeResult:
    limits = engine_limits()
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    cost_usd = 0.0
    if claim.node_type in AGENT_TYPES:
        output = _call_agent(claim, graph, node_input)
        usage, cost_usd = output["usage"], output["cost_usd"]
    else:
        output = node_output_for_control(graph, claim.node_id, node_input, limits=limits)
    return services.NodeResult(
        output=store_output(claim.run_id, claim.node_id, claim.attempt, output),
        node_input=_recordable(node_input),
        config_hash=config_hash,
        input_hash=hash_of_input,
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
        cost_usd=cost_usd,
    )


def _call_agent(claim: services.Claim, graph: Graph, node_input: dict[str, Any]) -> dict[str, Any]:
    config = graph.agent_config(claim.node_id)
    system, user = build_messages(graph, claim.node_id, node_input, limits=engine_limits())
    options = dict(config.extra)
    if graph.nodes[claim.node_id].type == "coordinator":
        options["route_labels"] = [e.label for e in graph.out_edges(claim.node_id) if e.label]
    openai_compatible = config.model.startswith("openai/") and settings.AGENTLOOM_OPENAI_API_BASE
    request = ModelRequest(
        model=config.model,
        system_prompt=system,
        user_prompt=user,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        timeout_s=config.timeout_s,
        stream=config.stream,
        response_format=config.response_format,
        attempt=claim.attempt,
        options=options,
        api_base=settings.AGENTLOOM_OPENAI_API_BASE if openai_compatible else None,
        api_key=settings.AGENTLOOM_OPENAI_API_KEY if openai_compatible else None,
    )
    with RunningNode(claim) as watch:
        result = call_model(request, on_delta=watch.on_delta, should_stop=watch.should_stop)
    return result.as_output()


class RunningNode:
    """Keeps a model call honest while it runs.

    A background thread heartbeats (and learns when the claim is lost:
    cancelled, reaped, run failed). ``should_stop`` is asked between tokens:
    it reads the cache's stop signal at most every 100 ms, so a cancel is seen
    well within SPEC §3's 2 s. Streamed text goes to the process's
    ``token_streams``, and only up to the inline output limit: past it the
    event log would hold a second copy of an answer that object storage keeps.
    """

    _STOP_POLL_S = 0.1

    def __init__(self, claim: services.Claim) -> None:
        self.claim = claim
        self._heartbeat_interval = settings.AGENTLOOM_RUNS["heartbeat_interval_s"]
        self._streamed_bytes = 0
        self._stream_capped = False
        self._stream_limit = engine_limits().max_inline_output_bytes
        self._last_stop_poll = 0.0
        self._lost = threading.Event()
        self._done = threading.Event()
        self._heart = threading.Thread(
            target=self._beat, name=f"heartbeat-{claim.node_id}", daemon=True
        )

    def __enter__(self) -> "RunningNode":
        # Hand the connection back while the model thinks: a slow call must
        # not hold one of the pool's connections for seconds.
        connection.close()
        self._heart.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._heart.join(timeout=5)
        token_streams.flush_run(self.claim.run_id)
        token_streams.forget(self.claim)

    def _beat(self) -> None:
        while not self._done.wait(self._heartbeat_interval):
            # A missed beat is tolerated: the reaper waits for several.
            try:
                if not services.heartbeat(self.claim):
                    self._lost.set()
                    return
            except Exception:
                logger.warning("heartbeat failed for %s", self.claim.node_id, exc_info=True)
            finally:
                connection.close()

    def should_stop(self) -> bool:
        if self._lost.is_set() or token_streams.is_lost(self.claim):
            return True
        now = time.monotonic()
        if now - self._last_stop_poll >= self._STOP_POLL_S:
            self._last_stop_poll = now
            if run_stop_signalled(str(self.claim.run_id)):
                self._lost.set()
        return self._lost.is_set()

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
        services.record_log(
            self.claim,
            "warning",
            f"Streaming stopped after {self._stream_limit:,} bytes; "
            "the whole answer is in the node's output.",
        )
        connection.close()
