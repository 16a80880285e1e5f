"""Key rotation, erasure and retention on a real warehouse of the synthetic sector."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from publieksdata.deliver.delivery import DeliveryReport, deliver_file, erase_file
from publieksdata.pseudonymise.keys import DeploymentKey, load_key, write_rotated
from publieksdata.pseudonymise.pseudonyms import encoded, from_halves
from publieksdata.sql import with_arrow
from publieksdata.synth.generator import SectorSummary
from publieksdata.warehouse.store import Warehouse
from publieksdata.warehouse.upkeep import Erasure, retain, rotate

KEYS = "SELECT key_high, key_low FROM person_keys"
DENIED = "SELECT key_high, kind, key_low FROM denied"
OVERLAP = """
    SELECT a.institution_id, b.institution_id, count(DISTINCT a.person_id)
    FROM tickets a JOIN tickets b USING (person_id)
    WHERE a.institution_id < b.institution_id
    GROUP BY ALL ORDER BY ALL
"""


def deliver_all(warehouse: Warehouse, key: DeploymentKey, sector: SectorSummary,
                exports: list[dict[str, str]]) -> None:  # fmt: skip
    for export in exports:
        deliver_file(sector.folder / export["file"], export["institution_id"], warehouse, key)


def test_rotation_rekeys_everything_and_changes_no_figure(
    sector: SectorSummary, tmp_path: Path
) -> None:
    half = len(sector.exports) // 2
    key = DeploymentKey.generate()
    control_key = DeploymentKey.generate()
    with (
        Warehouse(tmp_path / "rotated.duckdb", key.fingerprint) as rotated,
        Warehouse(tmp_path / "control.duckdb", control_key.fingerprint) as control,
    ):
        deliver_all(rotated, key, sector, sector.exports[:half])
        overlap_before = rotated.db.execute(OVERLAP).fetchall()
        keys_before = set(rotated.db.execute(KEYS).fetchall())
        new_key = key.rotated()
        assert rotate(rotated, key, new_key) > 0
        assert rotated.db.execute(OVERLAP).fetchall() == overlap_before
        keys_after = set(rotated.db.execute(KEYS).fetchall())
        assert len(keys_after) == len(keys_before)
        assert not keys_after & keys_before
        assert rotated.meta("key_fingerprint") == new_key.fingerprint
        # Deliveries after the rotation link to the persons from before it, exactly as in a
        # warehouse that never rotated.
        deliver_all(rotated, new_key, sector, sector.exports[half:])
        deliver_all(control, control_key, sector, sector.exports)
        assert rotated.db.execute(OVERLAP).fetchall() == control.db.execute(OVERLAP).fetchall()
        persons = "SELECT count(DISTINCT person_id) FROM tickets"
        assert rotated.scalar(persons) == control.scalar(persons)


def test_the_cli_rotates_resumably_and_the_old_key_no_longer_opens(
    sector: SectorSummary, tmp_path: Path
) -> None:
    env = {**os.environ, "PUBLIEKSDATA_DATA": str(tmp_path / "data"),
           "PUBLIEKSDATA_KEY_FILE": str(tmp_path / "key")}  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "publieksdata", *args], env=env,
                              capture_output=True, text=True)  # fmt: skip

    assert cli("key", "init").returncode == 0
    old_text = (tmp_path / "key").read_text()
    export = sector.exports[0]
    assert (
        cli("deliver", str(sector.folder / export["file"]), "--institution", "I0001").returncode
        == 0
    )
    rotated = cli("key", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert not (tmp_path / "key.g1").exists()
    assert cli("deliveries").returncode == 0
    (tmp_path / "old").write_text(old_text)
    (tmp_path / "old").chmod(0o600)
    refused = cli("deliveries", "--key-file", str(tmp_path / "old"))
    assert refused.returncode == 2
    assert "[key-mismatch]" in refused.stderr
    # A rotation cut off after the new key file was written resumes from the kept old key.
    current = load_key(tmp_path / "key", env={})
    write_rotated(tmp_path / "key", current.rotated())
    assert cli("deliveries").returncode == 2
    resumed = cli("key", "rotate")
    assert resumed.returncode == 0, resumed.stderr
    assert "generatie 3" in resumed.stdout
    assert cli("deliveries").returncode == 0
    assert not (tmp_path / "key.g2").exists()


def test_erasure_removes_a_person_and_keeps_them_out(sector: SectorSummary, tmp_path: Path) -> None:
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    path = sector.folder / export["file"]
    request, row = _erasure_request(path, tmp_path, "E-mailadres", "Voornaam")
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        first = deliver_file(path, export["institution_id"], warehouse, key, period="p")
        person = warehouse.scalar(
            "SELECT person_id FROM tickets WHERE source_row = ? AND delivery_id = ?",
            [row, first.delivery_id],
        )
        before = warehouse.scalar("SELECT count(*) FROM tickets WHERE person_id = ?", [person])
        done = erase_file(request, export["institution_id"], warehouse, key)
        assert done.persons == 1
        assert done.rows == before > 0
        assert warehouse.scalar("SELECT count(*) FROM tickets WHERE person_id = ?", [person]) == 0
        again = tmp_path / "again.csv"
        again.write_bytes(path.read_bytes() + b"\r\n")  # another file, same rows
        second = deliver_file(again, export["institution_id"], warehouse, key, period="p")
        assert second.replaced == first.delivery_id
        assert second.problem_counts["erased-person"] >= before
        assert second.balanced()
        assert warehouse.scalar("SELECT count(*) FROM tickets WHERE person_id = ?", [person]) == 0
        events = [r[0] for r in warehouse.db.execute("SELECT event FROM events").fetchall()]
        assert "erasure" in events


def _erasure_request(path: Path, folder: Path, *columns: str) -> tuple[Path, int]:
    """A request naming one buyer of the export by these columns; and that buyer's file row."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    index, target = next(
        (i, r) for i, r in enumerate(rows) if all(r[c] for c in columns) and r["Voornaam"]
    )
    request = folder / "verwijderverzoek.csv"
    values = ";".join(target[c] for c in columns)
    request.write_text(f"{';'.join(columns)}\n{values}\n", "utf-8")
    return request, index + 2


