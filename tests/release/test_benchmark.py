"""Benchmarks: an institution beside its peer group, which must hold at least 3 others."""

from __future__ import annotations

import shutil

import pytest

from publieksdata.errors import PubliekError
from publieksdata.insights.source import Source
from publieksdata.release.insights import PEER_GROUPS, Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import SHOWN
from publieksdata.warehouse.store import Warehouse
from tests.conftest import Delivered, matched


@pytest.fixture(scope="module")
def insights(delivered: Delivered, tmp_path_factory: pytest.TempPathFactory) -> Insights:
    """The tiny sector, with four of its institutions moved into one province (the register
    is the operator's input) so that a region has a peer group."""
    path = tmp_path_factory.mktemp("benchmark") / "warehouse.duckdb"
    shutil.copy(delivered.warehouse, path)
    with Warehouse(path, delivered.key.fingerprint) as warehouse:
        moved = [e["institution_id"] for e in delivered.sector.exports[:4]]
        warehouse.db.execute(
            "UPDATE institutions SET province_code = 'PV27' WHERE list_contains(?, "
            "institution_id)", [moved])  # fmt: skip
    return Insights(Source.duckdb(path), delivered.key, ReleasePolicy())


def register(insights: Insights) -> dict[str, dict[str, object]]:
    rows = insights.source.table("institutions").to_pyarrow().to_pylist()
    return {str(r["institution_id"]): r for r in rows}


def with_peers(insights: Insights, kind: str) -> tuple[str, list[str]]:
    for institution in insights.institutions():
        try:
            return institution, insights.peers(institution, kind)
        except PubliekError:
            continue
    raise AssertionError(f"no institution of the tiny sector has {kind} peers")


def test_region_peers_share_the_province_and_exclude_the_institution(insights: Insights) -> None:
    institution, peers = with_peers(insights, "region")
    known = register(insights)
    assert institution not in peers
    assert len(peers) >= insights.policy.min_institutions
    assert {known[p]["province_code"] for p in peers} == {known[institution]["province_code"]}
    same = [i for i in insights.institutions() if i != institution
            and known[i]["province_code"] == known[institution]["province_code"]]  # fmt: skip
    assert sorted(peers) == sorted(same)


def test_the_benchmark_sets_own_released_figures_beside_the_peer_group(
    insights: Insights,
) -> None:
    institution, peers = with_peers(insights, "region")
    view = insights.for_institution(institution)
    compared = view.benchmark(by="season", peers="region").table.to_pylist()
    own = {r["season"]: r for r in view.reach(by="season").table.to_pylist()}
    group = insights.tabulation("reach", peers, None, ("season",)).to_pylist()
    assert any(r["status"] == SHOWN for r in compared)
    for row, true in matched(compared, group, ("season",)):
        assert row["season"] == true["season"]
        mine = own[row["season"]]
        assert row["own_persons"] == (mine["persons"] if mine["status"] == SHOWN else None)
        if row["status"] == SHOWN:
            assert true["institutions"] >= insights.policy.min_institutions
            assert abs(row["persons"] - true["persons"]) <= insights.policy.noise
            assert row["visits_per_person"] == round(row["visits"] / row["persons"], 2)


@pytest.mark.parametrize(
    ("kind", "code"),
    [("stad", "insights-unknown-peers"), ("discipline_size", "insights-too-few-peers")],
)
def test_unusable_peer_groups_get_a_clear_answer(insights: Insights, kind: str,
                                                 code: str) -> None:  # fmt: skip
    known = register(insights)
    sizes = [known[i]["size_class"] for i in insights.institutions()]
    smallest = min(insights.institutions(), key=lambda i: sizes.count(known[i]["size_class"]))
    with pytest.raises(PubliekError) as caught:
        insights.for_institution(smallest).benchmark(peers=kind)
    assert caught.value.code == code
    assert kind in PEER_GROUPS or kind in caught.value.text("nl")


def test_the_sector_view_has_no_benchmark(insights: Insights) -> None:
    with pytest.raises(PubliekError) as caught:
        insights.sector().benchmark()
    assert caught.value.code == "insights-benchmark-scope"
