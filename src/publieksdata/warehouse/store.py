"""The warehouse: one DuckDB file with pseudonymised facts, loaded whole per delivery.

A delivery is written in one transaction: if the process dies half-way, DuckDB's write-ahead
log holds no commit and the warehouse is as it was. Nothing identifying is ever written:
persons appear as numbers, customers as keyed pseudonyms.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from publieksdata.errors import PubliekError
from publieksdata.sql import append_arrow
from publieksdata.warehouse import cubes, merges, summary, upgrade

SCHEMA_VERSION = "2"
MEMORY_LIMIT = "1GB"
_DELIVERY_COLUMNS = "delivery_id, institution_id, file_sha256, period, status, report"
_FACT_COLUMNS = """
    delivery_id INTEGER NOT NULL,
    institution_id VARCHAR NOT NULL,
    person_id BIGINT,
    customer_key VARCHAR,
    source_row BIGINT NOT NULL,     -- row in the delivered file (header = 1)
    order_id VARCHAR NOT NULL,
    ordered_at TIMESTAMP,
    channel VARCHAR,
    status VARCHAR NOT NULL,
    production_title VARCHAR,
    production_key VARCHAR,
    producer VARCHAR,
    discipline VARCHAR,
    genre VARCHAR,
    starts_at TIMESTAMP NOT NULL,
    venue VARCHAR,
    capacity INTEGER,
    ticket_number VARCHAR,
    ticket_count INTEGER NOT NULL,
    price_paid DOUBLE NOT NULL,
    price_category VARCHAR,
    ticket_type VARCHAR,
    pc4 VARCHAR,
    birth_year SMALLINT,
    gender VARCHAR,
    country VARCHAR,
    marketing_consent BOOLEAN
"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE SEQUENCE IF NOT EXISTS delivery_seq START 1;
CREATE SEQUENCE IF NOT EXISTS person_seq START 1;
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id INTEGER PRIMARY KEY,
    institution_id VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,          -- loaded, replaced, withdrawn
    replaced_by INTEGER,
    report JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets ({_FACT_COLUMNS});
