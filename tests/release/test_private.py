"""Differential privacy for sector tables: bounded contributions, OpenDP noise, and a
privacy budget that is accounted and enforced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from publieksdata.errors import PubliekError
from publieksdata.insights.dimensions import DIMENSIONS
from publieksdata.insights.source import Source
from publieksdata.insights.tabulate import bounded, levels
from publieksdata.insights.visits import visits
from publieksdata.release.budget import Ledger
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.private import SHARES, grid, noisy
from publieksdata.release.tables import SHOWN
from tests.conftest import Delivered

PRIVATE = ReleasePolicy(dp_epsilon=1.0, dp_budget=3.0)


@pytest.fixture(scope="module")
def source(delivered: Delivered) -> Iterator[Source]:
    opened = Source.duckdb(delivered.warehouse)
    yield opened
    opened.close()


def _insights(source: Source, delivered: Delivered, ledger: Path,
              policy: ReleasePolicy = PRIVATE) -> Insights:  # fmt: skip
    return Insights(source, delivered.key, policy, Ledger(ledger))


def test_each_person_counts_in_at_most_so_many_cells(source: Source) -> None:
    base = visits(source, extras={"history"})
    by = ("season", "discipline")
    once = bounded(base, by, max_cells=1, max_visits=1, max_tickets=1).to_pylist()
    detailed = [r for r in once if r["season"] is not None and r["discipline"] is not None]
    total = next(r for r in once if r["season"] is None and r["discipline"] is None)
    everyone = int(base.filter(base.person_id.notnull()).person_id.nunique().execute())
    assert total["persons"] == everyone
    assert sum(r["persons"] for r in detailed) == everyone, "one cell per person"
    assert all(r["visits"] == r["persons"] == r["tickets"] for r in detailed), "capped at 1"
    assert all(r["visits"] is None for r in once if r not in detailed)
    wide = bounded(base, by, max_cells=100, max_visits=1000, max_tickets=10_000).to_pylist()
    assert sum(r["persons"] for r in wide if r["season"] and r["discipline"]) > everyone


def test_noise_spends_exactly_epsilon_and_differs_between_draws(source: Source) -> None:
    cells = pa.table({"gender": ["female", "male"], "persons": [500, 400],
                      "visits": [900, 800], "tickets": [1500, 1400]})  # fmt: skip
    shape = grid(("gender",), [["female", "male", "unknown"]])
    assert [len(level) for level in shape] == [3, 1]
    first, spent = noisy(cells, ("gender",), shape, PRIVATE)
    second, _ = noisy(cells, ("gender",), shape, PRIVATE)
    assert spent == pytest.approx(PRIVATE.dp_epsilon)
    assert first != second, "fresh noise on every draw"
    assert set(first) == {("female",), ("male",), ("unknown",), (None,)}
    genders = ("female", "male", "unknown")
    assert first[(None,)]["visits"] == sum(first[(g,)]["visits"] for g in genders)
    # discrete Laplace with scale 12 (6 cells a person may touch / 0.5 ε): far from 500
    # only with vanishing probability
    assert abs(first[("female",)]["persons"] - 500) < 300


def test_a_released_table_covers_the_whole_domain_close_to_the_truth(
    source: Source, delivered: Delivered, tmp_path: Path
) -> None:
    insights = _insights(source, delivered, tmp_path / "ledger.sqlite")
    released = insights.sector().reach(by="age_band")
    rows = released.table.to_pylist()
    bands = [r["age_band"] for r in rows if r["age_band"] is not None]
    assert bands == [*DIMENSIONS["age_band"].order(), "unknown"], "every band, even empty"
    truth = insights.tabulation("reach", None, None, ("age_band",)).to_pylist()
    total = next(r for r in rows if r["age_band"] is None)
    true_total = next(r for r in truth if r["age_band"] is None)["persons"]
    assert total["status"] == SHOWN
    assert abs(total["persons"] - true_total) < 300
    assert released.private
    assert any("OpenDP" in note for note in released.notes("en"))
    assert all(r["revenue"] is None for r in rows), "no revenue under differential privacy"


def test_the_budget_is_enforced_and_repeats_cost_nothing(
    source: Source, delivered: Delivered, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    first = _insights(source, delivered, ledger).sector().reach(by="gender")
    for _ in range(100):  # averaging repeated answers gains nothing: they are the same
        again = _insights(source, delivered, ledger).sector().reach(by="gender")
        assert again.table.equals(first.table)
    assert Ledger(ledger).spent() == pytest.approx(1.0)
    _insights(source, delivered, ledger).sector().reach(by="channel")
    _insights(source, delivered, ledger).sector().reach(by="age_band")
    assert Ledger(ledger).spent() == pytest.approx(3.0)
    with pytest.raises(PubliekError) as refused:
        _insights(source, delivered, ledger).sector().reach(by="discipline")
    assert refused.value.code == "privacy-budget-exhausted"
    assert "3.00" in str(refused.value)
    assert Ledger(ledger).spent() == pytest.approx(3.0), "a refusal spends nothing"
    assert Ledger(ledger).releases() == 3
    kept = _insights(source, delivered, ledger).sector().reach(by="gender")
    assert kept.table.equals(first.table), "questions asked before stay available"


def test_the_institution_rules_still_hold(source: Source, delivered: Delivered,
                                          tmp_path: Path) -> None:  # fmt: skip
    insights = _insights(source, delivered, tmp_path / "ledger.sqlite")
    released = insights.sector().reach(by="discipline").table.to_pylist()
    truth = {r["discipline"]: r for r in
             insights.tabulation("reach", None, None, ("discipline",)).to_pylist()}  # fmt: skip
    few = [d for d, r in truth.items() if not r["all_named"] and r["institutions"] < 3]
    assert few
    for row in released:
        if row["discipline"] in few:
            assert row["status"] != SHOWN
            assert row["persons"] is None


def test_only_breakdowns_with_a_fixed_domain(source: Source, delivered: Delivered,
                                            tmp_path: Path) -> None:  # fmt: skip
    insights = _insights(source, delivered, tmp_path / "ledger.sqlite")
    with pytest.raises(PubliekError) as refused:
        insights.sector().reach(by="pc4")  # no reference data in this warehouse
    assert refused.value.code == "insights-dp-breakdown"
    assert Ledger(tmp_path / "ledger.sqlite").spent() == 0


def test_differential_privacy_needs_a_ledger_and_a_sane_policy(
    source: Source, delivered: Delivered
) -> None:
    with pytest.raises(PubliekError) as missing:
        Insights(source, delivered.key, PRIVATE).sector().reach()
    assert missing.value.code == "privacy-no-ledger"
    with pytest.raises(PubliekError) as wrong:
        ReleasePolicy(dp_epsilon=2.0, dp_budget=1.0)
    assert wrong.value.code == "policy-budget-too-small"
    with pytest.raises(PubliekError) as wrong:
        ReleasePolicy(dp_max_visits=30, dp_max_tickets=20)
    assert wrong.value.code == "policy-tickets-below-visits"
    own = Insights(source, delivered.key, PRIVATE)  # own tables keep cell-key noise
    institution = own.institutions()[0]
    assert not own.for_institution(institution).reach().private


def test_the_grid_has_every_level_of_the_domain() -> None:
    shape = grid(("a", "b"), [["1", "2"], ["x", "y", "z"]])
    assert [len(level) for level in shape] == [6, 2, 3, 1]
    assert len(shape) == len(levels(("a", "b")))
    assert shape[-1] == [(None, None)]


def test_one_person_more_changes_the_odds_of_any_answer_by_at_most_e_to_the_epsilon() -> None:
    """The guarantee itself, sampled: a total of 100 persons against 101 (one person more).
    Every answer seen often enough under both must be about as likely under either, within
    e^ε for the ε spent on reach, with room for sampling error."""
    shape = grid((), [])
    draws = 4000
    seen: list[dict[int, int]] = []
    for persons in (100, 101):
        cells = pa.table({"persons": [persons], "visits": [persons], "tickets": [persons]})
        counts: dict[int, int] = {}
        for _ in range(draws):
            value = noisy(cells, (), shape, PRIVATE)[0][()]["persons"]
            counts[value] = counts.get(value, 0) + 1
        seen.append(counts)
    bound = np.exp(PRIVATE.dp_epsilon * SHARES["persons"])
    common = [v for v in seen[0] if seen[0][v] >= 200 and seen[1].get(v, 0) >= 200]
    assert len(common) >= 3
    for value in common:
        ratio = seen[0][value] / seen[1][value]
        assert 1 / (bound * 1.35) <= ratio <= bound * 1.35, (value, ratio)
    assert max(seen[0].values()) < draws / 2, "there is noise at all"


def test_a_season_asked_for_is_in_the_domain_even_when_empty(
    source: Source, delivered: Delivered, tmp_path: Path
) -> None:
    insights = _insights(source, delivered, tmp_path / "ledger.sqlite")
    released = insights.sector().reach(by="season", season="2090-2091").table.to_pylist()
    assert [r["season"] for r in released] == ["2090-2091", "unknown", None]
    assert all(r["status"] != SHOWN for r in released), "no institution is in it"
