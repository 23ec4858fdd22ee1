#!/usr/bin/env bash
# End-to-end tests: playwright-core drives Debian's Chromium against the real product (api, workers,
# beat, Postgres, Redis) started here by tests/e2e/server.sh on a fresh database, and stopped here
# whatever happens. Screenshots of each step go to tests/e2e/artifacts/ (not committed).
#
#   bash tests/e2e/run.sh                 # everything
#   bash tests/e2e/run.sh specs/run.test.mjs   # one spec file (paths relative to tests/e2e)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"
started=$(date +%s)

# Debian's Chromium, never a downloaded browser.
if [[ ! -x /usr/bin/chromium ]]; then
  echo "[e2e] installing Debian's chromium"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
  else
    sudo apt-get install -y chromium >/dev/null
  fi
fi

# playwright-core, pinned in tests/e2e/package-lock.json (its own package: the frontend's
# devDependencies stay free of a browser driver, and this install takes a second).
if [[ ! -f node_modules/.package-lock.json ]] || ! cmp -s package-lock.json node_modules/.e2e-lock; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.e2e-lock
fi

rm -rf artifacts && mkdir -p artifacts

stop() { bash "$HERE/server.sh" stop || true; }
trap stop EXIT INT TERM
E2E_BASE_URL="$(bash "$HERE/server.sh" start | tail -n 1)"
export E2E_BASE_URL
echo "[e2e] server at $E2E_BASE_URL (log: var/e2e/server.log)"

if [[ $# -gt 0 ]]; then specs=("$@"); else specs=(specs/*.test.mjs); fi
status=0
node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec "${specs[@]}" || status=$?

{
  echo "# E2E screenshots ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  cat artifacts/*.txt 2>/dev/null || true
} >artifacts/INDEX.md
echo "[e2e] $(ls artifacts/*.png 2>/dev/null | wc -l) screenshots in tests/e2e/artifacts/ (INDEX.md lists them)"
echo "[e2e] finished in $(( $(date +%s) - started )) s, status $status"
if [[ $status -ne 0 ]]; then
  echo "[e2e] server log tail:"; tail -n 30 "$ROOT/var/e2e/server.log" || true
fi
exit $status
