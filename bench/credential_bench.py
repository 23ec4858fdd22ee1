"""Credential resolution and decryption per model call (goal ≤ 0.5 ms).

Usage: .venv/bin/python -m bench.credential_bench [--calls 2000]

What a worker does before each agent call (server/credentials/resolution.py),
on Postgres: a credential named by the node (one indexed read, a Fernet
decryption), the workspace's default for the model's provider (one indexed
read on (workspace, provider, created_at), a decryption), and, for scale, the
operator's environment key. A worker keeps what it read until the workspace's
credentials change (one shared-cache read per call checks that), so each case
is measured warm and right after a change. ``last_used_at`` is written at most
once a minute per credential.
"""

import argparse
import os
import time

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_credentials")

from bench.harness import deployment, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    os.environ["OPENAI_API_KEY"] = "sk-operator-key-for-the-bench"
    bench = deployment()
    from django.contrib.auth import get_user_model

    from server.credentials.resolution import model_access
    from server.credentials.services import create_credential, credentials_changed

    user = get_user_model().objects.get(pk=bench.user_id)
    workspace = bench.workspace_id
    for number in range(50):  # other credentials of the workspace, so the reads must choose
        create_credential(
            user=user,
            workspace_id=workspace,
            name=f"filler {number}",
            provider="mistral",
            secret={"api_key": f"sk-filler-{number:04d}-abcdefgh"},
            config={},
        )
    named = create_credential(
        user=user,
        workspace_id=workspace,
        name="named",
        provider="anthropic",
        secret={"api_key": "sk-ant-bench-0123456789abcdef"},
        config={},
    )
    cases = {
        "named credential": ("anthropic/claude-haiku-4-5", str(named.pk)),
        "workspace default": ("mistral/mistral-small-latest", None),
        "environment key": ("openai/gpt-4o-mini", None),
    }
    for label, (model, credential_id) in cases.items():
        for _ in range(50):
            model_access(workspace, model, credential_id)
        warm, cold = [], []
        for _ in range(args.calls):
            started = time.perf_counter()
            model_access(workspace, model, credential_id)
            warm.append((time.perf_counter() - started) * 1000)
        for _ in range(args.calls // 4):
            credentials_changed(workspace)  # as after an edit: the next call reads the database
            started = time.perf_counter()
            model_access(workspace, model, credential_id)
            cold.append((time.perf_counter() - started) * 1000)
        print(f"{label:18} {summary(warm)}")
        print(f"{'  after a change':18} {summary(cold)}")


if __name__ == "__main__":
    main()
