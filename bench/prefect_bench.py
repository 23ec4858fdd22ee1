"""Prefect 3's per-hop time on this machine, the peer of the engine's chain figure.

A plain Prefect 3 flow of N chained no-op tasks (each takes the previous
one's result) run in one process, its flow and task states sent to a Prefect
server that stores them in the same PostgreSQL as ours. Prints the median
and p99 of the flow's wall time divided by N over a few rounds, after one
warm-up round.

    .venv/bin/python -m bench.prefect_bench [--hops 200] [--rounds 5]

Prefect is not a dependency of Agentloom: the script installs it into a
throwaway virtual environment of its own (under AGENTLOOM_VAR_DIR or var/,
``bench-prefect-venv``, reused by later runs) with pip from PyPI, and starts
its server on a loopback port with analytics and the UI off. The Postgres
database ``agentloom_prefect_bench`` is dropped and created for each sitting.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PREFECT = "prefect>=3.4,<4"
DATABASE = "agentloom_prefect_bench"
POSTGRES = os.environ.get("AGENTLOOM_BENCH_POSTGRES", "postgres@127.0.0.1:5432")

# Runs inside Prefect's environment: one flow of `hops` chained tasks per round.
FLOW = """
import json, statistics, sys, time
from prefect import flow, task

@task
def step(value: int) -> int:
    return value + 1

@flow
def chain(hops: int) -> int:
    value = 0
    for _ in range(hops):
        value = step(value)
    return value

hops, rounds = int(sys.argv[1]), int(sys.argv[2])
chain(hops)  # warm-up: imports, the server's first writes
per_hop_ms = []
for _ in range(rounds):
    started = time.perf_counter()
    assert chain(hops) == hops
    per_hop_ms.append((time.perf_counter() - started) * 1000 / hops)
print(json.dumps(per_hop_ms))
"""


def _environment() -> Path:
    """Prefect's own virtual environment, created once."""
    home = Path(os.environ.get("AGENTLOOM_VAR_DIR", ROOT / "var")) / "bench-prefect-venv"
    python = home / "bin" / "python"
    if not python.exists():
        print(f"installing {PREFECT} into {home} (once)", flush=True)
        venv.create(home, with_pip=True)
    check = subprocess.run([python, "-c", "import prefect"], capture_output=True)
    if check.returncode != 0:
        install = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", PREFECT, "asyncpg"],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            sys.exit(f"pip could not install {PREFECT}:\n{install.stderr[-4000:]}")
    return python


def _fresh_database() -> None:
    user, host = POSTGRES.split("@")
    address, port = host.split(":")
    for statement in (
        f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
        f"CREATE DATABASE {DATABASE}",
    ):
        subprocess.run(
            ["psql", "-h", address, "-p", port, "-U", user, "-d", "postgres", "-qc", statement],
            check=True,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prefect_env(home: str, api_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PREFECT_HOME": home,
        "PREFECT_API_URL": api_url,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{POSTGRES}/{DATABASE}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    }


def _wait_healthy(api_url: str, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the Prefect server exited while starting")
        try:
            if httpx.get(f"{api_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server was not healthy within {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Prefect 3's per-hop time for a chain of tasks.")
    parser.add_argument("--hops", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    python = _environment()
    _fresh_database()
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    with tempfile.TemporaryDirectory(prefix="prefect-bench-") as home:
        env = _prefect_env(home, api_url)
        server = subprocess.Popen(
            [
                python,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_healthy(api_url, server, timeout_s=180)
            script = Path(home) / "chain_flow.py"
            script.write_text(FLOW)
            done = subprocess.run(
                [python, script, str(args.hops), str(args.rounds)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    per_hop = sorted(json.loads(done.stdout.strip().splitlines()[-1]))
    median = per_hop[len(per_hop) // 2]
    print(
        f"prefect 3 chain of {args.hops} tasks, states to a Prefect server on PostgreSQL: "
        f"per-hop median {median:.2f} ms, max {per_hop[-1]:.2f} ms over {args.rounds} rounds",
        flush=True,
    )


if __name__ == "__main__":
    main()
