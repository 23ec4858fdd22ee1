"""What the engine decides about documents, as data for the frontend.

The node types with their handles and the config a new node starts with, the
document of a new workflow, and the limits' defaults: the canvas writes these
into new nodes and documents, so they must be the engine's own values, not a
copy. ``python -m workers.engine.catalog`` prints the catalog as JSON (the
frontend's ``src/generated/engineCatalog.json``, made by ``make generate``).
"""

import dataclasses
import json
from typing import Any

from workers.engine.approval import new_approval_config
from workers.engine.document import (
    AGENT_PRESETS,
    AGENT_TYPES,
    DEFAULT_MAX_TOKENS,
    DEFAULT_STREAM,
    DEFAULT_TIMEOUT_S,
    NODE_TYPES,
    SCHEMA_VERSION,
    NodeType,
    new_document,
)
from workers.engine.flow import new_map_config, new_workflow_node_config
from workers.engine.http_request import new_http_config
from workers.engine.limits import DEFAULT_LIMITS
from workers.engine.retry import RetryPolicy
from workers.engine.validation.models import SERVED_NAME_MAX_LENGTH, SERVED_NAME_PATTERN

# A new transformer passes its input through unchanged until it is edited.
NEW_TRANSFORMER_EXPRESSION = "$"


def default_config(node_type: NodeType) -> dict[str, Any]:
    """The config a new node of the type gets: every agent setting at its preset."""
    if node_type in AGENT_TYPES:
        preset = AGENT_PRESETS[node_type]
        return {
            "model": None,
            "temperature": preset.temperature,
            "system_prompt": preset.system_prompt,
            "prompt": preset.prompt,
            "max_tokens": DEFAULT_MAX_TOKENS,
            "timeout_s": DEFAULT_TIMEOUT_S,
            "stream": DEFAULT_STREAM,
            "response_format": preset.response_format,
            "retry": dataclasses.asdict(RetryPolicy()),
            "on_error": None,
        }
    if node_type == "transformer":
        return {"expression": NEW_TRANSFORMER_EXPRESSION}
    if node_type == "http":
        return new_http_config()
    if node_type == "approval":
        return new_approval_config()
    if node_type == "workflow":
        return new_workflow_node_config()
    if node_type == "map":
        return new_map_config()
    return {}


def engine_catalog() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "node_types": {
            node_type: {
                "category": "agent" if node_type in AGENT_TYPES else "control",
                # Inputs start a run and outputs end it: no edge enters an
                # input node and none leaves an output node.
                "has_target": node_type != "input",
                "has_source": node_type != "output",
                "default_config": default_config(node_type),
            }
            for node_type in NODE_TYPES
        },
        "new_document": new_document(),
        "limits": dataclasses.asdict(DEFAULT_LIMITS),
        # The model names the canvas lets a user type for a credential that serves any name.
        "served_model_name": {
            "pattern": SERVED_NAME_PATTERN,
            "max_length": SERVED_NAME_MAX_LENGTH,
        },
    }


if __name__ == "__main__":
    print(json.dumps(engine_catalog(), sort_keys=True, indent=2))
