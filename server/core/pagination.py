from typing import Any

from rest_framework import pagination

from server.core.numbers import query_int


class CursorPagination(pagination.CursorPagination):
    """Stable pages for lists that grow while being read (runs, workflows)."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int | None:
        # DRF reads the parameter with int() and falls back to the default on
        # anything it cannot read; a malformed page size is the client's error.
        # A larger one than allowed still gets the largest page, as in DRF.
        if self.page_size is None:
            return None
        size = query_int(
            request.query_params, self.page_size_query_param, default=self.page_size, min_value=1
        )
        return min(size, self.max_page_size)
