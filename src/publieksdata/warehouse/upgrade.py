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


def _convert(db: duckdb.DuckDBPyConnection, table: str, columns: str, create: str) -> None:
    """Copy ``table`` into its new form chunk by chunk, then put the copy in its place."""
    db.execute(f"CREATE TABLE {table}_upgraded ({create})")
    end = int(db.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {table}").fetchall()[0][0])
    for start in range(0, end, _CHUNK_ROWS):
        chunk = db.sql(
            f"SELECT key, {columns} FROM {table} WHERE rowid >= ? AND rowid < ?",
            params=[start, start + _CHUNK_ROWS],
        ).to_arrow_table()
        high, low = halves(blocks_of(chunk["key"]))
        data = chunk.drop_columns(["key"])
        data = data.append_column("key_high", pa.array(high)).append_column(
            "key_low", pa.array(low)
        )
        with_arrow(db, f"INSERT INTO {table}_upgraded BY NAME SELECT * FROM data", data)
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_upgraded RENAME TO {table}")


def _denied_kinds(db: duckdb.DuckDBPyConnection) -> None:
    """The kind of each denied key, from the same key in ``person_keys``: a key's kind is
    part of the text it was made from, so one key has one kind. Rotation needs the kind to
    re-key a customer number with its institution's key; a key found nowhere keeps none."""
    db.execute(
        "UPDATE denied SET kind = p.kind FROM (SELECT DISTINCT key_high, key_low, kind "
        "FROM person_keys) p WHERE denied.kind IS NULL AND denied.key_high = p.key_high "
        "AND denied.key_low = p.key_low"
    )


def linkage_keys(db: duckdb.DuckDBPyConnection) -> None:
    """Schema 1 → 2: linkage keys as two 64-bit halves instead of pseudonym text."""
    people, denied = _has_text_keys(db, "person_keys"), _has_text_keys(db, "denied")
    if not (people or denied):
        return
    db.execute("BEGIN TRANSACTION")
    try:
        if people:
            _convert(
                db,
                "person_keys",
                "kind, person_id",
                "key_high BIGINT NOT NULL, "
                "key_low BIGINT NOT NULL, kind VARCHAR NOT NULL, person_id BIGINT NOT NULL",
            )
        if denied:  # schema 1 did not keep the kind of an erased key: see _denied_kinds
            _convert(
                db,
                "denied",
                "institution_id, NULL::VARCHAR AS kind",
                "institution_id VARCHAR NOT NULL, kind VARCHAR, key_high BIGINT NOT NULL, "
                "key_low BIGINT NOT NULL",
            )
            _denied_kinds(db)
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
