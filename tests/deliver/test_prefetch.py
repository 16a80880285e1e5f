"""The two-stage delivery: batches prepared in a thread arrive in order, and errors arrive
where the batch is taken."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from publieksdata.deliver.prefetch import prefetched


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
