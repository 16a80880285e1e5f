"""Whole deliveries of the synthetic sector into a real DuckDB warehouse, checked against the
generator's ground truth."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from publieksdata.deliver.delivery import DeliveryReport, deliver_file
from publieksdata.deliver.mapping import MappingStore
from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.synth.generator import SectorSummary
from publieksdata.warehouse.store import Warehouse

WARNING_CODES = {"bad_postcode": "bad-postcode", "bad_phone": "bad-phone", "bad_email": "bad-email"}


@pytest.fixture(scope="module")
def key() -> DeploymentKey:
    return DeploymentKey.generate()


@pytest.fixture(scope="module")
def delivered(
    sector: SectorSummary, key: DeploymentKey, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, DeliveryReport]]:
    """Every export of the tiny sector delivered into one warehouse."""
    folder = tmp_path_factory.mktemp("platform")
    reports = {}
    with Warehouse(folder / "warehouse.duckdb", key.fingerprint) as warehouse:
        store = MappingStore(folder / "mappings")
        for export in sector.exports:
            report = deliver_file(sector.folder / export["file"], export["institution_id"],
                                  warehouse, key, mappings=store)  # fmt: skip
            reports[export["file"]] = report
    return folder / "warehouse.duckdb", reports


@pytest.fixture(scope="module")
def truth(sector: SectorSummary) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(
        sector.folder / "truth" / "records.parquet"
    ).to_pylist()
    return rows


def test_every_export_is_recognised_and_loaded(
    delivered: tuple[Path, dict[str, DeliveryReport]],
) -> None:
    _, reports = delivered
    for file, report in reports.items():
        assert report.status == "loaded", file
        assert report.profile_source == "built-in", file
        assert report.ignored_columns == [], file
        assert report.balanced(), file


def test_counts_agree_with_the_ground_truth(
    delivered: tuple[Path, dict[str, DeliveryReport]], truth: list[dict[str, Any]]
) -> None:
    _, reports = delivered
    for file, report in reports.items():
        rows = [r for r in truth if r["file"] == file]
        status = Counter(r["status"] for r in rows)
        assert report.received == len(rows), file
        assert report.rejected == status["invalid"], file
        assert report.duplicates == status["duplicate"], file
        assert report.loaded == status["valid"], file
        warned = Counter(r["warning"] for r in rows if r["warning"] and r["status"] != "invalid")
        for kind, code in WARNING_CODES.items():
            assert report.problem_counts.get(code, 0) == warned[kind], (file, code)


def test_rejected_rows_are_reported_where_the_truth_broke_them(
    delivered: tuple[Path, dict[str, DeliveryReport]], truth: list[dict[str, Any]]
) -> None:
    _, reports = delivered
    for file, report in reports.items():
        broken = {
            (r["row"] + 1, r["column"])
            for r in truth
            if r["file"] == file and r["status"] == "invalid"
        }
        errors = {(p["row"], p["column"]) for p in report.problems
                  if p["code"] not in {"bad-postcode", "bad-phone", "bad-email", "no-identifier",
                                       "bad-birth-date", "unknown-code-dropped"}}  # fmt: skip
        assert errors == broken, file


def test_the_warehouse_holds_no_identifier(
    sector: SectorSummary, delivered: tuple[Path, dict[str, DeliveryReport]]
) -> None:
    """A direct check on the stored values; tests/test_privacy.py scans every byte too."""
    path, _ = delivered
    db = duckdb.connect(str(path), read_only=True)
    columns = [r[0] for r in db.execute("SELECT column_name FROM information_schema.columns "
                                        "WHERE table_name = 'tickets'").fetchall()]  # fmt: skip
    assert not {"email", "phone", "postcode", "birth_date", "first_name", "last_name"} & set(
        columns
    )
    pc4 = {r[0] for r in db.execute("SELECT DISTINCT pc4 FROM tickets").fetchall()}
    assert all(p is None or (len(p) == 4 and p.isdigit()) for p in pc4)
    db.close()


def test_the_same_file_twice_adds_nothing(
    sector: SectorSummary, key: DeploymentKey, delivered: tuple[Path, dict[str, DeliveryReport]]
) -> None:
    path, _ = delivered
    export = sector.exports[0]
    with Warehouse(path, key.fingerprint) as warehouse:
        before = warehouse.scalar("SELECT count(*) FROM tickets")
        again = deliver_file(
            sector.folder / export["file"], export["institution_id"], warehouse, key
        )
        assert again.status == "already-delivered"
        assert warehouse.scalar("SELECT count(*) FROM tickets") == before


def test_a_file_of_the_same_size_is_not_taken_for_a_repeat(
    sector: SectorSummary, key: DeploymentKey, tmp_path: Path
) -> None:
    """A repeat is found by its bytes: a corrected file of the same size is delivered, and
    the record keeps each file's own SHA-256."""
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    original = sector.folder / export["file"]
    data = original.read_bytes()
    at = data.index(b";Verkocht") + 1  # one ticket's status corrected to another of 8 letters
    corrected = tmp_path / "corrected.csv"
    corrected.write_bytes(data[:at] + b"Geannul." + data[at + 8 :])
    assert corrected.stat().st_size == original.stat().st_size
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        first = deliver_file(original, export["institution_id"], warehouse, key, period="a")
        second = deliver_file(corrected, export["institution_id"], warehouse, key, period="b")
        third = deliver_file(corrected, export["institution_id"], warehouse, key, period="c")
        assert (first.status, second.status) == ("loaded", "loaded")
        assert (third.status, third.delivery_id) == ("already-delivered", second.delivery_id)
        stored = [r[0] for r in warehouse.db.execute(
            "SELECT file_sha256 FROM deliveries ORDER BY delivery_id").fetchall()]  # fmt: skip
    assert stored == [hashlib.sha256(data).hexdigest(), hashlib.sha256(corrected.read_bytes())
                      .hexdigest()]  # fmt: skip
    assert first.file["sha256"] == stored[0]