def _erased_by_customer_number(
    sector: SectorSummary, folder: Path, warehouse: Warehouse, key: DeploymentKey
) -> tuple[dict[str, Any], Path, int, DeliveryReport, Erasure]:
    """A kassa_nl export delivered, then one of its buyers erased by customer number: the
    export, its file, that buyer's file row, the delivery and the erasure."""
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    path = sector.folder / export["file"]
    request, row = _erasure_request(path, folder, "Klantnummer")
    first = deliver_file(path, export["institution_id"], warehouse, key, period="p")
    return export, path, row, first, erase_file(request, export["institution_id"], warehouse, key)


def test_an_erasure_by_customer_number_holds_after_rotation(
    sector: SectorSummary, tmp_path: Path
) -> None:
    """The customer key of an erased person is re-keyed with the institution's own purpose
    key, so a delivery after rotation still keeps the person out."""
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        export, path, row, first, done = _erased_by_customer_number(sector, tmp_path,
                                                                   warehouse, key)  # fmt: skip
        assert done.persons == 1
        assert done.rows > 0
        new_key = key.rotated()
        rotate(warehouse, key, new_key)
        again = tmp_path / "again.csv"
        again.write_bytes(path.read_bytes() + b"\r\n")
        second = deliver_file(again, export["institution_id"], warehouse, new_key, period="p")
        assert second.replaced == first.delivery_id
        assert second.problem_counts["erased-person"] == done.rows
        erased = warehouse.scalar(
            "SELECT count(*) FROM tickets WHERE delivery_id = ? AND source_row = ?",
            [second.delivery_id, row],
        )
        assert erased == 0


