"""Numbers from clients, read strictly: every serializer field and query
parameter that takes one goes through here.

Python's ``int()`` and ``Decimal()``, and DRF's number fields with them, read
much more than the digits 0-9: "١٢" (Arabic-Indic) and fullwidth "12" (U+FF11
U+FF12) are 12, "1_000" is 1000, " 7\\n", "+7" and "7.0" are 7, while "²" passes
``str.isdigit()`` and then makes ``int()`` raise. A number must mean the same
to everything that reads the request (a proxy, a log, another service), so
here only a JSON number, or text of ASCII digits with an optional minus sign
(and a decimal point, for decimals), is one. Integers stay within
PostgreSQL's bigint, so no query or arithmetic sees 10**400; decimals within
their field's digits.
"""

import re
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.utils import html

from server.core.errors import ApiError

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
# Nineteen digits hold every bigint; longer text is refused before int() reads it.
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,19}")
# Longer than any decimal column; DecimalField then checks the field's own digits.
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?")


def strict_int(value: object) -> int | None:
    """``value`` as an int when a client wrote a bigint plainly, else None.

    A JSON integer, or ASCII digits with an optional minus (query strings and
    form bodies are text); never a bool, a float (``1.0``, ``1e3``) or text that
    only Python reads as a number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if BIGINT_MIN <= number <= BIGINT_MAX else None


def query_int(
    params: Mapping[str, str],
    name: str,
    *,
    default: int,
    min_value: int = 0,
    max_value: int = BIGINT_MAX,
    code: str = "invalid_query",
) -> int:
    """The query parameter ``name`` as an int in [min_value, max_value], or ``default`` when absent.

    Anything else present, a blank included, is a 400 with ``code``, never a
    silent fallback.
    """
    text = params.get(name)
    if text is None:
        return default
    number = strict_int(text)
    if number is None or not min_value <= number <= max_value:
        raise ApiError(
            code,
            f"{name} must be a whole number from {min_value} to {max_value}, "
            "written with the digits 0-9.",
        )
    return number


class _NoBlankNumbers(serializers.Field):
    """A blank is no number: DRF takes one as absent (in a query string or a form)
    or, for a nullable DecimalField, as null even when it is only spaces."""

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        return serializers.Field.validate_empty_values(self, data)


class StrictIntegerField(_NoBlankNumbers, serializers.IntegerField):
    """``IntegerField`` that takes what ``strict_int`` takes, within its own bounds."""

    default_error_messages = {
        "invalid": "A whole number written with the digits 0-9 is required.",
    }

    def to_internal_value(self, data: Any) -> int:
        number = strict_int(data)
        if number is None:
            # A JSON integer past a bigint: say which bound, as the field's own bounds do.
            if isinstance(data, int) and not isinstance(data, bool):
                if data > 0:
                    bound = BIGINT_MAX if self.max_value is None else self.max_value
                    self.fail("max_value", max_value=bound)
                bound = BIGINT_MIN if self.min_value is None else self.min_value
                self.fail("min_value", min_value=bound)
            self.fail("invalid")
        return number


class StrictDecimalField(_NoBlankNumbers, serializers.DecimalField):
    """``DecimalField`` that takes JSON numbers and ASCII text such as ``-12.5``."""

    default_error_messages = {
        "invalid": (
            "A number written with the digits 0-9 and an optional decimal point is required."
        ),
    }

    def to_internal_value(self, data: Any) -> Any:
        # Floats reach here finite: the JSON parser refuses NaN and infinities.
        plain = isinstance(data, int | float) and not isinstance(data, bool)
        if not plain and not (isinstance(data, str) and _DECIMAL_TEXT.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)
