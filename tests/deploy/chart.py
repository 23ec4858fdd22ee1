"""The Helm chart as the tests read it: its files, values and manifests, actions removed.

No helm binary here: templates are read with their `{{ … }}` actions stripped,
which proves the manifests' shape and the values they read, not what
`helm template` renders for every set of values.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.files import (
    CHART,
    TEMPLATES,
)

ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.iterdir() if p.is_file())


def manifest_files() -> list[Path]:
    return [p for p in template_files() if p.suffix == ".yaml"]


@cache
def values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def values_references() -> set[tuple[str, ...]]:
    refs = set()
    for path in template_files():
        for match in re.finditer(
            r"(?<![\w])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", path.read_text()
        ):
            refs.add(tuple(match.group(1).strip(".").split(".")))
    return refs


def value_leaves(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict) and node:
        return [leaf for key, child in node.items() for leaf in value_leaves(child, (*prefix, key))]
    return [prefix]


def stripped_documents(path: Path) -> list[dict[str, Any]]:
    """The manifest with its template actions removed, parsed as YAML.

    Lines that are only actions (if/end/include … | nindent) go; an action inside
    a line becomes a placeholder scalar. What is left must already be YAML.
    """
    lines = []
    for line in COMMENT.sub("", path.read_text()).splitlines():
        if re.fullmatch(r"\s*(\{\{.*?\}\}\s*)+", line):
            continue
        lines.append(re.sub(r"\{\{.*?\}\}", "TEMPLATED", line))
    return [doc for doc in yaml.safe_load_all("\n".join(lines)) if doc is not None]


@cache
def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in manifest_files():
        for doc in stripped_documents(path):
            assert isinstance(doc, dict), path.name
            for key in ("apiVersion", "kind", "metadata"):
                assert key in doc, f"{path.name}: a document without {key}"
            assert doc["metadata"].get("name"), path.name
            docs.append(doc)
    return docs


def component(doc: dict[str, Any]) -> str | None:
    return (doc["metadata"].get("labels") or {}).get("app.kubernetes.io/component")


def deployments() -> dict[str, dict[str, Any]]:
    return {component(d): d for d in manifests() if d["kind"] == "Deployment"}
