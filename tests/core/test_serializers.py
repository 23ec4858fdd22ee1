"""A serializer whose fields are built once per class still binds its own to each instance."""

import pytest
from rest_framework.serializers import ModelSerializer

from server.runs.models import NodeRun, Run
from server.runs.serializers import RunDetailSerializer, RunSerializer


@pytest.fixture
def built(monkeypatch) -> list[str]:
    """The fields ModelSerializer builds from the model, by name, as it builds them."""
    names: list[str] = []
    build_field = ModelSerializer.build_field

    def counting(self, field_name, *args, **kwargs):
        names.append(field_name)
        return build_field(self, field_name, *args, **kwargs)

    monkeypatch.setattr(ModelSerializer, "build_field", counting)
    return names


def test_the_fields_are_built_once_for_every_instance(built):
    RunSerializer(Run()).fields  # noqa: B018 - built here, or by an earlier test
    built.clear()
    first, second = RunSerializer(Run()), RunSerializer(Run())
    assert set(first.fields) == set(second.fields) >= {"id", "state", "node_counts"}
    assert built == []
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second


def test_each_instance_answers_from_its_own_context():
    run = Run(state="running")
    answers = [
        RunSerializer(run, context={"node_counts": {run.pk: {"queued": count}}}).data
        for count in (1, 2)
    ]
    assert [answer["node_counts"] for answer in answers] == [{"queued": 1}, {"queued": 2}]
    assert answers[0]["state"] == "running"


def test_a_nested_serializer_is_each_instance_s_own():
    first, second = RunDetailSerializer(Run()), RunDetailSerializer(Run())
    nodes = first.fields["nodes"], second.fields["nodes"]
    assert nodes[0] is not nodes[1]
    assert nodes[0].child is not nodes[1].child
    assert nodes[0].parent is first
    assert nodes[1].parent is second
    assert nodes[0].child.Meta.model is NodeRun
