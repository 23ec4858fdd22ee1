"""Where node outputs live: inline up to the limit, compressed in object storage above it.

Storage is Django's default storage: S3 (django-storages) when a bucket is set,
the local filesystem in the embedded default (server/settings.py).
"""

import gzip
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from server.core.limits import engine_limits
from server.runs.models import Artifact

_PREVIEW_CHARS = 200


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def preview(value: Any) -> str:
    """A short human preview of a value (an agent output shows its text)."""
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        text = value["text"]
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


@dataclass(frozen=True)
class StoredOutput:
    value: Any
    inline: Any
    artifact: Artifact | None = None

    @staticmethod
    def size_of(value: Any) -> int:
        return len(_encode(value))

    @classmethod
    def inline_only(cls, value: Any) -> "StoredOutput":
        return cls(value=value, inline=value)


def store_output(run_id: Any, node_id: str, attempt: int, value: Any) -> StoredOutput:
    """Keep a small output inline; write a large one to storage, gzip-compressed with its sha256.

    The file and its row are written before the node's transition commits; if
    the transition then loses its compare-and-set (a duplicate), the artifact
    is an orphan that retention removes, never a second recorded output.
    """
    encoded = _encode(value)
    if len(encoded) <= engine_limits().max_inline_output_bytes:
        return StoredOutput(value=value, inline=value)
    compressed = gzip.compress(encoded, compresslevel=6)
    key = f"runs/{run_id}/{node_id}/{attempt}-{uuid.uuid4().hex}.json.gz"
    saved_key = default_storage.save(key, ContentFile(compressed))
    artifact = Artifact.objects.create(
        run_id=run_id,
        node_id=node_id,
        storage_key=saved_key,
        size=len(encoded),
        compressed_size=len(compressed),
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
    return StoredOutput(value=value, inline=None, artifact=artifact)


def read_artifact(artifact: Artifact) -> bytes:
    with default_storage.open(artifact.storage_key, "rb") as handle:
        return gzip.decompress(handle.read())


def delete_run_files(run_ids: Iterable[Any], keys: Iterable[str]) -> None:
    """Delete the stored objects of runs whose rows are being deleted.

    Deleting a missing key is no error in either store, so a batch retried
    after a failure deletes what is left. On the filesystem a run's objects
    are the folder ``runs/<run_id>/``, removed whole: that also takes the
    folders themselves, and a file whose row was never written (its writer
    died in between); an object store has no folders to remove.
    """
    for key in keys:
        default_storage.delete(key)
    for run_id in run_ids:
        try:
            folder = default_storage.path(f"runs/{run_id}")
        except NotImplementedError:
            return
        shutil.rmtree(folder, ignore_errors=True)


def load_output(inline: Any, artifact_id: Any) -> Any:
    if artifact_id is None:
        return inline
    return json.loads(read_artifact(Artifact.objects.get(pk=artifact_id)))
