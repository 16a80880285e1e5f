"""Prepare the next batches while this one is loaded: the first stage on every core.

Reading, converting and pseudonymising a batch is mostly Arrow and DuckDB work that lets go
of the interpreter; linking and loading it happens in the taking thread. Workers take the
batches one by one from the source (reading stays sequential), prepare them side by side,
and hand them over in the order they were read. At most ``ahead`` batches are prepared or
waiting, so memory stays bounded by a few batches. An error, in reading or preparing, is
raised where that batch would have been taken, and no later batch is taken after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

S = TypeVar("S")
T = TypeVar("T")
THREAD_NAME = "publieksdata-prefetch"


class _Outcome(Generic[T]):
    """The prepared item, or the error that came instead of it."""

    __slots__ = ("error", "value")

    def __init__(self, value: T | None = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error


class _Line(Generic[S, T]):
    """The shared state of the workers and the taking thread, guarded by one condition."""

    def __init__(self, items: Iterator[S], prepare: Callable[[S], T], ahead: int) -> None:
        self.items, self.prepare, self.ahead = items, prepare, ahead
        self.ready: dict[int, _Outcome[T]] = {}
        self.taken = 0  # items handed over so far
        self.started = 0  # items read so far
        self.finished = False  # the source is exhausted or failed, or the taker stopped
        self.condition = threading.Condition()
        self.reading = threading.Lock()  # held by the one worker reading from ``items``

    def work(self) -> None:
        while True:
            with self.reading:  # one reader at a time keeps the source's order
                with self.condition:
                    while not self.finished and self.started >= self.taken + self.ahead:
                        self.condition.wait()
                    if self.finished:
                        return
                try:
                    item = next(self.items)
                except StopIteration:
                    with self.condition:
                        self._finish()
                    return
                except BaseException as error:
                    with self.condition:
                        self._put(self.started, _Outcome(error=error))
                        self.started += 1
                        self._finish()
                    return
                with self.condition:
                    index = self.started
                    self.started += 1
            try:
                outcome: _Outcome[T] = _Outcome(self.prepare(item))
            except BaseException as error:
                outcome = _Outcome(error=error)
            del item
            with self.condition:
                self._put(index, outcome)
                if outcome.error is not None:
                    self._finish()

    def _put(self, index: int, outcome: _Outcome[T]) -> None:
        self.ready[index] = outcome
        self.condition.notify_all()

    def stop(self) -> None:
        """No more items are read; the workers end after the one they are preparing."""
        with self.condition:
            self._finish()

    def _finish(self) -> None:
        self.finished = True
        self.condition.notify_all()

    def take(self) -> _Outcome[T] | None:
        """The next item in order; None when there are no more."""
        with self.condition:
            while self.taken not in self.ready:
                if self.finished and self.taken >= self.started:
                    return None
                self.condition.wait()
            outcome = self.ready.pop(self.taken)
            self.taken += 1
            self.condition.notify_all()
            return outcome


def prefetched(
    items: Iterator[S], prepare: Callable[[S], T], *, workers: int = 2, ahead: int = 2
) -> Iterator[T]:
    """``prepare`` of each item of ``items``, in order, made by ``workers`` threads while
    the caller uses the ones before."""
    line = _Line(items, prepare, max(ahead, workers))
    threads = [
        threading.Thread(target=line.work, name=THREAD_NAME, daemon=True) for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        while (outcome := line.take()) is not None:
            if outcome.error is not None:
                raise outcome.error
            yield outcome.value  # type: ignore[misc]
            del outcome
    finally:
        line.stop()
        for thread in threads:
            thread.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()
