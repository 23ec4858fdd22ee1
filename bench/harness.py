"""A throwaway deployment for benchmarks: its own Postgres database, real processes.

A bench script calls ``deployment()`` first: it points this process at a fresh
database (``agentloom_bench``) and migrates it; ``start_processes()`` then starts
the API and workers against it, as ``make up`` would in the distributed
topology. Nothing here is mocked; the figures are of the real system.
"""

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.processes import ManagedProcess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("AGENTLOOM_BENCH_DB", "agentloom_bench")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("SECRET_KEY", "agentloom-bench")
os.environ.setdefault("AGENTLOOM_ENCRYPTION_KEYS", "YWdlbnRsb29tLWJlbmNoLWVuY3J5cHRpb24ta2V5ISE=")
os.environ.setdefault("AGENTLOOM_VAR_DIR", "/tmp/agentloom-bench")
os.environ["DJANGO_SETTINGS_MODULE"] = "server.settings"
CONTROL_POOL = os.environ.get("BENCH_CONTROL_POOL", "prefork")


@dataclass
class Deployment:
    token: str
    user_id: int
    workspace_id: str


def deployment() -> Deployment:
    """A fresh, migrated bench database with one user, workspace and API token."""
    subprocess.run(["bash", "deploy/local/ensure-services.sh"], check=True, cwd=ROOT)
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-q",
            "-c",
            f"DROP DATABASE IF EXISTS {BENCH_DB}",
        ],
        check=True,
    )
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f"CREATE DATABASE {BENCH_DB}"],
        check=True,
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], check=True, cwd=ROOT)
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from server.accounts.services import create_token, create_workspace

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    user = get_user_model().objects.create_user("bench", password="bench")
    workspace = create_workspace(owner=user, name="Bench")
    workspace.max_running_runs = 10_000
    workspace.save()
    return Deployment(
        token=create_token(user=user, name="bench")[1],
        user_id=user.pk,
        workspace_id=str(workspace.pk),
    )


def start_processes() -> tuple[list["ManagedProcess"], str]:
    """The API and workers as ``manage.py serve`` runs them; returns them and the API's URL.

    Two ASGI worker processes; two processes for the control queue (prefork
    -c2, or two threads workers with BENCH_CONTROL_POOL=threads); a threads
    agents worker. Warnings only, no per-task log lines, as in production.
    """
    from tests.support.processes import start_asgi, start_worker

    server, base = start_asgi(workers=2)
    if CONTROL_POOL == "prefork":
        control = [
            start_worker(
                "control", queues="control", pool="prefork", concurrency=2, loglevel="WARNING"
            )
        ]
    else:
        control = [
            start_worker(
                f"control{i}", queues="control", pool="threads", concurrency=2, loglevel="WARNING"
            )
            for i in range(2)
        ]
    agents = start_worker(
        "agents", queues="agents", pool="threads", concurrency=64, loglevel="WARNING"
    )
    processes = [server, *control, agents]
    _wait_until_started(processes)
    return processes, base


def _wait_until_started(processes: list["ManagedProcess"], timeout_s: float = 120) -> None:
    """Until the processes' start-up work is over, so that a figure is of the steady state.

    A worker is ready before it is done starting: the agents worker warms the
    model layer in a thread (seconds of CPU, workers/runtime/warmup.py), which
    would otherwise share the cores with the first seconds measured. Done when
    the processes together spend under a fifth of a core for a second.
    """
    deadline = time.monotonic() + timeout_s
    groups = {managed.process.pid for managed in processes}
    spent = _cpu_seconds(groups)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_seconds(groups)
        if now - spent < 0.2:
            return
        spent = now


def _cpu_seconds(groups: set[int]) -> float:
    """CPU seconds spent so far by every process of these process groups (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            # After the command's closing parenthesis: state, ppid, pgrp, ... utime, stime.
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


# The processes of a deployment by what their command lines hold, for
# ``cpu_seconds_by_part``: this machine's PostgreSQL and Redis serve the bench.
PARTS = {
    "API": "uvicorn server.asgi",
    "control pool": "-Q control",
    "agents pool": "-Q agents",
    "PostgreSQL": "postgres:",
    "Redis": "redis-server",
}


def cpu_seconds_by_part() -> dict[str, float]:
    """CPU seconds spent so far by each part of ``PARTS`` (Linux /proc), and by this process.

    A process belongs to the part its command line names, or else to its
    parent's: uvicorn's workers are spawned with a command line of their own.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    processes: dict[int, tuple[int, str, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        processes[int(entry.name)] = (int(fields[1]), command, seconds)

    def part_of(pid: int) -> str | None:
        if pid == os.getpid():
            return "bench client"
        parent, command, _ = processes[pid]
        named = next((name for name, held in PARTS.items() if held in command), None)
        return named if named or parent not in processes else part_of(parent)

    spent = dict.fromkeys([*PARTS, "bench client"], 0.0)
    for pid, (_, _, seconds) in processes.items():
        part = part_of(pid)
        if part is not None:
            spent[part] += seconds
    return spent


def stop_processes(processes: list["ManagedProcess"]) -> None:
    for process in processes:
        process.stop()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
        f"p99 {percentile(values, 99):.1f} ms (n={len(values)})"
    )
