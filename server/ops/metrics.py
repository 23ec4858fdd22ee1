"""The application's Prometheus metrics, counted where run events are published.

Every transition's committed events pass through ``runs.publisher``, in
whichever process made it (an API request, a worker thread or prefork child),
so one call there counts runs, nodes, tokens and cost without a query: the
events carry what is counted, and a node's type comes from the run's pinned
graph, which that process has already cached. The values live in the process
group's multiprocess files (server/ops/multiproc.py); ``registry()`` adds
them up for a scrape.

What only the broker or the database knows (queue lengths, active runs) is
read at scrape time by the API (server/site/metrics.py); its names are listed
here too, so the dashboard test checks one module.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.conf import settings
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

logger = logging.getLogger(__name__)

RUNS = Counter("agentloom_runs", "Run transitions, by the state entered.", ["state"], registry=None)
NODES = Counter(
    "agentloom_nodes", "Node transitions, by node type and state entered.", ["type", "state"],
    registry=None,
)  # fmt: skip
NODE_DURATION = Histogram(
    "agentloom_node_duration_seconds",
    "Time from a node's start to its success, by node type.",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
    registry=None,
)
TOKENS = Counter("agentloom_tokens", "Model tokens, by kind.", ["kind"], registry=None)
COST = Counter("agentloom_cost_usd", "Model cost in US dollars.", registry=None)
WEBSOCKETS = Gauge(
    "agentloom_websockets", "Open, authorised websockets.", multiprocess_mode="livesum",
    registry=None,
)  # fmt: skip
PUBLISH_DROPPED = Counter(
    "agentloom_publish_dropped",
    "Live messages dropped because the channel layer fell behind (sockets read the event log).",
    registry=None,
)

# Read at scrape time by the API (server/site/metrics.py).
QUEUE_DEPTH = "agentloom_queue_depth"
RUNS_ACTIVE = "agentloom_runs_active"
SCRAPE_TIME = [QUEUE_DEPTH, RUNS_ACTIVE]

# The series names a query can use: a counter's ``_total``, a histogram's three.
_SERIES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
NAMES = frozenset(
    family.name + suffix
    for metric in (RUNS, NODES, NODE_DURATION, TOKENS, COST, WEBSOCKETS, PUBLISH_DROPPED)
    for family in metric.describe()
    for suffix in _SERIES[family.type]
) | frozenset(SCRAPE_TIME)

_RUN_STATES = {
    "run.queued": "queued",
    "run.started": "running",
    "run.succeeded": "succeeded",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
}
_NODE_STATES = {
    "node.queued": "queued",
    "node.started": "running",
    "node.retrying": "retrying",
    "node.waiting": "waiting",
    "node.succeeded": "succeeded",
    "node.failed": "failed",
    "node.skipped": "skipped",
}


class _Event(Protocol):
    type: str
    node_id: str
    data: dict[str, Any]


def count_events(events: Iterable[_Event], node_type: Callable[[str], str]) -> None:
    """Count committed events; ``node_type`` names a node of the run (asked for node events)."""
    for event in events:
        state = _RUN_STATES.get(event.type)
        if state is not None:
            RUNS.labels(state).inc()
            continue
        state = _NODE_STATES.get(event.type)
        if state is None:
            continue  # tokens, logs, handoffs: not transitions
        try:
            kind = node_type(event.node_id)
        except Exception:
            # Counting must never cost the live update it rides along with.
            logger.warning("no node type for %s", event.node_id, exc_info=True)
            kind = "unknown"
        NODES.labels(kind, state).inc()
        if state == "succeeded":
            _count_success(kind, event.data)


def _count_success(kind: str, data: dict[str, Any]) -> None:
    NODE_DURATION.labels(kind).observe(data.get("duration_ms", 0) / 1000)
    usage = data.get("usage") or {}
    for name in ("prompt", "completion"):
        if usage.get(f"{name}_tokens"):
            TOKENS.labels(name).inc(usage[f"{name}_tokens"])
    if data.get("cost_usd"):
        COST.inc(data["cost_usd"])


def registry() -> CollectorRegistry:
    """The process group's metrics, added up from its files."""
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def serve_worker_metrics() -> int:
    """Serve the group's metrics on ``AGENTLOOM_METRICS_PORT`` from the worker's main process."""
    config = settings.AGENTLOOM_METRICS
    server, _ = start_http_server(config["port"], addr=config["host"], registry=registry())
    port = int(server.server_port)
    logger.info("metrics at http://%s:%d/metrics", config["host"], port)
    return port
