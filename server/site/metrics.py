"""The API's ``/metrics``: its process group's counters and what the broker and database know now.

Queue lengths come from the broker in one pipelined round trip and the active
runs from one indexed count, so a scrape costs the same with ten or ten
million finished runs (bench/metrics_bench.py).
"""

from collections.abc import Iterator
from functools import cache

import redis
from django.conf import settings
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from server import queues
from server.ops import metrics
from server.runs.models import Run, RunState


class _NowCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        active = GaugeMetricFamily(metrics.RUNS_ACTIVE, "Runs queued or running now.")
        active.add_metric(
            [], Run.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).count()
        )
        yield active
        if not queues.sharded():
            return  # the embedded broker lives in another process's memory: nothing to read
        broker = _broker(str(settings.CELERY_BROKER_URL))
        names = queues.all_queues()
        pipeline = broker.pipeline(transaction=False)
        for name in names:
            pipeline.llen(name)
        depth = GaugeMetricFamily(
            metrics.QUEUE_DEPTH, "Tasks waiting in each broker queue.", labels=["queue"]
        )
        for name, length in zip(names, pipeline.execute(), strict=True):
            depth.add_metric([name], length)
        yield depth


@cache
def _broker(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


@cache
def _registry() -> CollectorRegistry:
    registry = metrics.registry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR, _NowCollector()):
        registry.register(collector)
    return registry


def exposition() -> bytes:
    return generate_latest(_registry())
