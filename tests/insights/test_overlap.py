"""The sector's overlap matrix against plain SQL, and the institution rules on its cells."""

from __future__ import annotations

import duckdb
import pytest

from publieksdata.errors import PubliekError
from publieksdata.insights.crossover import OTHERS
from publieksdata.insights.overlap import ALSO, GROUP
from publieksdata.insights.source import Source
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import SHOWN
from tests.conftest import Delivered


@pytest.fixture(scope="module")
def insights(delivered: Delivered) -> Insights:
    return Insights(Source.duckdb(delivered.warehouse), delivered.key, ReleasePolicy())


def _cells(insights: Insights, by: str) -> dict[tuple[str, str], dict[str, int]]:
    table = insights.tabulation(f"overlap@{by}", None, None, (GROUP, ALSO)).to_pylist()
    return {(r[GROUP], r[ALSO]): r for r in table if r[GROUP] is not None and r[ALSO] is not None}


def test_each_cell_counts_the_persons_who_visited_both_disciplines(
    delivered: Delivered, insights: Insights
) -> None:
    """Written apart from the Ibis definitions: distinct persons per pair of disciplines
    over the stored tickets, and per discipline on the diagonal."""
    db = duckdb.connect(str(delivered.warehouse), read_only=True)
    want = {(a, b): n for a, b, n in db.execute(
        "WITH seen AS (SELECT DISTINCT person_id, coalesce(discipline, 'unknown') AS d "
        "FROM tickets WHERE status = 'sold' AND person_id IS NOT NULL) "
        "SELECT x.d, y.d, count(DISTINCT x.person_id) FROM seen x JOIN seen y USING (person_id) "
        "GROUP BY ALL").fetchall()}  # fmt: skip
    db.close()
    got = {cell: row["persons"] for cell, row in _cells(insights, "discipline").items()}
    assert got == want
    assert len({a for a, _ in want}) > 3  # a real matrix, not a single cell


def test_a_cell_holds_the_visits_and_institutions_of_both_groups(
    delivered: Delivered, insights: Insights
) -> None:
    """Cell (A, B) and cell (B, A) are the same persons and the same visits, so that the
    institution rules count both sides and the noise is the same on both."""
    cells = _cells(insights, "discipline")
    pairs = [(a, b) for a, b in cells if a < b]
    assert pairs
    for a, b in pairs:
        assert cells[(a, b)] == {**cells[(b, a)], GROUP: a, ALSO: b}
    db = duckdb.connect(str(delivered.warehouse), read_only=True)
    a, b = max(pairs, key=lambda p: cells[p]["persons"])
    institutions = db.execute(
        "WITH seen AS (SELECT person_id, institution_id, coalesce(discipline, 'unknown') AS d "
        "FROM tickets WHERE status = 'sold' AND person_id IS NOT NULL), "
        "both_ AS (SELECT person_id FROM seen WHERE d = ? INTERSECT "
        "SELECT person_id FROM seen WHERE d = ?) "
        "SELECT count(DISTINCT institution_id) FROM seen WHERE d IN (?, ?) "
        "AND person_id IN (SELECT * FROM both_)", [a, b, a, b]).fetchall()[0][0]  # fmt: skip
    db.close()
    assert cells[(a, b)]["institutions"] == institutions


@pytest.mark.parametrize("by", ["discipline", "region_discipline", "institution"])
def test_every_shown_cell_obeys_the_institution_rules(insights: Insights, by: str) -> None:
    policy = insights.policy
    released = insights.sector().overlap(by=by)
    cells = _cells(insights, by)
    shown = [r for r in released.table.to_pylist() if r["status"] == SHOWN]
    assert shown
    for row in shown:
        cell = cells[(row[GROUP], row[ALSO])]
        assert cell["persons"] >= policy.k
        assert cell["all_named"] or cell["institutions"] >= policy.min_institutions
    few = policy.min_institutions
    hidden = [c for c in cells.values() if not c["all_named"] and c["institutions"] < few]
    if by == "region_discipline":  # groups of one or two institutions exist in the sector
        assert hidden
    for row in released.table.to_pylist():
        if cells[(row[GROUP], row[ALSO])] in hidden:
            assert row["status"] != SHOWN
            assert row["persons"] is None


def test_institutions_that_were_not_asked_stay_together(insights: Insights) -> None:
    """By institution, only those that agreed to be named appear on their own."""
    register = insights.source.table("institutions").to_pyarrow().to_pylist()
    names = {r["name"] for r in register if r["named_in_overlap"]}
    released = insights.sector().overlap(by="institution")
    groups = set(released.table.column(GROUP).to_pylist())
    assert OTHERS in groups
    assert groups - {OTHERS} <= names
    assert groups - {OTHERS}


def test_the_matrix_is_symmetric_and_shares_come_from_the_diagonal(insights: Insights) -> None:
    released = insights.sector().overlap(by="discipline")
    rows = {(r[GROUP], r[ALSO]): r for r in released.table.to_pylist()}
    assert all(r[GROUP] is not None and r[ALSO] is not None for r in rows.values())
    for (a, b), row in rows.items():
        assert row["persons"] == rows[(b, a)]["persons"]
        reach = rows[(a, a)]["persons"]
        if row["persons"] is not None and reach:
            assert row["share_of_group"] == round(100 * row["persons"] / reach, 1)
    assert any(r["share_of_group"] is not None and r["share_of_group"] < 100
               for r in rows.values())  # fmt: skip


def test_the_matrix_is_a_question_about_the_sector(insights: Insights) -> None:
    institution = insights.institutions()[0]
    with pytest.raises(PubliekError) as raised:
        insights.for_institution(institution).overlap()
    assert raised.value.code == "insights-overlap-scope"
    with pytest.raises(PubliekError) as raised:
        insights.sector().overlap(by="pc4")
    assert "pc4" in str(raised.value)
    with pytest.raises(PubliekError) as raised:
        insights.sector().overlap(season="2090-2091")
    assert raised.value.code == "insights-no-visits"


def test_a_season_narrows_the_matrix(delivered: Delivered, insights: Insights) -> None:
    seasons = sorted({r["season"] for r in insights.sector().reach(by="season").table.to_pylist()
                      if r["season"] is not None})  # fmt: skip
    whole = _cells(insights, "discipline")
    first = insights.tabulation("overlap@discipline", None, insights_seasons(seasons[:1]),
                                (GROUP, ALSO)).to_pylist()  # fmt: skip
    narrowed = {(r[GROUP], r[ALSO]): r["persons"] for r in first
                if r[GROUP] is not None and r[ALSO] is not None}  # fmt: skip
    assert narrowed
    assert all(n <= whole[cell]["persons"] for cell, n in narrowed.items())
    assert any(n < whole[cell]["persons"] for cell, n in narrowed.items())


def insights_seasons(names: list[str]) -> list[object]:
    from publieksdata.release.insights import seasons

    return list(seasons(names) or [])
