"""The planted behaviour groups show the behaviour the metrics will later have to find."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow.parquet as pq
import pytest

from publieksdata.synth.generator import SectorSummary


@pytest.fixture(scope="module")
def visits(tiny: SectorSummary) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(tiny.folder / "truth" / "visits.parquet").to_pylist()
    return rows


def by_group(
    visits: list[dict[str, Any]], persons: dict[int, dict[str, Any]], group: str
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in visits:
        if persons[v["person"]]["group"] == group:
            found[v["person"]].append(v)
    assert found, f"no {group} in the sector"
    return found


def test_lapsers_only_visit_in_the_first_two_seasons(
    tiny: SectorSummary, visits: list[dict[str, Any]], persons: dict[int, dict[str, Any]]
) -> None:
    early = {s.name for s in tiny.config.season_list[:2]}
    for own in by_group(visits, persons, "lapser").values():
        assert {v["season"] for v in own} <= early


def test_newcomers_only_visit_in_the_last_two_seasons(
    tiny: SectorSummary, visits: list[dict[str, Any]], persons: dict[int, dict[str, Any]]
) -> None:
    late = {s.name for s in tiny.config.season_list[-2:]}
    for own in by_group(visits, persons, "newcomer").values():
        assert {v["season"] for v in own} <= late


def test_loyal_subscribers_hold_a_series_every_season_at_one_institution(
    tiny: SectorSummary, visits: list[dict[str, Any]], persons: dict[int, dict[str, Any]]
) -> None:
    seasons = {s.name for s in tiny.config.season_list}
    for own in by_group(visits, persons, "loyal_subscriber").values():
        series = [v for v in own if v["subscription"]]
        assert {v["season"] for v in series} == seasons
        assert len({v["institution_id"] for v in series}) == 1
        assert all(v["ticket_type"] == "subscription" for v in series)
    others = [v for v in visits if persons[v["person"]]["group"] != "loyal_subscriber"]
    assert not any(v["subscription"] for v in others)


def test_single_venue_visitors_stay_at_one_institution(
    visits: list[dict[str, Any]], persons: dict[int, dict[str, Any]]
) -> None:
    for own in by_group(visits, persons, "single_venue").values():
        assert len({v["institution_id"] for v in own}) == 1


def test_omnivores_visit_more_disciplines_than_anyone_else(
    visits: list[dict[str, Any]], persons: dict[int, dict[str, Any]]
) -> None:
    breadth: dict[str, list[int]] = defaultdict(list)
    disciplines: dict[int, set[str]] = defaultdict(set)
    for v in visits:
        disciplines[v["person"]].add(v["discipline"])
    for person, seen in disciplines.items():
        breadth[persons[person]["group"]].append(len(seen))
    mean = {group: sum(b) / len(b) for group, b in breadth.items()}
    assert mean["omnivore"] == max(mean.values())
    assert mean["omnivore"] >= 2 * mean["occasional"]


def test_no_sale_happens_after_the_export_date(
    tiny: SectorSummary, visits: list[dict[str, Any]]
) -> None:
    last = max(v["ordered_at"] for v in visits)
    assert last.date() <= tiny.config.export_date
    # Pre-sales: some performances are still to come on the export date.
    assert any(v["starts_at"].date() > tiny.config.export_date for v in visits)


def test_households_share_an_address_and_sometimes_an_email(
    persons: dict[int, dict[str, Any]],
) -> None:
    sharing = [p for p in persons.values() if p["email_shared_with"] != p["person"]]
    assert sharing
    for p in sharing:
        assert p["household"] == p["email_shared_with"]
        head = persons[p["household"]]
        assert (p["pc4"], p["municipality_code"]) == (head["pc4"], head["municipality_code"])


def test_touring_productions_play_at_several_institutions(visits: list[dict[str, Any]]) -> None:
    venues: dict[int, set[str]] = defaultdict(set)
    for v in visits:
        if v["tour"] >= 0:
            venues[v["tour"]].add(v["institution_id"])
    assert any(len(institutions) >= 2 for institutions in venues.values())
