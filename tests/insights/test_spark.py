"""The same metric definitions on Apache Spark (local mode) give the same released results.

The warehouse is exported to Parquet, as an operator would for a cluster, and every question
is asked of both engines; the released tables must be identical, cell for cell.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from publieksdata.insights.source import Source
from publieksdata.release.budget import Ledger
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.warehouse.parquet import EXPORTED, export_parquet
from publieksdata.warehouse.store import Warehouse
from tests.conftest import Delivered


@pytest.fixture(scope="module")
def parquet(delivered: Delivered, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parquet")
    copy = folder / "warehouse.duckdb"  # the export is logged, so it writes to the warehouse
    shutil.copy(delivered.warehouse, copy)
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        export_parquet(warehouse, folder)
    return folder


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def engines(delivered: Delivered, parquet: Path, spark: Any) -> tuple[Insights, Insights]:
    policy = ReleasePolicy()
    return (
        Insights(Source.duckdb(delivered.warehouse), delivered.key, policy),
        Insights(Source.spark(spark, parquet), delivered.key, policy),
    )


def test_the_export_leaves_no_customer_pseudonyms_or_order_numbers(parquet: Path) -> None:
    for table, columns in EXPORTED.items():
        names = pq.read_schema(parquet / f"{table}.parquet").names
        assert names == list(columns)
    tickets = pq.read_schema(parquet / "tickets.parquet").names
    assert not {"customer_key", "order_id", "ticket_number", "source_row"} & set(tickets)


@pytest.mark.parametrize(
    "by",
    [(), ("season",), ("lead_time", "weekday"), ("price_band", "age_band"), ("genre",),
     ("season", "visitor_type"), ("sector_newcomer", "sector_retention"), ("frequency",),
     ("distance",), ("recency", "season")],
)  # fmt: skip
def test_duckdb_and_spark_release_the_same_figures(
    engines: tuple[Insights, Insights], delivered: Delivered, by: tuple[str, ...]
) -> None:
    duckdb_side, spark_side = engines
    institution = str(delivered.sector.exports[0]["institution_id"])
    assert (
        spark_side.for_institution(institution)
        .reach(by=by)
        .table.equals(duckdb_side.for_institution(institution).reach(by=by).table)
    )
    assert spark_side.sector().reach(by=by).table.equals(duckdb_side.sector().reach(by=by).table)


@pytest.mark.parametrize("by", ["discipline", "region_discipline", "institution"])
def test_crossover_is_the_same_on_spark(engines: tuple[Insights, Insights],
                                        delivered: Delivered, by: str) -> None:  # fmt: skip
    duckdb_side, spark_side = engines
    institution = str(delivered.sector.exports[0]["institution_id"])
    assert (
        spark_side.for_institution(institution)
        .crossover(by=by)
        .table.equals(duckdb_side.for_institution(institution).crossover(by=by).table)
    )


@pytest.mark.parametrize("by", ["discipline", "institution"])
def test_the_overlap_matrix_is_the_same_on_spark(engines: tuple[Insights, Insights],
                                                 by: str) -> None:  # fmt: skip
    duckdb_side, spark_side = engines
    assert (
        spark_side.sector().overlap(by=by).table.equals(duckdb_side.sector().overlap(by=by).table)
    )


def test_a_season_filter_works_the_same_on_spark(engines: tuple[Insights, Insights]) -> None:
    duckdb_side, spark_side = engines
    asked = {"by": "channel", "season": ["2024-2025", "2025-2026"]}
    assert (
        spark_side.sector().reach(**asked).table.equals(duckdb_side.sector().reach(**asked).table)
    )


def test_differential_privacy_runs_on_spark(
    engines: tuple[Insights, Insights], delivered: Delivered, tmp_path: Path
) -> None:
    """Bounding contributions is part of the query, so it must run on both engines; the noise
    differs per draw, so the totals are compared within it."""
    private = ReleasePolicy(dp_epsilon=1.0, dp_budget=2.0)
    totals = []
    for side, name in zip(engines, ("duckdb", "spark"), strict=True):
        insights = Insights(side.source, delivered.key, private, Ledger(tmp_path / f"{name}.db"))
        released = insights.sector().reach(by="gender").table.to_pylist()
        totals.append(next(r["persons"] for r in released if r["gender"] is None))
    assert abs(totals[0] - totals[1]) < 400
