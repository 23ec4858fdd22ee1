"""litellm reaches nothing but the configured provider: no price download, no telemetry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.openai_server import OpenAICompatibleServer

REPO_ROOT = Path(__file__).resolve().parents[2]

# Records every outgoing connection and name lookup through Python's audit hooks,
# then makes one real streamed call through the loaded litellm.
_SCRIPT = """
import json, sys

hosts = set()

def audit(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        hosts.add(str(args[1][0]))
    elif event == "socket.getaddrinfo":
        hosts.add(str(args[0]))

sys.addaudithook(audit)

# As in every worker: the settings come first, and set litellm's variables.
import django
django.setup()

from workers.llm.calls import call_model
from workers.llm.types import ModelRequest

request = ModelRequest(
    model="openai/echo", system_prompt="", user_prompt="hello", temperature=0.0,
    max_tokens=10, timeout_s=30.0, stream=True, response_format="text",
    api_base=sys.argv[1], api_key="k",
)
result = call_model(request, on_delta=lambda _: None, should_stop=lambda: False)
print(json.dumps({"text": result.text, "hosts": sorted(hosts)}))
"""


def test_a_real_call_connects_only_to_the_provider(openai_server: OpenAICompatibleServer) -> None:
    # Without the litellm variables settings already put into this process's env:
    # the child must get them from its own settings.
    env = {key: value for key, value in os.environ.items() if not key.startswith("LITELLM_")}
    env.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT, openai_server.base_url],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["text"] == "You said: hello"
    assert report["hosts"] == ["127.0.0.1"]
