"""Real processes for tests: Celery workers and the ASGI server, on the test database."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from django.db import connection

from server.site.management.commands.serve import worker_command

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = Path(os.environ.get("AGENTLOOM_VAR_DIR", "/tmp/agentloom-tests")) / "logs"


# Short timings so crash recovery is observable in seconds, not minutes.
FAST_RECOVERY = {
    "AGENTLOOM_HEARTBEAT_INTERVAL_S": "0.5",
    "AGENTLOOM_HEARTBEAT_TIMEOUT_S": "3",
    "AGENTLOOM_REDISPATCH_AFTER_S": "5",
    "AGENTLOOM_REAPER_INTERVAL_S": "1",
}


def current_database_url() -> str:
    """The URL of the database this process is connected to (the test database in tests)."""
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the same settings and database as this one."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings"),
        DATABASE_URL=current_database_url(),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    def __init__(self, name: str, args: list[str], env: Mapping[str, str]) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}-{time.time_ns()}.log"
        self._log = self.log_path.open("wb")
        # A process group of its own, so a kill reaches a worker's pool children too.
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} did not print {text!r}:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no acks."""
        self._end_group(signal.SIGKILL, patience_s=10)

    def stop(self) -> None:
        """SIGTERM the whole process group (a warm shutdown), then SIGKILL what is left of it."""
        self._end_group(signal.SIGTERM, patience_s=15)
        self._log.close()

    def _end_group(self, first: signal.Signals, patience_s: float) -> None:
        """Signal the group, give its leader ``patience_s`` to exit, then end every member.

        A member can outlive the leader: a pool child whose parent a test
        killed alone, one still finishing after a warm shutdown. It holds
        its database connections, and the test database cannot be dropped
        while one is open ("being accessed by other users").
        """
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=patience_s)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def start_worker(
    name: str = "worker",
    *,
    queues: str = "agents,control",
    pool: str = "threads",
    concurrency: int = 8,
    beat: bool = False,
    loglevel: str = "INFO",
    **env: str,
) -> ManagedProcess:
    """A Celery worker process; with ``beat``, it also runs the periodic reaper.

    Tests give beat a file schedule rather than the database scheduler,
    because they empty the database between tests.
    """
    args = worker_command(
        queues, pool, concurrency, name=f"{name}-{time.time_ns()}", loglevel=loglevel
    )
    if beat:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        args += [
            "--beat",
            "--scheduler",
            "celery.beat:PersistentScheduler",
            "--schedule",
            str(LOG_DIR / f"beat-{time.time_ns()}"),
        ]
    worker = ManagedProcess(name, args, process_env(**env))
    # Celery prints its banner, which ends with the queue list, at any level.
    worker.wait_for_log(" ready." if loglevel == "INFO" else "[queues]")
    return worker


# Runs uvicorn on a listening socket with a small, fixed send buffer: sockets
# accepted from it inherit the size, so a client that stops reading blocks the
# server's writes after kilobytes rather than after the megabytes Linux would
# otherwise grow the buffer to.
_SMALL_SEND_BUFFER = """
import os, socket, sys
port, size, args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
listener.bind(("127.0.0.1", port))
listener.listen(128)
os.set_inheritable(listener.fileno(), True)
os.execv(sys.executable, [sys.executable, "-m", "uvicorn", *args, "--fd", str(listener.fileno())])
"""


def start_asgi(
    *, workers: int = 1, log_level: str = "warning", send_buffer_bytes: int = 0, **env: str
) -> tuple[ManagedProcess, str]:
    port = free_port()
    options = ["server.asgi:application", "--log-level", log_level, "--workers", str(workers)]
    if send_buffer_bytes:
        args = [sys.executable, "-c", _SMALL_SEND_BUFFER, str(port), str(send_buffer_bytes)]
        args += options
    else:
        args = [sys.executable, "-m", "uvicorn", *options]
        args += ["--host", "127.0.0.1", "--port", str(port)]
    server = ManagedProcess("asgi", args, process_env(**env))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return server, base
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ASGI server did not start:\n{server.log()[-4000:]}") from None
            time.sleep(0.1)