def test_a_corrected_delivery_for_the_same_period_replaces_the_earlier_one(
    sector: SectorSummary, key: DeploymentKey, tmp_path: Path
) -> None:
    export = next(e for e in sector.exports if e["layout"] == "boxoffice_en")
    original = sector.folder / export["file"]
    corrected = tmp_path / "corrected.csv"
    lines = original.read_text("utf-8").splitlines(keepends=True)
    corrected.write_text("".join(lines[:-5]), "utf-8")  # five fewer rows
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        first = deliver_file(original, "I0002", warehouse, key, period="2025-2026")
        second = deliver_file(corrected, "I0002", warehouse, key, period="2025-2026")
        assert second.replaced == first.delivery_id
        loaded = warehouse.scalar("SELECT count(*) FROM tickets")
        assert loaded == second.loaded
        statuses = {d.delivery_id: d.status for d in warehouse.deliveries()}
        assert statuses == {first.delivery_id: "replaced", second.delivery_id: "loaded"}


def test_a_warehouse_refuses_another_key(tmp_path: Path, key: DeploymentKey) -> None:
    Warehouse(tmp_path / "w.duckdb", key.fingerprint).close()
    other = DeploymentKey.generate()
    with pytest.raises(PubliekError) as caught:
        Warehouse(tmp_path / "w.duckdb", other.fingerprint)
    assert caught.value.code == "key-mismatch"


def test_linkage_finds_the_same_person_across_institutions(
    sector: SectorSummary,
    delivered: tuple[Path, dict[str, DeliveryReport]],
    truth: list[dict[str, Any]],
) -> None:
    """Pairwise precision and recall of 'same person' over the loaded rows.

    A row that carries no name and an e-mail address a household shares cannot be told
    apart from the partner's by anyone; such rows are left out of the measure (and
    counted), everything else is in.
    """
    path, reports = delivered
    db = duckdb.connect(str(path), read_only=True)
    predicted = {}
    for file, report in reports.items():
        for row, person in db.execute(
            "SELECT source_row, person_id FROM tickets WHERE delivery_id = ?", [report.delivery_id]
        ).fetchall():
            predicted[(file, row - 1)] = person
    db.close()
    persons = pq.read_table(sector.folder / "truth" / "persons.parquet").to_pylist()
    sharing = Counter(p["email_shared_with"] for p in persons)
    shared = {p["person"] for p in persons if sharing[p["email_shared_with"]] > 1}
    nameless = {e["file"] for e in sector.exports if e["layout"] == "museum_xlsx"}
    units, ambiguous = set(), 0
    for r in truth:
        person = predicted.get((r["file"], r["row"]))
        if r["status"] != "valid" or person is None:
            continue
        if r["file"] in nameless and r["person"] in shared:
            ambiguous += 1
            continue
        units.add((r["file"], r["person"], person))
    quality = pair_quality([(t, p) for _, t, p in units])
    assert ambiguous < 0.05 * len(truth)
    assert quality["precision"] >= 0.99, quality
    assert quality["recall"] >= 0.95, quality


