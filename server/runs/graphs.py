from functools import lru_cache

from server.workflows.models import WorkflowVersion
from workers.engine.document import Graph
from workers.engine.hashing import node_config_hash


@lru_cache(maxsize=256)
def graph_for_version(version_id: int) -> Graph:
    """The parsed graph of a pinned version, parsed once per process.

    Versions are immutable, so the cache never goes stale; it spares each node
    task from loading and parsing the whole document again.
    """
    document = WorkflowVersion.objects.values_list("document", flat=True).get(pk=version_id)
    return Graph.from_document(document)


@lru_cache(maxsize=65536)
def config_hash(version_id: int, node_id: str) -> str:
    """A node's config hash (for resume), computed once per version and node."""
    return node_config_hash(graph_for_version(version_id), node_id)
