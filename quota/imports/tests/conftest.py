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
