#!/usr/bin/env bash
# Start / stop the real product in its distributed topology (Postgres + Redis, api, an `agents`
# threads worker, a `control` prefork worker and beat, all under `manage.py serve`) on a fresh
# database. Used by tests/e2e/run.sh and bench/canvas_bench.sh, so the start-up exists once.
#
#   bash tests/e2e/server.sh start   # prints the base URL (stdout, last line); logs and pid in $E2E_STATE_DIR
#   bash tests/e2e/server.sh stop    # stops the whole process group (SIGTERM, then SIGKILL after 20 s)
#   bash tests/e2e/server.sh url     # prints the base URL of the running server
#
# Environment (all optional):
#   E2E_PORT           port to serve on (default 8765)
#   E2E_DB             database name, dropped and re-created on start (default agentloom_e2e)
#   E2E_REDIS_DB       Redis db number, flushed on start (default 3)
#   E2E_STATE_DIR      pid file, log and url (default var/e2e)
#   AGENTS_CONCURRENCY threads of the agents worker (read by `manage.py serve`; default 32)
#   SKIP_BUILD=1       do not build the frontend even if frontend/dist is missing
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PORT="${E2E_PORT:-8765}"
DB="${E2E_DB:-agentloom_e2e}"
REDIS_DB="${E2E_REDIS_DB:-3}"
STATE_DIR="${E2E_STATE_DIR:-$ROOT/var/e2e}"
PID_FILE="$STATE_DIR/server.pid"
LOG_FILE="$STATE_DIR/server.log"
URL_FILE="$STATE_DIR/url"
PY="$ROOT/.venv/bin/python"
BASE_URL="http://127.0.0.1:$PORT"

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export SECRET_KEY="${SECRET_KEY:-e2e}"
export AGENTLOOM_ENCRYPTION_KEYS="${AGENTLOOM_ENCRYPTION_KEYS:-YWdlbnRsb29tLWUyZS0tZW5jcnlwdGlvbi1rZXkhISE=}"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export CSRF_TRUSTED_ORIGINS="$BASE_URL,http://localhost:$PORT"
# The specs' own HTTP receivers listen on loopback (specs/rollback.test.mjs), which the outbound
# guard refuses unless allowed.
export AGENTLOOM_EGRESS_ALLOW="${AGENTLOOM_EGRESS_ALLOW:-127.0.0.1}"
unset DEBUG || true

log() { echo "[server.sh] $*" >&2; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping process group $pid"
  # `serve` forwards the stop to its children; signal the whole group so nothing is left behind.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 -- "-$pid" 2>/dev/null; then
    log "still running after 20 s; SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

start() {
  if running_pid >/dev/null; then
    log "already running"
    cat "$URL_FILE"
    return 0
  fi
  mkdir -p "$STATE_DIR"
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    log "port $PORT is already in use (set E2E_PORT)"
    return 1
  fi
  bash deploy/local/ensure-services.sh >&2
  if [[ ! -f frontend/dist/index.html && -z "${SKIP_BUILD:-}" ]]; then
    log "building the frontend"
    (cd frontend && npm run --silent build) >&2
  fi

  log "fresh database $DB, redis db $REDIS_DB"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >&2
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $DB" >&2
  redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" flushdb >/dev/null

  "$PY" manage.py bootstrap --demo-user >&2
  "$PY" manage.py collectstatic --noinput -v0 >&2

  log "serving on $BASE_URL (agents concurrency ${AGENTS_CONCURRENCY:-32}); log: $LOG_FILE"
  : >"$LOG_FILE"
  setsid "$PY" manage.py serve --host 127.0.0.1 --port "$PORT" >>"$LOG_FILE" 2>&1 < /dev/null &
  echo $! >"$PID_FILE"
  echo "$BASE_URL" >"$URL_FILE"

  local code=""
  for _ in $(seq 300); do
    if ! running_pid >/dev/null; then
      log "serve exited during start-up:"; tail -n 40 "$LOG_FILE" >&2; return 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/readyz" || true)"
    [[ "$code" == "200" ]] && break
    sleep 0.2
  done
  if [[ "$code" != "200" ]]; then
    log "not ready after 60 s (readyz: $code):"; tail -n 40 "$LOG_FILE" >&2; stop; return 1
  fi
  # Workers: wait until both Celery workers answer a ping, so the first run is not a cold start.
  local pong=""
  for _ in $(seq 20); do
    pong="$("$PY" -m celery -A server.celery inspect ping --timeout 1 2>/dev/null || true)"
    [[ "$pong" == *"agents@"* && "$pong" == *"control@"* ]] && break
    sleep 0.5
  done
  [[ "$pong" == *"agents@"* ]] || log "warning: the agents worker did not answer a ping yet"

  echo "$BASE_URL"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running_pid >/dev/null && cat "$URL_FILE" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
