"""Fixtures for the model-calling layer: the local OpenAI-compatible server and litellm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.openai_server import OpenAICompatibleServer
from workers.llm.provider import load_litellm


@pytest.fixture(scope="session")
def litellm() -> Any:
    """litellm, imported once per session (the import alone takes seconds)."""
    return load_litellm()


@pytest.fixture(scope="session")
def running_openai_server() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer() as server:
        yield server


@pytest.fixture
def openai_server(running_openai_server: OpenAICompatibleServer) -> OpenAICompatibleServer:
    """The shared server, with no requests, counters or scripts left by earlier tests."""
    running_openai_server.reset()
    return running_openai_server
