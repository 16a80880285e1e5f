"""Metric definitions against the generator's ground truth, computed independently.

The truth says which rows were valid and which person and visit each row belongs to; the
expected figures come from it alone, never from the warehouse.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from publieksdata.deliver.delivery import deliver_file
from publieksdata.insights.dimensions import DIMENSIONS, UNKNOWN
from publieksdata.insights.source import Source
from publieksdata.insights.tabulate import RecordKeys, tabulate
from publieksdata.insights.visits import visits
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.standard import definitions as ref
from publieksdata.standard.codelists import codelist
from publieksdata.warehouse.store import Warehouse
from tests.conftest import Delivered

EXPECTED_SQL = """
SELECT r.institution_id, {season} count(DISTINCT r.person) AS persons,
       count(DISTINCT r.visit) AS visits, sum(r.tickets) AS tickets,
       sum(v.price_cents * r.tickets) AS revenue_cents
FROM '{truth}/records.parquet' r JOIN '{truth}/visits.parquet' v USING (visit)
WHERE r.status = 'valid' AND v.status = 'sold'
GROUP BY ALL
"""


def truth(delivered: Delivered, by_season: bool = False) -> dict[tuple[str, ...], dict[str, int]]:
    folder = delivered.sector.folder / "truth"
    season = "v.season," if by_season else ""
    table = duckdb.sql(EXPECTED_SQL.format(truth=folder, season=season)).to_arrow_table()
    keys = ["institution_id", "season"] if by_season else ["institution_id"]
    return {
        tuple(row[k] for k in keys): {m: int(row[m]) for m in ("persons", "visits", "tickets",
                                                               "revenue_cents")}
        for row in table.to_pylist()
    }  # fmt: skip


def shared_email_persons(delivered: Delivered) -> set[int]:
    """Persons who share an e-mail address with someone else in their household."""
    persons = duckdb.sql(
        f"SELECT person, email_shared_with FROM '{delivered.sector.folder}/truth/persons.parquet'"
    ).fetchall()
    sharing = Counter(shared for _, shared in persons)
    return {person for person, shared in persons if sharing[shared] > 1}


@pytest.fixture(scope="module")
def source(delivered: Delivered) -> Source:
    return Source.duckdb(delivered.warehouse)


@pytest.fixture(scope="module")
def keys(delivered: Delivered) -> RecordKeys:
    return RecordKeys.from_key(delivered.key)


def figures(source: Source, keys: RecordKeys, institution: str, by: tuple[str, ...] = ()
            ) -> list[dict[str, Any]]:  # fmt: skip
    return tabulate(visits(source, institutions=[institution]), by, keys).to_pylist()


def nameless(delivered: Delivered) -> set[str]:
    return {e["institution_id"] for e in delivered.sector.exports if e["layout"] == "museum_xlsx"}


def test_tickets_and_revenue_per_institution_equal_the_truth(
    delivered: Delivered, source: Source, keys: RecordKeys
) -> None:
    expected = truth(delivered)
    assert expected, "the tiny sector has sold visits"
    for (institution,), want in expected.items():
        (got,) = figures(source, keys, institution)
        for measure in ("tickets", "revenue_cents"):
            assert got[measure] == want[measure], (institution, measure)


def test_reach_and_visits_per_institution_equal_the_truth_up_to_linkage(
    delivered: Delivered, source: Source, keys: RecordKeys
) -> None:
    """Exports with names link persons almost perfectly; exports without names cannot tell
    partners who share an e-mail address apart, and count them (and their visits to the same
    time slot) as one."""
    shared = len(shared_email_persons(delivered))
    checked = 0
    for (institution,), want in truth(delivered).items():
        (got,) = figures(source, keys, institution)
        if institution in nameless(delivered):
            assert want["persons"] - shared <= got["persons"] <= want["persons"], institution
            assert got["visits"] <= want["visits"]
        else:
            for measure in ("persons", "visits"):  # a pair linked by mistake is one visitor
                assert abs(got[measure] - want[measure]) <= max(2, want[measure] // 100)
            checked += 1
    assert checked


def test_seasons_equal_the_truth_and_add_up_to_the_total(
    delivered: Delivered, source: Source, keys: RecordKeys
) -> None:
    expected = truth(delivered, by_season=True)
    named = {i for i, _ in expected} - nameless(delivered)
    institution = max(named, key=lambda i: sum(
        v["visits"] for (j, _), v in expected.items() if j == i))  # fmt: skip
    rows = figures(source, keys, institution, ("season",))
    cells = {r["season"]: r for r in rows if r["season"] is not None}
    (total,) = [r for r in rows if r["season"] is None]
    want = {s: v for (i, s), v in expected.items() if i == institution}
    assert set(cells) == set(want)
    for season, row in cells.items():
        assert row["tickets"] == want[season]["tickets"]
        assert abs(row["visits"] - want[season]["visits"]) <= max(2, want[season]["visits"] // 100)
    for measure in ("visits", "tickets", "revenue_cents"):
        assert total[measure] == sum(c[measure] for c in cells.values())
    assert max(c["persons"] for c in cells.values()) <= total["persons"]
    assert total["persons"] <= sum(c["persons"] for c in cells.values())


def reference_visits(delivered: Delivered, institution: str) -> list[dict[str, Any]]:
    """Visits built in Python from the stored rows, for the reference implementations."""
    db = duckdb.connect(str(delivered.warehouse), read_only=True)
    rows = db.execute(
        "SELECT person_id, production_key, starts_at, ordered_at, ticket_count, price_paid, "
        "birth_year, channel FROM tickets WHERE institution_id = ? AND status = 'sold'",
        [institution],
    ).fetchall()
    db.close()
    grouped: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"tickets": 0, "cents": 0, "ordered": None}
    )
    for person, production, starts, ordered, count, paid, born, channel in rows:
        visit = grouped[(person, production, starts)]
        visit.update(starts=starts, born=born, channel=channel)
        visit["tickets"] += count
        visit["cents"] += round(paid * 100)
        if ordered is not None and (visit["ordered"] is None or ordered < visit["ordered"]):
            visit["ordered"] = ordered
    return list(grouped.values())


def reference_band(dimension: str, visit: dict[str, Any]) -> str:
    season = ref.season_of(visit["starts"])
    if dimension == "season":
        return season.name
    if dimension == "weekday":
        return str(visit["starts"].isoweekday())
    if dimension == "month":
        return visit["starts"].strftime("%Y-%m")
    if dimension == "group_size":
        return ref.group_size(visit["tickets"])
    if dimension == "price_band":
        return ref.price_band(visit["cents"] / 100, visit["tickets"])
    if dimension == "lead_time":
        return UNKNOWN if visit["ordered"] is None else ref.lead_time(visit["ordered"],
                                                                      visit["starts"])  # fmt: skip
    if dimension == "age_band":
        try:
            return UNKNOWN if visit["born"] is None else ref.age_band(visit["born"], season)
        except ValueError:
            return UNKNOWN
    raise AssertionError(dimension)


@pytest.mark.parametrize(
    "dimension",
    ["season", "weekday", "month", "group_size", "price_band", "lead_time", "age_band"],
)
def test_dimension_agrees_with_the_reference_implementation(
    delivered: Delivered, source: Source, keys: RecordKeys, dimension: str
) -> None:
    institution = delivered.sector.exports[0]["institution_id"]
    want = Counter(reference_band(dimension, v) for v in reference_visits(delivered, institution))
    base = visits(source, institutions=[institution])
    counted = (
        base.group_by(band=DIMENSIONS[dimension].expression(base))
        .aggregate(n=base.count())
        .to_pyarrow()
        .to_pylist()
    )
    got = Counter({r["band"]: r["n"] for r in counted})
    assert got == want


@pytest.mark.parametrize(
    ("dimension", "listed"),
    [("age_band", "age_band"), ("channel", "channel"), ("discipline", "discipline"),
     ("genre", "genre"), ("gender", "gender")],
)  # fmt: skip
def test_coded_dimensions_only_give_codes_of_the_standard(
    source: Source, dimension: str, listed: str
) -> None:
    base = visits(source)
    values = set(
        base.select(v=DIMENSIONS[dimension].expression(base)).distinct().to_pyarrow()["v"]
        .to_pylist()
    )  # fmt: skip
    assert values <= set(codelist(listed).values) | {UNKNOWN}
    assert values - {UNKNOWN}, f"{dimension} is never known"


def test_a_season_filter_keeps_only_that_season(delivered: Delivered, source: Source,
                                                keys: RecordKeys) -> None:  # fmt: skip
    season = ref.Season(2024)
    table = tabulate(visits(source, seasons=[season]), ("season",), keys)
    assert set(table["season"].to_pylist()) == {season.name, None}
    whole = tabulate(visits(source), ("season",), keys).to_pylist()
    (cell,) = [r for r in whole if r["season"] == season.name]
    (only,) = [r for r in table.to_pylist() if r["season"] == season.name]
    assert cell == only


IDENTIFYING = (
    "Klantnummer",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "E-mailadres",
    "Telefoonnummer",
    "Straat",
    "Huisnummer",
    "Toevoeging",
    "Postcode",
)


def test_anonymous_tickets_count_in_tickets_but_not_in_reach(
    delivered: Delivered, tmp_path: Path
) -> None:
    """Rows without any identifier cannot be told apart: tickets yes, persons and visits no."""
    export = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (delivered.sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    names = header.split(";")
    blank = [names.index(c) for c in IDENTIFYING]
    anonymous = []
    for line in lines[:40]:
        cells = line.split(";")
        for i in blank:
            cells[i] = ""
        anonymous.append(";".join(cells))
    path = tmp_path / "anonymous.csv"
    path.write_text("\n".join([header, *anonymous]) + "\n", "utf-8")
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        report = deliver_file(path, "I0001", warehouse, key)
        sold = warehouse.scalar(
            "SELECT sum(ticket_count) FROM tickets WHERE status = 'sold' AND person_id IS NULL"
        )
    assert report.loaded > 0
    assert sold > 0
    (row,) = tabulate(visits(Source.duckdb(tmp_path / "w.duckdb")), (),
                      RecordKeys.from_key(key)).to_pylist()  # fmt: skip
    assert (row["persons"], row["visits"], row["tickets"]) == (0, 0, sold)
