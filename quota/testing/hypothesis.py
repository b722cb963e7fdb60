"""Hypothesis profiles: CI replays the same examples on every run, a local run explores new ones.

`ci` (when the CI variable is set, as .ci/run does) derives each test's examples from the test itself
(`derandomize`), so a CI failure is the same on a rerun and a green run stays green. `dev` draws new
examples each run and, since the tests keep no example database, prints the blob that replays a
failure (`@reproduce_failure(...)`). `pytest --hypothesis-profile=<name>` picks either explicitly.

Loaded from /conftest.py, before any test module is imported: a `settings(...)` object takes the
values it does not name from the profile active when it is made.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

NOT_CI = {"", "0", "false", "no"}


def load_profile() -> str:
    """Register both profiles and load the one for this environment; return its name."""
    # Both from Hypothesis' own defaults: with CI set it has already loaded its built-in `ci`, which a
    # profile registered without a parent would inherit (and a version without it would not have).
    base = settings.get_profile("default")
    slow_runners = [HealthCheck.too_slow]  # shared CI machines: slow data generation is not a failure there
    settings.register_profile(
        "ci", base, derandomize=True, database=None, deadline=None, print_blob=True, suppress_health_check=slow_runners
    )
    settings.register_profile("dev", base, print_blob=True)
    name = "dev" if os.environ.get("CI", "").strip().lower() in NOT_CI else "ci"
    settings.load_profile(name)
    return name
