"""Latency figures: a batch recorded at once counts exactly as its items one by one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from event_router.delivery.stats import Latencies

arrivals = st.lists(st.sampled_from([0.0, 99.99, 99.999, 95.0, 40.0, -3.0]), max_size=300)


@given(arrivals)
def test_a_batch_recorded_at_once_counts_as_each_item(moments: list[float]) -> None:
    one, batch = Latencies(maxlen=50), Latencies(maxlen=50)
    for moment in moments:
        one.append(100.0 - moment)
    batch.record(100.0, moments)
    assert list(batch) == list(one)  # the same window of recent values
    assert batch.buckets == one.buckets and batch.observed == one.observed == len(moments)
    assert abs(batch.sum - one.sum) < 1e-6
