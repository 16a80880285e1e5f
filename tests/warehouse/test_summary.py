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


def changes(delivered: Delivered, tmp_path: Path) -> dict[str, Callable[[Warehouse], object]]:
    kassa = next(e for e in delivered.sector.exports if e["layout"] == "kassa_nl")
    header, first, *_ = (delivered.sector.folder / kassa["file"]).read_text(
        "utf-8-sig").splitlines()  # fmt: skip
    names = header.split(";")
    person = tmp_path / "erase.csv"
    person.write_text(f"E-mailadres\n{first.split(';')[names.index('E-mailadres')]}\n", "utf-8")
    half = tmp_path / "half.csv"
    lines = (delivered.sector.folder / kassa["file"]).read_text("utf-8-sig").splitlines()
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n", "utf-8")

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
    lines = (delivered.sector.folder / kassa["file"]).read_text("utf-8-sig").splitlines()
    half = tmp_path / "half.csv"
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n", "utf-8")
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
