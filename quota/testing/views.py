"""Helpers for page tests."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_for(client, url: str) -> int:
    """How many SQL queries one successful GET of `url` issues (what the pinned query counts measure)."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return len(context.captured_queries)
