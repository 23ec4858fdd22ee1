"""Chaos figures of the hardening issue: SIGKILLs survived, with nothing lost or duplicated.

Usage: .venv/bin/python -m bench.chaos_bench [--runs 100] [--kills 200] [...]
(see --help). The same code as tests/chaos/test_chaos.py, at full scale, on a
fresh bench database (bench/harness.py): runs of input → N agents → join →
summary agent → output, the agents calling the local OpenAI-compatible server
(tests/support/openai_server.py) on loopback, while worker processes of both
pools (agents: threads; control: prefork, main processes and pool children)
are SIGKILLed and replaced as an orchestrator would, Redis is restarted once
and the database's connections are terminated mid-run. Prints progress, then
SIGKILLs, runs, lost, duplicated and recovery times as plain lines; the
goal is ≥ 200 SIGKILLs across ≥ 100 runs with 0 lost and 0 duplicated.
Bounded by --max-seconds; isolate it with AGENTLOOM_BENCH_DB and REDIS_URL.
"""

import argparse
import logging
import time

import httpx

from bench.harness import deployment


class RunStarter:
    """Starts a run through the API; a POST that meets a just-terminated database
    connection may answer 5xx before anything is written: counted and tried again."""

    def __init__(self, client: httpx.Client, workflow_id: str) -> None:
        self.client = client
        self.url = f"/api/v1/workflows/{workflow_id}/runs/"
        self.errors = 0

    def __call__(self, tag: str) -> str:
        for _ in range(5):
            response = self.client.post(self.url, json={"inputs": {"tag": tag}})
            if response.status_code == 202:
                return str(response.json()["id"])
            self.errors += 1
            time.sleep(0.5)
        raise RuntimeError(f"no run started: {response.status_code} {response.text[:500]}")


def _progress(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="SIGKILL workers of both pools while fan-out/fan-in agent runs execute."
    )
    parser.add_argument("--runs", type=int, default=100, help="at least this many runs")
    parser.add_argument("--kills", type=int, default=200, help="at least this many SIGKILLs")
    parser.add_argument("--width", type=int, default=4, help="agents in the fan-out")
    parser.add_argument("--in-flight", type=int, default=8, help="runs going at once")
    parser.add_argument("--kill-interval", type=float, default=1.2, help="mean s between kills")
    parser.add_argument("--latency-ms", type=int, default=300, help="each model call's latency")
    parser.add_argument("--agents-workers", type=int, default=2)
    parser.add_argument("--control-workers", type=int, default=2)
    parser.add_argument("--db-terminations", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=900, help="bound on the sitting")
    args = parser.parse_args()

    deploy = deployment()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    from tests.support.chaos import (
        ChaosPlan,
        Fleet,
        chaos_env,
        fan_in_workflow,
        fleet_slots,
        run_chaos,
        start_beat,
    )
    from tests.support.chaos_checks import figures, judge
    from tests.support.openai_server import OpenAICompatibleServer
    from tests.support.processes import start_asgi

    plan = ChaosPlan(
        runs=args.runs,
        in_flight=args.in_flight,
        kills=args.kills,
        kill_interval_s=args.kill_interval,
        max_runs=args.runs * 4,
        max_seconds=args.max_seconds,
        db_terminations=args.db_terminations,
    )
    slots = fleet_slots(agents=args.agents_workers, control=args.control_workers)
    print(
        f"chaos: {args.width}-agent fan-out/fan-in runs, {args.in_flight} at once, model calls "
        f"of {args.latency_ms} ms; {args.agents_workers} agents (threads) + "
        f"{args.control_workers} control (prefork -c2) workers",
        flush=True,
    )
    with OpenAICompatibleServer() as model_server:
        env = chaos_env(model_server.base_url)
        server, base = start_asgi(workers=1, **env)
        beat = start_beat(env)
        headers = {"Authorization": f"Token {deploy.token}"}
        try:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                doc = fan_in_workflow(args.width, f"openai/slow-{args.latency_ms}")
                response = client.post("/api/v1/workflows/", json={"document": doc})
                start = RunStarter(client, response.raise_for_status().json()["id"])
                with Fleet(slots, env) as fleet:
                    log = run_chaos(fleet, plan, start, progress=_progress)
        finally:
            beat.stop()
            server.stop()
        verdict = judge(log, model_server.requests)
    for line in figures(log, verdict):
        print(line)
    print(
        f"worker processes started again by the supervisor: "
        f"{sum(slot.starts - 1 for slot in slots)} ({fleet.failed_starts} starts failed); "
        f"run POSTs answered other than 202 (then retried): {start.errors}"
    )
    for name, items in verdict.problems().items():
        print(f"PROBLEM {name}: {items}")


if __name__ == "__main__":
    main()
