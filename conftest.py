import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (team membership is cached)."""
    from django.core.cache import cache

    cache.clear()
    yield
