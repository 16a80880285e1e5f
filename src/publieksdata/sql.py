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
) -> duckdb.DuckDBPyConnection:
    """Execute ``sql``, in which the name ``data`` is the given Arrow table."""
    assert "data" in sql, sql
    return db.execute(sql, params or [])
