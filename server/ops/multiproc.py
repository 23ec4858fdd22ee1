"""Where this process group keeps its Prometheus counters, chosen before prometheus_client loads.

Why multiprocess mode, one directory per process group, and a metrics port
per worker (rather than one port per process, or one directory for all):

* A prefork worker's counts happen in its children and an API with several
  uvicorn workers answers a scrape from one of them at random; only files
  shared by the group (prometheus_client's multiprocess mode) add them up.
* Containers do not share memory or, in general, a disk: one directory for
  the whole deployment cannot exist. So each group (a container, a test's
  worker, ``manage.py serve`` with its children) has its own directory,
  every worker serves it on its own port (``AGENTLOOM_METRICS_PORT``), and
  Prometheus adds the groups up (``sum by (state) (...)``). The API also
  reads, at scrape time, what no single process sees: the broker's queue
  lengths and the active runs (server/site/metrics.py).

A counter file outlives its process on purpose (a recycled prefork child's
counts must not vanish), so a directory is emptied only when its group
starts: by the group leader (a process whose pid is its process group id:
the container's first process, a worker started in a session of its own),
and directories of groups with no process left are removed. Containers set
``PROMETHEUS_MULTIPROC_DIR`` to a container-local path the entrypoint empties.
"""

import os
import shutil
import socket
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set beside ENV when this module chose it: a child in a session of its own
# inherits both and must choose again, while the operator's choice stands.
_CHOSEN_FOR = "AGENTLOOM_METRICS_DIR_GROUP"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare(var_dir: Path) -> Path:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` for this process (unless the deployment did); returns it."""
    given = os.environ.get(ENV)
    group = os.getpgid(0)
    if given and os.environ.get(_CHOSEN_FOR, str(group)) == str(group):
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    root = var_dir / "metrics"
    host = socket.gethostname()
    path = root / f"{host}-{group}"
    if root.is_dir():
        for stale in root.glob(f"{host}-*"):
            pgid = stale.name.rpartition("-")[2]
            if stale != path and pgid.isdigit() and not _group_alive(int(pgid)):
                shutil.rmtree(stale, ignore_errors=True)
    if os.getpid() == group:
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    os.environ[_CHOSEN_FOR] = str(group)
    return path
