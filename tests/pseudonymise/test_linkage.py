"""Merges of persons reach every ticket, also when a person kept by one merge is merged away
by a later one; the kinds of key per person kept in memory stay equal to the stored ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publieksdata.deliver.delivery import deliver_file
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.pseudonymise.linkage import KINDS, PersonKinds
from publieksdata.synth.generator import SectorSummary
from publieksdata.warehouse import merges
from publieksdata.warehouse.store import Warehouse


def test_chained_merges_reach_the_person_finally_kept(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb", DeploymentKey.generate().fingerprint) as warehouse:
        db = warehouse.db
        db.execute("INSERT INTO person_keys VALUES (1, 1, 'email', 5), (2, 2, 'email', 9)")
        merges.record(db, [(5, 4), (9, 8), (4, 3)])  # 5 joined 4, later 4 joined 3
        with warehouse.transaction():
            assert merges.settle(db) == 3
        persons = [r[0] for r in db.execute("SELECT person_id FROM person_keys").fetchall()]
        assert persons == [3, 8]
        assert not merges.pending(db)
        with warehouse.transaction():
            assert merges.settle(db) == 0
        kinds = PersonKinds(db)  # in a delivery, before the merges are settled
        kinds.merge([(5, 4), (9, 8)])
        kinds.merge([(4, 3)])
        assert kinds.current(np.array([5, 4, 3, 9, 7])).tolist() == [3, 3, 3, 8, 7]


def bridged_buyers(sector: SectorSummary, folder: Path) -> tuple[Path, str]:
    """A kassa_nl file of buyers A, B and C, then a row with B's e-mail and C's customer
    number (C joins B), then one with A's e-mail and B's number (B joins A); and the
    institution it is from. Delivered a row per batch, it makes two merges."""
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    names = header.split(";")
    customer, order, email = (names.index(c) for c in ("Klantnummer", "Ordernummer", "E-mailadres"))
    buyers: list[list[str]] = []
    for cells in (line.split(";") for line in lines):
        if (
            cells[email]
            and cells[customer]
            and all(cells[email] != b[email] and cells[customer] != b[customer] for b in buyers)
        ):
            buyers.append(cells)
        if len(buyers) == 3:
            break
    a, b, c = buyers
    bridges = []
    for n, (named, numbered) in enumerate(((b, c), (a, b))):
        bridge = list(named)
        bridge[customer], bridge[order] = numbered[customer], f"9999999{n}"
        bridges.append(bridge)
    path = folder / "bridges.csv"
    rows = [header, *(";".join(cells) for cells in (a, b, c, *bridges))]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path, export["institution_id"]


def test_persons_merged_in_later_batches_leave_no_ticket_behind(
    sector: SectorSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row of :func:`bridged_buyers` in its own batch: all their tickets and visits end
    with A's person, and none with a person merged away."""
    path, institution = bridged_buyers(sector, tmp_path)
    monkeypatch.setattr("publieksdata.deliver.delivery.BATCH_ROWS", 1)
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        report = deliver_file(path, institution, warehouse, key)
        assert (report.loaded, report.persons_new, report.persons_merged) == (5, 3, 2)
        persons = {r[0] for r in warehouse.db.execute("SELECT person_id FROM tickets").fetchall()}
        assert len(persons) == 1
        for table in ("tickets", "visit_facts"):
            stale = warehouse.scalar(
                f"SELECT count(*) FROM {table} "
                "WHERE person_id NOT IN (SELECT person_id FROM person_keys)"
            )
            assert stale == 0, table


_KIND = st.integers(0, len(KINDS) - 1)
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(st.tuples(st.integers(1, 40), _KIND), max_size=8)),
        st.tuples(st.just("merge"), st.tuples(st.integers(1, 40), st.integers(1, 40))),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(stored=st.lists(st.tuples(st.integers(1, 20), _KIND), max_size=30), steps=_STEPS)
def test_person_kinds_kept_up_to_date_equal_reading_them_again(
    stored: list[tuple[int, int]], steps: list[tuple[str, Any]]
) -> None:
    """Adding keys and merging persons in memory gives what reading person_keys again gives."""
    db = duckdb.connect()
    db.execute("CREATE TABLE person_keys (kind VARCHAR, person_id BIGINT)")
    names = list(KINDS)

    def insert(pairs: list[tuple[int, int]]) -> None:
        for person, kind in pairs:
            db.execute("INSERT INTO person_keys VALUES (?, ?)", [names[kind], person])

    insert(stored)
    kinds = PersonKinds(db)
    for step, value in steps:
        if step == "add":
            insert(value)
            kinds.add(np.array([p for p, _ in value], np.int64), np.array([k for _, k in value]))
        elif value[0] != value[1]:
            db.execute("UPDATE person_keys SET person_id = ? WHERE person_id = ?", value[::-1])
            kinds.merge([value])
    persons = np.arange(0, 45)
    assert kinds.of(persons).tolist() == PersonKinds(db).of(persons).tolist()
