"""Chaos for the chaos tests and bench: worker processes killed and replaced while runs execute.

An orchestrator (Kubernetes, systemd, compose) starts a new worker when one
dies; ``Fleet`` does the same for the workers it owns, so a session can SIGKILL
them at will: a whole worker of either pool (its process group, as a
container's death takes every process in it) or one child of a prefork pool
(which the pool's main process replaces by itself). ``run_chaos`` keeps runs of
a fan-out/fan-in agent workflow going through such a fleet, kills, restarts
Redis and drops database connections, and records what it did for
``chaos_checks`` to judge afterwards.
"""

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from server.runs.models import NodeRun, Run
from tests.support.documents import agent, document, edge, node
from tests.support.processes import FAST_RECOVERY, ManagedProcess, start_worker
from tests.support.services import restart_redis

ACTIVE_RUN_STATES = ("queued", "running")
CONTROL_TYPES = ("input", "transformer", "output")
# Every model call names its run and node, so the model server's log says whose call it was.
MARKER = "[chaos {tag} {node}]"


def fan_in_workflow(width: int, model: str) -> dict[str, Any]:
    """input → ``width`` agents → join (a transformer) → summary (an agent) → output."""
    agents = [f"a{i}" for i in range(width)]
    nodes = [
        node("input", "input"),
        *(
            agent(a, model=model, prompt=MARKER.format(tag="{{ run.tag }}", node=a) + " Go.")
            for a in agents
        ),
        node("join", expression="$"),
        agent("summary", model=model, prompt=MARKER.format(tag="{{ run.tag }}", node="summary")),
        node("output", "output"),
    ]
    edges = [edge("input", a) for a in agents]
    edges += [edge(a, "join", target_handle=a) for a in agents]
    edges += [edge("join", "summary"), edge("summary", "output")]
    return document(
        nodes,
        edges,
        inputs={"tag": {"type": "string", "required": True}},
        max_concurrency=width + 2,
    )


@dataclass
class Slot:
    """One worker an orchestrator keeps alive: started again whenever its process is gone."""

    name: str
    queues: str
    pool: str
    concurrency: int
    # A fresh worker is not killed before it has had time to do some work.
    min_uptime_s: float
    # An agents worker imports litellm on its first model call (seconds of CPU):
    # killed before one of its nodes succeeded, it would never get anything done.
    must_have_worked: bool = False
    process: ManagedProcess | None = None
    ready_at: float = 0.0
    starts: int = 0


