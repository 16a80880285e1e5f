"""Stored tabulations ("cubes"): questions answered when the data changes, not when asked.

A dashboard asks the same few questions every time it opens. Their tabulations — cells
with their protection columns, never released figures — are computed after a delivery and
kept here, each with a stamp of the data it was made from. A question finds its cube only
while the stamp still holds; after any change to the data it reads, it is computed afresh.

The stamp is built from data versions: one counter per institution (its visits changed),
one for the facts of the whole sector, one for the reference data per area and one for the
institution register. Every change bumps the counters it touches, inside its own
transaction. Cubes hold counts, sums and record-key sums: aggregates, no identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa

CUBES_VERSION = "1"  # bump when a definition changes what a tabulation holds
FACTS, AREAS, REGISTER = "@facts", "@areas", "@register"
SCHEMA = """
CREATE TABLE IF NOT EXISTS data_versions (scope VARCHAR PRIMARY KEY, version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS cubes (
    question VARCHAR PRIMARY KEY,
    stamp VARCHAR NOT NULL,
    cells BLOB NOT NULL
);
"""


def bump(db: duckdb.DuckDBPyConnection, scopes: Iterable[str]) -> None:
    """Count a change to these scopes (institution ids, FACTS, AREAS or REGISTER); a
    change to any institution's facts is also a change to the sector's."""
    chosen = set(scopes)
    if chosen - {AREAS, REGISTER}:
        chosen.add(FACTS)
    for scope in sorted(chosen):
        db.execute(
            "INSERT INTO data_versions VALUES (?, 1) "
            "ON CONFLICT (scope) DO UPDATE SET version = data_versions.version + 1",
            [scope],
        )


def versions(db: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every scope's version (a warehouse from before cubes has none)."""
    try:
        rows = db.execute("SELECT scope, version FROM data_versions").fetchall()
    except duckdb.CatalogException:
        return {}
    return {str(scope): int(version) for scope, version in rows}


def stamp(known: Mapping[str, int], scopes: Iterable[str], keys: str) -> str:
    """What a tabulation was made from: the versions of the scopes it reads and the record
    keys (``keys``, a fingerprint) its key sums were made with."""
    parts = [f"{s}={known.get(s, 0)}" for s in sorted(set(scopes))]
    return ";".join([f"v{CUBES_VERSION}", f"keys={keys}", *parts])


def store(db: duckdb.DuckDBPyConnection, question: str, made_from: str, cells: pa.Table) -> None:
    """Keep a tabulation under its question, replacing an older one."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, cells.schema) as writer:
        writer.write_table(cells)
    db.execute(
        "INSERT INTO cubes VALUES (?, ?, ?) ON CONFLICT (question) "
        "DO UPDATE SET stamp = excluded.stamp, cells = excluded.cells",
        [question, made_from, sink.getvalue().to_pybytes()],
    )


def load(db: duckdb.DuckDBPyConnection, question: str, made_from: str) -> pa.Table | None:
    """The stored tabulation of ``question`` if it was made from this very data."""
    try:
        rows = db.execute(
            "SELECT cells FROM cubes WHERE question = ? AND stamp = ?", [question, made_from]
        ).fetchall()
    except duckdb.CatalogException:
        return None
    if not rows:
        return None
    return pa.ipc.open_stream(pa.py_buffer(rows[0][0])).read_all()
