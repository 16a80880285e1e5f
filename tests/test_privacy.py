"""G1 and G2 through the real command line: canary identifiers planted in deliveries (valid
rows, rejected rows, broken files, XLSX and XLS workbooks) never reach any file the platform
writes, and the key never reaches the data. (The dictionary attack on pseudonyms is in
tests/pseudonymise/test_pseudonyms.py.)"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from publieksdata.deliver.delivery import _Pseudonyms
from publieksdata.deliver.layouts import LAYOUTS
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.synth.generator import SectorSummary
from publieksdata.xlsx import write_xlsx

CANARY = {
    "E-mailadres": "Kanarie.Piet@Voorbeeld-Canary.nl",
    "Telefoonnummer": "06-13579246",
    "Voornaam": "Kanariepiet",
    "Achternaam": "Canarywinkel",
    "Straat": "Kanarievogelstraat",
    "Postcode": "9999 ZZ",
    "Geboortedatum": "01-02-1933",
    "Klantnummer": "CANARY4242",
}
# Every form in which a canary could be written: as delivered, normalised, folded.
FORMS = {
    *CANARY.values(),
    "kanarie.piet@voorbeeld-canary.nl", "KANARIE.PIET@VOORBEELD-CANARY.NL", "voorbeeld-canary",
    "+31613579246", "31613579246", "0613579246", "13579246",
    "kanariepiet", "KANARIEPIET", "canarywinkel", "CANARYWINKEL", "kanarievogelstraat",
    "9999ZZ", "9999zz", "9999 zz", "1933-02-01", "01-02-1933", "01/02/1933", "canary4242",
}  # fmt: skip


def run(*args: str, env: dict[str, str], log: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "publieksdata", *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    with log.open("a", encoding="utf-8") as out:
        out.write(result.stdout + result.stderr)
    return result


def with_canaries(source: Path, target: Path, *, break_row: bool) -> None:
    """A kassa_nl export with the canary customer in its first data rows."""
    text = source.read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    for row in rows[1:4]:
        for column, value in CANARY.items():
            row[header.index(column)] = value
    if break_row:
        rows[1][header.index("Prijs")] = "gratis?"  # the canary row is rejected
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    target.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def every_string_in(warehouse: Path) -> str:
    """All text values of all tables, as DuckDB may store strings compressed on disk."""
    db = duckdb.connect(str(warehouse), read_only=True)
    found = []
    for table, column in db.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON')"
    ).fetchall():
        found += [
            str(v) for (v,) in db.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
        ]
    db.close()
    return "\n".join(found)


@pytest.fixture(scope="module")
def platform(tiny: SectorSummary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deliver canary files of every kind through the CLI; return the platform's folder."""
    inputs = tmp_path_factory.mktemp("inputs")
    sector = tiny
    kassa = next(sector.folder / e["file"] for e in sector.exports if e["layout"] == "kassa_nl")
    with_canaries(kassa, inputs / "valid.csv", break_row=False)
    with_canaries(kassa, inputs / "rejected.csv", break_row=True)
    ragged = "Ordernummer;E-mailadres;Telefoonnummer\r\n1;" + ";".join(CANARY.values()) + "\r\n"
    (inputs / "ragged.csv").write_text(ragged, "utf-8")
    (inputs / "unreadable.csv").write_bytes(b"%PDF-1.4\n" + json.dumps(CANARY).encode())
    (inputs / "unmapped.csv").write_text(
        "kolom1;kolom2\r\n" + ";".join(list(CANARY.values())[:2]) + "\r\n"
    )
    layout = LAYOUTS["museum_xlsx"]
    cells = ["T1", "2025-10-04", "10:00", "Expo", "Volwassene", "1", "12.5",
             CANARY["E-mailadres"], CANARY["Postcode"], "ja", "Online", "Betaald"]  # fmt: skip
    columns = [pa.array([cell]) for cell in cells]
    write_xlsx(inputs / "museum.xlsx", "Blad1", layout.headers, columns,
               ["text"] * len(layout.headers))  # fmt: skip
    xlwt = pytest.importorskip("xlwt")  # a dev dependency: always there
    book = xlwt.Workbook()
    sheet = book.add_sheet("Blad1")
    for row, values in enumerate((layout.headers, cells)):
        for column, value in enumerate(values):
            sheet.write(row, column, value)
    book.save(str(inputs / "museum.xls"))
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an XLS file's first bytes, then canaries
    (inputs / "broken.xls").write_bytes(ole + json.dumps(CANARY).encode() * 20)

    home = tmp_path_factory.mktemp("platform")
    (home / "tmp").mkdir()
    log = home / "cli.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TMPDIR": str(home / "tmp"),
        "PUBLIEKSDATA_DATA": str(home / "data"),
        "PUBLIEKSDATA_KEY_FILE": str(home / "keys" / "publieksdata.key"),
        "COLUMNS": "200",
    }
    (home / "keys").mkdir()
    assert run("key", "init", env=env, log=log).returncode == 0
    for name, institution in (("valid.csv", "I0001"), ("rejected.csv", "I0002"),
                              ("museum.xlsx", "I0003"), ("museum.xls", "I0005")):  # fmt: skip
        result = run("deliver", str(inputs / name), "--institution", institution, env=env, log=log)
        assert result.returncode == 0, result.stderr
        run("--lang", "en", "deliver", str(inputs / name), "--institution", institution, "--json",
            env=env, log=log)  # fmt: skip
    for name in ("ragged.csv", "unreadable.csv", "unmapped.csv", "broken.xls"):
        result = run("deliver", str(inputs / name), "--institution", "I0004", env=env, log=log)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
    run("--debug", "deliver", str(inputs / "unmapped.csv"), "--institution", "I0004", env=env,
        log=home / "debug.log")  # fmt: skip
    assert run("deliveries", env=env, log=log).returncode == 0
    return home


