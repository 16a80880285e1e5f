"""The attack suite: each attack must fail to reveal a cell under k or a single institution.

All attacks run against the real release layer over the delivered tiny sector, with the
figures an attacker would see. The truth they are judged against comes from the
unreleased tabulations. The deployment key of the fixture is fixed, so the noise, and
these outcomes, are the same on every run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from scipy.optimize import linprog

from publieksdata.deliver.delivery import deliver_file
from publieksdata.insights.source import Source
from publieksdata.insights.tabulate import RecordKeys, tabulate
from publieksdata.insights.visits import visits
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.suppression import NO_PERSONS, relations
from publieksdata.release.tables import SHOWN, Release
from publieksdata.standard.definitions import Season
from publieksdata.warehouse.store import Warehouse
from tests.conftest import Delivered, matched

K = ReleasePolicy().k


@pytest.fixture(scope="module")
def insights(delivered: Delivered) -> Insights:
    return Insights(Source.duckdb(delivered.warehouse), delivered.key, ReleasePolicy())


def cells(release: Release) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[d] for d in release.by): row for row in release.table.to_pylist()}


def seasons_of(insights: Insights) -> list[Season]:
    found = cells(insights.sector().reach(by="season"))
    return sorted(Season.parse(s) for (s,) in found if s is not None)


def test_averaging_a_thousand_repeated_queries_gains_nothing(
    insights: Insights, delivered: Delivered
) -> None:
    """The same question gets the same noisy answer every time, so the mean is that answer."""
    institution = str(delivered.sector.exports[0]["institution_id"])
    view = insights.for_institution(institution)
    first = view.reach()
    answers = [view.reach().table.to_pylist() for _ in range(1000)]
    assert all(a == first.table.to_pylist() for a in answers)
    for _ in range(3):  # computed afresh, not remembered: still the same answer
        fresh = Insights(Source.duckdb(delivered.warehouse), delivered.key, ReleasePolicy())
        assert fresh.for_institution(institution).reach().table.to_pylist() == answers[0]
    true = tabulate(visits(insights.source, institutions=view.institutions), (),
                    insights.record_keys).to_pylist()[0]  # fmt: skip
    mean = np.mean([a[0]["tickets"] for a in answers])
    assert mean == first.table.to_pylist()[0]["tickets"]
    assert abs(mean - true["tickets"]) <= insights.policy.noise  # noise, not averaged away


def estimates_from_differencing(insights: Insights) -> list[tuple[int, int]]:
    """A vs A minus one filter value: the reach of an institution (and of each sales channel
    of it) over all seasons minus that over all seasons but one gives the persons seen only
    in that season."""
    out = []
    seasons = seasons_of(insights)
    for institution in insights.institutions():
        view = insights.for_institution(institution)
        whole = cells(view.reach(by="channel", season=seasons))
        true_whole = {(r["channel"],): r for r in insights.tabulation(
            "reach", [institution], seasons, ("channel",)).to_pylist()}  # fmt: skip
        for left_out in seasons:
            rest = [s for s in seasons if s != left_out]
            part = cells(view.reach(by="channel", season=rest))
            true_part = {(r["channel"],): r for r in insights.tabulation(
                "reach", [institution], rest, ("channel",)).to_pylist()}  # fmt: skip
            for cell, row in whole.items():
                if row["status"] != SHOWN or part.get(cell, {}).get("status") != SHOWN:
                    continue
                true_difference = true_whole[cell]["persons"] - true_part[cell]["persons"]
                if 0 < true_difference < K:
                    out.append((row["persons"] - part[cell]["persons"], true_difference))
    return out


def test_differencing_two_filters_does_not_reveal_the_small_difference(
    insights: Insights,
) -> None:
    found = estimates_from_differencing(insights)
    assert len(found) >= 30, "the tiny sector offers enough small differences to attack"
    exact = sum(estimate == truth for estimate, truth in found)
    errors = {estimate - truth for estimate, truth in found}
    assert exact / len(found) < 0.35, "most estimates are wrong (by chance a fifth is right)"
    assert len(errors) >= 3, "and wrong by different amounts, so they cannot be corrected"


def test_a_tracker_across_tables_does_not_recover_a_hidden_cell(insights: Insights) -> None:
    """Tickets add up: a hidden cell of season x age band equals the season's total minus
    the other age bands, each read from whichever released table shows it."""
    found = []
    for institution in insights.institutions():
        view = insights.for_institution(institution)
        two = cells(view.reach(by=("season", "age_band")))
        one = cells(view.reach(by="season"))
        true = {
            tuple(r[d] for d in ("season", "age_band")): r
            for r in tabulate(visits(insights.source, institutions=[institution]),
                              ("season", "age_band"), insights.record_keys).to_pylist()
        }  # fmt: skip
        for (season, band), row in two.items():
            if season is None or band is None or row["status"] == SHOWN:
                continue
            if true[(season, band)]["persons"] >= K:
                continue
            per_season = cells(view.reach(by="age_band", season=season))
            others = [per_season.get((b,)) for (s, b) in two if s == season and b not in
                      (band, None)]  # fmt: skip
            if one[(season,)]["status"] != SHOWN or any(
                o is None or o["status"] != SHOWN for o in others
            ):
                continue  # the attack needs every other band shown somewhere
            estimate = one[(season,)]["tickets"] - sum(o["tickets"] for o in others if o)
            found.append((estimate, true[(season, band)]["tickets"]))
    exact = sum(e == t for e, t in found)
    assert exact <= len(found) / 2, found


def pinned_cells(release: Release, true_tickets: dict[tuple[Any, ...], int]) -> list[Any]:
    """Hidden cells whose tickets the released table's linear system fixes exactly."""
    rows = release.table.to_pylist()
    index = [tuple(r[d] for d in release.by) for r in rows]
    hidden = [i for i, r in enumerate(rows) if r["status"] != SHOWN]
    column = {i: n for n, i in enumerate(hidden)}
    a_eq, b_eq = [], []
    for group in relations(index):
        row = np.zeros(len(hidden))
        known = 0.0
        for position, i in enumerate(group):
            sign = -1.0 if position == 0 else 1.0
            if i in column:
                row[column[i]] += sign
            else:
                known += sign * rows[i]["tickets"]
        if row.any():
            a_eq.append(row)
            b_eq.append(-known)
    pinned = []
    for i in hidden:
        if rows[i]["status"] == NO_PERSONS:
            continue  # its mark says it holds nobody: its tickets may follow, no person does
        objective = np.zeros(len(hidden))
        objective[column[i]] = 1
        ends = [linprog(sign * objective, A_eq=a_eq or None, b_eq=b_eq or None,
                        bounds=[(0, None)] * len(hidden)) for sign in (1, -1)]  # fmt: skip
        assert all(e.status == 0 for e in ends)
        if abs(ends[0].fun + ends[1].fun) < 0.5:
            pinned.append((index[i], true_tickets[index[i]]))
    return pinned


