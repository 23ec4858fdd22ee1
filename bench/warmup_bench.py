"""A new agents worker's first node, with the model layer warmed at start and without.

Usage: .venv/bin/python -m bench.warmup_bench [--rounds 3] [--delay 30]

On a fresh bench database (bench/harness.py): the API, a control worker and the
local OpenAI-compatible model server (tests/support/openai_server.py) on
loopback; a workflow input → agent (``openai/gpt-4o-mini``, answered by that
server through litellm) → output. Each round starts a new agents worker
(threads), as an orchestrator replaces a killed one, once with
AGENTLOOM_WARM_MODEL_LAYER=false (what every worker did before the warm-up)
and once with it on, and measures:

* waiting: the run is queued before the worker starts (a node given back by a
  killed worker, delivered at once): worker start → the agent node done;
* later: the run starts ``--delay`` s after the worker (a node the reaper sends
  again once its heartbeat is older than the timeout, 30 s by default): the
  run's POST → the agent node done.

Prints each value and the median per case and setting, and from each worker's
log how long it took to warm the model layer, when on.
"""

import argparse
import logging
import os
import re
import statistics
import time
from datetime import datetime
from typing import Any

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_warmup")

import httpx

from bench.harness import deployment

MODEL = "openai/gpt-4o-mini"
_WARM_LOG = re.compile(r"model layer warm in ([0-9.]+) s")


def _agent_done_at(client: httpx.Client, run_id: str, timeout_s: float = 300) -> float:
    """The wall-clock time the run's agent node finished (its ``finished_at``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}/").raise_for_status().json()
        if run["state"] in ("succeeded", "failed", "cancelled"):
            if run["state"] != "succeeded":
                raise RuntimeError(f"run {run_id} {run['state']}: {run['error']}")
            node = next(n for n in run["nodes"] if n["node_id"] == "a")
            return datetime.fromisoformat(node["finished_at"]).timestamp()
        time.sleep(0.05)
    raise TimeoutError(f"run {run_id} did not finish in {timeout_s} s")


def _round(client: httpx.Client, workflow_id: str, env: dict[str, str], delay_s: float) -> Any:
    from server.site.management.commands.serve import worker_command
    from tests.support.processes import ManagedProcess, process_env

    def start_worker() -> tuple[ManagedProcess, float]:
        name = f"warmup-{time.time_ns()}"
        args = worker_command("agents", "threads", 8, name=name, loglevel="INFO")
        started = time.time()
        return ManagedProcess("warmup-agents", args, process_env(**env)), started

    def stop(worker: ManagedProcess) -> None:
        worker.stop()
        warm = _WARM_LOG.search(worker.log())
        print(f"  worker: model layer warm in {warm[1] + ' s' if warm else '-'}", flush=True)

    def start_run() -> str:
        response = client.post(f"/api/v1/workflows/{workflow_id}/runs/", json={"inputs": {}})
        return str(response.raise_for_status().json()["id"])

    run_id = start_run()
    worker, started = start_worker()
    try:
        waiting = _agent_done_at(client, run_id) - started
    finally:
        stop(worker)
    worker, started = start_worker()
    try:
        time.sleep(max(0.0, started + delay_s - time.time()))
        posted = time.time()
        later = _agent_done_at(client, start_run()) - posted
    finally:
        stop(worker)
    return waiting, later


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=float, default=30.0, help="s from worker start to the run")
    args = parser.parse_args()
    deploy = deployment()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    from tests.support.documents import agent, document, edge, node
    from tests.support.openai_server import OpenAICompatibleServer
    from tests.support.processes import start_asgi, start_worker

    doc = document(
        [node("input", "input"), agent("a", model=MODEL), node("output", "output")],
        [edge("input", "a"), edge("a", "output")],
    )
    results: dict[tuple[str, bool], list[float]] = {}
    with OpenAICompatibleServer() as model_server:
        env = {
            "AGENTLOOM_OPENAI_API_BASE": model_server.base_url,
            "AGENTLOOM_OPENAI_API_KEY": "warmup-bench",
        }
        server, base = start_asgi(workers=1, **env)
        control = start_worker(
            "warmup-control", queues="control", pool="threads", loglevel="WARNING", **env
        )
        headers = {"Authorization": f"Token {deploy.token}"}
        try:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                response = client.post("/api/v1/workflows/", json={"document": doc})
                workflow_id = response.raise_for_status().json()["id"]
                for number in range(1, args.rounds + 1):
                    for warm in (False, True):
                        setting = {"AGENTLOOM_WARM_MODEL_LAYER": str(warm).lower()}
                        waiting, later = _round(client, workflow_id, env | setting, args.delay)
                        results.setdefault(("waiting", warm), []).append(waiting)
                        results.setdefault(("later", warm), []).append(later)
                        print(
                            f"round {number}, warm-up {'on ' if warm else 'off'}: "
                            f"waiting {waiting:.2f} s, later {later:.2f} s",
                            flush=True,
                        )
        finally:
            control.stop()
            server.stop()
    for case, what in [
        ("waiting", "worker start → first node done, node queued before the start"),
        ("later", f"run POST → node done, run {args.delay:g} s after the worker start"),
    ]:
        for warm in (False, True):
            values = results[(case, warm)]
            print(
                f"{what}, warm-up {'on ' if warm else 'off'}: median "
                f"{statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)})"
            )


if __name__ == "__main__":
    main()