def test_the_canary_deliveries_were_loaded(platform: Path) -> None:
    db = duckdb.connect(str(platform / "data" / "warehouse.duckdb"), read_only=True)
    assert db.execute("SELECT count(*) FROM deliveries").fetchall()[0][0] == 4
    db.close()


def test_no_canary_in_any_file_the_platform_wrote(platform: Path) -> None:
    written = [p for p in platform.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in written)
    assert "ontvangen" in (platform / "cli.log").read_text()  # the reports are in the scan
    hits = []
    for path in written:
        data = path.read_bytes()
        for form in FORMS:
            for variant in {form, form.lower(), form.upper()}:
                if variant.encode("utf-8") in data or variant.encode("utf-16-le") in data:
                    hits.append((path.name, variant))
    assert hits == []


def test_no_canary_in_any_value_of_the_warehouse(platform: Path) -> None:
    text = every_string_in(platform / "data" / "warehouse.duckdb").casefold()
    assert "kanarie" not in text
    assert "canary" not in text
    assert [f for f in FORMS if f.casefold() in text] == []


def test_the_key_file_is_private_and_outside_the_data_folder(platform: Path) -> None:
    key_file = platform / "keys" / "publieksdata.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    lines = key_file.read_text().splitlines()
    secret = next(line.split()[1] for line in lines if line.startswith("key "))
    assert len(secret) == 44  # 32 bytes in base64
    for path in (platform / "data").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()
    assert secret not in (platform / "cli.log").read_text()


def test_identifiers_are_hashed_by_a_duckdb_that_cannot_spill_to_disk() -> None:
    """The in-memory DuckDB that computes digests of normalised identifiers has no temporary
    directory, so under memory pressure it fails instead of writing them to a file (G1)."""
    pseudonyms = _Pseudonyms(DeploymentKey.generate(), "I0001")
    db = pseudonyms._db.cursor()
    assert db.execute("SELECT current_setting('temp_directory')").fetchall() == [("",)]
    db.execute("SET memory_limit = '20MB'")
    with pytest.raises(duckdb.OutOfMemoryException):
        db.execute("SELECT md5(i::VARCHAR) AS s FROM range(2000000) t(i) ORDER BY s").fetchall()
