"""Serve the whole product: the API, workers and beat.

Embedded default (no DATABASE_URL / REDIS_URL): one process. The Celery
worker runs in the main thread on the in-process broker, the ASGI server and
beat in threads, so tasks, events and websockets share the process's memory
transports. Distributed: the API, one worker per queue and beat run as
separate processes in the foreground; one Ctrl-C stops them all.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def worker_command(
    queues: str, pool: str, concurrency: int, *, name: str | None = None, loglevel: str = "WARNING"
) -> list[str]:
    """The command line of a Celery worker process for the given queues.

    Gossip, mingle and worker heartbeats are off: Agentloom never uses them
    (its own node heartbeats live in the database), and they cost messages.
    """
    return [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker",
        "-Q", queues, "--pool", pool, "--concurrency", str(concurrency),
        "-n", f"{name or queues.replace(',', '-')}@%h", "--loglevel", loglevel,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Serve Agentloom (API, workers and beat) in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--api-workers", type=int, default=2, help="ASGI worker processes (distributed only)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.EMBEDDED:
            self._serve_embedded(options["host"], options["port"])
        else:
            self._serve_distributed(options["host"], options["port"], options["api_workers"])

    def _serve_embedded(self, host: str, port: int) -> None:
        import uvicorn
        from celery.beat import Service

        from workers.app import app

        server = uvicorn.Server(
            uvicorn.Config("server.asgi:application", host=host, port=port, log_level="warning")
        )
        threading.Thread(target=server.run, name="asgi", daemon=True).start()
        # Service would default to Celery's file scheduler; use the configured
        # one (django-celery-beat's, in the database) as `celery beat` does.
        beat = Service(app, scheduler_cls=app.conf.beat_scheduler)
        threading.Thread(target=beat.start, name="beat", daemon=True).start()
        worker = app.Worker(
            pool="threads",
            concurrency=16,
            queues=["agents", "control"],
            loglevel="WARNING",
            hostname=f"embedded@{os.uname().nodename}",
        )
        try:
            worker.start()
        finally:
            beat.stop()
            server.should_exit = True

    def _serve_distributed(self, host: str, port: int, api_workers: int) -> None:
        python = sys.executable
        commands = {
            "api": [
                python,
                "-m",
                "uvicorn",
                "server.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(api_workers),
                "--log-level",
                "warning",
            ],
            "worker-agents": worker_command(
                "agents", "threads", int(os.environ.get("AGENTS_CONCURRENCY", "32"))
            ),
            "worker-control": worker_command(
                "control", "prefork", int(os.environ.get("CONTROL_CONCURRENCY", "2"))
            ),
            "beat": [python, "-m", "celery", "-A", "workers.app", "beat", "--loglevel", "WARNING"],
        }
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                exited = [name for name, p in processes.items() if p.poll() is not None]
                if exited:
                    self.stderr.write(f"{', '.join(exited)} exited; stopping the rest.")
                    break
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
