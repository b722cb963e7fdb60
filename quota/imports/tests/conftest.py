import csv
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """write_csv("deals.csv", [header, row, ...], delimiter=",", encoding="utf-8") -> path"""

    def write(name: str, rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding=encoding) as handle:
            csv.writer(handle, delimiter=delimiter).writerows(rows)
        return path

    return write


@pytest.fixture
def ann_at_acme(db):
    """The owner the deal files name ("rep1" or "Ann Rep"), her company Acme and a loss reason."""
    from quota.testing.factories import CompanyFactory, UserFactory, loss_reason

    rep = UserFactory(username="rep1", first_name="Ann", last_name="Rep")
    CompanyFactory(name="Acme", owner=rep)
    loss_reason("Price too high")
    return rep
