"""CI replays the same hypothesis examples; a local run explores and can replay a failure from its blob."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quota.testing.hypothesis import load_profile


@pytest.fixture(autouse=True)
def _profile_restored():
    before = settings.get_current_profile_name()
    yield
    settings.load_profile(before)


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_ci_runs_derandomized_without_an_example_database(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert load_profile() == "ci"
    active = settings()
    assert active.derandomize is True
    assert active.database is None
    assert active.print_blob is True


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_a_local_run_explores_and_prints_the_blob(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert load_profile() == "dev"
    assert settings().derandomize is False
    assert settings().print_blob is True


def test_ci_draws_the_same_examples_every_run(monkeypatch):
    monkeypatch.setenv("CI", "true")
    load_profile()

    def drawn() -> list[int]:
        seen: list[int] = []

        @settings(max_examples=20)
        @given(st.integers())
        def record(number):
            seen.append(number)

        record()
        return seen

    assert drawn() == drawn()