def pair_quality(pairs: list[tuple[int, int]]) -> dict[str, float]:
    """Pairwise precision and recall from (true person, predicted person) units."""

    def pair_count(counter: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = pair_count(Counter(pairs))
    predicted = pair_count(Counter(p for _, p in pairs))
    true = pair_count(Counter(t for t, _ in pairs))
    return {"precision": both / max(predicted, 1), "recall": both / max(true, 1)}


def _with_two_lines_again(
    sector: SectorSummary,
    key: DeploymentKey,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[str, str], str],
) -> tuple[DeliveryReport, DeliveryReport]:
    """Deliver a kassa_nl export, and a copy with its third line again right after it and its
    first line again at the end (another batch), both passed through ``change``."""
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    again = [*lines[:3], change(header, lines[2]), *lines[3:], change(header, lines[0])]
    copy = folder / "again.csv"
    copy.write_text("\n".join([header, *again]) + "\n", "utf-8-sig")
    monkeypatch.setattr("publieksdata.deliver.delivery.BATCH_ROWS", 7)
    reports = []
    for path in (sector.folder / export["file"], copy):
        with Warehouse(folder / f"{path.stem}.duckdb", key.fingerprint) as warehouse:
            reports.append(deliver_file(path, export["institution_id"], warehouse, key))
    return reports[0], reports[1]


def test_a_repeated_row_is_one_duplicate_in_the_same_batch_or_another(
    sector: SectorSummary,
    key: DeploymentKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line repeated next to itself and a line repeated far away (another batch) each
    count as one duplicate; nothing else changes."""
    original, twice = _with_two_lines_again(
        sector, key, tmp_path, monkeypatch, lambda header, line: line
    )
    assert twice.received == original.received + 2
    assert twice.duplicates == original.duplicates + 2
    assert (twice.loaded, twice.rejected) == (original.loaded, original.rejected)
    assert twice.balanced()
    # the first of each pair stays, the later one is left out (rows: header 1, first line 2)
    with Warehouse(tmp_path / "again.duckdb", key.fingerprint, read_only=True) as warehouse:
        rows = {r[0] for r in warehouse.db.execute("SELECT source_row FROM tickets").fetchall()}
    assert {2, 4} <= rows
    assert not {5, twice.received + 1} & rows


def test_a_row_differing_only_in_its_genre_is_a_duplicate(
    sector: SectorSummary, key: DeploymentKey, tmp_path: Path
) -> None:
    """A production's codes are decided over the whole delivery, so a line repeated with
    another genre is the same ticket (as it is when the repeat lands in another batch)."""
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    cells = lines[2].split(";")
    genre = header.split(";").index("Genre")
    cells[genre] = "Muziekfestival" if cells[genre] == "Theaterfestival" else "Theaterfestival"
    copy = tmp_path / "again.csv"
    copy.write_text("\n".join([header, *lines[:3], ";".join(cells), *lines[3:]]) + "\n",
                    "utf-8-sig")  # fmt: skip
    reports = []
    for path in (sector.folder / export["file"], copy):
        with Warehouse(tmp_path / f"{path.stem}.duckdb", key.fingerprint) as warehouse:
            reports.append(deliver_file(path, export["institution_id"], warehouse, key))
    original, changed = reports
    assert changed.duplicates == original.duplicates + 1
    assert changed.loaded == original.loaded
    assert changed.balanced()


def test_a_row_differing_only_outside_the_hashed_fields_is_not_a_duplicate(
    sector: SectorSummary,
    key: DeploymentKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows that share order, ticket, performance, buyer and price but not their discount
    are two rows, next to each other and in different batches alike."""

    def other_discount(header: str, line: str) -> str:
        cells = line.split(";")
        cells[header.split(";").index("Kortingssoort")] = "Anders dan ooit"
        return ";".join(cells)

    original, changed = _with_two_lines_again(sector, key, tmp_path, monkeypatch, other_discount)
    assert changed.loaded == original.loaded + 2
    assert changed.duplicates == original.duplicates
    assert changed.balanced()


def _as_xls(xlsx: Path, target: Path) -> Path:
    """The workbook saved again in the Excel 97-2003 format, cell types kept."""
    xlwt = pytest.importorskip("xlwt")  # a dev dependency: always there
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(xlsx))
    cells = workbook.get_sheet_by_index(0).to_python()
    book = xlwt.Workbook()
    sheet = book.add_sheet(workbook.sheet_names[0])
    date = xlwt.easyxf(num_format_str="DD-MM-YYYY")
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date)
            elif value != "":
                sheet.write(r, c, value)
    book.save(str(target))
    return target


