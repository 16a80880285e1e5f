"""Running SQL over an Arrow table in DuckDB without keeping it alive.

A table registered with ``register()`` stays referenced by an open transaction until it
commits, so a delivery of many batches held every batch in memory. A replacement scan of a
local variable is read and let go: memory stays bounded by one batch.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pyarrow as pa


def with_arrow(
    db: duckdb.DuckDBPyConnection,
    sql: str,
    data: pa.Table,
    params: list[Any] | dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Execute ``sql``, in which the name ``data`` is the given Arrow table."""
    assert "data" in sql, sql
    return db.execute(sql, params or [])


def append_arrow(
    db: duckdb.DuckDBPyConnection,
    sql: str,
    data: pa.Table,
    params: list[Any] | None = None,
) -> None:
    """:func:`with_arrow` for an INSERT of many rows into a stored table, run on one thread
    so that the rows fill DuckDB's row groups to the brim.

    With more threads, every INSERT ends in a row group of its own, however few rows it has
    left over. The next checkpoint merges neighbouring small row groups, compressing and
    writing all their rows again: ten million tickets, loaded in batches that each left
    27,000 rows over, cost 15 CPU-seconds more (docs/decisions/0012-delivery-pipeline.md).
    From one thread, the next INSERT goes on filling the last row group.
    """
    threads = int(db.execute("SELECT current_setting('threads')").fetchall()[0][0])
    db.execute("SET threads = 1")
    try:
        with_arrow(db, sql, data, params)
    finally:
        db.execute(f"SET threads = {threads}")


class MemoryOnly:
    """An in-memory DuckDB that cannot write to disk: it has no temporary directory, so under
    memory pressure it fails instead of spilling what it holds to a file (G1). Each thread
    gets a connection of its own to it, so the workers that prepare batches can share it."""

    def __init__(self) -> None:
        self._db = duckdb.connect(config={"temp_directory": ""})
        self._local = threading.local()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection to the database."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._db.cursor()
        return cursor
