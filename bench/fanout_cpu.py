"""Where the CPU of a fan-out goes, for ours and for the chord, per process group.

The fan-out figure of ``engine_bench`` is a rate; this splits its cost. Over
three fan-outs 1 → 1,000 → 1 (after one warm-up), it reads the CPU time
(user + system, from ``/proc``) of each process group and prints milliseconds
per node: the Celery parent and its pool children, Postgres, Redis. The same
for ``chord(group(1000 no-op))`` on the same broker, where the client that
publishes the group is measured too (it is this process).

    .venv/bin/python -m bench.fanout_cpu

Linux only (``/proc``); the figures are CPU, not wall time, so they hold up
better than rates on a shared machine.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import deployment, start_processes, stop_processes

RUNS = 3
WIDTH = 1000
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after it do not.
    return text[text.rindex(")") + 2 :].split()


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS_PER_S


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _children(pid: int) -> list[int]:
    return [p for p in _all_pids() if (fields := _stat(p)) is not None and int(fields[1]) == pid]


def _named(name: str) -> list[int]:
    pids = []
    for pid in _all_pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip().startswith(name):
                pids.append(pid)
        except OSError:
            continue
    return pids


def _measure(groups: dict[str, list[int]], work: Callable[[], None]) -> dict[str, float]:
    before = {name: _cpu_s(pids) for name, pids in groups.items()}
    work()
    return {
        name: (_cpu_s(pids) - before[name]) * 1000 / (RUNS * WIDTH) for name, pids in groups.items()
    }


def _print(label: str, per_node: dict[str, float]) -> None:
    parts = ", ".join(f"{name} {ms:.2f}" for name, ms in per_node.items())
    print(f"{label}: CPU ms per node: {parts}; total {sum(per_node.values()):.2f}")


def ours() -> None:
    from bench import engine_bench
    from tests.support.documents import fan_out

    deploy = deployment()
    processes, base = start_processes()
    try:
        with engine_bench._client(deploy, base) as client:
            workflow = engine_bench._create(client, fan_out(WIDTH))
            engine_bench._wait(engine_bench._run(client, workflow))
            api, control = processes[0].process.pid, processes[1].process.pid
            groups = {
                "celery parent": [control],
                "pool children": _children(control),
                "postgres": _named("postgres"),
                "redis": _named("redis-server"),
                "api": [api, *_children(api)],
            }

            def fan_outs() -> None:
                for _ in range(RUNS):
                    engine_bench._wait(engine_bench._run(client, workflow))

            _print("ours (prefork -c2)", _measure(groups, fan_outs))
    finally:
        stop_processes(processes)


def chord() -> None:
    from celery import chord as celery_chord

    from bench import chord_bench

    worker = chord_bench._worker()
    try:

        def chords() -> None:
            for _ in range(RUNS):
                group = (chord_bench.noop.s(i) for i in range(WIDTH))
                result = celery_chord(group)(chord_bench.join.s())
                assert result.get(timeout=300, interval=0.005) == WIDTH

        chords()
        parent = worker.process.pid
        groups = {
            "celery parent": [parent],
            "pool children": _children(parent),
            "redis": _named("redis-server"),
            "client": [os.getpid()],
        }
        _print("chord (prefork -c2)", _measure(groups, chords))
    finally:
        worker.stop()


if __name__ == "__main__":
    started = time.monotonic()
    ours()
    chord()
    print(f"({RUNS} fan-outs of {WIDTH} each, {time.monotonic() - started:.0f} s)")
