"""Merges of persons reach every ticket, also when a person kept by one merge is merged away
by a later one."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from publieksdata.deliver.delivery import deliver_file
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.pseudonymise.linkage import merge_tickets
from publieksdata.synth.generator import SectorSummary
from publieksdata.warehouse.store import Warehouse


def test_chained_merges_reach_the_person_finally_kept() -> None:
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE tickets AS SELECT * FROM (VALUES (5), (4), (3), (9), (NULL)) t(person_id)"
    )
    merge_tickets(db, [(5, 4), (9, 8), (4, 3)])  # 5 joined 4, later 4 joined 3
    persons = [r[0] for r in db.execute("SELECT person_id FROM tickets").fetchall()]
    assert persons == [3, 3, 3, 8, None]
    merge_tickets(db, [])
    assert [r[0] for r in db.execute("SELECT person_id FROM tickets").fetchall()] == persons


def test_persons_merged_in_later_batches_leave_no_ticket_behind(
    sector: SectorSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buyers A, B and C, then a row with B's e-mail and C's customer number (C joins B),
    then one with A's e-mail and B's number (B joins A), each in its own batch: all their
    tickets and visits end with A's person, and none with a person merged away."""
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
    path = tmp_path / "bridges.csv"
    rows = [header, *(";".join(cells) for cells in (a, b, c, *bridges))]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    monkeypatch.setattr("publieksdata.deliver.delivery.BATCH_ROWS", 1)
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        report = deliver_file(path, export["institution_id"], warehouse, key)
        assert (report.loaded, report.persons_new, report.persons_merged) == (5, 3, 2)
        persons = {r[0] for r in warehouse.db.execute("SELECT person_id FROM tickets").fetchall()}
        assert len(persons) == 1
        for table in ("tickets", "visit_facts"):
            stale = warehouse.scalar(
                f"SELECT count(*) FROM {table} "
                "WHERE person_id NOT IN (SELECT person_id FROM person_keys)"
            )
            assert stale == 0, table
