"""Where metrics read from: the warehouse through Ibis, on DuckDB or on Spark.

Queries only read. On DuckDB the warehouse file is opened read-only; on Spark the same
tables are read from the Parquet export of the warehouse. On DuckDB a question may also find
its tabulation stored ahead (see ``warehouse.cubes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
from ibis.expr.types import Table

from publieksdata.errors import PubliekError
from publieksdata.warehouse import cubes

TABLES = ("tickets", "visit_facts", "institutions", "productions", "areas")


@dataclass
class Source:
    """An Ibis connection and the warehouse tables metrics are defined on."""

    backend: Any
    engine: str
    raw: bool = False  # fold tickets on every question instead of reading the summary
    stored: bool = False  # look for tabulations stored ahead

    def table(self, name: str) -> Table:
        return self.backend.table(name)

    def versions(self) -> dict[str, int]:
        """The data versions stored tabulations are stamped with (none off DuckDB)."""
        return cubes.versions(self.backend.con) if self.stored else {}

    def cube(self, question: str, made_from: str) -> pa.Table | None:
        """A tabulation stored ahead for exactly this data, if there is one."""
        return cubes.load(self.backend.con, question, made_from) if self.stored else None

    @classmethod
    def connected(cls, db: duckdb.DuckDBPyConnection) -> Source:
        """An open warehouse connection (the one that just delivered), to answer questions
        ahead. The warehouse closes that connection; do not close this source."""
        return cls(ibis.duckdb.from_connection(db), "duckdb", stored=True)

    @classmethod
    def duckdb(cls, warehouse: Path, *, raw: bool = False, stored: bool = True) -> Source:
        """The warehouse file itself, read-only (deliveries can wait; queries never write).
        ``raw`` folds the tickets on every question; ``stored=False`` ignores tabulations
        stored ahead (both only to compare speed)."""
        if not warehouse.exists():
            raise PubliekError(
                "warehouse-missing",
                f"Er is nog geen warehouse op {warehouse}. Lever eerst een bestand aan.",
                f"There is no warehouse at {warehouse} yet. Deliver a file first.",
            )
        try:
            backend = ibis.duckdb.connect(database=str(warehouse), read_only=True)
        except Exception as error:  # duckdb raises its own IOException family
            raise PubliekError(
                "warehouse-unavailable",
                f"Het warehouse {warehouse} is niet te openen ({type(error).__name__}); loopt "
                "er nog een levering?",
                f"The warehouse {warehouse} cannot be opened ({type(error).__name__}); is a "
                "delivery still running?",
            ) from None
        return cls(backend, "duckdb", raw, stored and not raw)

    @classmethod
    def spark(cls, session: Any, location: str | Path) -> Source:
        """The Parquet export of the warehouse (``publieksdata export-parquet``) on a Spark
        session; ``location`` is a folder or a URL such as ``s3a://bucket/warehouse``.

        The session should run in UTC (``spark.sql.session.timeZone``), as the warehouse does.
        """
        backend = ibis.pyspark.connect(session)
        base = str(location).rstrip("/")
        for name in TABLES:
            backend.read_parquet(f"{base}/{name}.parquet", table_name=name)
        return cls(backend, "spark")

    def close(self) -> None:
        self.backend.disconnect()
