"""How long does validating a maximal workflow document take?

Builds a realistic 5,000-node / 20,000-edge DAG (mixed agents whose prompts
carry one or two placeholders, transformers, edges with some transforms and
conditions), validates it repeatedly and prints the median and p95, both cold
(expression caches cleared before each run, as after a worker restart) and
warm (the same document validated again, as on every auto-save).

    .venv/bin/python bench/validate_bench.py [--runs 20] [--seed 7]
"""

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engine.documents import topic_input
from tests.support import documents
from workers.engine.expressions import clear_caches
from workers.engine.validation import validate_document

NODE_COUNT = 5000
EDGE_COUNT = 20000
OUTPUT_COUNT = 20
# Sources are drawn from the nodes just before a target, as in pipelines that
# are drawn left to right, rather than from anywhere in the graph.
WINDOW = 60

AGENT_MIX = ["researcher"] * 6 + ["coder"] * 4 + ["reviewer"] * 3 + ["coordinator"]
ROUTES = ["research more", "write code", "review", "publish"]


def build_document(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    kinds = ["input"]
    for _ in range(NODE_COUNT - 1 - OUTPUT_COUNT):
        kinds.append("transformer" if rng.random() < 0.3 else rng.choice(AGENT_MIX))
    kinds += ["output"] * OUTPUT_COUNT
    ids = [f"{kind}-{index}" for index, kind in enumerate(kinds)]

    # Edge sources per target, before the nodes' prompts are written, because
    # the prompts refer to their inputs.
    def pick_source(target: int) -> int:
        while True:
            source = rng.randrange(max(0, target - WINDOW), target)
            if kinds[source] != "output":  # output nodes have no outgoing edges
                return source

    # Every node but the input gets one edge, then edges are added at random.
    sources: list[list[int]] = [[]] + [[pick_source(target)] for target in range(1, NODE_COUNT)]
    for _ in range(EDGE_COUNT - (NODE_COUNT - 1)):
        target = rng.randrange(1, NODE_COUNT)
        sources[target].append(pick_source(target))

    nodes = [
        _node(ids[index], kind, [ids[s] for s in sources[index]], rng)
        for index, kind in enumerate(kinds)
    ]
    edges: list[dict[str, Any]] = []
    for target, found in enumerate(sources):
        for source in found:
            edges.append(_edge(len(edges), ids[source], ids[target], kinds[source], rng))
    return documents.document(nodes, edges, name="Benchmark pipeline", inputs=topic_input())


def _node(node_id: str, kind: str, upstream: list[str], rng: random.Random) -> dict[str, Any]:
    config: dict[str, Any] = {}
    first = f"`{upstream[0]}`" if upstream else "$.run"
    if kind in ("researcher", "coder", "reviewer", "coordinator"):
        prompt = f"Work on {{{{ $.run.topic }}}} for the {node_id} step."
        if rng.random() < 0.7:
            prompt += f"\n\nBuild on this:\n{{{{ {first}.text }}}}"
        elif rng.random() < 0.5:
            prompt += (
                f"\n\nExcerpt: {{{{ $substring({first}.text, 0, {rng.randrange(200, 2000)}) }}}}"
            )
        config = {
            "model": "mock/echo",
            "temperature": round(rng.uniform(0, 1.2), 2),
            # Most agents keep their type's preset system prompt.
            "system_prompt": (
                f"You are the {kind} of step {node_id}. Be concise and precise."
                if rng.random() < 0.3
                else None
            ),
            "prompt": prompt,
            "max_tokens": rng.choice([512, 1024, 2048]),
            "timeout_s": 300,
            "stream": True,
            "response_format": "json" if kind == "coordinator" else "text",
            "retry": {
                "max_attempts": 3,
                "backoff": "exponential",
                "initial_delay_ms": 1000,
                "max_delay_ms": 60000,
                "jitter": True,
            },
            "on_error": None,
        }
    elif kind == "transformer":
        config = {
            "expression": rng.choice(
                [
                    f'{{"summary": $substring({first}.text, 0, {rng.randrange(100, 900)}), '
                    '"topic": $.run.topic}',
                    f'{first}.text & "\\n\\n" & $string({first}.json)',
                    f"$count({first}.json.items) > {rng.randrange(10)} ? {first}.json.items : []",
                ]
            )
        }
    return {
        "id": node_id,
        "type": kind,
        "position": {"x": rng.randrange(10000), "y": rng.randrange(10000)},
        "data": {"label": node_id.replace("-", " ").title(), "config": config},
    }


def _edge(
    number: int, source: str, target: str, source_kind: str, rng: random.Random
) -> dict[str, Any]:
    roll = rng.random()
    transform = condition = None
    if roll < 0.08:
        transform = f'{{"text": $substring(text, 0, {rng.randrange(500, 4000)})}}'
    elif roll < 0.12:
        transform = "json.items[0]"
    elif roll < 0.2:
        condition = f"json.score > {rng.randrange(100) / 100}"
    elif roll < 0.24:
        condition = 'json.approved = true or $contains(text, "LGTM")'
    edge: dict[str, Any] = {"id": f"e{number}", "source": source, "target": target}
    # Like the canvas, leave out what is null or empty.
    if transform is not None:
        edge["transform"] = transform
    if condition is not None:
        edge["condition"] = condition
    if source_kind == "coordinator":
        edge["label"] = rng.choice(ROUTES)
    return edge


def measure(runs: int, validate: Callable[[], object], before: Callable[[], None]) -> list[float]:
    timings = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        validate()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{label}: median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    document = build_document(args.seed)
    encoded = json.dumps(document, separators=(",", ":")).encode()
    problems = validate_document(document, document_bytes=len(encoded))
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors:
        raise SystemExit(f"the benchmark document should be valid, got {errors[:3]}")

    def validate() -> object:
        return validate_document(json.loads(encoded), document_bytes=len(encoded))

    def validate_parsed() -> object:
        return validate_document(document, document_bytes=len(encoded))

    print(
        f"document: {len(document['nodes']):,} nodes, {len(document['edges']):,} edges, "
        f"{len(encoded) / 1024 / 1024:.2f} MiB, {len(problems)} warnings"
    )
    print(summary("cold (caches cleared)", measure(args.runs, validate_parsed, clear_caches)))
    print(summary("warm                 ", measure(args.runs, validate_parsed, lambda: None)))
    print(summary("warm + json.loads    ", measure(args.runs, validate, lambda: None)))


if __name__ == "__main__":
    main()
