"""What a chaos session left behind, judged: lost and duplicated work, gaps, recovery times.

The database says what each run recorded; the local model server says which
model calls were made, for which node and when (each prompt carries the
``chaos.MARKER``). A call that reached the model after its node's output was
recorded is a duplicate paid call; calls before that are retries of an attempt
whose worker was killed, which is the price of at-least-once delivery.
"""

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q

from server.runs.models import NodeRun, Run, RunEvent
from tests.support.chaos import ChaosLog, Kill
from tests.support.openai_server import ReceivedRequest

_MARKER = re.compile(r"\[chaos (\S+) (\S+)\]")


@dataclass
class Verdict:
    runs: int = 0
    nodes: int = 0
    not_succeeded: list[tuple[str, str]] = field(default_factory=list)  # (run, state)
    # Their unfinished nodes, for the report: (run, node, state, attempt, lost workers)
    stuck_nodes: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    never_succeeded: list[tuple[str, str]] = field(default_factory=list)  # (run, node)
    succeeded_twice: list[tuple[str, str, int]] = field(default_factory=list)
    gapped_runs: list[str] = field(default_factory=list)
    # (run, node, seconds the call came after the output was recorded)
    late_calls: list[tuple[str, str, float]] = field(default_factory=list)
    uncalled_agents: list[tuple[str, str]] = field(default_factory=list)
    model_calls: int = 0
    agent_nodes: int = 0
    recoveries_s: list[float] = field(default_factory=list)
    restarts_s: list[float] = field(default_factory=list)  # killed node → its next node.started
    unaffected_kills: int = 0  # nothing in flight needed the killed process

    @property
    def lost(self) -> int:
        return len(self.not_succeeded) + len(self.never_succeeded)

    @property
    def duplicated(self) -> int:
        return len(self.succeeded_twice) + len(self.late_calls)

    def problems(self) -> dict[str, Any]:
        """Everything that must be empty, for one readable assertion."""
        found = {
            "runs not succeeded": self.not_succeeded,
            "their unfinished nodes (run, node, state, attempt, lost workers)": self.stuck_nodes,
            "nodes with no success": self.never_succeeded,
            "nodes that succeeded twice": self.succeeded_twice,
            "runs whose event log has gaps": self.gapped_runs,
            "model calls after the output was recorded": self.late_calls,
            "agent nodes with no model call (marker lost?)": self.uncalled_agents,
        }
        return {name: items[:10] for name, items in found.items() if items}


def judge(log: ChaosLog, requests: list[ReceivedRequest]) -> Verdict:
    verdict = Verdict(runs=len(log.run_ids))
    runs = dict(Run.objects.filter(pk__in=log.run_ids).values_list("pk", "state"))
    verdict.not_succeeded = [(str(r), s) for r, s in runs.items() if s != "succeeded"]
    verdict.stuck_nodes = [
        (str(run), *rest)
        for run, *rest in NodeRun.objects.filter(
            run_id__in=[run for run, _ in verdict.not_succeeded]
        )
        .exclude(state__in=("succeeded", "skipped"))
        .values_list("run_id", "node_id", "state", "attempt", "lost_workers")
    ]
    nodes = list(
        NodeRun.objects.filter(run_id__in=log.run_ids).values_list("run_id", "node_id", "node_type")
    )
    verdict.nodes = len(nodes)
    successes = Counter(
        {
            (str(run), node): count
            for run, node, count in RunEvent.objects.filter(
                run_id__in=log.run_ids, type="node.succeeded"
            )
            .values_list("run_id", "node_id")
            .annotate(n=Count("id"))
        }
    )
    for run, node, _ in nodes:
        count = successes[(str(run), node)]
        if count == 0 and runs.get(run) == "succeeded":
            verdict.never_succeeded.append((str(run), node))
        if count > 1:
            verdict.succeeded_twice.append((str(run), node, count))
    verdict.gapped_runs = [
        str(run)
        for run, n, lo, hi in RunEvent.objects.filter(run_id__in=log.run_ids)
        .values_list("run_id")
        .annotate(n=Count("id"), lo=Min("seq"), hi=Max("seq"))
        if not (lo == 1 and hi == n)
    ]
    _judge_calls(verdict, log, nodes, requests)
    _judge_recovery(verdict, log.kills)
    return verdict


