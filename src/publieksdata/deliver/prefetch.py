"""Prepare the next batch while this one is loaded: two stages on the two cores.

Reading, converting and pseudonymising a batch is mostly Python; linking and loading it is
mostly DuckDB and Arrow, which let go of the interpreter. Running the first stage in a
thread, one batch ahead, lets both run at once. The queue holds one batch, so memory stays
bounded by a few batches; an error in the thread is raised where the batch is taken.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_WAIT_SECONDS = 0.1


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """The items of ``items`` in order, each made in a thread while the one before is used."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_WAIT_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    break
            else:
                put(_DONE)
        except BaseException as error:  # handed over and raised in the taking thread
            put(error)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="publieksdata-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
