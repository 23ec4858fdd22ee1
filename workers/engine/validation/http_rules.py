"""The rules of an `http` node's config (workers/engine/http_request.py).

Templates are checked like prompts (length, placeholder syntax, one parse
budget); the literal parts of a URL and of header values must not hold the
characters that would split a request (CR, LF) or end a C string (NUL). The
rendered request is checked again when it is sent, since a placeholder can
produce anything.
"""

from collections.abc import Callable, Mapping
from typing import Any

from workers.engine.document import JsonKind
from workers.engine.http_request import (
    FORBIDDEN_CHARS,
    HEADER_NAME,
    HTTP_METHODS,
    MAX_HEADER_CHARS,
    MAX_HEADERS,
    MAX_MANUAL_CHARS,
    MAX_QUERY_PARAMS,
    MAX_URL_CHARS,
    RESERVED_HEADERS,
    RESPONSE_PARSES,
    SIDE_EFFECTS,
    default_side_effect,
)
from workers.engine.limits import Limits
from workers.engine.validation.report import Report, Where

# Checks one `{{ }}` template: (text, key, where of the object holding it).
TemplateCheck = Callable[[str, str, Where], None]

_REQUEST_FIELDS: Mapping[str, JsonKind] = {
    "method": "string",
    "url": "string",
    "headers": "object",
    "query": "object",
    "body": "string",
}


def check_http(
    report: Report,
    typed: Mapping[str, Any],
    limits: Limits,
    where: Where,
    check_template: TemplateCheck,
) -> None:
    """Report every problem of an http node's config; `typed` holds its well-typed fields."""
    _check_request(report, typed, where, check_template)
    report.check_between(typed, "timeout_s", where, 0, limits.max_node_timeout_s, low_excluded=True)
    report.check_choice(typed, "response_format", RESPONSE_PARSES, where)
    report.check_choice(typed, "side_effect", SIDE_EFFECTS, where)
    if "idempotency_key" in typed:
        _check_line(report, typed["idempotency_key"], "idempotency_key", MAX_HEADER_CHARS, where)
        check_template(typed["idempotency_key"], "idempotency_key", where)
    if "credential" in typed and not typed["credential"].strip():
        report.error("invalid_value", "credential must name a credential", where.at("credential"))
    method = typed.get("method")
    side_effect = typed.get("side_effect") or (
        default_side_effect(method) if isinstance(method, str) else "none"
    )
    compensation = typed.get("compensation")
    if compensation is not None:
        if side_effect != "reversible":
            report.error(
                "invalid_value",
                f"a compensation undoes a reversible side effect; side_effect is {side_effect!r}",
                where.at("compensation"),
            )
        _check_compensation(report, compensation, where.at("compensation"), check_template)
    elif side_effect == "reversible":
        report.error(
            "missing_required",
            "a reversible side effect needs a compensation: a reverse request or "
            '{"manual": "<instructions>"}',
            where.at("compensation"),
        )


def _check_request(
    report: Report, typed: Mapping[str, Any], where: Where, check_template: TemplateCheck
) -> None:
    method = typed.get("method")
    if method is not None and method.upper() not in HTTP_METHODS:
        report.error(
            "invalid_value",
            f"method must be one of {', '.join(HTTP_METHODS)}",
            where.at("method"),
        )
    url = typed.get("url")
    if url is None or not url.strip():
        report.error("missing_required", "an http node needs a url", where.at("url"))
    elif _check_line(report, url, "url", MAX_URL_CHARS, where):
        check_template(url, "url", where)
    for key, limit in (("headers", MAX_HEADERS), ("query", MAX_QUERY_PARAMS)):
        if key in typed:
            _check_pairs(report, typed[key], key, limit, where.at(key), check_template)
    if "body" in typed:
        check_template(typed["body"], "body", where)


def _check_line(report: Report, text: str, key: str, limit: int, where: Where) -> bool:
    """One line of bounded length; reports and returns False otherwise."""
    if len(text) > limit:
        report.error(
            "out_of_range",
            f"{key} is {len(text):,} characters long; the limit is {limit:,}",
            where.at(key),
        )
        return False
    if FORBIDDEN_CHARS.search(text):
        report.error(
            "invalid_value",
            f"{key} must not contain line breaks or NUL characters",
            where.at(key),
        )
        return False
    return True


def _check_pairs(
    report: Report,
    pairs: Mapping[str, Any],
    key: str,
    limit: int,
    where: Where,
    check_template: TemplateCheck,
) -> None:
    if len(pairs) > limit:
        report.error("out_of_range", f"at most {limit} {key} are allowed", where)
        return
    for name, value in pairs.items():
        if key == "headers" and not HEADER_NAME.fullmatch(name):
            report.error("invalid_value", f"{name[:40]!r} is not a header name", where.at(name))
            continue
        if key == "headers" and name.lower() in RESERVED_HEADERS:
            report.error(
                "invalid_value", f"the {name} header is set by the request itself", where.at(name)
            )
            continue
        if not isinstance(value, str):
            report.error("invalid_type", f"{key} values must be strings", where.at(name))
            continue
        if _check_line(report, value, name, MAX_HEADER_CHARS, where):
            check_template(value, name, where)


def _check_compensation(
    report: Report, raw: Mapping[str, Any], where: Where, check_template: TemplateCheck
) -> None:
    if "manual" in raw:
        manual = raw["manual"]
        if set(raw) != {"manual"}:
            report.error(
                "invalid_value", "a manual compensation holds only its instructions", where
            )
        elif not isinstance(manual, str) or not manual.strip():
            report.error("invalid_type", "manual must be non-empty text", where.at("manual"))
        elif len(manual) > MAX_MANUAL_CHARS or "\x00" in manual:
            report.error(
                "invalid_value",
                f"manual must be text of at most {MAX_MANUAL_CHARS:,} characters, without NUL",
                where.at("manual"),
            )
        return
    unknown = sorted(set(raw) - set(_REQUEST_FIELDS))
    if unknown:
        report.error(
            "invalid_value",
            f"unknown field {unknown[0][:40]!r}; a compensation is a request "
            f'({", ".join(_REQUEST_FIELDS)}) or {{"manual": ...}}',
            where,
        )
    typed = report.typed_fields(raw, _REQUEST_FIELDS, where)
    if typed.get("method") is None:
        report.error("missing_required", "the compensation needs a method", where.at("method"))
    _check_request(report, typed, where, check_template)
