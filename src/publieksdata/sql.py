"""Running SQL over an Arrow table in DuckDB without keeping it alive.

A table registered with ``register()`` stays referenced by an open transaction until it
commits, so a delivery of many batches held every batch in memory. A replacement scan of a
local variable is read and let go: memory stays bounded by one batch.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa


def with_arrow(
    db: duckdb.DuckDBPyConnection,
    sql: str,
    data: pa.Table,
    params: list[Any] | dict[str, Any] | None = None,
    other: pa.Table | None = None,
) -> duckdb.DuckDBPyConnection:
    """Execute ``sql``, in which the name ``data`` is the given Arrow table (and ``other``
    the second one, if given)."""
    assert "data" in sql, sql
    assert other is None or "other" in sql, sql
    return db.execute(sql, params or [])
