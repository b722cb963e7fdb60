"""Running a management command in a test: its output, or its refusal (a CommandError with exit status 2)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def run_command(*args: str) -> str:
    """`quota ARGS...` in-process; what it printed."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def refused_command(*args: str) -> str:
    """`quota ARGS...` that must refuse with exit status 2; the refusal's message."""
    with pytest.raises(CommandError) as caught:
        run_command(*args)
    assert caught.value.returncode == 2
    return str(caught.value)
