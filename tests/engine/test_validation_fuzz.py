"""validate_document on any JSON at all: problems, never an exception."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.documents import pipeline
from workers.engine.problems import ERROR_CODES, WARNING_CODES
from workers.engine.validation import validate_document

# Keys the document format uses, for the random documents at the end.
KEYS = [
    "schema_version",
    "settings",
    "inputs",
    "nodes",
    "edges",
    "id",
    "type",
    "data",
    "config",
    "source",
    "target",
    "target_handle",
    "prompt",
    "model",
    "retry",
    "budget",
]


# Robustness: any JSON at all

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["in", "out", "e1", "researcher-1", "coordinator", "{{ x", "$"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
)


def slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a document, so one can be replaced."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        found.append((value, key))
        if isinstance(item, dict | list):
            found += slots(item)
    return found


@settings(max_examples=400)
@given(st.data())
def test_a_mangled_document_gives_problems_never_an_exception(data: st.DataObject) -> None:
    doc = pipeline()
    doc["nodes"][2]["type"] = "coordinator"
    for _ in range(data.draw(st.integers(1, 4))):
        container, key = data.draw(st.sampled_from(slots(doc)))
        container[key] = data.draw(JSON)
    for problem in validate_document(doc):
        assert problem.code in ERROR_CODES | WARNING_CODES
        problem.as_dict()


@given(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6))
def test_a_random_document_gives_problems_never_an_exception(doc: dict[str, Any]) -> None:
    for problem in validate_document(doc):
        assert problem.code in ERROR_CODES | WARNING_CODES
