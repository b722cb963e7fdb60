"""The leaf table's group columns: a lookup array where ids are dense, sorting where they are sparse, same answer."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quota.kpi.table import NO_GROUP, _columns

group_ids = st.one_of(st.just(NO_GROUP), st.integers(1, 500), st.integers(1, 10**9))


@given(st.lists(group_ids, max_size=200))
def test_columns_are_the_places_among_the_distinct_sorted_ids(groups):
    rows = np.array(groups, dtype=np.int64)
    column_of, ids = _columns(rows)
    assert ids.tolist() == sorted(set(groups))
    assert column_of(rows).tolist() == [ids.tolist().index(g) for g in groups]
