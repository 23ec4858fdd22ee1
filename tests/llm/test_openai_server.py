"""The local OpenAI-compatible test server's own controls, over plain HTTP."""

from __future__ import annotations

import httpx

from tests.support.openai_server import OpenAICompatibleServer

_CHAT = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


def test_scripted_replies_are_served_first_then_the_normal_answer(
    openai_server: OpenAICompatibleServer,
) -> None:
    root = openai_server.base_url.removesuffix("/v1")
    error = {"error": {"message": "overloaded", "type": "server_error"}}

    with httpx.Client(base_url=root) as client:
        client.post("/_control", json={"script": [{"status": 529, "body": error}]})
        scripted = client.post("/v1/chat/completions", json=_CHAT)
        normal = client.post("/v1/chat/completions", json=_CHAT)

    assert (scripted.status_code, scripted.json()) == (529, error)
    assert normal.status_code == 200
    assert normal.json()["choices"][0]["message"]["content"] == "You said: hi"
    assert len(openai_server.requests) == 2


def test_reset_forgets_requests_and_failure_counters(openai_server: OpenAICompatibleServer) -> None:
    root = openai_server.base_url.removesuffix("/v1")
    failing = {**_CHAT, "model": "fail-500-1"}

    with httpx.Client(base_url=root) as client:
        first = client.post("/v1/chat/completions", json=failing)
        client.post("/_control", json={"reset": True})
        after_reset = client.post("/v1/chat/completions", json=failing)
        unknown = client.post("/v1/embeddings", json={})

    assert first.status_code == after_reset.status_code == 500
    assert len(openai_server.requests) == 1
    assert unknown.status_code == 404


def test_with_api_keys_a_wrong_key_is_a_401_naming_it_half_masked() -> None:
    with OpenAICompatibleServer(api_keys={"sk-right-0123456789"}) as server:
        url = f"{server.base_url}/chat/completions"
        right = httpx.post(url, json=_CHAT, headers={"Authorization": "Bearer sk-right-0123456789"})
        wrong = httpx.post(url, json=_CHAT, headers={"Authorization": "Bearer sk-wrong-9876543210"})
        missing = httpx.post(url, json=_CHAT)

    assert right.status_code == 200
    assert wrong.status_code == missing.status_code == 401
    message = wrong.json()["error"]["message"]
    assert "sk-************3210" in message
    assert "sk-wrong-9876543210" not in message
    assert len(server.requests) == 3
