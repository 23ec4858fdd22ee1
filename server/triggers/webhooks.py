"""Webhook triggers: their secrets, and turning one signed call into one run.

The secret is returned once, when it is made (create, rotate), and kept only
encrypted. Nothing here logs a body, a header or a secret.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework import status

from server.core.cache import count_up
from server.core.errors import ApiError
from server.core.limits import engine_limits
from server.core.parsers import plain_json_problem, refuse_constant
from server.credentials.crypto import decrypt_secret, encrypt_secret
from server.runs.models import Run, Trigger
from server.runs.services import start
from server.triggers.models import WebhookCall, WebhookTrigger
from server.triggers.selectors import enabled_webhook
from server.workflows.models import Workflow
from workers.engine.expressions import ExpressionError, evaluate

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")
SIGNATURE_HEADER = "X-Agentloom-Signature"
TIMESTAMP_HEADER = "X-Agentloom-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
# Headers a mapping may read: never credentials, cookies or our own signature.
_HIDDEN_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-agentloom-signature"}
)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_trigger(
    *, user: Any, workflow: Workflow, fields: Mapping[str, Any]
) -> tuple[WebhookTrigger, str]:
    """The new trigger and its secret, which is not shown again."""
    secret = new_secret()
    trigger = WebhookTrigger.objects.create(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        created_by=user,
        token=secrets.token_urlsafe(32),
        secret_token=encrypt_secret({"secret": secret}),
        **fields,
    )
    return trigger, secret


def update_trigger(trigger: WebhookTrigger, fields: Mapping[str, Any]) -> WebhookTrigger:
    for name, value in fields.items():
        setattr(trigger, name, value)
    trigger.save()
    return trigger


def rotate_secret(trigger: WebhookTrigger) -> str:
    secret = new_secret()
    trigger.secret_token = encrypt_secret({"secret": secret})
    trigger.save(update_fields=["secret_token", "updated_at"])
    return secret


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True)
class Call:
    body: bytes | None  # None: too large for Django to read at all
    content_type: str
    headers: Mapping[str, str]
    query: Mapping[str, Any]


@dataclass(frozen=True)
class Accepted:
    run_id: str
    respond: str
    wait_s: int


def _refuse(code: str, message: str, status_code: int, **extra: Any) -> ApiError:
    return ApiError(code, message, status_code=status_code, **extra)


def _unknown() -> ApiError:
    return _refuse("not_found", "Not found.", status.HTTP_404_NOT_FOUND)


def receive(token: str, call: Call, now: float | None = None) -> Accepted:
    """Check one call to ``/hooks/<token>`` and start its run (or find the one it repeats).

    Raises ``ApiError`` with the answer for every refusal, in this order: 404
    unknown or disabled, 413 too large, 429 over the rate, 401 signature, 400 body.
    """
    now = time.time() if now is None else now
    if not TOKEN_PATTERN.fullmatch(token):
        raise _unknown()
    trigger = enabled_webhook(token)
    if trigger is None:
        raise _unknown()
    limit = settings.AGENTLOOM_TRIGGERS["max_body_bytes"]
    body = call.body
    if body is None or len(body) > limit:
        raise _refuse(
            "payload_too_large",
            f"The request body is larger than {limit:,} bytes.",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    _take_rate_slot(trigger, now)
    if trigger.require_signature:
        _check_signature(trigger, call.headers, body, now)
    key = call.headers.get(IDEMPOTENCY_HEADER.lower(), "")
    if key and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise _refuse(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 200 printable ASCII characters.",
            status.HTTP_400_BAD_REQUEST,
        )
    if key:
        earlier = _earlier_run(trigger, key, now)
        if earlier is not None:
            return Accepted(earlier, trigger.respond, trigger.wait_s)
    inputs = _inputs(trigger, call, _body(body, call.content_type))
    return Accepted(_start(trigger, key, inputs, now), trigger.respond, trigger.wait_s)


def _take_rate_slot(trigger: WebhookTrigger, now: float) -> None:
    """A fixed one-minute window per trigger, counted in the shared cache (Redis)."""
    window = int(now // 60)
    key = f"agentloom:hook-rate:{trigger.pk}:{window}"
    count = count_up(key, timeout=120)
    if count > trigger.rate_per_minute:
        retry_after = max(1, int((window + 1) * 60 - now))
        raise _refuse(
            "rate_limited",
            f"This trigger accepts {trigger.rate_per_minute} calls a minute.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            retry_after_s=retry_after,
        )


def _check_signature(
    trigger: WebhookTrigger, headers: Mapping[str, str], body: bytes, now: float
) -> None:
    timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
    signature = headers.get(SIGNATURE_HEADER.lower(), "")
    unauthorized = status.HTTP_401_UNAUTHORIZED
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise _refuse(
            "signature_required",
            f"Send {TIMESTAMP_HEADER} (unix seconds) and {SIGNATURE_HEADER} "
            '(sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">).',
            unauthorized,
        )
    window = settings.AGENTLOOM_TRIGGERS["signature_window_s"]
    if abs(now - int(timestamp)) > window:
        raise _refuse(
            "signature_stale",
            f"{TIMESTAMP_HEADER} is more than {window} s away from the server's clock.",
            unauthorized,
        )
    secret = decrypt_secret(trigger.secret_token)["secret"]
    if not hmac.compare_digest(signature, signature_of(secret, timestamp, body)):
        raise _refuse("signature_invalid", "The signature does not match.", unauthorized)


def _body(raw: bytes, content_type: str) -> Any:
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("malformed_body", "The request body is not UTF-8.", 400) from None
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            value = json.loads(text, parse_constant=refuse_constant)
        except RecursionError:
            raise _refuse("malformed_json", "The JSON body is nested too deeply.", 400) from None
        except ValueError as error:
            raise _refuse("malformed_json", f"The body is not valid JSON: {error}", 400) from None
    else:
        value = text
    problem = plain_json_problem(value)
    if problem is not None:
        raise _refuse(*problem, status_code=400)
    return value


def _inputs(trigger: WebhookTrigger, call: Call, body: Any) -> dict[str, Any]:
    if not trigger.inputs:
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise _refuse(
                "invalid_inputs",
                "Without an inputs mapping the body must be a JSON object of run inputs.",
                400,
            )
        return body
    headers = {name: value for name, value in call.headers.items() if name not in _HIDDEN_HEADERS}
    data = {"body": body, "headers": headers, "query": dict(call.query)}
    try:
        mapped = evaluate(trigger.inputs, data, limits=engine_limits())
    except ExpressionError as error:
        raise _refuse("inputs_expression", f"The inputs mapping failed: {error}", 400) from None
    if not isinstance(mapped, dict):
        raise _refuse("invalid_inputs", "The inputs mapping must give a JSON object.", 400)
    # A mapping can make what a body could not ($decodeUrl('%00') is a NUL).
    problem = plain_json_problem(mapped)
    if problem is not None:
        raise _refuse(*problem, status_code=400)
    return mapped


def _earlier_run(trigger: WebhookTrigger, key: str, now: float) -> str | None:
    since = datetime.fromtimestamp(now).astimezone() - IDEMPOTENCY_TTL
    run_id = (
        WebhookCall.objects.filter(trigger=trigger, idempotency_key=key, created_at__gte=since)
        .values_list("run_id", flat=True)
        .first()
    )
    return None if run_id is None else str(run_id)


def _start(trigger: WebhookTrigger, key: str, inputs: dict[str, Any], now: float) -> str:
    if not key:
        return str(_create_run(trigger, inputs).pk)
    # A key older than 24 h may be used again: drop its row so the new one fits.
    cutoff = datetime.fromtimestamp(now).astimezone() - IDEMPOTENCY_TTL
    WebhookCall.objects.filter(trigger=trigger, idempotency_key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            run = _create_run(trigger, inputs)
            # A concurrent call with the same key waits on this row's index
            # entry, then fails and rolls its own run back with it.
            WebhookCall.objects.create(trigger=trigger, idempotency_key=key, run=run)
    except IntegrityError:
        earlier = _earlier_run(trigger, key, now)
        if earlier is None:
            raise
        return earlier
    return str(run.pk)


def _create_run(trigger: WebhookTrigger, inputs: dict[str, Any]) -> Run:
    return start.create_run(
        workflow=trigger.workflow, user=None, inputs=inputs, trigger=Trigger.WEBHOOK
    )


def forget_old_calls(now: datetime) -> int:
    deleted, _ = WebhookCall.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
    return deleted
