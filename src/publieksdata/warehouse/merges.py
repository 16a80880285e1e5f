"""Persons merged by a delivery, applied to the stored rows right after it commits.

Linkage merges two persons when a new row shows they are one. Updating the person of rows
the delivery itself loaded would make DuckDB write all of the delivery's rows again at
commit (docs/decisions/0012-delivery-pipeline.md). So the delivery records its merges in
``person_merges``, inside its own transaction, and :func:`settle` applies them to the
linkage keys, the tickets and the visit summary in a second transaction straight after. If
the process dies in between, the warehouse settles them the next time it is opened for
writing; the delivery itself is loaded whole either way.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from publieksdata.sql import with_arrow
from publieksdata.warehouse import summary

SCHEMA = """
CREATE TABLE IF NOT EXISTS person_merges (   -- merges a delivery made, not yet applied
    step BIGINT NOT NULL,                      -- the order they were made in
    old BIGINT NOT NULL,                       -- the person merged away
    keep BIGINT NOT NULL                       -- the person it joined
);
"""


def composed(merges: list[tuple[int, int]]) -> dict[int, int]:
    """Each person merged away and the person it ends up in, for merges made in order (a
    person kept by one merge may be merged away by a later one)."""
    final: dict[int, int] = {}
    for old, keep in merges:
        final[old] = keep
    for old in final:
        keep = final[old]
        while keep in final:  # ends: a person always joins a lower one
            keep = final[keep]
        final[old] = keep
    return final


def record(db: duckdb.DuckDBPyConnection, merges: list[tuple[int, int]]) -> None:
    """Remember a delivery's merges, in order, inside its transaction."""
    if merges:
        table = _table(merges)
        table = table.add_column(0, "step", pa.array(range(len(merges)), pa.int64()))
        with_arrow(db, "INSERT INTO person_merges SELECT * FROM data", table)


def pending(db: duckdb.DuckDBPyConnection) -> bool:
    """Whether merges wait to be applied."""
    return bool(db.execute("SELECT count(*) FROM person_merges").fetchall()[0][0])


def settle(db: duckdb.DuckDBPyConnection) -> int:
    """Apply the recorded merges to the linkage keys, the tickets and the visit summary;
    run in a transaction of its own, after the delivery's. Returns the number of persons
    merged away."""
    merges = db.execute("SELECT old, keep FROM person_merges ORDER BY step").fetchall()
    final = composed([(int(old), int(keep)) for old, keep in merges])
    if final:
        table = _table(list(final.items()))
        for name in ("person_keys", "tickets"):
            with_arrow(db, f"UPDATE {name} SET person_id = m.keep FROM data m "
                           f"WHERE {name}.person_id = m.old", table)  # fmt: skip
        summary.refresh_persons(db, {p for pair in final.items() for p in pair})
    db.execute("DELETE FROM person_merges")
    return len(final)


def _table(merges: list[tuple[int, int]]) -> pa.Table:
    old, keep = zip(*merges, strict=True)
    return pa.table({"old": pa.array(old, pa.int64()), "keep": pa.array(keep, pa.int64())})
