"""The model layer warmed when a worker that runs agent nodes starts.

``import litellm`` costs seconds of CPU (~7 s, several times that on a busy
host), and its first call more: the tokenizer's encoding, litellm's streaming
and logging helpers, httpx's transports. Paid by a worker's first real model
call, they were added to the recovery of every node a killed worker left
behind (docs/benchmarks.md, chaos). Here a worker of the ``agents`` pool pays
them as it starts, in a thread of its own, so it takes tasks meanwhile: a mock
or control task does not wait, and a real call waits only for what is left of
the import (Python's import lock makes it wait rather than import twice).

``AGENTLOOM_WARM_MODEL_LAYER`` turns it off (the test suite does: most of its
workers only ever run mock models).
"""

import gc
import logging
import threading
import time
from typing import Any

import httpx
from celery import current_app
from celery.concurrency.prefork import TaskPool as PreforkPool
from celery.signals import worker_process_init, worker_ready
from django.conf import settings

from server.queues import AGENTS, shards
from workers.llm.provider import load_litellm

logger = logging.getLogger(__name__)


def warm_model_layer() -> None:
    """Import litellm and make the first uses that load more, all offline."""
    started = time.monotonic()
    litellm = load_litellm()
    # Answered by litellm itself (mock_response): no provider, no network.
    chunks = litellm.completion(
        model="openai/warm-up",
        messages=[{"role": "user", "content": "warm-up"}],
        mock_response="ok",
        stream=True,
    )
    for _ in chunks:
        pass
    # Usage is counted with the model's encoding, loaded on first use: the
    # gpt-4o family's and litellm's default (the other OpenAI models').
    litellm.token_counter(model="gpt-4o-mini", text="warm-up")
    litellm.token_counter(text="warm-up")
    httpx.Client(trust_env=False).close()
    # As at worker start (server/celery.py): keep the collector off what was just loaded.
    gc.freeze()
    logger.info("model layer warm in %.1f s", time.monotonic() - started)


def _warm_in_background(app: Any) -> None:
    if not settings.AGENTLOOM_WARM_MODEL_LAYER:
        return
    if not set(shards(AGENTS)) & set(app.amqp.queues.consume_from):
        return  # control tasks never call a model
    threading.Thread(target=_warm_logging_failure, name="warm-model-layer", daemon=True).start()


def _warm_logging_failure() -> None:
    try:
        warm_model_layer()
    except Exception:
        # The first real call imports again and reports its own error, if any.
        logger.exception("warming the model layer failed")


@worker_ready.connect
def _warm_worker(sender: Any, **kwargs: object) -> None:
    # A prefork pool runs tasks in its children, which warm themselves below.
    if not isinstance(sender.pool, PreforkPool):
        _warm_in_background(sender.app)


@worker_process_init.connect
def _warm_pool_child(**kwargs: object) -> None:
    _warm_in_background(current_app)
