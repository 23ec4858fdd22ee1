#!/usr/bin/env bash
# One image, one process per container: the first argument says which.
#
#   api             the ASGI server (HTTP API, websockets, the built frontend)
#   worker-agents   Celery worker for model calls (pool `agents`, thread pool)
#   worker-control  Celery worker for everything else and the reaper (pool `control`, prefork pool)
#   beat            the Celery beat scheduler (the reaper); any number: one leads, the others wait
#   migrate         migrations + built-in templates (`manage.py bootstrap`); a one-shot job
#   create-bucket   create AWS_STORAGE_BUCKET_NAME if it is missing (docker-compose's S3 server)
#   anything else   run as a command, e.g. `python manage.py createsuperuser`
#
# Every process is `exec`ed so it receives SIGTERM from Docker/Kubernetes directly:
# Celery then stops taking tasks and finishes the ones it holds (warm shutdown),
# uvicorn finishes open requests.
set -euo pipefail

LOG_LEVEL="${LOG_LEVEL:-INFO}"

# Without these the settings fall back to the embedded transports (SQLite, an
# in-process broker and channel layer), which do not cross process boundaries:
# a worker would wait on a broker no one else can reach. Fail loudly instead.
require_distributed() {
  local missing=()
  [[ -n "${DATABASE_URL:-}" ]] || missing+=(DATABASE_URL)
  [[ -n "${REDIS_URL:-}" ]] || missing+=(REDIS_URL)
  if ((${#missing[@]})); then
    echo "agentloom: $1 needs ${missing[*]} (the distributed topology); see docs/operations.md" >&2
    exit 64
  fi
}

# The Prometheus files of this container's processes (server/ops/multiproc.py):
# container-local and emptied at start, so a restarted container's counters
# start from zero instead of adding up files of processes long gone.
fresh_metrics_dir() {
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/agentloom-metrics}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
}

command="${1:-api}"
if (($#)); then shift; fi

case "$command" in
  api)
    require_distributed api
    fresh_metrics_dir
    exec uvicorn server.asgi:application \
      --host 0.0.0.0 --port "${PORT:-8000}" \
      --workers "${API_WORKERS:-2}" \
      --log-level "${LOG_LEVEL,,}" \
      "$@"
    ;;
  worker-agents)
    # Agent nodes spend their time waiting on model providers: threads are cheap
    # to hold open by the dozen, processes are not. `-Q agents` names the pool:
    # the worker reads all its queues, agents.0 … agents.N-1 (server/queues.py).
    require_distributed worker-agents
    fresh_metrics_dir
    exec celery -A server.celery worker -Q agents \
      --pool threads --concurrency "${AGENTS_CONCURRENCY:-32}" \
      -n "agents@%h" --loglevel "$LOG_LEVEL" \
      "$@"
    ;;
  worker-control)
    # Input/transformer/output nodes and the reaper are short CPU-bound Python
    # (JSONata evaluation): processes sidestep the GIL. `-Q control` names the
    # pool: control.0 … control.N-1 and the reaper's queue, maintenance.
    require_distributed worker-control
    fresh_metrics_dir
    exec celery -A server.celery worker -Q control \
      --pool prefork --concurrency "${CONTROL_CONCURRENCY:-2}" \
      -n "control@%h" --loglevel "$LOG_LEVEL" \
      "$@"
    ;;
  beat)
    # The schedule lives in Postgres (django-celery-beat's DatabaseScheduler, set
    # in server/celery.py), so beat keeps no state on disk.
    require_distributed beat
    exec celery -A server.celery beat --loglevel "$LOG_LEVEL" "$@"
    ;;
  migrate)
    require_distributed migrate
    exec python manage.py bootstrap "$@"
    ;;
  create-bucket)
    # Idempotent. Uses the same variables as the application, so it also proves
    # the endpoint and credentials work before any worker needs them.
    exec python - "$@" <<'PY'
import os

import boto3
from botocore.exceptions import ClientError

bucket = os.environ["AWS_STORAGE_BUCKET_NAME"]
region = os.environ.get("AWS_S3_REGION_NAME") or None
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None,
    region_name=region,
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or None,
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
)
try:
    s3.head_bucket(Bucket=bucket)
    print(f"bucket {bucket} exists")
except ClientError as exc:
    if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
        raise
    # us-east-1 is the one region that refuses an explicit LocationConstraint.
    config = {} if region in (None, "us-east-1") else {
        "CreateBucketConfiguration": {"LocationConstraint": region}
    }
    s3.create_bucket(Bucket=bucket, **config)
    print(f"bucket {bucket} created")
PY
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
