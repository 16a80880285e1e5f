"""The warehouse file: how a delivery's many inserts end up stored."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from publieksdata.deliver.convert import FACT_SCHEMA
from publieksdata.sql import append_arrow, with_arrow
from publieksdata.warehouse.store import Warehouse

ROW_GROUP = 122_880  # DuckDB's rows per row group


def _row_groups(db: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    return [count for (count,) in db.execute(
        f"SELECT max(count) FROM pragma_storage_info('{table}') GROUP BY row_group_id "
        "ORDER BY row_group_id"
    ).fetchall()]  # fmt: skip


def _facts(start: int, rows: int) -> pa.Table:
    """Fact rows as a delivery's batch gives them to the warehouse."""
    source_row = np.arange(start, start + rows, dtype=np.int64)
    columns = {
        "source_row": pa.array(source_row),
        "order_id": pa.array(source_row.astype(str)),
        "status": pa.array(["sold"] * rows),
        "ticket_count": pa.array(np.ones(rows, np.int32)),
        "price_paid": pa.array(np.full(rows, 12.5)),
        "starts_at": pa.array(np.full(rows, 1_700_000_000), pa.timestamp("s")),
    }
    arrays = [columns.get(f.name, pa.nulls(rows, f.type)) for f in FACT_SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=FACT_SCHEMA)
    return table.append_column("customer_key", pa.nulls(rows, pa.string())).append_column(
        "person_id", pa.nulls(rows, pa.int64())
    )


def test_facts_inserted_in_batches_fill_whole_row_groups(tmp_path: Path) -> None:
    """Batches that each leave a small rest over a row group still give full row groups,
    so a checkpoint has nothing to merge and writes no ticket again."""
    with Warehouse(tmp_path / "w.duckdb", "fingerprint") as warehouse:
        warehouse.db.execute("SET threads = 2")  # as on any machine with more than one core
        with warehouse.transaction():
            for start in range(0, 3 * 150_000, 150_000):
                warehouse.insert_facts(1, "I0001", _facts(start, 150_000))
        assert _row_groups(warehouse.db, "tickets") == [ROW_GROUP] * 3 + [450_000 - 3 * ROW_GROUP]
        assert warehouse.scalar("SELECT current_setting('threads')") == 2
        warehouse.db.execute("CHECKPOINT")
        assert len(_row_groups(warehouse.db, "tickets")) == 4
        rows = warehouse.db.execute("SELECT source_row FROM tickets").fetchnumpy()["source_row"]
    assert np.array_equal(rows, np.arange(450_000))


def test_facts_inserted_from_two_threads_would_leave_small_row_groups(tmp_path: Path) -> None:
    """The DuckDB behaviour that ``append_arrow`` works around: from two threads every
    INSERT of the facts ends in a row group of its own, and a checkpoint merges the small
    ones (if this test fails, DuckDB changed and the one-thread appends may not be needed)."""
    with Warehouse(tmp_path / "w.duckdb", "fingerprint") as warehouse:
        warehouse.db.execute("SET threads = 2")
        with warehouse.transaction():
            for start in range(0, 3 * 150_000, 150_000):
                data = _facts(start, 150_000)
                with_arrow(warehouse.db, "INSERT INTO tickets BY NAME SELECT 1 AS delivery_id, "
                           "'I0001' AS institution_id, * FROM data", data)  # fmt: skip
        assert _row_groups(warehouse.db, "tickets") == [ROW_GROUP, 150_000 - ROW_GROUP] * 3
        warehouse.db.execute("CHECKPOINT")
        assert len(_row_groups(warehouse.db, "tickets")) < 6


def test_a_failed_append_leaves_the_threads_as_they_were(tmp_path: Path) -> None:
    db = duckdb.connect(str(tmp_path / "t.duckdb"), config={"threads": 2})
    db.execute("CREATE TABLE t (n BIGINT NOT NULL)")
    data = pa.table({"n": pa.array([1, None], pa.int64())})
    with pytest.raises(duckdb.ConstraintException):
        append_arrow(db, "INSERT INTO t SELECT * FROM data", data)
    assert db.execute("SELECT current_setting('threads')").fetchall() == [(2,)]
