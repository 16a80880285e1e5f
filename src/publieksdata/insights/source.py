"""Where metrics read from: the warehouse through Ibis, on DuckDB or on Spark.

Queries only read. On DuckDB the warehouse file is opened read-only; on Spark the same
tables are read from the Parquet export of the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
from ibis.expr.types import Table

from publieksdata.errors import PubliekError

TABLES = ("tickets", "visit_facts", "institutions", "productions", "areas")


@dataclass
class Source:
    """An Ibis connection and the warehouse tables metrics are defined on."""

    backend: Any
    engine: str
    raw: bool = False  # fold tickets on every question instead of reading the summary

    def table(self, name: str) -> Table:
        return self.backend.table(name)

    @classmethod
    def duckdb(cls, warehouse: Path, *, raw: bool = False) -> Source:
        """The warehouse file itself, read-only (deliveries can wait; queries never write)."""
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
        return cls(backend, "duckdb", raw)

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
