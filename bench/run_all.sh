#!/usr/bin/env bash
# Every figure of docs/benchmarks.md, one command each, in the order of the issues.
# Each script starts its own processes on its own database; run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

echo "== foundation: validation and PUT"
$PY bench/validate_bench.py
$PY -m bench.api_put_bench
echo "== engine: per-hop, fan-out vs chord, makespan, runs/s"
$PY -m bench.engine_bench
$PY -m bench.chord_bench
$PY -m bench.fanout_cpu
echo "== live events: fan-out latency, time to first event"
$PY -m bench.live_bench
echo "== canvas"
bash bench/canvas_bench.sh
