#!/usr/bin/env bash
# Canvas benchmark (bench/canvas_bench.mjs): starts the real product with tests/e2e/server.sh on its
# own database and port unless E2E_BASE_URL points at a running one, runs the benchmark, stops what
# it started. Arguments go to canvas_bench.mjs (e.g. --sizes 200,500,1000 --runs 5).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# playwright-core comes from the e2e package (tests/e2e/package-lock.json).
if [[ ! -f tests/e2e/node_modules/.package-lock.json ]]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
[[ -x /usr/bin/chromium ]] || { echo "Debian's chromium is missing: apt-get install -y chromium" >&2; exit 1; }

export E2E_PORT="${E2E_PORT:-8766}" E2E_DB="${E2E_DB:-agentloom_canvas_bench}" E2E_REDIS_DB="${E2E_REDIS_DB:-4}"
export E2E_STATE_DIR="${E2E_STATE_DIR:-$ROOT/var/canvas-bench}"
# 200 agents must run at once: the agents worker needs at least that many threads.
export AGENTS_CONCURRENCY="${AGENTS_CONCURRENCY:-256}"

started=""
if [[ -z "${E2E_BASE_URL:-}" ]]; then
  trap '[[ -n "$started" ]] && bash tests/e2e/server.sh stop' EXIT INT TERM
  E2E_BASE_URL="$(bash tests/e2e/server.sh start | tail -n 1)"
  started=1
fi
export E2E_BASE_URL
node bench/canvas_bench.mjs "$@"
