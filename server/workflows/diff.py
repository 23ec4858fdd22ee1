"""What changed between two workflow documents, by node and edge id."""

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict


class ChangedItem(TypedDict):
    id: str
    fields: list[str]


class ItemDiff(TypedDict):
    added: list[str]
    removed: list[str]
    changed: list[ChangedItem]


def _by_id(items: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    return {str(item["id"]): item for item in items if isinstance(item, Mapping) and "id" in item}


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ (a list counts as one leaf)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        paths: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths.extend(changed_paths(before[key], after[key], path))
        return paths
    return [] if before == after else [prefix]


def _diff_items(before: Iterable[Any], after: Iterable[Any]) -> ItemDiff:
    old, new = _by_id(before), _by_id(after)
    changed: list[ChangedItem] = []
    for item_id in new.keys() & old.keys():
        fields = changed_paths(old[item_id], new[item_id])
        if fields:
            changed.append({"id": item_id, "fields": fields})
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(changed, key=lambda c: c["id"]),
    }


def diff_documents(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nodes": _diff_items(before.get("nodes") or [], after.get("nodes") or []),
        "edges": _diff_items(before.get("edges") or [], after.get("edges") or []),
        "settings_changed": before.get("settings") != after.get("settings"),
        "inputs_changed": before.get("inputs") != after.get("inputs"),
        "name_changed": before.get("name") != after.get("name")
        or before.get("description") != after.get("description"),
    }
