"""The two-stage delivery: batches prepared in a thread arrive in order, errors arrive
where the batch is taken, and problems merged per batch read as if logged one by one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.prefetch import prefetched
from publieksdata.deliver.problems import CATALOGUE, Problem, ProblemLog


def test_items_arrive_in_order_and_are_made_in_another_thread() -> None:
    makers: list[str] = []

    def items() -> Iterator[int]:
        for i in range(50):
            makers.append(threading.current_thread().name)
            yield i

    assert list(prefetched(items())) == list(range(50))
    assert set(makers) == {"publieksdata-prefetch"}


def test_an_error_while_making_is_raised_where_the_items_are_taken() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValueError("broken batch")

    stream = prefetched(items())
    assert next(stream) == 1
    with pytest.raises(ValueError, match="broken batch"):
        next(stream)


def test_stopping_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    stream = prefetched(items())
    assert next(stream) == 0
    stream.close()
    assert closed.is_set()
    assert not any(t.name == "publieksdata-prefetch" for t in threading.enumerate())


_PROBLEMS = st.lists(
    st.builds(
        Problem,
        code=st.sampled_from(sorted(CATALOGUE)[:6]),
        row=st.integers(2, 10_000),
        column=st.sampled_from([None, "Postcode", "Prijs"]),
        value=st.sampled_from([None, "x", "y"]),
    ),
    max_size=80,
)


@given(_PROBLEMS, st.integers(0, 80), st.integers(1, 30))
def test_merging_a_later_log_equals_logging_one_by_one(
    problems: list[Problem], split: int, limit: int
) -> None:
    one_by_one, merged, later = ProblemLog(limit), ProblemLog(limit), ProblemLog(limit)
    for problem in problems:
        one_by_one.add(problem)
    for problem in problems[:split]:
        merged.add(problem)
    for problem in problems[split:]:
        later.add(problem)
    merged.extend(later)
    assert merged == one_by_one