def test_a_repeated_line_of_an_erased_person_is_a_duplicate_and_stays_out(
    sector: SectorSummary, tmp_path: Path
) -> None:
    """Repeats are found before erased persons are left out: a line of an erased person
    delivered twice counts once as erased and once as a duplicate, and nothing of it loads."""
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        export, path, row, first, done = _erased_by_customer_number(sector, tmp_path,
                                                                   warehouse, key)  # fmt: skip
        lines = path.read_text("utf-8-sig").splitlines()
        again = tmp_path / "again.csv"
        again.write_text("\n".join([*lines, lines[row - 1]]) + "\n", "utf-8-sig")
        second = deliver_file(again, export["institution_id"], warehouse, key, period="p")
        assert second.received == first.received + 1
        assert second.duplicates == first.duplicates + 1
        assert second.problem_counts["erased-person"] == done.rows
        assert second.balanced()
        loaded = warehouse.scalar(
            "SELECT count(*) FROM tickets WHERE delivery_id = ? AND source_row IN (?, ?)",
            [second.delivery_id, row, len(lines) + 1],
        )
        assert loaded == 0


def test_a_schema_1_warehouse_is_upgraded_when_opened(
    sector: SectorSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linkage keys stored as pseudonym text (schema 1) become two 64-bit halves, the same
    keys (converted a few at a time), and erasures keep working."""
    monkeypatch.setattr("publieksdata.warehouse.upgrade._CHUNK_ROWS", 97)
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    path = sector.folder / export["file"]
    request, _ = _erasure_request(path, tmp_path, "E-mailadres", "Klantnummer")
    key = DeploymentKey.generate()
    file = tmp_path / "w.duckdb"
    with Warehouse(file, key.fingerprint) as warehouse:
        first = deliver_file(path, export["institution_id"], warehouse, key, period="p")
        done = erase_file(request, export["institution_id"], warehouse, key)
        keys = sorted(warehouse.db.execute("SELECT * FROM person_keys")
                      .fetchall())  # fmt: skip
        denied = sorted(warehouse.db.execute(DENIED).fetchall())
        assert {kind for _, kind, _ in denied} >= {"email", "customer"}
        for table, columns in (("person_keys", "kind, person_id"), ("denied", "institution_id")):
            stored = warehouse.db.sql(f"SELECT * FROM {table}").to_arrow_table()
            text = encoded(from_halves(stored["key_high"].to_numpy(), stored["key_low"].to_numpy()))
            old = stored.select(columns.split(", ")).append_column("key", text)
            warehouse.db.execute(f"DROP TABLE {table}")
            with_arrow(
                warehouse.db, f"CREATE TABLE {table} AS SELECT key, {columns} FROM data", old
            )
        warehouse.set_meta("schema_version", "1")
    with Warehouse(file, key.fingerprint) as warehouse:
        assert warehouse.meta("schema_version") == "2"
        assert sorted(warehouse.db.execute("SELECT * FROM person_keys")
                      .fetchall()) == keys  # fmt: skip
        assert sorted(warehouse.db.execute(DENIED).fetchall()) == denied  # kinds found again
        again = tmp_path / "again.csv"
        again.write_bytes(path.read_bytes() + b"\r\n")
        second = deliver_file(again, export["institution_id"], warehouse, key, period="p")
        assert second.replaced == first.delivery_id
        assert second.problem_counts["erased-person"] == done.rows


def test_retention_removes_old_seasons_and_orphaned_keys(
    sector: SectorSummary, tmp_path: Path
) -> None:
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        deliver_all(warehouse, key, sector, sector.exports[:4])
        total = warehouse.scalar("SELECT count(*) FROM tickets")
        removed = retain(warehouse, 2, today=dt.date(2026, 11, 25))
        assert 0 < removed < total
        oldest = warehouse.scalar("SELECT min(starts_at) FROM tickets")
        assert oldest >= dt.datetime(2025, 8, 1)
        orphans = warehouse.scalar(
            "SELECT count(*) FROM person_keys WHERE person_id NOT IN "
            "(SELECT person_id FROM tickets WHERE person_id IS NOT NULL)"
        )
        assert orphans == 0
