"""Bringing a warehouse of an earlier schema up to date when it is opened for writing.

Schema 1 stored linkage keys as ``p2`` pseudonym text; schema 2 stores the 128-bit block
that text writes in base32, as two 64-bit halves, which DuckDB joins several times faster.
The block is read from the text without the key, so the upgrade needs no secret, and it
runs in one transaction: it happens whole or not at all.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from publieksdata.pseudonymise.pseudonyms import blocks_of, halves
from publieksdata.sql import with_arrow

_CHUNK_ROWS = 1_000_000  # row ids converted at a time, so memory stays bounded


def _has_text_keys(db: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(db.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
        "AND column_name = 'key'", [table],
    ).fetchall()[0][0])  # fmt: skip


def _convert(db: duckdb.DuckDBPyConnection, table: str, columns: str) -> None:
    """Copy the schema 1 form of ``table`` into its current form chunk by chunk."""
    old = f"{table}_schema1"
    end = int(db.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {old}").fetchall()[0][0])
    for start in range(0, end, _CHUNK_ROWS):
        chunk = db.sql(
            f"SELECT key, {columns} FROM {old} WHERE rowid >= ? AND rowid < ?",
            params=[start, start + _CHUNK_ROWS],
        ).to_arrow_table()
        high, low = halves(blocks_of(chunk["key"]))
        data = chunk.drop_columns(["key"])
        data = data.append_column("key_high", pa.array(high)).append_column(
            "key_low", pa.array(low)
        )
        with_arrow(db, f"INSERT INTO {table} BY NAME SELECT * FROM data", data)
    db.execute(f"DROP TABLE {old}")


def _denied_kinds(db: duckdb.DuckDBPyConnection) -> None:
    """The kind of each denied key, from the same key in ``person_keys``: a key's kind is
    part of the text it was made from, so one key has one kind. Rotation needs the kind to
    re-key a customer number with its institution's key; a key found nowhere keeps none."""
    db.execute(
        "UPDATE denied SET kind = p.kind FROM (SELECT DISTINCT key_high, key_low, kind "
        "FROM person_keys) p WHERE denied.kind IS NULL AND denied.key_high = p.key_high "
        "AND denied.key_low = p.key_low"
    )


def linkage_keys(db: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Schema 1 → 2: linkage keys as two 64-bit halves instead of pseudonym text.
    ``schema`` is the warehouse's current schema; it creates the tables in their new form."""
    people, denied = _has_text_keys(db, "person_keys"), _has_text_keys(db, "denied")
    if not (people or denied):
        return
    db.execute("BEGIN TRANSACTION")
    try:
        for table in [t for t, old in (("person_keys", people), ("denied", denied)) if old]:
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_schema1")
        db.execute(schema)
        if people:
            _convert(db, "person_keys", "kind, person_id")
        if denied:  # schema 1 did not keep the kind of an erased key: see _denied_kinds
            _convert(db, "denied", "institution_id, NULL::VARCHAR AS kind")
            _denied_kinds(db)
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
