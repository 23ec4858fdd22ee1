"""Every field of every endpoint that takes a body, fed hostile values.

Each value a field must refuse gets a clear 4xx with a stable `code`, and no
row anywhere changes. The values: Unicode digits, NaN and infinities (which
Python's JSON reader accepts), 10**400, booleans where numbers go, 10,000
levels of nesting, NUL in strings and keys, megabyte strings, wrong types,
unknown ids and another workspace's ids.
"""

import json
import re
from typing import Any

import pytest

from tests.hostile.conftest import row_counts
from tests.support.documents import chain

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[a-z][a-z_]*")
MARK = "__hostile__"


class Raw(str):
    """JSON text put into the body as it is (NaN, Infinity, deep nesting)."""


class WorldId(str):
    """The name of an id of the `world` fixture, put in when the test runs."""


MEGABYTE = "x" * 1_000_000
# Refused by the body parser, whatever the field.
ANYWHERE: dict[str, Any] = {
    "NUL in text": "a\x00b",
    "NUL in a key": {"a\x00b": 1},
    "NaN": Raw("NaN"),
    "Infinity": Raw("Infinity"),
    "-Infinity": Raw("-Infinity"),
    "1e400": Raw("1e400"),
    "10,000 levels": Raw("[" * 10_000 + "]" * 10_000),
    "a deep object": Raw('{"a":' * 100 + "1" + "}" * 100),
}
WRONG_SHAPES: dict[str, Any] = {"true": True, "a list": [], "an object": {}}
UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"
# What each kind of field must refuse besides ANYWHERE.
REFUSED_BY_KIND: dict[str, dict[str, Any]] = {
    "integer": {
        **WRONG_SHAPES,
        "a superscript digit": "\u00b2",
        "10**400": 10**400,
        "a fraction": 1.5,
        "negative": -1,
        "a megabyte": MEGABYTE,
    },
    "id": {
        **WRONG_SHAPES,
        "a superscript digit": "\u00b2",
        "10**400": 10**400,
        "text": "not-an-id",
        "a megabyte": MEGABYTE,
        "an unknown id": UNKNOWN_UUID,
        "another workspace's id": WorldId("foreign_workspace"),
    },
    "text": {**WRONG_SHAPES, "a megabyte": MEGABYTE},
    "list": {
        "text": "x",
        "true": True,
        "an object": {},
        "10**400": 10**400,
        "[megabyte]": [MEGABYTE],
    },
    "object": {"text": "x", "true": True, "a list": [], "10**400": 10**400},
    "document": {"text": "x", "true": True, "a list": [], "10**400": 10**400},
    "any": {},
}

# (name, method, path, a valid body, {field: kind})
ENDPOINTS: list[tuple[str, str, str, dict[str, Any], dict[str, str]]] = [
    (
        "create a workflow",
        "post",
        "/api/v1/workflows/",
        {"name": "w"},
        {
            "name": "text",
            "description": "text",
            "message": "text",
            "tags": "list",
            "workspace": "id",
            "document": "document",
        },
    ),
    (
        "edit a workflow",
        "patch",
        "/api/v1/workflows/{workflow}/",
        {"version": 1, "name": "n"},
        {"version": "integer", "name": "text", "tags": "list", "document": "document"},
    ),
    (
        "replace a workflow",
        "put",
        "/api/v1/workflows/{workflow}/",
        {"version": 1, "document": chain(1)},
        {"version": "integer", "document": "document", "message": "text"},
    ),
    (
        "validate",
        "post",
        "/api/v1/workflows/{workflow}/validate/",
        {"document": chain(1)},
        {"document": "document"},
    ),
    (
        "import",
        "post",
        "/api/v1/workflows/import/",
        {"content": json.dumps(chain(1))},
        {"content": "text", "workspace": "id", "tags": "list"},
    ),
    (
        "restore a version",
        "post",
        "/api/v1/workflows/{workflow}/versions/1/restore/",
        {"version": 1},
        {"version": "integer"},
    ),
    (
        "start a run",
        "post",
        "/api/v1/workflows/{workflow}/runs/",
        {"inputs": {}},
        {"inputs": "object", "version": "integer"},
    ),
    (
        "estimate",
        "post",
        "/api/v1/workflows/{workflow}/estimate/",
        {"inputs": {}},
        {"inputs": "object", "version": "integer"},
    ),
    (
        "preview an expression",
        "post",
        "/api/v1/expressions/evaluate/",
        {"expression": "1 + 1"},
        {"expression": "text", "mode": "text", "input": "any"},
    ),
    (
        "create a template",
        "post",
        "/api/v1/templates/",
        {"name": "t", "document": chain(1)},
        {
            "name": "text",
            "category": "text",
            "variables": "list",
            "document": "document",
            "workspace": "id",
        },
    ),
    (
        "instantiate a template",
        "post",
        "/api/v1/templates/{template}/instantiate/",
        {},
        {"workspace": "id", "name": "text", "variables": "object"},
    ),
    ("create a token", "post", "/api/v1/tokens/", {"name": "t"}, {"name": "text"}),
    (
        "rename a workspace",
        "patch",
        "/api/v1/workspaces/{workspace}/",
        {"name": "w"},
        {"name": "text", "max_running_runs": "integer", "allowed_domains": "list"},
    ),
    (
        "invite a member",
        "post",
        "/api/v1/workspaces/{workspace}/invitations/",
        {"username": "newcomer", "role": "editor"},
        {"username": "text", "role": "text"},
    ),
    (
        "log in",
        "post",
        "/api/v1/auth/login/",
        {"username": "owner", "password": "pw-owner"},
        {"username": "text", "password": "text"},
    ),
]


def _cases():
    for name, method, path, body, fields in ENDPOINTS:
        for field, kind in fields.items():
            yield pytest.param(method, path, body, field, kind, id=f"{name}-{field}")


def _body(base: dict[str, Any], field: str, value: Any, ids: dict[str, Any]) -> bytes:
    if isinstance(value, WorldId):
        value = str(ids[value])
    body = {**base, field: MARK if isinstance(value, Raw) else value}
    text = json.dumps(body, ensure_ascii=False)
    if isinstance(value, Raw):
        text = text.replace(json.dumps(MARK), value)
    return text.encode()


@pytest.mark.parametrize(("method", "path", "base", "field", "kind"), list(_cases()))
def test_hostile_values_are_clear_4xx_and_write_nothing(world, method, path, base, field, kind):
    ids = world["ids"]
    client = world["anonymous"] if path.startswith("/api/v1/auth/") else world["api"]
    wrong = []
    for label, value in {**ANYWHERE, **REFUSED_BY_KIND[kind]}.items():
        before = row_counts()
        response = getattr(client, method)(
            path.format(**ids), _body(base, field, value, ids), content_type="application/json"
        )
        answer = response.json() if response["Content-Type"] == "application/json" else {}
        if not (
            400 <= response.status_code < 500
            and CODE.fullmatch(str(answer.get("code")))
            and answer.get("message")
        ):
            wrong.append((label, response.status_code, response.content[:200]))
        if row_counts() != before:
            wrong.append((label, "wrote rows", response.status_code))
    assert wrong == []


@pytest.mark.parametrize(("name", "method", "path", "base", "fields"), ENDPOINTS)
def test_the_valid_bodies_are_valid(world, name, method, path, base, fields):
    """So that each refusal above is down to the one hostile field."""
    client = world["anonymous"] if path.startswith("/api/v1/auth/") else world["api"]
    response = getattr(client, method)(path.format(**world["ids"]), base, format="json")
    assert response.status_code < 300, (name, response.content[:300])