def test_an_export_saved_as_xls_loads_the_same_as_the_xlsx(
    sector: SectorSummary, key: DeploymentKey, tmp_path: Path
) -> None:
    export = next(e for e in sector.exports if e["layout"] == "museum_xlsx")
    xlsx = sector.folder / export["file"]
    loaded = []
    for path in (xlsx, _as_xls(xlsx, tmp_path / "export.xls")):
        with Warehouse(tmp_path / f"{path.suffix[1:]}.duckdb", key.fingerprint) as warehouse:
            report = deliver_file(path, export["institution_id"], warehouse, key)
            facts = warehouse.db.execute(
                "SELECT * EXCLUDE (delivery_id) FROM tickets ORDER BY source_row"
            ).fetchall()
        assert report.status == "loaded"
        assert report.balanced()
        loaded.append((report.profile, report.received, report.loaded, report.rejected,
                       report.problem_counts, facts))  # fmt: skip
    assert loaded[0][1] == export["rows"]
    assert loaded[1] == loaded[0]


def test_the_batch_size_does_not_change_what_is_loaded(
    sector: SectorSummary,
    key: DeploymentKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = max(sector.exports, key=lambda e: e["rows"])
    loaded = []
    for batch_rows in (200_000, 11):
        monkeypatch.setattr("publieksdata.deliver.delivery.BATCH_ROWS", batch_rows)
        path = tmp_path / f"{batch_rows}.duckdb"
        with Warehouse(path, key.fingerprint) as warehouse:
            report = deliver_file(sector.folder / export["file"], export["institution_id"],
                                  warehouse, key)  # fmt: skip
            rows = warehouse.db.execute(
                "SELECT source_row, customer_key FROM tickets ORDER BY source_row"
            ).fetchall()
        loaded.append((report.received, report.loaded, report.rejected, report.duplicates, rows))
    assert loaded[0] == loaded[1]


def test_control_characters_in_names_and_titles_are_loaded_like_any_text(
    sector: SectorSummary, key: DeploymentKey, tmp_path: Path
) -> None:
    """A unit separator (0x1F) in a title or a name is text like any other: the file loads
    as it would without it (keys used to be joined with that very character)."""
    export = next(e for e in sector.exports if e["layout"] == "kassa_nl")
    header, *lines = (sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    names = header.split(";")
    for row, column in ((0, "Voorstelling"), (1, "Achternaam"), (2, "Voornaam")):
        cells = lines[row].split(";")
        cells[names.index(column)] += "\x1fx"
        lines[row] = ";".join(cells)
    path = tmp_path / "controls.csv"
    path.write_text("\n".join([header, *lines]) + "\n", "utf-8")
    counts = []
    for file in (sector.folder / export["file"], path):
        with Warehouse(tmp_path / f"{file.stem}.duckdb", key.fingerprint) as warehouse:
            report = deliver_file(file, export["institution_id"], warehouse, key)
            counts.append((report.received, report.loaded, report.rejected, report.duplicates))
            titles = {r[0] for r in warehouse.db.execute(
                "SELECT title FROM productions").fetchall()}  # fmt: skip
    assert counts[0] == counts[1]
    assert lines[0].split(";")[names.index("Voorstelling")] in titles


_THP_SCRIPT = """
import ctypes
import sys
from pathlib import Path
from publieksdata.deliver.delivery import deliver_file
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.warehouse.store import Warehouse

def thp():
    status = Path("/proc/self/status").read_text()
    return status.split("THP_enabled:")[1].split()[0]

ctypes.CDLL(None).prctl(41, 0, 0, 0, 0)  # allowed again: a parent's choice is inherited
before = thp()
key = DeploymentKey.generate()
with Warehouse(Path(sys.argv[3]) / "w.duckdb", key.fingerprint) as warehouse:
    deliver_file(Path(sys.argv[1]), sys.argv[2], warehouse, key)
print(before, thp())
"""


def test_a_delivering_process_asks_linux_for_no_transparent_huge_pages(
    sector: SectorSummary, tmp_path: Path
) -> None:
    """A delivery frees and allocates batch-sized buffers all the time; huge pages made the
    kernel compact memory first (decision 12). The delivering process switches them off."""
    export = sector.exports[0]
    done = subprocess.run(
        [sys.executable, "-c", _THP_SCRIPT, str(sector.folder / export["file"]),
         export["institution_id"], str(tmp_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["1", "0"]
