"""The visit summary always equals the tickets folded afresh, whatever changed them."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from publieksdata.deliver.coding import confirm
from publieksdata.deliver.delivery import deliver_file, erase_file
from publieksdata.insights.source import Source
from publieksdata.insights.tabulate import RecordKeys, tabulate
from publieksdata.insights.visits import visits
from publieksdata.standard.definitions import season_of
from publieksdata.warehouse.store import Warehouse
from publieksdata.warehouse.summary import fold
from publieksdata.warehouse.upkeep import retain
from tests.conftest import Delivered


def differences(warehouse: Warehouse) -> int:
    """Rows in the summary but not in a fresh fold, and the other way round."""
    warehouse.db.execute("CREATE OR REPLACE TEMP TABLE fresh AS SELECT * FROM visit_facts LIMIT 0")
    warehouse.db.execute(f"INSERT INTO fresh {fold()}")
    return int(warehouse.scalar(
        "SELECT (SELECT count(*) FROM (SELECT * FROM visit_facts EXCEPT ALL SELECT * FROM fresh))"
        " + (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM visit_facts))"
    ))  # fmt: skip


@pytest.fixture
def copy(delivered: Delivered, tmp_path: Path) -> Path:
    shutil.copy(delivered.warehouse, tmp_path / "warehouse.duckdb")
    return tmp_path / "warehouse.duckdb"


def test_the_delivered_sector_has_a_summary_equal_to_its_tickets(
    delivered: Delivered, copy: Path
) -> None:
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        assert warehouse.scalar("SELECT count(*) FROM visit_facts") > 0
        assert differences(warehouse) == 0


def _half_export(delivered: Delivered, tmp_path: Path) -> Path:
    """The first half of the kassa_nl export's lines, as a file of its own."""
    kassa = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    lines = (delivered.sector.folder / kassa["file"]).read_text("utf-8-sig").splitlines()
    half = tmp_path / "half.csv"
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n", "utf-8")
    return half


def changes(delivered: Delivered, tmp_path: Path) -> dict[str, Callable[[Warehouse], object]]:
    kassa = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    header, first, *_ = (delivered.sector.folder / kassa["file"]).read_text(
        "utf-8-sig").splitlines()  # fmt: skip
    names = header.split(";")
    person = tmp_path / "erase.csv"
    person.write_text(f"E-mailadres\n{first.split(';')[names.index('E-mailadres')]}\n", "utf-8")
    half = _half_export(delivered, tmp_path)

    def redeliver(w: Warehouse) -> object:
        period = w.deliveries(kassa["institution_id"])[0].period
        return deliver_file(half, kassa["institution_id"], w, delivered.key, period=period)

    def recode(w: Warehouse) -> object:
        title, institution = w.db.execute(
            "SELECT production_title, institution_id FROM tickets LIMIT 1"
        ).fetchall()[0]
        return confirm(w, institution, title, "comedy")  # fmt: skip

    return {
        "withdraw": lambda w: w.withdraw(w.deliveries()[0].delivery_id),
        "redeliver": redeliver,
        "erase": lambda w: erase_file(person, kassa["institution_id"], w, delivered.key),
        "recode": recode,
        "retain": lambda w: retain(w, 2, dt.date(2026, 11, 25)),
    }


@pytest.mark.parametrize("change", ["withdraw", "redeliver", "erase", "recode", "retain"])
def test_every_change_keeps_the_summary_equal(delivered: Delivered, copy: Path,
                                              tmp_path: Path, change: str) -> None:  # fmt: skip
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        before = warehouse.scalar("SELECT count(*) FROM visit_facts")
        changes(delivered, tmp_path)[change](warehouse)
        assert warehouse.scalar("SELECT count(*) FROM visit_facts") != before or change in (
            "recode",)  # fmt: skip
        assert differences(warehouse) == 0


def _persons_ticket_counts(warehouse: Warehouse, institution: str) -> dict[int, int]:
    return dict(warehouse.db.execute(
        "SELECT person_id, count(*) FROM tickets WHERE institution_id = ? GROUP BY ALL",
        [institution],
    ).fetchall())  # fmt: skip