@pytest.mark.parametrize("by", [("season",), ("age_band",), ("season", "age_band"),
                                ("weekday", "price_band"), ("channel", "group_size")])  # fmt: skip
def test_margins_minus_visible_cells_pin_no_hidden_cell(delivered: Delivered, by: tuple[str, ...]
                                                        ) -> None:  # fmt: skip
    """Without noise (the worst case) the released tables' equations leave every hidden
    cell open."""
    plain = Insights(Source.duckdb(delivered.warehouse), delivered.key, ReleasePolicy(noise=0))
    attacked = 0
    for institution in plain.institutions():
        release = plain.for_institution(institution).reach(by=by)
        true = {
            tuple(r[d] for d in by): r["tickets"]
            for r in tabulate(
                visits(plain.source, institutions=[institution]), by, plain.record_keys
            ).to_pylist()
        }
        if any(r["status"] != SHOWN for r in release.table.to_pylist()):
            attacked += 1
            assert pinned_cells(release, true) == [], institution
    assert attacked, "some tables have hidden cells to attack"


def test_sector_figures_never_rest_on_fewer_than_three_institutions(insights: Insights) -> None:
    for by in ("discipline", "genre", ("discipline", "season")):
        release = insights.sector().reach(by=by)
        names = (by,) if isinstance(by, str) else by
        true = tabulate(visits(insights.source), names, insights.record_keys).to_pylist()
        for shown, row in matched(release.table.to_pylist(), true, names):
            if shown["status"] == SHOWN:
                assert row["institutions"] >= 3
                assert row["persons"] >= K
                others = row["revenue_cents"] - row["top_revenue_cents"]
                assert others - row["second_revenue_cents"] >= 0.1 * row["top_revenue_cents"]


