"""Export and import of workflow documents as JSON or YAML."""

import json
from typing import Any

import yaml

from server.core.errors import ApiError
from server.core.parsers import NonJsonConstant, plain_json_problem, refuse_constant


class _DocumentDumper(yaml.SafeDumper):
    """Writes plain YAML: no anchors, so any YAML reader (and our importer) takes it."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _DocumentLoader(yaml.SafeLoader):
    """Safe YAML without aliases (no "billion laughs") and with dates kept as text."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not allowed in a workflow", event.start_mark
            )
        return super().compose_node(parent, index)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


_DocumentLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def export_document(document: dict[str, Any], fmt: str) -> tuple[str, str]:
    """The document's text and media type."""
    if fmt == "yaml":
        text = yaml.dump(
            document, Dumper=_DocumentDumper, sort_keys=False, allow_unicode=True, width=100
        )
        return text, "application/yaml"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n", "application/json"


def parse_document_text(content: str) -> Any:
    """JSON or YAML text to a plain JSON document; every parse failure is a 400.

    YAML (and Python's JSON reader) accept values no JSON column can hold:
    NaN, infinities, NUL characters, bytes, sets, keys that are not text.
    Those are refused here too, rather than failing when the row is written.
    """
    document = _parse_text(content)
    problem = plain_json_problem(document)
    if problem is not None:
        raise ApiError("invalid_import", problem[1], reason=problem[0])
    return document


def _parse_text(content: str) -> Any:
    try:
        return json.loads(content, parse_constant=refuse_constant)
    except NonJsonConstant as exc:
        raise ApiError("invalid_import", str(exc)) from exc
    except RecursionError as exc:
        raise ApiError("invalid_import", "The document is nested too deeply.") from exc
    except ValueError:
        pass
    try:
        return yaml.load(content, Loader=_DocumentLoader)
    except RecursionError as exc:
        raise ApiError("invalid_import", "The document is nested too deeply.") from exc
    except yaml.YAMLError as exc:
        raise ApiError("invalid_import", f"The content is neither JSON nor YAML: {exc}") from exc


def _fresh_id(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def freshen_duplicate_ids(document: dict[str, Any]) -> list[str]:
    """Give fresh ids to nodes and edges whose id repeats an earlier one.

    Edges keep pointing at the first node of a repeated id, which is the node
    they meant in the exporting tool's document. Returns what was renamed.
    """
    renamed: list[str] = []
    for key in ("nodes", "edges"):
        items = document.get(key)
        if not isinstance(items, list):
            continue
        taken = {str(i["id"]) for i in items if isinstance(i, dict) and "id" in i}
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict) or "id" not in item:
                continue
            item_id = str(item["id"])
            if item_id in seen:
                new_id = _fresh_id(item_id, taken)
                taken.add(new_id)
                item["id"] = new_id
                renamed.append(f"{key[:-1]} {item_id} → {new_id}")
            seen.add(item["id"])
    return renamed
