"""How a delivering process handles memory: batch-sized buffers are freed and allocated all
the time, so freed pages are kept for the next batch and no huge pages are asked for.

Both are settings of the whole process, made once per delivery; elsewhere, or where the
platform lacks them, they do nothing. Measured in decision 12.
"""

from __future__ import annotations

import ctypes
import sys

import pyarrow as pa

# How long Arrow's allocator keeps freed pages before it gives them back to the system: long
# enough to reach the next batches, short enough that an idle web app shrinks again.
KEEP_FREED_MS = 10_000
_PR_SET_THP_DISABLE = 41  # prctl option, <linux/prctl.h>


def for_batches() -> None:
    """Set the process up for a delivery."""
    _keeping_freed_pages()
    _without_huge_pages()


def _keeping_freed_pages() -> None:
    """Arrow's arrays from jemalloc, which keeps freed pages for :data:`KEEP_FREED_MS`.

    Arrow's default allocator gives freed pages back within milliseconds, so every batch
    faulted fresh pages in again: about half a million page faults and a sixth of the CPU
    time of a million-row delivery went to that.
    """
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc
        return
    pa.set_memory_pool(pool)
    pa.jemalloc_set_decay_ms(KEEP_FREED_MS)


def _without_huge_pages() -> None:
    """Ask Linux not to back this process's new memory with transparent huge pages.

    With huge pages, a fault on memory that other processes left fragmented makes the kernel
    compact memory first: the first delivery after a large job took 4.2 s instead of 3.5 s
    for a million rows. Nothing else changes.
    """
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None).prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0)
    except (OSError, AttributeError):
        return
