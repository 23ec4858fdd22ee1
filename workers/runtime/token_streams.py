"""Streamed text of every running node in this worker process, persisted in batches.

Every ``token_flush_interval_s`` (0.1 s: about ten messages a second per
node, docs/run-semantics.md) one thread writes each run's pending text in one
transaction, a ``node.token`` event per node. Writing per node instead would
take the run's lock once per streaming node per interval; with many agents
streaming at once that is most of a worker's database work, and it would be
done by the threads waiting on the models.

A node's last text is written by its own thread before the node is recorded
as finished (``flush_run``), under the same lock as the background batches,
so a node's text always comes before its ``node.succeeded``.
"""

import logging
import threading
import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection

from server.runs.services import execution

logger = logging.getLogger(__name__)


class TokenStreams:
    def __init__(self) -> None:
        self._pending: dict[Any, dict[str, tuple[execution.Claim, list[str]]]] = defaultdict(dict)
        self._lost: set[tuple[Any, str, int]] = set()
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, claim: execution.Claim, text: str) -> None:
        with self._pending_lock:
            _, parts = self._pending[claim.run_id].setdefault(claim.node_id, (claim, []))
            parts.append(text)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="token-streams", daemon=True
                )
                self._thread.start()

    def is_lost(self, claim: execution.Claim) -> bool:
        """Whether a flush found the node no longer held (cancelled, reaped)."""
        return (claim.run_id, claim.node_id, claim.attempt) in self._lost

    def forget(self, claim: execution.Claim) -> None:
        self._lost.discard((claim.run_id, claim.node_id, claim.attempt))

    def flush_run(self, run_id: Any) -> None:
        """Write a run's pending text now (a node about to be recorded as finished)."""
        with self._flush_lock:
            self._write(run_id)
            connection.close()

    def _loop(self) -> None:
        interval = settings.AGENTLOOM_RUNS["token_flush_interval_s"]
        while True:
            time.sleep(interval)
            with self._pending_lock:
                runs = list(self._pending)
            with self._flush_lock:
                for run_id in runs:
                    try:
                        self._write(run_id)
                    except Exception:
                        # Text not written this time is lost from the live view only:
                        # the node's output keeps the whole answer.
                        logger.warning("could not persist streamed text", exc_info=True)
                connection.close()

    def _write(self, run_id: Any) -> None:
        with self._pending_lock:
            nodes = self._pending.pop(run_id, {})
        if not nodes:
            return
        batch = [(claim, "".join(parts)) for claim, parts in nodes.values()]
        for claim in execution.record_tokens(run_id, batch):
            self._lost.add((claim.run_id, claim.node_id, claim.attempt))


token_streams = TokenStreams()
