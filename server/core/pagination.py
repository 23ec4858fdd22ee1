from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages for lists that grow while being read (runs, workflows)."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200
