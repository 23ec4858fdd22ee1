import copy
from typing import Any

from rest_framework import serializers

# Each class's fields as ModelSerializer builds them, never bound to an instance.
_built_fields: dict[type, dict[str, serializers.Field]] = {}


# A ModelSerializer whose fields are built once per class, not for every instance.
#
# DRF builds a ModelSerializer's fields anew for each instance: it reads the
# model's meta and constructs every field, about 0.8 ms for a run's two dozen
# fields, ten times the representation itself, paid by every answer to a run's
# start. What it builds depends on the class alone, so each instance binds
# copies of one set: shallow ones (a field keeps its own state in attributes
# ``bind`` sets), deep ones of nested serializers, as DRF's own
# ``Serializer.get_fields`` copies its declared fields. (A comment, not a
# docstring: drf-spectacular would describe every subclass's schema with it.)
class FieldsBuiltOnceModelSerializer(serializers.ModelSerializer):
    def get_fields(self) -> dict[str, Any]:
        built = _built_fields.get(type(self))
        if built is None:
            built = _built_fields[type(self)] = super().get_fields()
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer)
            else copy.copy(field)
            for name, field in built.items()
        }
