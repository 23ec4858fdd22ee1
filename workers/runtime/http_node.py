"""An `http` node's run: render, send through the guard, retry, parse, log the side effect.

Retries of 429, 5xx and network failures happen inside the node's attempt,
with the node's retry policy (each one a ``node.log`` warning): the node is
held by a lease like every non-agent node, and the heartbeats keep it while
it waits. The side effect is recorded by the runs service in the transaction
that records the node's success (``NodeResult.record_with``); the
compensation is rendered now, over the node's input and the response, so a
rollback needs nothing but the row. See docs/workflow-document.md, "The http
node".
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection

from server.egress import EgressResponse
from server.runs import http_calls
from server.runs.dispatch import run_stop_signalled
from server.runs.journal import RunJournal
from server.runs.services import execution, side_effects
from workers.engine.document import Graph
from workers.engine.expressions import ExpressionError
from workers.engine.http_request import (
    IDEMPOTENCY_HEADER,
    MAX_HEADER_CHARS,
    RESPONSE_KEY,
    Compensation,
    HttpConfig,
)
from workers.engine.retry import retry_delay_ms

_STOP_POLL_S = 0.1


class HttpNodeError(Exception):
    """The node failed (or was stopped: ``code == "cancelled"``, nothing to record)."""

    # Its retries were made inside the attempt, with the node's policy.
    retryable = False

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def run_http_node(
    claim: execution.Claim, graph: Graph, node_input: dict[str, Any]
) -> tuple[dict[str, Any], Callable[[RunJournal], None] | None]:
    """The node's output, and what its success records with it (its side effect, if any)."""
    config = HttpConfig.from_config(graph.nodes[claim.node_id].config)
    output, effect = send_http(claim, config, node_input)
    return output, None if effect is None else partial(side_effects.record, effect=effect)


def send_http(
    claim: execution.Claim, config: HttpConfig, data: dict[str, Any], *, step: int = 0
) -> tuple[dict[str, Any], side_effects.Effect | None]:
    """Send one http request (a node's, or an agent's tool call: ``step``); its side effect."""
    try:
        request = http_calls.prepare(config.request, data, claim.budget)
        auth = http_calls.authentication(claim.workspace_id, config.credential)
        extra: dict[str, str] = {}
        if config.idempotency_key:
            extra[IDEMPOTENCY_HEADER] = http_calls.render_line(
                config.idempotency_key, data, claim.budget, "idempotency_key"
            )
        # The expression time is for templates, not for waiting on the other side.
        with claim.budget.paused():
            response = _send_with_retries(claim, config, request, auth, extra)
    except http_calls.HttpCallError as exc:
        raise HttpNodeError(exc.code, exc.message) from None
    output = _output(response, config)
    if config.side_effect == "none":
        return output, None
    effect = side_effects.Effect(
        node_id=claim.node_id,
        attempt=claim.attempt,
        step=step,
        method=request.method,
        url=request.url,
        status=response.status_code,
        idempotency_key=extra.get(IDEMPOTENCY_HEADER, ""),
        credential_id=config.credential,
        compensation=_compensation(claim, config.compensation, data, output),
    )
    return output, effect


def _send_with_retries(
    claim: execution.Claim,
    config: HttpConfig,
    request: http_calls.PreparedRequest,
    auth: http_calls.Authentication,
    extra: dict[str, str],
) -> EgressResponse:
    attempt = 1
    while True:
        try:
            return http_calls.send(
                claim.workspace_id, request, auth, timeout_s=config.timeout_s, extra_headers=extra
            )
        except http_calls.HttpCallError as exc:
            delay_ms = retry_delay_ms(config.retry, attempt, rand=random.random)
            if not exc.retryable or delay_ms is None:
                raise
            if exc.wait_s is not None:
                delay_ms = min(max(delay_ms, int(exc.wait_s * 1000)), config.retry.max_delay_ms)
            attempt += 1
            execution.record_log(
                claim,
                "warning",
                f"{exc.code}: {exc.message}; try {attempt} of {config.retry.max_attempts} "
                f"in {delay_ms} ms",
            )
            _wait(claim, delay_ms / 1000)


def _wait(claim: execution.Claim, seconds: float) -> None:
    """Sleep, but stop as soon as the run is stopped (a cancel takes at most 2 s)."""
    connection.close()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if run_stop_signalled(str(claim.run_id)):
            raise HttpNodeError("cancelled", "the run was stopped")
        time.sleep(min(left, _STOP_POLL_S))


def _output(response: EgressResponse, config: HttpConfig) -> dict[str, Any]:
    """``{"status", "headers", "json", "text"}`` (SPEC §11); large ones become artifacts later."""
    text = response.text
    parsed: Any = None
    content_type = response.headers.get("content-type", "")
    wants_json = config.response_format == "json" or (
        config.response_format == "auto" and "json" in content_type.lower()
    )
    if wants_json and text.strip():
        try:
            parsed = json.loads(text)
        except ValueError:
            if config.response_format == "json":
                raise HttpNodeError(
                    "invalid_json", f"the response of status {response.status_code} is not JSON"
                ) from None
    return {
        "status": response.status_code,
        "headers": dict(response.headers.items()),
        "json": parsed,
        "text": text,
    }


def _compensation(
    claim: execution.Claim,
    compensation: Compensation | None,
    node_input: dict[str, Any],
    output: dict[str, Any],
) -> dict[str, Any] | None:
    """The reverse request rendered now, or instructions for a person."""
    if compensation is None:
        return None
    if compensation.manual is not None:
        return {"manual": compensation.manual}
    assert compensation.request is not None
    try:
        request = http_calls.prepare(
            compensation.request, {**node_input, RESPONSE_KEY: output}, claim.budget
        )
    except (ExpressionError, http_calls.HttpCallError) as exc:
        message = exc.message[:MAX_HEADER_CHARS]
        return {"manual": f"The compensation could not be prepared ({message}); undo it by hand."}
    return request.as_dict()