CREATE TABLE IF NOT EXISTS person_keys (
    key_high BIGINT NOT NULL,         -- a linkage key: the 128-bit block of the keyed
    key_low BIGINT NOT NULL,          -- pseudonym of a normalised identifier, in two halves
    kind VARCHAR NOT NULL,            -- email, email_initial, phone, phone_initial, name_address
    person_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS institutions (
    institution_id VARCHAR PRIMARY KEY, name VARCHAR, disciplines VARCHAR, size_class VARCHAR,
    municipality_code VARCHAR, province_code VARCHAR, named_in_overlap BOOLEAN
);
CREATE TABLE IF NOT EXISTS productions (
    institution_id VARCHAR NOT NULL,
    production_key VARCHAR NOT NULL,  -- folded title and producer: the same on every stage
    title VARCHAR NOT NULL,
    producer VARCHAR,
    discipline VARCHAR,
    genre VARCHAR,
    source VARCHAR NOT NULL,          -- export, suggested, confirmed, unknown
    confidence DOUBLE NOT NULL,
    PRIMARY KEY (institution_id, production_key)
);
CREATE TABLE IF NOT EXISTS denied (    -- linkage keys of persons erased at an institution
    institution_id VARCHAR NOT NULL,
    kind VARCHAR,                     -- as in person_keys (null: erased under schema 1)
    key_high BIGINT NOT NULL,
    key_low BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS areas (    -- public reference data per PC4 (CBS), loaded by operators
    pc4 VARCHAR PRIMARY KEY,
    inhabitants INTEGER,              -- null where CBS keeps the figure secret
    municipality_code VARCHAR,
    municipality VARCHAR,
    province_code VARCHAR
);
ALTER TABLE areas ADD COLUMN IF NOT EXISTS latitude DOUBLE;   -- middle of the area (WGS84)
ALTER TABLE areas ADD COLUMN IF NOT EXISTS longitude DOUBLE;
CREATE TABLE IF NOT EXISTS events (
    happened_at TIMESTAMP NOT NULL, event VARCHAR NOT NULL, institution_id VARCHAR, detail JSON
);
"""


@dataclass(frozen=True)
class DeliveryRecord:
    """A delivery as the warehouse remembers it."""

    delivery_id: int
    institution_id: str
    file_sha256: str
    period: str
    status: str
    report: dict[str, Any]


def _record(row: tuple[Any, ...]) -> DeliveryRecord:
    delivery_id, institution_id, sha256, period, status, report = row
    return DeliveryRecord(delivery_id, institution_id, sha256, period, status, json.loads(report))


class Warehouse:
    """One DuckDB warehouse file; open it with the deployment key's fingerprint."""

    def __init__(
        self, path: Path, fingerprint: str, *, read_only: bool = False, claim: bool = True
    ) -> None:
        self.path = path
        if read_only and not path.exists():
            raise PubliekError(
                "warehouse-missing",
                f"Er is nog geen warehouse op {path}. Lever eerst een bestand aan.",
                f"There is no warehouse at {path} yet. Deliver a file first.",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            raise PubliekError(
                "warehouse-unavailable",
                f"Het warehouse {path} is niet te openen ({type(error).__name__}); is een "
                "andere levering nog bezig?",
                f"The warehouse {path} cannot be opened ({type(error).__name__}); is another "
                "delivery still running?",
            ) from None
        # A bounded working memory; beyond it DuckDB spills (pseudonymised data only) to a
        # temporary folder next to the warehouse.
        self.db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        self.db.execute("SET temp_directory = ?", [str(path.parent / "duckdb-tmp")])
        self.db.execute("SET enable_progress_bar = false")  # the CLI shows its own progress
        if not read_only:
            upgrade.linkage_keys(self.db, SCHEMA)
            self.db.execute(SCHEMA)
            self.db.execute(summary.SCHEMA)
            self.db.execute(cubes.SCHEMA)
            self.db.execute(merges.SCHEMA)
            if self.meta("summary_version") != summary.SUMMARY_VERSION:
                with self.transaction():  # a warehouse from before the summary existed
                    summary.rebuild(self.db)
                    self.set_meta("summary_version", summary.SUMMARY_VERSION)
        if claim:  # only key rotation opens the warehouse without checking the key
            self._claim(fingerprint, read_only)
        if not read_only and merges.pending(self.db):  # a delivery stopped after its commit
            with self.transaction():
                merges.settle(self.db)

    def _claim(self, fingerprint: str, read_only: bool) -> None:
        """Bind the warehouse to one key: a different key would make new pseudonyms that
        match nothing already stored."""
        stored = self.meta("key_fingerprint")
        if stored is None and not read_only:
            self.set_meta("key_fingerprint", fingerprint)
            self.set_meta("schema_version", SCHEMA_VERSION)
        elif stored is not None and stored != fingerprint:
            raise PubliekError(
                "key-mismatch",
                f"Dit warehouse hoort bij sleutel {stored}, niet bij de opgegeven sleutel "
                f"{fingerprint}. Gebruik de juiste sleutel.",
                f"This warehouse belongs to key {stored}, not to the given key {fingerprint}. "
                "Use the right key.",
            )

    def meta(self, key: str) -> str | None:
        rows = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return str(rows[0][0]) if rows else None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """The single value a query returns."""
        rows = self.db.execute(sql, params or []).fetchall()
        return rows[0][0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit at the end, roll back on any error."""
        self.db.execute("BEGIN TRANSACTION")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def log(self, event: str, institution_id: str | None, detail: dict[str, Any]) -> None:
        """An event for the accountability trail (no identifiers in ``detail``)."""
        self.db.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), event, institution_id,
             json.dumps(detail)],
        )  # fmt: skip

    def find_delivery(self, institution_id: str, *, sha256: str | None = None,
                      period: str | None = None) -> DeliveryRecord | None:  # fmt: skip
        """The loaded delivery of this institution with this file or for this period."""
        column, value = ("file_sha256", sha256) if sha256 is not None else ("period", period)
        rows = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries "
            f"WHERE institution_id = ? AND {column} = ? AND status = 'loaded'",
            [institution_id, value],
        ).fetchall()
        return _record(rows[0]) if rows else None

    def has_delivery_of_size(self, institution_id: str, size_bytes: int) -> bool:
        """Whether a loaded delivery of this institution came from a file of this size: only
        then can a file be a repeat, and must it be hashed before it is read."""
        return bool(self.scalar(
            "SELECT count(*) FROM deliveries WHERE institution_id = ? AND status = 'loaded' "
            "AND TRY_CAST(json_extract(report, '$.file.size_bytes') AS BIGINT) = ?",
            [institution_id, size_bytes],
        ))  # fmt: skip

    def deliveries(self, institution_id: str | None = None) -> list[DeliveryRecord]:
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries"
        params: list[Any] = []
        if institution_id is not None:
            sql += " WHERE institution_id = ?"
            params.append(institution_id)
        rows = self.db.execute(sql + " ORDER BY delivery_id", params).fetchall()
        return [_record(r) for r in rows]

    def next_delivery_id(self) -> int:
        return int(self.scalar("SELECT nextval('delivery_seq')"))

    def insert_facts(self, delivery_id: int, institution_id: str, table: pa.Table) -> None:
        """Append fact rows (with person_id and customer_key already set)."""
        append_arrow(
            self.db,
            f"INSERT INTO tickets BY NAME SELECT {delivery_id} AS delivery_id, "
            "? AS institution_id, * FROM data",
            table,
            [institution_id],
        )

    def withdraw(self, delivery_id: int, *, status: str = "withdrawn",
                 replaced_by: int | None = None, refresh: bool = True) -> int:  # fmt: skip
        """Remove a delivery's facts; the delivery stays listed with its new status.
        (``refresh=False``: the caller refreshes the visit summary itself.)"""
        removed = self.scalar("SELECT count(*) FROM tickets WHERE delivery_id = ?", [delivery_id])
        institution = self.scalar(
            "SELECT institution_id FROM deliveries WHERE delivery_id = ?", [delivery_id]
        )
        touched = summary.moments(self.db, [delivery_id]) if refresh else None
        self.db.execute("DELETE FROM tickets WHERE delivery_id = ?", [delivery_id])
        if touched is not None:
            summary.refresh_moments(self.db, institution, touched)
        self.db.execute(
            "UPDATE deliveries SET status = ?, replaced_by = ? WHERE delivery_id = ?",
            [status, replaced_by, delivery_id],
        )
        return int(removed)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
