"""The two-stage delivery: batches prepared by worker threads arrive in order, no more than
a few are made ahead, and errors arrive where the batch is taken."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publieksdata.deliver.prefetch import THREAD_NAME, prefetched


def _no_workers_left() -> bool:
    return not any(t.name == THREAD_NAME for t in threading.enumerate())


def test_items_arrive_in_order_and_are_made_by_the_workers() -> None:
    readers: list[str] = []
    makers: list[str] = []

    def items() -> Iterator[int]:
        for i in range(50):
            readers.append(threading.current_thread().name)
            yield i

    def prepare(i: int) -> int:
        makers.append(threading.current_thread().name)
        time.sleep(random.random() / 1000)  # so later items are often made first
        return i * i

    assert list(prefetched(items(), prepare)) == [i * i for i in range(50)]
    assert set(readers) == set(makers) == {THREAD_NAME}
    assert _no_workers_left()


@settings(max_examples=25, deadline=None)
@given(
    delays=st.lists(st.integers(0, 3), max_size=30),
    workers=st.integers(1, 4),
    ahead=st.integers(1, 5),
)
def test_order_and_bound_hold_for_any_timing(delays: list[int], workers: int, ahead: int) -> None:
    """However long each item takes, they arrive in order, and at most max(ahead, workers)
    are read but not yet taken (one more while an item is being handed over)."""
    read = 0
    taken = 0
    most = 0
    lock = threading.Lock()

    def items() -> Iterator[int]:
        nonlocal read, most
        for i in range(len(delays)):
            with lock:
                read += 1
                most = max(most, read - taken)
            yield i

    def prepare(i: int) -> int:
        time.sleep(delays[i] / 1000)
        return i

    out = []
    for item in prefetched(items(), prepare, workers=workers, ahead=ahead):
        out.append(item)
        with lock:
            taken += 1
    assert out == list(range(len(delays)))
    assert most <= max(ahead, workers) + 1


def test_an_error_while_preparing_is_raised_where_that_item_is_taken() -> None:
    def prepare(i: int) -> int:
        if i == 3:
            raise ValueError("broken batch")
        return i

    stream = prefetched(iter(range(100)), prepare)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="broken batch"):
        next(stream)
    assert _no_workers_left()


def test_an_error_while_reading_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("damaged file")

    stream = prefetched(items(), lambda i: i, workers=3)
    assert next(stream) == 1
    assert next(stream) == 2
    with pytest.raises(ValueError, match="damaged file"):
        next(stream)


def test_nothing_is_read_after_an_error() -> None:
    read: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            read.append(i)
            yield i

    def prepare(i: int) -> int:
        if i == 0:
            raise ValueError("first batch broken")
        return i

    with pytest.raises(ValueError, match="first batch broken"):
        list(prefetched(items(), prepare, workers=2, ahead=2))
    assert len(read) <= 2  # the two read ahead; none after the error


def test_stopping_early_stops_the_workers_and_closes_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    stream = prefetched(items(), lambda i: i)
    assert next(stream) == 0
    stream.close()
    assert closed.is_set()
    assert _no_workers_left()
