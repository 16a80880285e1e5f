"""Production coding on arrival: codes from the export, suggestions with a confidence,
confirmations that stick, and touring productions recognised across venues."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from publieksdata.deliver.coding import confirm, load_institutions, production_key, suggest
from publieksdata.deliver.delivery import deliver_file
from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.synth.generator import SectorSummary
from publieksdata.warehouse.store import Warehouse

KEY = DeploymentKey.generate()


@pytest.mark.parametrize(
    ("title", "main", "discipline", "genre", "at_least"),
    [
        ("Bach: Symfonie nr. 5", None, "music_classical", None, 0.85),
        ("Dvořák: Requiem", "theatre", "music_classical", None, 0.85),
        ("Mozart: Vier jaargetijden", None, "music_classical", None, 0.85),
        ("Hamlet", "music_popular", "theatre", "drama", 0.85),
        ("Op hoop van zegen", None, "theatre", "drama", 0.85),
        ("Dinosaurussen", None, "museum_science", "natural_history", 0.7),
        ("Fotografie na 1945", None, "museum_art", "photography", 0.7),
        ("De Blauwe Storm", "dance", "dance", None, 0.5),
    ],
)
def test_suggestions_from_title_and_institution(
    title: str, main: str | None, discipline: str, genre: str | None, at_least: float
) -> None:
    coding = suggest(title, main)
    assert (coding.discipline, coding.genre, coding.source) == (discipline, genre, "suggested")
    assert coding.confidence >= at_least


def test_a_title_that_says_nothing_is_unknown_without_the_institution() -> None:
    assert suggest("De Blauwe Storm").source == "unknown"


def test_one_production_has_one_key_however_it_is_written() -> None:
    assert production_key("Het  HEELAL") == production_key("het heelal")
    assert production_key("Dvořák: Requiem", "Orkest Zwolle") == production_key(
        "Dvorak - Requiem", "orkest zwolle"
    )
    assert production_key("Faust", "Toneelgroep A") != production_key("Faust", "Toneelgroep B")


@pytest.fixture(scope="module")
def coded(
    sector: SectorSummary, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SectorSummary, Path]:
    path = tmp_path_factory.mktemp("w") / "w.duckdb"
    with Warehouse(path, KEY.fingerprint) as warehouse:
        load_institutions(warehouse, sector.folder / "institutions.csv")
        for export in sector.exports:
            deliver_file(sector.folder / export["file"], export["institution_id"], warehouse, KEY,
                         period="all")  # fmt: skip
    return sector, path


def test_suggested_disciplines_agree_with_the_truth(coded: tuple[SectorSummary, Path]) -> None:
    sector, path = coded
    db = duckdb.connect(str(path), read_only=True)
    suggested = db.execute(
        "SELECT institution_id, title, discipline, confidence FROM productions "
        "WHERE source = 'suggested'"
    ).fetchall()
    db.close()
    truth: dict[tuple[str, str], set[str]] = defaultdict(set)
    for v in pq.read_table(sector.folder / "truth" / "visits.parquet").to_pylist():
        truth[(v["institution_id"], v["title"])].add(v["discipline"])
    right = [d in truth[(i, t)] for i, t, d, _ in suggested]
    sure = [d in truth[(i, t)] for i, t, d, c in suggested if c >= 0.85]
    assert len(right) > 20
    assert sum(right) / len(right) >= 0.6
    assert sure
    assert sum(sure) / len(sure) >= 0.9


def test_a_confirmation_recodes_the_rows_and_survives_a_new_delivery(
    coded: tuple[SectorSummary, Path], tmp_path: Path
) -> None:
    sector, path = coded
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(path.read_bytes())
    export = next(e for e in sector.exports if e["layout"] == "boxoffice_en")
    with Warehouse(copy, KEY.fingerprint) as warehouse:
        title, producer = warehouse.db.execute(
            "SELECT title, producer FROM productions WHERE institution_id = ? LIMIT 1",
            [export["institution_id"]],
        ).fetchall()[0]
        rows = confirm(warehouse, export["institution_id"], title, "comedy", producer)
        assert rows > 0
        again = tmp_path / "again.csv"
        again.write_bytes((sector.folder / export["file"]).read_bytes() + b"\n")
        deliver_file(again, export["institution_id"], warehouse, KEY, period="all")
        genres = warehouse.db.execute(
            "SELECT DISTINCT genre, discipline FROM tickets WHERE institution_id = ? "
            "AND production_title = ?", [export["institution_id"], title],
        ).fetchall()  # fmt: skip
        assert genres == [("comedy", "theatre")]
        with pytest.raises(PubliekError) as caught:
            confirm(warehouse, export["institution_id"], title, "no-such-genre", producer)
        assert caught.value.code == "coding-unknown-genre"


def test_a_touring_production_is_one_production_across_venues(
    coded: tuple[SectorSummary, Path],
) -> None:
    sector, path = coded
    visits = pq.read_table(sector.folder / "truth" / "visits.parquet").to_pylist()
    tours: dict[int, set[str]] = defaultdict(set)
    for v in visits:
        if v["tour"] >= 0:
            tours[v["tour"]].add(v["institution_id"])
    touring = {t: inst for t, inst in tours.items() if len(inst) >= 2}
    assert touring
    db = duckdb.connect(str(path), read_only=True)
    shared = db.execute(
        "SELECT production_key, count(DISTINCT institution_id) FROM productions "
        "GROUP BY production_key HAVING count(DISTINCT institution_id) >= 2"
    ).fetchall()
    db.close()
    assert len(shared) >= len(touring) * 0.5


def test_codes_are_decided_over_the_whole_delivery_whatever_the_batches(
    sector: SectorSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are coded before they are loaded, batch by batch. A production whose batches
    disagree (its genre missing from the first part of the export, and given as two genres
    in the rest) still ends with the delivery's most frequent code on every row, whatever
    the batch size; a confirmed production keeps its confirmed code."""
    export = max((e for e in sector.exports if e["layout"] == "kassa_nl"),
                 key=lambda e: e["rows"])  # fmt: skip
    header, *lines = (sector.folder / export["file"]).read_text("utf-8-sig").splitlines()
    names = header.split(";")
    title, genre = names.index("Voorstelling"), names.index("Genre")
    cells = [line.split(";") for line in lines]
    busiest = Counter(c[title] for c in cells).most_common(1)[0][0]
    for c in cells[: len(cells) // 2]:
        if c[title] == busiest:
            c[genre] = ""
    path = tmp_path / "export.csv"
    path.write_text("\n".join([header, *(";".join(c) for c in cells)]) + "\n", "utf-8")
    institution = export["institution_id"]
    found = []
    for batch_rows in (200_000, 300):
        monkeypatch.setattr("publieksdata.deliver.delivery.BATCH_ROWS", batch_rows)
        with Warehouse(tmp_path / f"{batch_rows}.duckdb", KEY.fingerprint) as warehouse:
            deliver_file(path, institution, warehouse, KEY)
            confirmed = warehouse.scalar(
                "SELECT production_title FROM tickets WHERE production_title <> ? "
                "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1", [busiest],
            )  # fmt: skip
            confirm(warehouse, institution, confirmed, "comedy")
            again = tmp_path / "again.csv"
            again.write_bytes(path.read_bytes() + b"\n")
            deliver_file(again, institution, warehouse, KEY, period="again")
            for delivery in (1, 2):
                codes = warehouse.db.execute(
                    "SELECT DISTINCT discipline, genre FROM tickets "
                    "WHERE production_title = ? AND delivery_id = ?", [busiest, delivery],
                ).fetchall()  # fmt: skip
                assert len(codes) == 1
                assert codes[0][1] is not None  # the export's code, not a suggestion
            assert warehouse.db.execute(
                "SELECT DISTINCT genre FROM tickets WHERE production_title = ? AND "
                "delivery_id = 2", [confirmed],
            ).fetchall() == [("comedy",)]  # fmt: skip
            found.append(warehouse.db.execute(
                "SELECT delivery_id, source_row, discipline, genre FROM tickets ORDER BY ALL"
            ).fetchall())  # fmt: skip
            found.append(warehouse.db.execute("SELECT * FROM productions ORDER BY ALL").fetchall())
    assert found[0] == found[2]
    assert found[1] == found[3]
