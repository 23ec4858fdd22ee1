"""Serve the whole product: the API, workers, beat and the demo MCP server.

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

    A pool's name (``agents``, ``control``) stands for all of that pool's
    queues (server/queues.py). Gossip, mingle and worker heartbeats are
    off: Agentloom never uses them (its own node heartbeats live in the
    database), and they cost messages.
    """
    return [
        sys.executable, "-m", "celery", "-A", "server.celery", "worker",
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

        from server import queues
        from server.celery import app

        server = uvicorn.Server(
            uvicorn.Config("server.asgi:application", host=host, port=port, log_level="warning")
        )
        threading.Thread(target=server.run, name="asgi", daemon=True).start()
        if settings.AGENTLOOM_DEMO_MCP_PORT:
            from server.site.mcp_demo import demo_uvicorn_server

            demo = demo_uvicorn_server(settings.AGENTLOOM_DEMO_MCP_PORT)
            threading.Thread(target=demo.run, name="mcp-demo", daemon=True).start()
        # Service would default to Celery's file scheduler; use the configured
        # one (django-celery-beat's, in the database) as `celery beat` does.
        beat = Service(app, scheduler_cls=app.conf.beat_scheduler)
        threading.Thread(target=beat.start, name="beat", daemon=True).start()
        worker = app.Worker(
            pool="threads",
            concurrency=16,
            queues=list(queues.POOLS),
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
                "agents", "threads", settings.AGENTLOOM_SERVE["agents_concurrency"]
            ),
            "worker-control": worker_command(
                "control", "prefork", settings.AGENTLOOM_SERVE["control_concurrency"]
            ),
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "server.celery",
                "beat",
                "--loglevel",
                "WARNING",
            ],
        }
        if settings.AGENTLOOM_DEMO_MCP_PORT:
            commands["mcp-demo"] = [
                *(python, "-m", "server.site.mcp_demo"),
                *("--port", str(settings.AGENTLOOM_DEMO_MCP_PORT)),
            ]
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
