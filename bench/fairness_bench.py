"""Fairness figures of the hardening issue: one workspace's flood must not hold another's runs.

Usage: .venv/bin/python -m bench.fairness_bench [--runs 50] [--width 1000] [...]
(see --help; ``--runs 5 --width 200 --b-runs 8`` is a quick version). On a
fresh bench database and the processes of bench/harness.py:

1. idle: workspace B starts a 3-node run (input → transformer → output) every
   ``--interval`` seconds, alone on the system;
2. flood: workspace A starts ``--runs`` runs of a 1 → ``--width`` → 1 fan-out of
   no-op transformers (every branch queued at once), and meanwhile B starts its
   3-node runs at the same pace until A's runs have all finished.

For B it prints the time from the POST to ``run.started`` and to
``run.succeeded``, p50 and p95, idle and under the flood, and the ratio flood
p95 ÷ idle p95 (goal ≤ 2). Bounded by ``--max-seconds``; isolate it with
AGENTLOOM_BENCH_DB and REDIS_URL.
"""

import argparse
import logging
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.harness import deployment, percentile, start_processes, stop_processes


@dataclass
class Workspace:
    client: httpx.Client
    workspace_id: str

    def create(self, doc: dict[str, Any]) -> str:
        response = self.client.post(
            "/api/v1/workflows/", json={"document": doc, "workspace": self.workspace_id}
        )
        body = response.raise_for_status().json()
        errors = [p for p in body["problems"] if p["severity"] == "error"]
        assert not errors, errors
        return str(body["id"])

    def start(self, workflow_id: str, inputs: dict[str, Any] | None = None) -> str:
        response = self.client.post(
            f"/api/v1/workflows/{workflow_id}/runs/", json={"inputs": inputs or {}}
        )
        return str(response.raise_for_status().json()["id"])


@dataclass
class Posted:
    """B's runs with the wall time just before each POST."""

    at: dict[uuid.UUID, float] = field(default_factory=dict)

    def post(self, workspace: Workspace, workflow_id: str) -> None:
        before = time.time()
        self.at[uuid.UUID(workspace.start(workflow_id))] = before


def _second_workspace() -> tuple[str, str]:
    """Workspace B, owned by a second user: (workspace id, that user's token)."""
    from django.contrib.auth import get_user_model

    from server.accounts.services import create_token, create_workspace

    user = get_user_model().objects.create_user("bench-b", password="bench-b")
    workspace = create_workspace(owner=user, name="Bench B")
    workspace.max_running_runs = 10_000
    workspace.save()
    return str(workspace.pk), create_token(user=user, name="bench-b")[1]


def _three_nodes() -> dict[str, Any]:
    from tests.support.documents import document, edge, node

    return document(
        [
            node("input", "input"),
            node("shape", expression="{'ok': true}"),
            node("output", "output"),
        ],
        [edge("input", "shape"), edge("shape", "output")],
    )


def _unfinished(run_ids: list[Any]) -> int:
    from server.runs.models import Run

    return Run.objects.filter(pk__in=run_ids, state__in=["queued", "running"]).count()


def _wait_all(run_ids: list[Any], deadline: float) -> int:
    """Wait until none of the runs is queued or running; the number still unfinished."""
    while (left := _unfinished(run_ids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _latencies(posted: Posted) -> tuple[list[float], list[float], int]:
    """(POST → run.started, POST → run.succeeded) in seconds, and how many did not succeed."""
    from server.runs.models import Run, RunEvent

    started = dict(
        RunEvent.objects.filter(run_id__in=posted.at, type="run.started").values_list(
            "run_id", "ts"
        )
    )
    finished = dict(
        Run.objects.filter(pk__in=posted.at, state="succeeded").values_list("pk", "finished_at")
    )
    to_start = [started[r].timestamp() - at for r, at in posted.at.items() if r in started]
    to_end = [finished[r].timestamp() - at for r, at in posted.at.items() if r in finished]
    return to_start, to_end, len(posted.at) - len(to_end)


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=120)


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    return f"p50 {statistics.median(values):.2f} s, p95 {percentile(values, 95):.2f} s"


def _ratio(flood: list[float], idle: list[float]) -> str:
    if not flood or not idle:
        return "n/a"
    return f"{percentile(flood, 95) / max(percentile(idle, 95), 1e-3):.1f} times"


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Workspace B's 3-node runs, idle and while workspace A floods the workers."
    )
    parser.add_argument("--runs", type=int, default=50, help="workspace A's fan-out runs")
    parser.add_argument("--width", type=int, default=1000, help="branches of A's fan-out")
    parser.add_argument("--b-runs", type=int, default=20, help="B's runs on the idle system")
    parser.add_argument("--interval", type=float, default=1.0, help="s between B's runs")
    parser.add_argument("--max-seconds", type=float, default=900, help="bound on the flood")
    args = parser.parse_args()

    deploy = deployment()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    from tests.support.documents import fan_out

    b_workspace, b_token = _second_workspace()
    processes, base = start_processes()
    try:
        with _client(base, deploy.token) as a_client, _client(base, b_token) as b_client:
            a = Workspace(a_client, deploy.workspace_id)
            b = Workspace(b_client, b_workspace)
            small = b.create(_three_nodes())
            big = a.create(fan_out(args.width))

            idle = Posted()
            for _ in range(args.b_runs):
                idle.post(b, small)
                time.sleep(args.interval)
            _wait_all(list(idle.at), time.monotonic() + 120)

            flood_runs: list[str] = []

            def flood() -> None:
                for _ in range(args.runs):
                    flood_runs.append(a.start(big))

            flooding = threading.Thread(target=flood)
            started = time.monotonic()
            deadline = started + args.max_seconds
            flooding.start()
            during = Posted()
            while time.monotonic() < deadline and (flooding.is_alive() or _unfinished(flood_runs)):
                during.post(b, small)
                time.sleep(args.interval)
            flooding.join()
            unfinished_a = _wait_all(flood_runs, deadline)
            flood_seconds = time.monotonic() - started
            unfinished_b = _wait_all(list(during.at), time.monotonic() + 300)
    finally:
        stop_processes(processes)

    idle_start, idle_end, idle_failed = _latencies(idle)
    flood_start, flood_end, flood_failed = _latencies(during)
    nodes = args.runs * (args.width + 2)
    print(
        f"workspace A: {args.runs} runs of a 1 → {args.width} → 1 fan-out of no-op transformers "
        f"({nodes} nodes) in {flood_seconds:.0f} s ({nodes / flood_seconds:.0f} nodes/s; "
        f"{unfinished_a} unfinished at the time limit)"
    )
    print(
        f"workspace B idle ({len(idle.at)} runs, one every {args.interval:g} s): "
        f"POST → run.started {_spread(idle_start)}; POST → run.succeeded {_spread(idle_end)} "
        f"({idle_failed} not succeeded)"
    )
    print(
        f"workspace B during A's flood ({len(during.at)} runs): POST → run.started "
        f"{_spread(flood_start)}; POST → run.succeeded {_spread(flood_end)} ({flood_failed} not "
        f"succeeded, {unfinished_b} unfinished)"
    )
    print(
        f"ratio flood p95 ÷ idle p95: to run.started {_ratio(flood_start, idle_start)}, "
        f"to run.succeeded {_ratio(flood_end, idle_end)} (goal ≤ 2)"
    )


if __name__ == "__main__":
    main()
