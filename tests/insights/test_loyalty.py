"""New, returning, new to the sector, retention, frequency and recency against the ground
truth.

The expected counts apply the reference implementations of the standard's definitions to
the generator's true persons; ours come from linked pseudonymous persons, so they may differ
by what linkage gets wrong (well under 2% on named exports).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import duckdb
import pytest

from publieksdata.insights.source import Source
from publieksdata.insights.tabulate import RecordKeys, tabulate
from publieksdata.insights.visits import FREQUENCY, HISTORY, RECENCY, visits
from publieksdata.standard import definitions as ref
from tests.conftest import Delivered

LATER = dt.date(2100, 1, 1)  # every season has ended


def close(got: int, want: int) -> bool:
    return abs(got - want) <= max(3, want // 50)


@pytest.fixture(scope="module")
def seen(delivered: Delivered) -> dict[str, Any]:
    """True (person -> seasons) per institution and for the sector, over sold valid rows."""
    truth = delivered.sector.folder / "truth"
    rows = duckdb.sql(
        f"SELECT DISTINCT r.person, r.institution_id, v.season, v.visit "
        f"FROM '{truth}/records.parquet' r JOIN '{truth}/visits.parquet' v USING (visit) "
        "WHERE r.status = 'valid' AND v.status = 'sold'"
    ).fetchall()
    here: dict[str, dict[int, set[ref.Season]]] = defaultdict(lambda: defaultdict(set))
    sector: dict[int, set[ref.Season]] = defaultdict(set)
    visit_count: Counter[tuple[str, int, ref.Season]] = Counter()
    for person, institution, season, _ in rows:
        s = ref.Season.parse(season)
        here[institution][person].add(s)
        sector[person].add(s)
        visit_count[(institution, person, s)] += 1
    return {"here": here, "sector": sector, "visits": visit_count}


@pytest.fixture(scope="module")
def named(delivered: Delivered, seen: dict[str, Any]) -> str:
    """The named-export institution with the most persons."""
    nameless = {e["institution_id"] for e in delivered.sector.exports
                if e["layout"] == "museum_xlsx"}  # fmt: skip
    return max(set(seen["here"]) - nameless, key=lambda i: len(seen["here"][i]))


def table(delivered: Delivered, by: tuple[str, ...], extras: set[str],
          institutions: list[str] | None = None) -> dict[tuple[Any, ...], int]:  # fmt: skip
    source = Source.duckdb(delivered.warehouse)
    base = visits(source, institutions=institutions, extras=extras, today=LATER)
    rows = tabulate(base, by, RecordKeys.from_key(delivered.key)).to_pylist()
    return {tuple(r[d] for d in by): r["persons"] for r in rows}


def test_new_and_returning_visitors_follow_the_definition(
    delivered: Delivered, seen: dict[str, Any], named: str
) -> None:
    got = table(delivered, ("season", "visitor_type"), {HISTORY}, [named])
    expected: Counter[tuple[str, str]] = Counter()
    for seasons in seen["here"][named].values():
        for season in seasons:
            kind = "new" if ref.is_new(season, seasons) else "returning"
            assert ref.is_returning(season, seasons) == (kind == "returning")
            expected[(season.name, kind)] += 1
    assert expected
    for cell, want in expected.items():
        assert close(got.get(cell, 0), want), (cell, got.get(cell), want)


def test_new_to_the_sector_follows_the_definition(delivered: Delivered,
                                                  seen: dict[str, Any]) -> None:  # fmt: skip
    got = table(delivered, ("season", "sector_newcomer"), {HISTORY})
    expected: Counter[tuple[str, str]] = Counter()
    for seasons in seen["sector"].values():
        for season in seasons:
            first = ref.is_first_time_in_sector(season, seasons)
            expected[(season.name, "first_time_in_sector" if first else "known_in_sector")] += 1
    for cell, want in expected.items():
        assert abs(got.get(cell, 0) - want) <= max(5, want // 20), (cell, got.get(cell), want)


def test_retention_and_lapsing_follow_the_definition(
    delivered: Delivered, seen: dict[str, Any], named: str
) -> None:
    got = table(delivered, ("season", "retention"), {HISTORY}, [named])
    expected: Counter[tuple[str, str]] = Counter()
    for seasons in seen["here"][named].values():
        for season in seasons:
            lapsed = ref.is_lapsed(season + 1, seasons)
            expected[(season.name, "lapsed" if lapsed else "returned")] += 1
    for cell, want in expected.items():
        assert close(got.get(cell, 0), want), (cell, got.get(cell), want)


def test_retention_is_not_known_before_the_next_season_ends(delivered: Delivered,
                                                            named: str) -> None:  # fmt: skip
    source = Source.duckdb(delivered.warehouse)
    latest = max(ref.Season.parse(s) for (s,) in table(delivered, ("season",), set(), [named])
                 if s is not None)  # fmt: skip
    during = (latest + 1).start  # the season after the latest has only just begun
    base = visits(source, institutions=[named], extras={HISTORY}, today=during)
    rows = tabulate(base, ("season", "retention"), RecordKeys.from_key(delivered.key))
    kinds = {r["retention"] for r in rows.to_pylist() if r["season"] == latest.name}
    assert kinds == {"not_yet_known", None}
    earlier = {r["retention"] for r in rows.to_pylist() if r["season"] == (latest - 2).name}
    assert {"returned", "lapsed"} <= earlier


def test_frequency_counts_visits_within_the_question(
    delivered: Delivered, seen: dict[str, Any], named: str
) -> None:
    season = max(s for (i, _, s) in seen["visits"] if i == named) - 1
    source = Source.duckdb(delivered.warehouse)
    base = visits(source, institutions=[named], seasons=[season], extras={FREQUENCY})
    rows = tabulate(base, ("frequency",), RecordKeys.from_key(delivered.key)).to_pylist()
    got = {r["frequency"]: r["persons"] for r in rows}
    expected = Counter(ref.frequency_band(n) for (i, _, s), n in seen["visits"].items()
                       if i == named and s == season)  # fmt: skip
    assert expected
    for band, want in expected.items():
        assert close(got.get(band, 0), want), (band, got.get(band), want)


def test_recency_counts_seasons_since_the_latest_visit(
    delivered: Delivered, seen: dict[str, Any], named: str
) -> None:
    latest = max(s for (i, _, s) in seen["visits"] if i == named)
    today = (latest + 2).start  # two seasons after the latest: no one is recent
    source = Source.duckdb(delivered.warehouse)
    base = visits(source, institutions=[named], extras={RECENCY}, today=today)
    rows = tabulate(base, ("recency",), RecordKeys.from_key(delivered.key)).to_pylist()
    got = {r["recency"]: r["persons"] for r in rows if r["recency"] is not None}
    expected = Counter(ref.recency_band(max(seasons), latest + 2)
                       for seasons in seen["here"][named].values())  # fmt: skip
    assert "0" not in got
    assert len(expected) >= 2
    for band, want in expected.items():
        assert close(got.get(band, 0), want), (band, got.get(band), want)