class Fleet:
    """Worker slots, each with a supervisor thread that replaces a dead worker after a delay."""

    def __init__(self, slots: list[Slot], env: dict[str, str], restart_delay_s: float = 0.5):
        self.slots = slots
        self.env = env
        self.restart_delay_s = restart_delay_s
        self.failed_starts = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "Fleet":
        """Start every slot's supervisor; return once each slot has a worker ready."""
        for slot in self.slots:
            thread = threading.Thread(target=self._supervise, args=(slot,), daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + 120
        while any(slot.process is None for slot in self.slots):
            if time.monotonic() > deadline:
                self.__exit__()
                raise TimeoutError("the fleet's workers did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        for slot in self.slots:
            if slot.process is not None:
                slot.process.stop()

    def _start(self, slot: Slot) -> None:
        process = start_worker(
            slot.name,
            queues=slot.queues,
            pool=slot.pool,
            concurrency=slot.concurrency,
            loglevel="WARNING",
            **self.env,
        )
        with self._lock:
            slot.process, slot.ready_at = process, time.monotonic()
            slot.starts += 1

    def _supervise(self, slot: Slot) -> None:
        while not self._stopping.is_set():
            process = slot.process
            if process is not None:
                if process.process.poll() is None:
                    self._stopping.wait(0.1)
                    continue
                process.stop()  # only closes its log: the process is gone
                if self._stopping.wait(self.restart_delay_s):
                    return
            try:
                self._start(slot)
            except (RuntimeError, TimeoutError):
                self.failed_starts += 1  # killed while starting, or too slow: try again

    def kinds(self) -> set[str]:
        """Every kind of kill this fleet offers: a pool's main process, a prefork child."""
        kinds = {_kind(slot) for slot in self.slots}
        return kinds | {f"{_kind(slot)}-child" for slot in self.slots if slot.pool == "prefork"}

    def targets(self) -> list[tuple[str, Slot]]:
        """What may be killed now: (kind, slot) for live workers past their minimum uptime."""
        now = time.monotonic()
        found = []
        with self._lock:
            for slot in self.slots:
                process = slot.process
                if process is None or process.process.poll() is not None:
                    continue
                if now - slot.ready_at < slot.min_uptime_s:
                    continue
                if slot.must_have_worked and not _has_worked(process.process.pid):
                    continue
                found.append((_kind(slot), slot))
                if slot.pool == "prefork" and _children(process.process.pid):
                    found.append((f"{_kind(slot)}-child", slot))
        return found


def _has_worked(pid: int) -> bool:
    return NodeRun.objects.filter(state="succeeded", worker__endswith=f"#{pid}").exists()


def _is_running_nodes(slot: Slot) -> bool:
    process = slot.process
    return process is not None and (
        NodeRun.objects.filter(state="running", worker__endswith=f"#{process.process.pid}").exists()
    )


def _kind(slot: Slot) -> str:
    return slot.queues.split(",")[0]


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (a prefork pool's children)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry))
    return children


@dataclass
class Kill:
    kind: str  # agents, control or control-child
    pid: int
    at: datetime
    # Agent nodes that were running in the killed process, as (run id, node id).
    nodes: list[tuple[str, str]]
    # Runs whose progress needed the killed process: those with a node running
    # in it or, for a control worker (whose nodes record no worker), with a
    # control node waiting to be computed.
    runs: set[str]


@dataclass
class ChaosPlan:
    runs: int  # at least this many runs are started
    in_flight: int  # runs kept going at once
    kills: int  # at least this many SIGKILLs
    kill_interval_s: float  # mean time between kills
    max_runs: int  # never more runs than this, even if kills are still due
    max_seconds: float  # the whole sitting, kills and the wait for runs to finish
    redis_restart: bool = True
    db_terminations: int = 1


@dataclass
class ChaosLog:
    run_ids: list[str] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    redis_restarts: list[datetime] = field(default_factory=list)
    db_terminations: list[tuple[datetime, int]] = field(default_factory=list)
    seconds: float = 0.0
    unfinished: int = 0


def chaos_env(api_base: str) -> dict[str, str]:
    """Settings of every process of a chaos session.

    Fast recovery, so the reaper reacts in seconds; the local model server for
    ``openai/*`` models; and more lost workers per node than the default
    before the node fails on purpose: at this rate of kills an unlucky node
    loses several workers, which the default exists to stop in production.
    """
    return {
        **FAST_RECOVERY,
        "AGENTLOOM_OPENAI_API_BASE": api_base,
        "AGENTLOOM_OPENAI_API_KEY": "chaos-key",
        "AGENTLOOM_MAX_LOST_WORKERS": "10",
    }


def start_beat(env: dict[str, str]) -> ManagedProcess:
    """Beat, the reaper's clock, in a worker of its own: it takes no node task, nothing kills it."""
    return start_worker(
        "chaos-beat", queues="chaos-beat", concurrency=1, beat=True, loglevel="WARNING", **env
    )


def fleet_slots(agents: int = 2, control: int = 2) -> list[Slot]:
    """Agents workers (threads) and control workers (prefork, two children each)."""
    slots = [Slot(f"chaos-agents{i}", "agents", "threads", 8, 5.0, True) for i in range(agents)]
    slots += [Slot(f"chaos-control{i}", "control", "prefork", 2, 3.0) for i in range(control)]
    return slots


def terminate_database_connections() -> int:
    """Drop every other connection to this database, as a failover or an admin would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return int(cursor.fetchone()[0])


def run_chaos(
    fleet: Fleet,
    plan: ChaosPlan,
    start_run: Callable[[str], str],
    progress: Callable[[str], None] = lambda line: None,
    seed: int = 7,
) -> ChaosLog:
    """Start runs (``start_run(tag)`` → run id) and kill workers until the plan is met.

    Then wait for every run to finish. Bounded by ``plan.max_seconds``: what
    is still unfinished then is counted in ``ChaosLog.unfinished``.
    """
    rng = random.Random(seed)
    log = ChaosLog()
    started = time.monotonic()
    deadline = started + plan.max_seconds
    next_kill = started + plan.kill_interval_s
    next_report = started + 10
    active: list[str] = []
    while time.monotonic() < deadline:
        active = list(
            Run.objects.filter(pk__in=active, state__in=ACTIVE_RUN_STATES).values_list(
                "pk", flat=True
            )
        )
        while _wants_runs(plan, log, fleet) and len(active) < plan.in_flight:
            run_id = start_run(f"r{len(log.run_ids)}")
            log.run_ids.append(run_id)
            active.append(run_id)
        if not active and not _wants_runs(plan, log, fleet):
            break
        now = time.monotonic()
        if _wants_kills(plan, log, fleet) and now >= next_kill and active:
            kill = _kill_one(fleet, rng, Counter(k.kind for k in log.kills))
            if kill is not None:
                log.kills.append(kill)
                _disturb_services(plan, log)
            next_kill = now + rng.uniform(0.5, 1.5) * plan.kill_interval_s
        if now >= next_report:
            next_report = now + 10
            progress(
                f"  {now - started:.0f} s: {len(log.kills)} SIGKILLs, {len(log.run_ids)} runs "
                f"started, {len(active)} in flight, {fleet.failed_starts} failed worker starts"
            )
        time.sleep(0.1)
    log.seconds = time.monotonic() - started
    log.unfinished = Run.objects.filter(pk__in=log.run_ids, state__in=ACTIVE_RUN_STATES).count()
    return log


def _wants_kills(plan: ChaosPlan, log: ChaosLog, fleet: Fleet) -> bool:
    """Until the planned number of kills is reached and every kind of target had its turn."""
    return len(log.kills) < plan.kills or {kill.kind for kill in log.kills} != fleet.kinds()


def _wants_runs(plan: ChaosPlan, log: ChaosLog, fleet: Fleet) -> bool:
    """More runs while fewer than planned, or while kills are still due (up to the maximum)."""
    started = len(log.run_ids)
    return started < plan.runs or (_wants_kills(plan, log, fleet) and started < plan.max_runs)


def _disturb_services(plan: ChaosPlan, log: ChaosLog) -> None:
    """Redis once at a third of the kills; database connections spread over the rest."""
    done = len(log.kills)
    if plan.redis_restart and not log.redis_restarts and done >= plan.kills // 3:
        log.redis_restarts.append(timezone.now())
        restart_redis()
    due = [plan.kills * (i + 2) // (plan.db_terminations + 2) for i in range(plan.db_terminations)]
    if len(log.db_terminations) < len(due) and done >= due[len(log.db_terminations)]:
        log.db_terminations.append((timezone.now(), terminate_database_connections()))


def _kill_one(fleet: Fleet, rng: random.Random, done: Counter[str]) -> Kill | None:
    """SIGKILL one target of the kind killed least so far, so every kind gets its share.

    Among those, a worker with a node running in it goes first: a kill between
    two tasks proves nothing about recovery, and a small sitting could
    otherwise end without any kill that hit work in flight.
    """
    targets = fleet.targets()
    if not targets:
        return None
    fewest = min(done[kind] for kind, _ in targets)
    candidates = [(k, s) for k, s in targets if done[k] == fewest]
    busy = [(k, s) for k, s in candidates if not k.endswith("-child") and _is_running_nodes(s)]
    kind, slot = rng.choice(busy or candidates)
    process = slot.process
    if process is None:
        return None
    main_pid = process.process.pid
    pid = rng.choice(_children(main_pid) or [main_pid]) if kind.endswith("-child") else main_pid
    at = timezone.now()
    running = list(
        NodeRun.objects.filter(state="running", worker__endswith=f"#{pid}").values_list(
            "run_id", "node_id"
        )
    )
    runs = {str(run_id) for run_id, _ in running}
    if not kind.startswith("agents"):
        runs |= {
            str(run_id)
            for run_id in NodeRun.objects.filter(
                state="queued", node_type__in=CONTROL_TYPES, run__state="running"
            ).values_list("run_id", flat=True)
        }
    if kind.endswith("-child"):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
    else:
        process.kill()
    return Kill(kind, pid, at, [(str(r), n) for r, n in running], runs)
