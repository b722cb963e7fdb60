"""0007 folds month rollup rows into year rows (and back), so rollups built before the upgrade stay usable."""

import datetime as dt

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = ("kpi", "0006_rollup_index_by_state"), ("kpi", "0007_rollup_year_rows")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # what the previous migrate applied
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_month_rows_become_year_rows_and_back():
    try:
        old = migrate(BEFORE)
        state = old.get_model("kpi", "RollupState").objects.create(
            leaf="abc", source="deals", date="created_at", spec={}, time_zone="UTC", max_pk=9
        )
        Rollup = old.get_model("kpi", "Rollup")
        day = Rollup.objects.create(state=state, grain="d", bucket=dt.date(2024, 3, 5), owner_id=None, value=2.0)
        for month, owner, value in [(1, 7, 5.0), (3, 7, 2.5), (12, 7, 1.0), (2, None, 4.0), (1, 7, 0.5)]:
            Rollup.objects.create(state=state, grain="m", bucket=dt.date(2024, month, 1), owner_id=owner, value=value)
        Rollup.objects.create(state=state, grain="m", bucket=dt.date(2025, 6, 1), owner_id=7, value=3.0)

        new = migrate(AFTER)
        rows = new.get_model("kpi", "Rollup").objects.filter(state_id=state.pk, grain="y")
        years = {(row.bucket, row.owner_id): [row.value] + [getattr(row, f"m{n}") for n in range(1, 13)] for row in rows}
        assert all(np.frombuffer(row.months, ">f8").tolist() == years[row.bucket, row.owner_id][1:] for row in rows)
        assert years == {
            (dt.date(2024, 1, 1), 7): [9.0, 5.5, 0.0, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            (dt.date(2024, 1, 1), None): [4.0, 0.0, 4.0] + [0.0] * 10,
            (dt.date(2025, 1, 1), 7): [3.0] + [0.0] * 5 + [3.0] + [0.0] * 6,
        }
        assert not new.get_model("kpi", "Rollup").objects.filter(grain="m").exists()
        assert new.get_model("kpi", "Rollup").objects.get(pk=day.pk).value == 2.0  # day rows stay as they are

        back = migrate(BEFORE).get_model("kpi", "Rollup").objects.filter(state_id=state.pk, grain="m")
        assert sorted((row.bucket, row.owner_id or 0, row.value) for row in back) == [
            (dt.date(2024, 1, 1), 7, 5.5),
            (dt.date(2024, 2, 1), 0, 4.0),
            (dt.date(2024, 3, 1), 7, 2.5),
            (dt.date(2024, 12, 1), 7, 1.0),
            (dt.date(2025, 6, 1), 7, 3.0),
        ]
    finally:
        migrate(AFTER)
