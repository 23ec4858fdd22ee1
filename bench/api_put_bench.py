"""PUT of a 1,000-node workflow through the API on Postgres: median and p95 (goal: median ≤ 150 ms).

Usage: .venv/bin/python -m bench.api_put_bench [--nodes 1000] [--repeat 40]

Each PUT changes one prompt, so every save validates the whole document and
writes a new immutable version, as an editor's auto-save does.
"""

import argparse
import time

import httpx

from bench.harness import deployment, summary


def big_document(nodes: int) -> dict:
    from tests.support.documents import agent, document, edge, node

    agents = [
        agent(
            f"agent-{i}",
            ["researcher", "coder", "reviewer"][i % 3],
            prompt=f"Step {i}: {{{{ $.run.topic }}}}",
        )
        for i in range(nodes - 2)
    ]
    ids = [a["id"] for a in agents]
    edges = [edge("input", ids[0])]
    edges += [edge(ids[i], ids[i + 1]) for i in range(len(ids) - 1)]
    edges += [edge(ids[i], ids[i + 7]) for i in range(0, len(ids) - 7, 3)]
    edges.append(edge(ids[-1], "output"))
    return document(
        [node("input", "input"), *agents, node("output", "output")],
        edges,
        inputs={"topic": {"type": "string", "required": True}},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    deploy = deployment()
    from tests.support.processes import start_asgi

    server, base = start_asgi()
    try:
        headers = {"Authorization": f"Token {deploy.token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            doc = big_document(args.nodes)
            created = (
                client.post("/api/v1/workflows/", json={"document": doc}).raise_for_status().json()
            )
            version, timings = created["version"], []
            size = len(
                httpx.Request("PUT", base, json={"version": version, "document": doc}).content
            )
            for i in range(args.repeat + 3):
                doc["nodes"][1]["data"]["config"]["prompt"] = f"Edit {i}: {{{{ $.run.topic }}}}"
                started = time.perf_counter()
                response = client.put(
                    f"/api/v1/workflows/{created['id']}/",
                    json={"version": version, "document": doc},
                )
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                version = response.json()["version"]
                if i >= 3:  # the first saves warm caches and connections
                    timings.append(elapsed)
        body = f"{size / 1024:.0f} KiB body"
        print(f"PUT {args.nodes}-node workflow ({body}), Postgres: {summary(timings)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