def _judge_calls(
    verdict: Verdict,
    log: ChaosLog,
    nodes: list[tuple[Any, str, str]],
    requests: list[ReceivedRequest],
) -> None:
    run_of_tag = {run.inputs["tag"]: str(run.pk) for run in Run.objects.filter(pk__in=log.run_ids)}
    recorded_at = {
        (str(run), node): ts.timestamp()
        for run, node, ts in RunEvent.objects.filter(
            run_id__in=log.run_ids, type="node.succeeded"
        ).values_list("run_id", "node_id", "ts")
    }
    called: Counter[tuple[str, str]] = Counter()
    for request in requests:
        messages = request.body.get("messages", [])
        found = _MARKER.search(str(messages[-1].get("content", ""))) if messages else None
        if found is None or found[1] not in run_of_tag:
            continue
        key = (run_of_tag[found[1]], found[2])
        called[key] += 1
        verdict.model_calls += 1
        if key in recorded_at and request.at > recorded_at[key]:
            verdict.late_calls.append((*key, round(request.at - recorded_at[key], 3)))
    for run, node, node_type in nodes:
        if node_type in ("input", "transformer", "output"):
            continue
        verdict.agent_nodes += 1
        if (str(run), node) in recorded_at and not called[(str(run), node)]:
            verdict.uncalled_agents.append((str(run), node))


def _judge_recovery(verdict: Verdict, kills: list[Kill]) -> None:
    """Kill → the next progress of a run that needed the killed process.

    Progress is a ``node.succeeded`` of such a run, or a ``node.started`` of a
    node that was running in the killed process (its new attempt).
    """
    for kill in kills:
        if not kill.runs:
            verdict.unaffected_kills += 1
            continue
        restarted = Q()
        for run, node in kill.nodes:
            restarted |= Q(run_id=run, node_id=node, type="node.started")
        after = RunEvent.objects.filter(run_id__in=kill.runs, ts__gt=kill.at)
        first = (
            after.filter(Q(type="node.succeeded") | restarted)
            .order_by("ts")
            .values_list("ts", flat=True)
            .first()
        )
        if first is not None:
            verdict.recoveries_s.append(_seconds(first, kill.at))
        for run, node in kill.nodes:
            again = (
                after.filter(run_id=run, node_id=node, type="node.started")
                .order_by("ts")
                .values_list("ts", flat=True)
                .first()
            )
            if again is not None:
                verdict.restarts_s.append(_seconds(again, kill.at))


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier) / timedelta(seconds=1)


def figures(log: ChaosLog, verdict: Verdict) -> list[str]:
    """The bench's plain lines."""
    kinds = Counter(kill.kind for kill in log.kills)
    return [
        f"SIGKILLs: {len(log.kills)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
        f"Redis restarts: {len(log.redis_restarts)}; database connections terminated: "
        f"{sum(n for _, n in log.db_terminations)} in {len(log.db_terminations)} rounds",
        f"runs: {verdict.runs} ({verdict.nodes} nodes, {verdict.agent_nodes} agent nodes, "
        f"{verdict.model_calls} model calls) in {log.seconds:.0f} s; unfinished at the time "
        f"limit: {log.unfinished}",
        f"lost: {verdict.lost} (runs not succeeded {len(verdict.not_succeeded)}, nodes with no "
        f"success {len(verdict.never_succeeded)})",
        f"duplicated: {verdict.duplicated} (nodes with >1 success {len(verdict.succeeded_twice)}, "
        f"model calls after the output was recorded {len(verdict.late_calls)}); runs with gaps "
        f"in their event log: {len(verdict.gapped_runs)}",
        "recovery (kill → next progress of an affected run): "
        + _spread(verdict.recoveries_s)
        + f"; kills with nothing in flight on the process: {verdict.unaffected_kills}",
        "killed in-flight agent nodes started again after: " + _spread(verdict.restarts_s),
    ]


def _spread(values: list[float]) -> str:
    if not values:
        return "none measured"
    return f"p50 {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"
