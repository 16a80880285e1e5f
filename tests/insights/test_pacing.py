"""Pre-sales pacing: upcoming performances against a pooled curve of comparable past ones."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise

import duckdb
import pytest

from publieksdata.insights.pacing import LOOKBACK_DAYS, MIN_COMPARABLE
from publieksdata.insights.source import Source
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import SHOWN
from tests.conftest import Delivered


@pytest.fixture(scope="module")
def today(delivered: Delivered) -> dt.date:
    """The day the synthetic exports were made: later performances are still on sale."""
    sector = json.loads((delivered.sector.folder / "sector.json").read_text("utf-8"))
    return dt.date.fromisoformat(sector["export_date"])


@pytest.fixture(scope="module")
def busiest(delivered: Delivered, today: dt.date) -> str:
    db = duckdb.connect(str(delivered.warehouse), read_only=True)
    (institution,) = db.execute(
        "SELECT institution_id FROM tickets WHERE status = 'sold' AND starts_at::DATE > ? "
        "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1", [today]).fetchone() or (None,)  # fmt: skip
    db.close()
    assert institution is not None, "the tiny sector sells tickets for later performances"
    return str(institution)


def expected_share(delivered: Delivered, institution: str, discipline: str, today: dt.date,
                   days_before: int) -> float | None:  # fmt: skip
    """The pooled curve in plain SQL: share of past tickets bought at least as early."""
    db = duckdb.connect(str(delivered.warehouse), read_only=True)
    early, total, performances = db.execute(
        "SELECT sum(ticket_count) FILTER (WHERE starts_at::DATE - ordered_at::DATE >= ?), "
        "sum(ticket_count), count(DISTINCT (production_key, starts_at)) FROM tickets "
        "WHERE institution_id = ? AND status = 'sold' AND coalesce(discipline, 'unknown') = ? "
        "AND ordered_at IS NOT NULL AND starts_at >= ? AND starts_at < ?",
        [days_before, institution, discipline, today - dt.timedelta(days=LOOKBACK_DAYS),
         today],
    ).fetchone()  # fmt: skip
    db.close()
    if not total or performances < MIN_COMPARABLE:
        return None
    return round(100 * (early or 0) / total, 1)


def test_upcoming_performances_are_paced_against_past_ones(
    delivered: Delivered, today: dt.date, busiest: str
) -> None:
    insights = Insights(Source.duckdb(delivered.warehouse), delivered.key, ReleasePolicy())
    paced = insights.for_institution(busiest).pacing(today=today).table.to_pylist()
    cells = [r for r in paced if r["performance"] is not None]
    assert cells
    disciplines = insights.upcoming_disciplines(busiest, today)
    for row in cells:
        start = dt.datetime.fromisoformat(row["performance"][:16])
        assert start.date() > today
        assert row["days_to_go"] == (start.date() - today).days
        want = expected_share(delivered, busiest, disciplines[row["performance"]], today,
                              row["days_to_go"])  # fmt: skip
        assert row["expected_share"] == want
        if row["status"] == SHOWN and want:
            assert row["projected_tickets"] == round(row["tickets"] / (want / 100))
        else:
            assert row["projected_tickets"] is None
    for discipline in set(disciplines.values()):
        shares = sorted((r["days_to_go"], r["expected_share"]) for r in cells
                        if r["expected_share"] is not None
                        and disciplines[r["performance"]] == discipline)  # fmt: skip
        # the further away, the smaller the share comparable performances had sold
        assert all(a[1] >= b[1] for a, b in pairwise(shares))
