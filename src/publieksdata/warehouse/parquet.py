"""The warehouse as Parquet files, for running the same metrics on Apache Spark.

Only what metrics read leaves: no customer pseudonyms, order numbers, ticket numbers or
source rows, so an exported row cannot be matched back to an institution's own records.
"""

from __future__ import annotations

from pathlib import Path

from publieksdata.warehouse.store import Warehouse

EXPORTED: dict[str, tuple[str, ...]] = {
    "tickets": (
        "institution_id", "person_id", "production_key", "starts_at", "ordered_at", "status",
        "ticket_count", "price_paid", "channel", "discipline", "genre", "pc4", "birth_year",
        "gender",
    ),
    "visit_facts": (
        "institution_id", "production_key", "starts_at", "person_id", "tickets",
        "revenue_cents", "ordered_at", "channel", "discipline", "genre", "pc4", "birth_year",
        "gender", "season_year",
    ),
    "institutions": (
        "institution_id", "name", "disciplines", "size_class", "municipality_code",
        "province_code", "named_in_overlap",
    ),
    "productions": ("institution_id", "production_key", "title", "producer", "discipline",
                    "genre"),
    "areas": ("pc4", "inhabitants", "municipality_code", "municipality", "province_code",
              "latitude", "longitude"),
}  # fmt: skip


def export_parquet(warehouse: Warehouse, folder: Path) -> dict[str, int]:
    """Write each table as ``folder/<table>.parquet``; returns the rows written per table."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for table, columns in EXPORTED.items():
        target = folder / f"{table}.parquet"
        listed = ", ".join(columns)
        warehouse.db.execute(
            f"COPY (SELECT {listed} FROM {table} ORDER BY ALL) TO '{target}' (FORMAT parquet)"
        )
        written[table] = int(warehouse.scalar(f"SELECT count(*) FROM {table}"))
    warehouse.log("parquet-export", None, {"folder": str(folder), "rows": written})
    return written
