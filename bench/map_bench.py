"""A `map` node over 1,000 items, each a full child run, beside a plain Celery chord.

Usage: AGENTLOOM_BENCH_DB=<db> REDIS_URL=redis://127.0.0.1:6379/<n> \\
    .venv/bin/python -m bench.map_bench [--items 1000] [--parallel 100 1000] [--runs 3]

The child is a 1-node workflow (an output node returning its item), so each
item costs what a child run costs: created (checked, pinned, admitted) in the
parent's transaction, its node task, its events, its end counted by the
parent. Items/s is items ÷ (the parent's finish - its start); the chord is
chord(group(N no-op tasks)) on the same broker and two worker processes
(bench/chord_bench.py), and the ratio is ours ÷ chord (goal ≥ 1.0, issue 15).
"""

import argparse
import statistics
from typing import Any

from bench.engine_bench import _client, _create, _run, _wait
from bench.harness import Deployment, deployment, start_processes, stop_processes


def _child() -> dict[str, Any]:
    from tests.support.documents import document, node

    return document(
        [node("out", "output", expression="run.item")],
        name="Map item",
        inputs={"item": {"type": "number", "required": True}},
    )


def _parent(child_id: str, items: int, parallel: int) -> dict[str, Any]:
    from tests.support.documents import document, edge, node

    return document(
        [
            node("fan", "map", workflow=child_id, items=f"[0..{items - 1}]", max_parallel=parallel),
            node("output", "output", expression="$count(fan)"),
        ],
        [edge("fan", "output")],
        name=f"Map {items} items, {parallel} at once",
    )


def map_items_per_second(
    deploy: Deployment, base: str, items: int, parallel: int, runs: int
) -> list[float]:
    rates = []
    with _client(deploy, base) as client:
        child = _create(client, _child())
        parent = _create(client, _parent(child, items, parallel))
        for _ in range(runs):
            run = _wait(_run(client, parent), timeout=900)
            assert run.output == {"output": items}, run.output
            rates.append(items / (run.finished_at - run.started_at).total_seconds())
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--parallel", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bench.chord_bench import chord_nodes_per_second

    chord = chord_nodes_per_second(args.items, args.runs)
    deploy = deployment()
    processes, base = start_processes()
    try:
        for parallel in args.parallel:
            rates = map_items_per_second(deploy, base, args.items, parallel, args.runs)
            ours = statistics.median(rates)
            print(
                f"map over {args.items} items (max_parallel {parallel}), each a 1-node child "
                f"run: ours {ours:.0f} items/s (runs: {', '.join(f'{r:.0f}' for r in rates)}), "
                f"plain Celery chord {chord:.0f} tasks/s, ratio ours ÷ chord "
                f"{ours / chord:.2f} (goal ≥ 1.0)",
                flush=True,
            )
    finally:
        stop_processes(processes)


if __name__ == "__main__":
    main()