@pytest.fixture
def redelivered(delivered: Delivered, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the warehouse, and one institution's export without one customer: a person
    who bought there and also visits other institutions."""
    shutil.copy(delivered.warehouse, tmp_path / "warehouse.duckdb")
    export = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    truth = delivered.sector.folder / "truth"
    rows = duckdb.sql(
        f"SELECT row FROM '{truth}/records.parquet' WHERE file = ? AND person = ("
        f"SELECT min(r.person) FROM '{truth}/records.parquet' r WHERE r.file = ? "
        "AND r.status = 'valid' AND r.person IN (SELECT person FROM "
        f"'{truth}/records.parquet' WHERE file <> ? AND status = 'valid'))",
        params=[export["file"]] * 3,
    ).fetchall()
    removed = {row for (row,) in rows}  # the truth counts data rows from 1
    header, *lines = (delivered.sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    kept = [line for number, line in enumerate(lines, start=1) if number not in removed]
    assert len(kept) == len(lines) - len(removed) > 0
    path = tmp_path / "minus-one.csv"
    path.write_text("\n".join([header, *kept]) + "\n", "utf-8")
    return tmp_path / "warehouse.duckdb", path


def test_a_one_record_redelivery_shows_noise_not_a_membership(
    delivered: Delivered, redelivered: tuple[Path, Path]
) -> None:
    """An institution re-delivers its file without one customer's row and compares sector
    figures before and after. Every cell that row touched gets its noise drawn anew, so the
    change it sees is not the change in persons."""
    warehouse_path, smaller = redelivered
    export = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    by = ("discipline", "season")

    def look() -> tuple[dict[Any, Any], dict[Any, Any]]:
        source = Source.duckdb(warehouse_path)
        released = cells(Insights(source, delivered.key, ReleasePolicy()).sector().reach(by=by))
        true = {tuple(r[d] for d in by): r for r in tabulate(
            visits(source), by, RecordKeys.from_key(delivered.key)).to_pylist()}  # fmt: skip
        source.close()
        return released, true

    before, true_before = look()
    with Warehouse(warehouse_path, delivered.key.fingerprint) as warehouse:
        period = warehouse.deliveries(export["institution_id"])[0].period
        report = deliver_file(smaller, export["institution_id"], warehouse, delivered.key,
                              period=period)  # fmt: skip
    assert report.replaced is not None
    after, true_after = look()
    touched = [c for c in true_before if true_before[c]["key_sum"] != true_after[c]["key_sum"]]
    assert touched, "the row was counted somewhere"
    changes = []
    for cell in touched:
        if before[cell]["status"] == SHOWN and after[cell]["status"] == SHOWN:
            true_change = true_after[cell]["persons"] - true_before[cell]["persons"]
            assert true_change in (-1, 0)
            changes.append((after[cell]["persons"] - before[cell]["persons"], true_change))
    assert changes, "some touched cells are shown before and after"
    assert any(seen != true for seen, true in changes), changes
    unchanged = [c for c in true_before if c not in touched]
    assert all(before[c] == after[c] for c in unchanged), "untouched cells stay as they were"


def test_padding_with_fake_customers_does_not_reveal_where_a_target_goes(
    delivered: Delivered, tmp_path: Path
) -> None:
    """A new institution delivers k-1 invented customers and one real person it wants to
    follow, so that its own audience reaches k. Where else its audience goes then rests on
    that one real person, and every such figure stays hidden."""
    shutil.copy(delivered.warehouse, tmp_path / "warehouse.duckdb")
    export = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (delivered.sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    names = header.split(";")
    column = {name: names.index(name) for name in names}
    target = lines[0].split(";")
    padded = [";".join(target)]
    for n in range(K - 1):
        fake = list(target)
        fake[column["Ordernummer"]] = f"9{n}{fake[column['Ordernummer']]}"
        fake[column["Klantnummer"]] = f"99{n}"
        fake[column["Voornaam"]] = f"Nep{chr(ord('a') + n)}"
        fake[column["E-mailadres"]] = f"nep{n}@voorbeeld.invalid"
        fake[column["Telefoonnummer"]] = ""
        fake[column["Huisnummer"]] = str(900 + n)
        padded.append(";".join(fake))
    path = tmp_path / "padded.csv"
    path.write_text("\n".join([header, *padded]) + "\n", "utf-8")
    with Warehouse(tmp_path / "warehouse.duckdb", delivered.key.fingerprint) as warehouse:
        report = deliver_file(path, "I9999", warehouse, delivered.key)
    assert report.loaded == K
    padder = Insights(Source.duckdb(tmp_path / "warehouse.duckdb"), delivered.key,
                      ReleasePolicy()).for_institution("I9999")  # fmt: skip
    assert padder.reach().table.column("status")[0].as_py() == SHOWN, "the padding worked"
    for by in ("discipline", "region_discipline", "institution"):
        released = padder.crossover(by=by).table.to_pylist()
        assert released, "the target visits other institutions"
        assert all(row["status"] != SHOWN for row in released), by
        assert all(row["persons"] is None and row["share"] is None for row in released)