@pytest.mark.parametrize("change", ["withdraw", "erase", "recode", "retain"])
def test_a_change_folds_again_only_the_visits_it_can_reach(
    delivered: Delivered, copy: Path, tmp_path: Path, change: str
) -> None:
    """A withdrawal folds again the visits at the moments of the delivery's tickets, a
    recoding those at the moments of the production, an erasure those of the erased
    persons at the institution, retention removes those of the performances it removes:
    every other visit, of the same institution too, stays as it was (a refold
    writes its rows anew, with new row ids)."""
    kassa = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    institution = kassa["institution_id"]
    act = changes(delivered, tmp_path)[change]
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        if change == "withdraw":  # a second delivery, of half the performances, withdrawn
            half = _half_export(delivered, tmp_path)
            extra = deliver_file(half, institution, warehouse, delivered.key, period="extra")
            where = ("delivery_id = ?", [extra.delivery_id])

            def act(w: Warehouse) -> object:
                return w.withdraw(int(extra.delivery_id or 0))

        elif change == "recode":  # the production of the first ticket, as ``changes`` takes it
            institution, key = warehouse.db.execute(
                "SELECT institution_id, production_key FROM tickets LIMIT 1"
            ).fetchall()[0]
            where = ("institution_id = ? AND production_key = ?", [institution, key])
        else:
            where = ("false", [])
        # retention, as ``changes`` asks for it: two seasons up to 2026-11-25
        first_kept = dt.datetime.combine((season_of(dt.date(2026, 11, 25)) - 1).start, dt.time())
        moments = {
            r[0]
            for r in warehouse.db.execute(
                f"SELECT DISTINCT starts_at FROM tickets WHERE {where[0]}", where[1]
            ).fetchall()
        }
        counts = _persons_ticket_counts(warehouse, institution)
        before = set(warehouse.db.execute("SELECT *, rowid FROM visit_facts").fetchall())
        act(warehouse)
        after = set(warehouse.db.execute("SELECT *, rowid FROM visit_facts").fetchall())
        assert differences(warehouse) == 0
        now = _persons_ticket_counts(warehouse, institution)
        erased = {p for p in counts if now.get(p) != counts[p]} if change == "erase" else set()
        assert erased or change != "erase"

        def reached(row: tuple[object, ...]) -> bool:  # institution, production, moment, person
            if change == "retain":
                return row[2] < first_kept
            return row[0] == institution and (row[2] in moments or row[3] in erased)

        assert any(reached(r) for r in before)
        untouched = {r for r in after if not reached(r)}
        assert {r for r in before if not reached(r)} == untouched
        assert any(r[0] == institution for r in untouched)


def test_a_warehouse_without_a_summary_gets_one_when_opened(delivered: Delivered,
                                                            copy: Path) -> None:  # fmt: skip
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        warehouse.db.execute("DELETE FROM visit_facts")
        warehouse.db.execute("DELETE FROM meta WHERE key = 'summary_version'")
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        assert warehouse.scalar("SELECT count(*) FROM visit_facts") > 0
        assert differences(warehouse) == 0


def test_merges_by_linkage_keep_the_summary_equal(delivered: Delivered, copy: Path,
                                                  tmp_path: Path) -> None:  # fmt: skip
    """One new row carries one customer's e-mail address and name and another customer's
    number: linkage then knows them to be one person and merges them; the visits of both
    are folded again."""
    kassa = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (delivered.sector.folder / kassa["file"]).read_text(
        "utf-8-sig").splitlines()  # fmt: skip
    names = header.split(";")
    customer, order = names.index("Klantnummer"), names.index("Ordernummer")
    email = names.index("E-mailadres")
    x = lines[0].split(";")
    y = next(line.split(";") for line in lines if line.split(";")[customer] != x[customer]
             and line.split(";")[email] != x[email])  # fmt: skip
    bridge = list(x)
    bridge[customer], bridge[order] = y[customer], "99999999"
    path = tmp_path / "bridge.csv"
    path.write_text(header + "\n" + ";".join(bridge) + "\n", "utf-8")
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        report = deliver_file(path, kassa["institution_id"], warehouse, delivered.key,
                              period="bridge")  # fmt: skip
        assert report.persons_merged >= 1
        assert differences(warehouse) == 0


@pytest.mark.parametrize("by", [(), ("season", "age_band"), ("frequency",)])
def test_questions_from_the_summary_equal_folding_the_tickets_on_the_fly(
    delivered: Delivered, by: tuple[str, ...]
) -> None:
    keys = RecordKeys.from_key(delivered.key)
    extras = {"frequency"} if "frequency" in by else set()
    tables = [
        tabulate(visits(Source.duckdb(delivered.warehouse, raw=raw), extras=extras), by, keys)
        for raw in (False, True)
    ]
    assert tables[0].num_rows > 0
    assert tables[0].equals(tables[1])


def test_a_delivery_refolds_only_its_own_moments_and_keeps_the_summary_equal(
    delivered: Delivered, copy: Path, tmp_path: Path
) -> None:
    """A second delivery for another period that repeats half of an earlier one's
    performances: the visits at those performances now hold the tickets of both, and the
    visits at the institution's other moments, and of the other institutions, stay as they
    were (they are not folded again)."""
    kassa = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    institution = kassa["institution_id"]
    half = _half_export(delivered, tmp_path)
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        tickets = "SELECT sum(tickets) FROM visit_facts WHERE institution_id = ?"
        before = warehouse.scalar(tickets, [institution])
        rows = set(warehouse.db.execute("SELECT *, rowid FROM visit_facts").fetchall())
        report = deliver_file(half, institution, warehouse, delivered.key, period="extra")
        assert report.status == "loaded"
        assert report.replaced is None
        assert warehouse.scalar(tickets, [institution]) > before
        assert differences(warehouse) == 0
        untouched = warehouse.db.execute(
            "SELECT *, rowid FROM visit_facts WHERE institution_id <> ? OR starts_at NOT IN "
            "(SELECT starts_at FROM tickets WHERE delivery_id = ?)",
            [institution, report.delivery_id],
        ).fetchall()
        assert any(row[0] == institution for row in untouched)
        assert set(untouched) <= rows  # the same rows, not written again (a refold renumbers)
