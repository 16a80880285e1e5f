"""The reading layer: any export file in, batches of string columns out, clear errors.

Every synthetic layout is read back exactly; then the mess of real files: encodings,
delimiters, quotes, ragged rows, compression, workbooks, damaged and foreign files. A
property test feeds arbitrary and near-valid bytes: reading yields batches or raises a
PubliekError, nothing else.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import random
import re
import string
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publieksdata.deliver import readers
from publieksdata.deliver.layouts import LAYOUTS
from publieksdata.deliver.readers import (
    ERRORS,
    ROW_COLUMN,
    BadRow,
    ExportReader,
    cell_text,
    column_names,
    open_export,
)
from publieksdata.errors import PubliekError
from publieksdata.synth.generator import SectorSummary
from publieksdata.xlsx import write_xlsx

CANARY = "canary.jansen@example.nl"  # planted in files; must never reach a message

# ---------------------------------------------------------------------------------------
# Helpers.


def read(path: Path, rows: int = 100_000) -> tuple[ExportReader, pa.Table]:
    """Open and read everything; the table has the reader's schema even when empty."""
    with open_export(path) as reader:
        batches = list(reader.batches(rows))
        for batch in batches:
            assert batch.schema == reader.schema
            assert 0 < batch.num_rows <= rows
        return reader, pa.Table.from_batches(batches, schema=reader.schema)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def error_of(path: Path) -> PubliekError:
    with pytest.raises(PubliekError) as caught:
        read(path)
    return caught.value


def rows_of(table: pa.Table) -> list[list[str | None]]:
    """The data cells row by row, without __row__."""
    return [list(r.values())[:-1] for r in table.to_pylist()]


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


END = "</table:table-cell>"


def ods(rows: list[list[tuple[str, str]]]) -> bytes:
    """A minimal OpenDocument spreadsheet: cells as (value type, value)."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )

    def cell(kind: str, value: str) -> str:
        if kind == "empty":
            return "<table:table-cell/>"
        if kind == "string":
            return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>{END}'
        attribute = "office:date-value" if kind == "date" else "office:value"
        return (
            f'<table:table-cell office:value-type="{kind}" {attribute}="{value}">'
            f"<text:p>{value}</text:p>{END}"
        )

    body = "".join(
        "<table:table-row>" + "".join(cell(*c) for c in row) + "</table:table-row>" for row in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Blad1">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Every synthetic layout.


@pytest.fixture(scope="session")
def manifest(sector: SectorSummary) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((sector.folder / "sector.json").read_text("utf-8"))
    return data


def exports_of(manifest: dict[str, Any], layout: str) -> list[dict[str, Any]]:
    found = [e for e in manifest["exports"] if e["layout"] == layout]
    assert found, f"the tiny sector has no {layout} export"
    return found


def expected_encoding(path: Path, declared: str) -> set[str]:
    # A Windows-1252 file without accented letters is ASCII, which is UTF-8 as well.
    return {declared, "utf-8"} if path.read_bytes().isascii() else {declared}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_reads_with_its_format_encoding_delimiter_and_rows(
    sector: SectorSummary, manifest: dict[str, Any], layout: str
) -> None:
    spec = LAYOUTS[layout]
    for entry in exports_of(manifest, layout):
        path = sector.folder / entry["file"]
        reader, table = read(path, rows=1_000)
        facts = reader.facts
        assert facts.format == spec.file_format
        assert facts.compression is None
        assert list(facts.headers) == spec.headers
        assert list(reader.columns) == spec.headers
        assert table.num_rows == entry["rows"]
        assert table.column(ROW_COLUMN).to_pylist() == list(range(2, entry["rows"] + 2))
        assert reader.bad_rows == []
        assert facts.size_bytes == path.stat().st_size
        if spec.file_format == "csv":
            assert facts.encoding in expected_encoding(path, entry["encoding"])
            assert facts.delimiter == spec.delimiter
        else:
            assert facts.encoding is None
            assert facts.delimiter is None


@pytest.mark.parametrize(
    "layout", [n for n, s in sorted(LAYOUTS.items()) if s.file_format == "csv"]
)
def test_csv_cells_equal_the_standard_librarys_reading(
    sector: SectorSummary, manifest: dict[str, Any], layout: str
) -> None:
    entry = exports_of(manifest, layout)[0]
    path = sector.folder / entry["file"]
    with path.open(encoding=entry["encoding"], newline="") as handle:
        _, *expected = list(csv.reader(handle, delimiter=entry["delimiter"]))
    _, table = read(path)
    assert rows_of(table) == [[c or None for c in row] for row in expected]


def test_workbook_cells_read_as_the_box_office_sees_them(
    sector: SectorSummary, manifest: dict[str, Any]
) -> None:
    entry = exports_of(manifest, "museum_xlsx")[0]
    _, table = read(sector.folder / entry["file"])
    visits = [v for v in table.column("Datum bezoek").to_pylist() if v is not None]
    iso = [v for v in visits if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)]
    assert len(iso) > 0.95 * len(visits)  # real Excel dates; broken ones stay text
    assert all(dt.date.fromisoformat(v) for v in iso)
    counts = set(table.column("Aantal").to_pylist())
    assert "1" in counts
    assert not any(c.endswith(".0") for c in counts if c is not None)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_gzip_and_zip_copies_give_identical_batches(
    sector: SectorSummary, manifest: dict[str, Any], layout: str, tmp_path: Path
) -> None:
    path = sector.folder / exports_of(manifest, layout)[0]["file"]
    plain, expected = read(path, rows=500)
    data = path.read_bytes()
    copies = {
        "gzip": write(tmp_path, path.name + ".gz", gzip.compress(data)),
        "zip": write(tmp_path, path.stem + ".zip", zipped({f"export/{path.name}": data})),
    }
    for compression, copy in copies.items():
        reader, table = read(copy, rows=500)
        assert reader.facts.compression == compression
        assert reader.facts.format == plain.facts.format
        assert reader.facts.encoding == plain.facts.encoding
        assert reader.facts.delimiter == plain.facts.delimiter
        assert reader.facts.headers == plain.facts.headers
        assert table.equals(expected)
    assert read(copies["zip"])[0].facts.member == f"export/{path.name}"


# ---------------------------------------------------------------------------------------
# Encodings.

TEXT = "Naam;Plaats;Prijs\nCafé Zoë;Enschede;12,50\nRené;Één;3\n"


@pytest.mark.parametrize(
    ("text", "encoding", "detected"),
    [
        (TEXT, "utf-8", "utf-8"),
        (TEXT, "utf-8-sig", "utf-8-sig"),
        (TEXT, "latin-1", "cp1252"),  # Latin-1 letters are the same bytes in Windows-1252
        (TEXT.replace("12,50", "€ 12,50"), "cp1252", "cp1252"),
        (TEXT.replace("12,50", "„€ 12,50”"), "cp1252", "cp1252"),
        (TEXT.replace(";", "\t"), "utf-16", "utf-16"),  # Excel's "Unicode text"
        (TEXT.replace(";", "\t"), "utf-16-le", "utf-16-le"),  # the same without BOM
        # 0x81 is a control character in Latin-1 and undefined in Windows-1252.
        ((TEXT + "Jansen;Utrecht;1\n" * 10).replace("René", "Ren\x81"), "latin-1", "latin-1"),
        ("Naam;Plaats\nJansen;Utrecht\n", "ascii", "utf-8"),
    ],
)
def test_encoding_is_detected_and_text_decoded(
    tmp_path: Path, text: str, encoding: str, detected: str
) -> None:
    path = write(tmp_path, "export.csv", text.encode(encoding))
    reader, table = read(path)
    assert reader.facts.encoding == detected
    expected = [line.split(reader.facts.delimiter) for line in text.splitlines()[1:]]
    assert rows_of(table) == expected


def test_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufeff Ordernummer ;Naam\n1;Jansen\n".encode())
    reader, table = read(path)
    assert reader.facts.headers == ("Ordernummer", "Naam")
    assert table.column_names == ["Ordernummer", "Naam", ROW_COLUMN]


def test_windows_1252_far_beyond_the_sample_is_found(tmp_path: Path) -> None:
    filler = "Jansen;Utrecht\n" * (3 * readers.SAMPLE_BYTES // 15)
    text = "Naam;Plaats\n" + filler + "Café;Zoë €\n"
    reader, table = read(write(tmp_path, "late.csv", text.encode("cp1252")))
    assert reader.facts.encoding == "cp1252"
    assert rows_of(table)[-1] == ["Café", "Zoë €"]


@pytest.mark.parametrize("character", ["é", "€", "😀"])
def test_a_character_cut_by_the_sample_end_is_still_utf8(tmp_path: Path, character: str) -> None:
    head = "Naam;Plaats\n"
    line = "Jansen;Utrecht\n"
    filler = line * ((readers.SAMPLE_BYTES - len(head)) // len(line))
    pad = "x" * (readers.SAMPLE_BYTES - len(head) - len(filler) - 2)  # the ";" ends at -1
    text = head + filler + pad + ";" + character + "\n" + line
    data = text.encode()
    assert not _decodes_alone(data[: readers.SAMPLE_BYTES])  # the cut is in the character
    reader, table = read(write(tmp_path, "cut.csv", data))
    assert reader.facts.encoding == "utf-8"
    assert rows_of(table)[-2] == [pad, character]


def _decodes_alone(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_utf8_then_windows_1252_is_a_mixed_file(tmp_path: Path) -> None:
    filler = ("Jansen;Utrecht\n" * (2 * readers.SAMPLE_BYTES // 15)).encode()
    data = "Naam;Plaats\nRené;Zoë\n".encode() + filler + "Café;Zoë\n".encode("cp1252")
    assert error_of(write(tmp_path, "mixed.csv", data)).code == "encoding-invalid"


def test_a_wrong_byte_beyond_the_probe_stops_the_stream_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "UTF8_PROBE_BYTES", readers.SAMPLE_BYTES)
    filler = ("Jansen;Utrecht\n" * (3 * readers.SAMPLE_BYTES // 15)).encode()
    path = write(tmp_path, "late.csv", b"Naam;Plaats\n" + filler + "Café;Zoë\n".encode("cp1252"))
    with open_export(path) as reader:
        assert reader.facts.encoding == "utf-8"
        with pytest.raises(PubliekError) as caught:
            list(reader.batches())
    assert caught.value.code == "encoding-invalid"


# ---------------------------------------------------------------------------------------
# Delimiters, quotes, row numbers.


@pytest.mark.parametrize(
    ("text", "delimiter", "expected"),
    [
        ("a;b;c\n1;€ 12,50;x\n2;€ 3,00;y\n", ";", [["1", "€ 12,50", "x"], ["2", "€ 3,00", "y"]]),
        ('a,b,c\n1,"x;y",z\n2,"p,q",r\n', ",", [["1", "x;y", "z"], ["2", "p,q", "r"]]),
        ("a\tb\n1,5\t2;3\n", "\t", [["1,5", "2;3"]]),
        ("a|b\n1|2\n3|4\n", "|", [["1", "2"], ["3", "4"]]),
        ('a;b\n"1;2";"3,4"\n', ";", [["1;2", "3,4"]]),
        ("Email\njan@example.nl\n", ",", [["jan@example.nl"]]),  # one column
        ("sep=|\na|b\n1|2\n", "|", [["1", "2"]]),  # Excel's delimiter line
        ("a;b\r\n1;2\r\n", ";", [["1", "2"]]),
        ("a;b\r1;2\r", ";", [["1", "2"]]),  # old Mac line ends
        ('a;b\n"say ""hi""";2\n', ";", [['say "hi"', "2"]]),
        ("a;b\n;2\n3;\n", ";", [[None, "2"], ["3", None]]),  # empty cells are null
        ('a;b\n"";2\n', ";", [[None, "2"]]),
    ],
)
def test_delimiter_and_quotes(
    tmp_path: Path, text: str, delimiter: str, expected: list[Any]
) -> None:
    reader, table = read(write(tmp_path, "export.csv", text.encode()))
    assert reader.facts.delimiter == delimiter
    assert rows_of(table) == expected


def test_quoted_newlines_ragged_and_blank_rows_keep_spreadsheet_row_numbers(
    tmp_path: Path,
) -> None:
    text = (
        "a;b;c\r\n"  # row 1
        '1;"x\r\ny";3\r\n'  # row 2, two lines
        "4;5\r\n"  # row 3: too few
        "\r\n"  # row 4: blank
        "6;7;8;9\r\n"  # row 5: too many
        '"q;q";"r\nr\nr";z\r\n'  # row 6, three lines
        "10;11;12\r\n"  # row 7
    )
    reader, table = read(write(tmp_path, "quoted.csv", text.encode()), rows=2)
    assert table.column(ROW_COLUMN).to_pylist() == [2, 6, 7]
    assert rows_of(table) == [["1", "x\r\ny", "3"], ["q;q", "r\nr\nr", "z"], ["10", "11", "12"]]
    assert reader.bad_rows == [
        BadRow(3, "row-too-few-columns", 2),
        BadRow(5, "row-too-many-columns", 4),
    ]
    assert reader.bad_row_count == 2
    assert reader.blank_rows == 1


@pytest.mark.parametrize(
    ("text", "rows", "bad"),
    [
        ("\n\na;b\n1;2\n3\n4;5\n", [4, 6], [5]),  # blank lines above the header are rows
        ("sep=;\na;b\n1;2\n3\n4;5\n", [2, 4], [3]),  # the sep line is not
        ("a;b\n1\n2\n3;4\n", [4], [2, 3]),
        ("a;b\n1;2;3;4\n", [], [2]),
    ],
)
def test_row_numbers_around_skipped_lines(
    tmp_path: Path, text: str, rows: list[int], bad: list[int]
) -> None:
    reader, table = read(write(tmp_path, "rows.csv", text.encode()))
    assert table.column(ROW_COLUMN).to_pylist() == rows
    assert [b.row for b in reader.bad_rows] == bad


def test_row_numbers_stay_right_across_many_blocks(tmp_path: Path) -> None:
    """Multi-line values and ragged rows spread over several of Arrow's blocks."""
    rng = random.Random(7)
    lines, good, bad = ["id;note;city"], [], []
    for number in range(2, 60_000):
        kind = rng.random()
        if kind < 0.01:
            lines.append(f"{number};too;many;fields")
            bad.append(number)
        elif kind < 0.02:
            lines.append(f"{number};few")
            bad.append(number)
        elif kind < 0.1:
            lines.append(f'{number};"line one\nline; two\r\nthree";Utrecht')
            good.append(number)
        else:
            lines.append(f"{number};{'x' * rng.randint(0, 80)};Zwolle")
            good.append(number)
    path = write(tmp_path, "blocks.csv", ("\n".join(lines) + "\n").encode())
    assert path.stat().st_size > 2 * readers.BLOCK_BYTES
    reader, table = read(path, rows=7_000)
    assert table.column(ROW_COLUMN).to_pylist() == good
    assert table.column("id").to_pylist() == [str(n) for n in good]
    assert [b.row for b in reader.bad_rows] == bad


def test_reading_twice_gives_the_same_batches(tmp_path: Path) -> None:
    path = write(tmp_path, "twice.csv", b"a;b\n1;2\n3\n4;5\n")
    with open_export(path) as reader:
        first = pa.Table.from_batches(list(reader.batches()))
        second = pa.Table.from_batches(list(reader.batches()))
        assert first.equals(second)
        assert len(reader.bad_rows) == 1


def test_bad_rows_are_counted_beyond_the_kept_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_BAD_ROWS", 3)
    reader, table = read(write(tmp_path, "bad.csv", b"a;b\n" + b"1\n" * 10 + b"1;2\n"))
    assert len(reader.bad_rows) == 3
    assert reader.bad_row_count == 10
    assert table.column(ROW_COLUMN).to_pylist() == [12]


# ---------------------------------------------------------------------------------------
# Headers.


@pytest.mark.parametrize(
    ("headers", "names"),
    [
        (("Naam", "Naam", "Naam"), ("Naam", "Naam (2)", "Naam (3)")),
        (("a", "", "b", ""), ("a", "(kolom B)", "b", "(kolom D)")),
        (("Naam", "Naam (2)", "Naam"), ("Naam", "Naam (2)", "Naam (3)")),
        (("__row__",), ("__row__ (2)",)),
    ],
)
def test_column_names_are_unique(headers: tuple[str, ...], names: tuple[str, ...]) -> None:
    assert column_names(headers) == names


def test_duplicate_and_empty_headers_in_a_file(tmp_path: Path) -> None:
    reader, table = read(write(tmp_path, "dup.csv", b" Naam ;Naam;;x\n1;2;3;4\n"))
    assert reader.facts.headers == ("Naam", "Naam", "", "x")
    assert table.column_names == ["Naam", "Naam (2)", "(kolom C)", "x", ROW_COLUMN]


# ---------------------------------------------------------------------------------------
# Workbooks.


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    path = tmp_path / "museum.xlsx"
    columns = [
        pa.array(["T1", "T2", "T3"]),
        pa.array(["23-11-2026", "", "01-01-2027"]),
        pa.array(["2", "12.5", "0"]),
        pa.array(["a", "", CANARY]),
    ]
    write_xlsx(path, "Blad1", ["Transactie", "Datum", "Bedrag", "E-mail"], columns,
               ["text", "date", "money", "text"], "%d-%m-%Y")  # fmt: skip
    reader, table = read(path)
    assert reader.facts.format == "xlsx"
    assert reader.facts.sheet == "Blad1"
    assert rows_of(table) == [
        ["T1", "2026-11-23", "2", "a"],
        ["T2", None, "12.5", None],
        ["T3", "2027-01-01", "0", CANARY],
    ]
    assert table.column(ROW_COLUMN).to_pylist() == [2, 3, 4]


def test_xlsx_types_sheets_and_row_numbers(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")  # a dev dependency: always there
    path = tmp_path / "types.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Leeg")  # an empty first sheet is passed over
    hidden = book.add_worksheet("Verborgen")
    hidden.write_row(0, 0, ["verborgen", "blad"])
    hidden.hide()
    sheet = book.add_worksheet("Export")
    date = book.add_format({"num_format": "dd-mm-yyyy"})
    moment = book.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    sheet.write_row(2, 1, ["Datum", "Moment", "Bedrag", "Ja", "Naam", "Naam"])  # header in B3
    sheet.write_datetime(3, 1, dt.datetime(2026, 11, 23), date)
    sheet.write_datetime(3, 2, dt.datetime(2026, 11, 23, 20, 15), moment)
    sheet.write_number(3, 3, 0.1 + 0.2)
    sheet.write_boolean(3, 4, True)
    sheet.write_string(3, 5, "Jansen")
    sheet.write_number(5, 3, 2.0)  # row 6, after a blank row 5
    sheet.write_number(6, 3, 1e20)
    book.close()
    reader, table = read(path)
    assert reader.facts.sheet == "Export"
    assert reader.facts.headers == ("Datum", "Moment", "Bedrag", "Ja", "Naam", "Naam")
    assert table.column_names[:-1] == ["Datum", "Moment", "Bedrag", "Ja", "Naam", "Naam (2)"]
    assert rows_of(table) == [
        ["2026-11-23", "2026-11-23T20:15:00", "0.3", "TRUE", "Jansen", None],
        [None, None, "2", None, None, None],
        [None, None, "1e+20", None, None, None],  # beyond 2**53 the digits are noise
    ]
    assert table.column(ROW_COLUMN).to_pylist() == [4, 6, 7]
    assert reader.blank_rows == 1


def test_ods_cells_become_text(tmp_path: Path) -> None:
    rows = [
        [("string", "Datum"), ("string", "Aantal"), ("string", "Bedrag"), ("string", "Naam")],
        [("date", "2026-11-23"), ("float", "2"), ("float", "12.5"), ("string", "Jansen")],
        [("date", "2026-11-24"), ("float", "1"), ("empty", ""), ("string", "Visser")],
    ]
    reader, table = read(write(tmp_path, "export.ods", ods(rows)))
    assert reader.facts.format == "ods"
    assert rows_of(table) == [
        ["2026-11-23", "2", "12.5", "Jansen"],
        ["2026-11-24", "1", None, "Visser"],
    ]
    assert table.column(ROW_COLUMN).to_pylist() == [2, 3]
    _, lower = read(write(tmp_path, "lower.ods", ods([[("empty", "")]] * 2 + rows)))
    assert lower.column(ROW_COLUMN).to_pylist() == [4, 5]  # the header is in row 3
    gz, gz_table = read(write(tmp_path, "export.ods.gz", gzip.compress(ods(rows))))
    assert (gz.facts.format, gz.facts.compression) == ("ods", "gzip")
    assert gz_table.equals(table)


def test_xls_types_sheets_and_row_numbers(tmp_path: Path) -> None:
    """The binary Excel 97-2003 format, as older box-office systems still write it."""
    xlwt = pytest.importorskip("xlwt")  # a dev dependency: always there
    book = xlwt.Workbook()
    book.add_sheet("Leeg")  # an empty first sheet is passed over
    hidden = book.add_sheet("Verborgen")
    hidden.write(0, 0, "verborgen")
    hidden.visibility = 1
    sheet = book.add_sheet("Export")
    date = xlwt.easyxf(num_format_str="DD-MM-YYYY")
    moment = xlwt.easyxf(num_format_str="DD-MM-YYYY HH:MM")
    for column, header in enumerate(["Datum", "Moment", "Bedrag", "Ja", "Naam", "Naam"], 1):
        sheet.write(2, column, header)  # header in B3
    sheet.write(3, 1, dt.datetime(2026, 11, 23), date)
    sheet.write(3, 2, dt.datetime(2026, 11, 23, 20, 15), moment)
    sheet.write(3, 3, 0.1 + 0.2)
    sheet.write(3, 4, True)
    sheet.write(3, 5, "Jansen")
    sheet.write(3, 6, "Łukasz")  # beyond Latin-1: stored as UTF-16
    sheet.write(5, 3, 2.0)  # row 6, after a blank row 5
    sheet.write(6, 3, 1e20)
    path = tmp_path / "types.xls"
    book.save(str(path))
    reader, table = read(path)
    assert (reader.facts.format, reader.facts.sheet) == ("xls", "Export")
    assert table.column_names[:-1] == ["Datum", "Moment", "Bedrag", "Ja", "Naam", "Naam (2)"]
    assert rows_of(table) == [
        ["2026-11-23", "2026-11-23T20:15:00", "0.3", "TRUE", "Jansen", "Łukasz"],
        [None, None, "2", None, None, None],
        [None, None, "1e+20", None, None, None],
    ]
    assert table.column(ROW_COLUMN).to_pylist() == [4, 6, 7]
    assert reader.blank_rows == 1
    gz, gz_table = read(write(tmp_path, "types.xls.gz", gzip.compress(path.read_bytes())))
    assert (gz.facts.format, gz.facts.compression) == ("xls", "gzip")
    assert gz_table.equals(table)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("", None),
        (None, None),
        ("Jansen", "Jansen"),
        (2.0, "2"),
        (-3.0, "-3"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333333"),
        (7, "7"),
        (True, "TRUE"),
        (dt.date(2026, 11, 23), "2026-11-23"),
        (dt.datetime(2026, 11, 23, 20, 15), "2026-11-23T20:15:00"),
        (dt.datetime(2026, 11, 23, 20, 15, 0, 500_000), "2026-11-23T20:15:00.500000"),
        (dt.time(20, 15), "20:15:00"),
        (dt.timedelta(hours=1, minutes=30), "1:30:00"),
    ],
)
def test_cell_text(value: object, text: str | None) -> None:
    assert cell_text(value) == text


# ---------------------------------------------------------------------------------------
# Zip archives.


def test_zip_with_one_export_among_junk(tmp_path: Path) -> None:
    data = zipped(
        {
            "__MACOSX/._export.csv": b"\x00\x05junk",
            ".DS_Store": b"\x00\x00junk",
            "leesmij.pdf": b"%PDF-1.4",
            "map/export.csv": b"a;b\n1;2\n",
        }
    )
    reader, table = read(write(tmp_path, "levering.zip", data))
    assert (reader.facts.compression, reader.facts.member) == ("zip", "map/export.csv")
    assert rows_of(table) == [["1", "2"]]


def test_zip_with_a_workbook(tmp_path: Path, sector: SectorSummary, manifest: Any) -> None:
    path = sector.folder / exports_of(manifest, "museum_xlsx")[0]["file"]
    reader, table = read(write(tmp_path, "w.zip", zipped({"export.xlsx": path.read_bytes()})))
    assert (reader.facts.format, reader.facts.compression) == ("xlsx", "zip")
    assert table.equals(read(path)[1])


@pytest.mark.parametrize(
    ("members", "code", "count"),
    [
        ({}, "zip-no-file", "0"),
        ({"leesmij.pdf": b"%PDF"}, "zip-no-file", "0"),
        ({"a.csv": b"a\n1\n", "b.xlsx": b"PK"}, "zip-several-files", "2"),
        ({"a.csv": b"a\n", "b.csv": b"b\n", "c.txt": b"c\n"}, "zip-several-files", "3"),
    ],
)
def test_zip_without_exactly_one_export(
    tmp_path: Path, members: dict[str, bytes], code: str, count: str
) -> None:
    error = error_of(write(tmp_path, "levering.zip", zipped(members)))
    assert error.code == code
    assert count in error.message("nl")
    assert count in error.message("en")


def test_encrypted_zip_member(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export.csv", b"a;b\n1;2\n")
    data = bytearray(buffer.getvalue())
    data[6] |= 1  # the "encrypted" flag in the local header ...
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1  # ... and in the central directory
    assert error_of(write(tmp_path, "geheim.zip", bytes(data))).code == "file-encrypted"


# ---------------------------------------------------------------------------------------
# Errors: a stable code, Dutch and English, the file name, never a cell value.

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
GZIP_TEXT = "".join(["a;b\n", *(f"{n * 7919 % 10007};{CANARY}\n" for n in range(5000))]).encode()
DOCX = zipped({"[Content_Types].xml": b"", "word/document.xml": b""})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text"})
BROKEN_XLSX = zipped({"[Content_Types].xml": b"<x", "xl/workbook.xml": b"<"})
ENCRYPTED = OLE + bytes(1000) + "EncryptedPackage".encode("utf-16-le") + bytes(500)
ERROR_CASES: list[tuple[str, bytes, str]] = [
    ("leeg.csv", b"", "file-empty"),
    ("witregels.csv", b"\r\n\n  \n", "file-empty"),
    ("geen-kop.csv", f"100030;28-04-2022;{CANARY};12,50\n".encode(), "header-missing"),
    ("getallen.csv", b"1;2;3\n4;5;6\n", "header-missing"),
    ("lege-kop.csv", f";;\n1;{CANARY};3\n".encode(), "header-empty"),
    ("rapport.pdf", b"%PDF-1.7\n" + CANARY.encode(), "format-unsupported"),
    ("logo.csv", b"\x89PNG\r\n\x1a\n" + bytes(100), "format-unsupported"),
    ("export.xls", f"<html><table><td>{CANARY}</td></table></html>".encode(), "format-unsupported"),
    ("export.json", f'[{{"email": "{CANARY}"}}]'.encode(), "format-unsupported"),
    ("brief.docx", DOCX, "format-unsupported"),
    ("brief.odt", ODT, "format-unsupported"),
    ("kapot.xlsx", BROKEN_XLSX, "spreadsheet-unreadable"),
    ("kapot.xls", OLE + bytes(600), "spreadsheet-unreadable"),
    ("geheim.xlsx", ENCRYPTED, "file-encrypted"),
    ("kapot.zip", b"PK\x03\x04" + CANARY.encode() * 3, "file-damaged"),
    ("kapot.csv.gz", gzip.compress(GZIP_TEXT)[:2000], "file-damaged"),
    ("ruis.csv", bytes(range(256)) * 40, "file-binary"),
    ("nul.csv", b"a;b\n1;\x002\x00\x00\x00\n" * 5, "file-binary"),
    ("breed.csv", (";".join(f"k{i}" for i in range(20_000)) + "\n").encode(), "too-many-columns"),
    ("lange-regel.csv", b"a;b\n" + b"x" * (3 * 2**20), "row-too-long"),
    ("open-quote.csv", b'a;b\n1;"' + b"y" * (3 * 2**20) + b"\n2;3\n", "row-too-long"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "code"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_have_a_code_both_languages_the_file_name_and_no_cell_value(
    tmp_path: Path, name: str, data: bytes, code: str
) -> None:
    error = error_of(write(tmp_path, name, data))
    assert error.code == code
    assert code in ERRORS
    for language in ("nl", "en"):
        message = error.message(language)
        assert name in message
        assert CANARY not in message
        assert "jansen" not in message.lower()
    assert error.text.nl != error.text.en


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "weg.csv").code == "file-missing"
    assert error_of(tmp_path).code == "file-missing"  # a folder is not a file


def test_the_catalogue_formats_in_both_languages() -> None:
    fields = {"name": "x.csv", "kind": "PDF", "count": 2, "encoding": "cp1252", "limit": 1}
    fields |= {"row": 3, "fields": 2, "expected": 4}
    for code, (nl, en) in ERRORS.items():
        assert code == code.lower()
        assert " " not in code
        assert nl.format(**fields) != en.format(**fields)


# ---------------------------------------------------------------------------------------
# Nothing but batches or a PubliekError, for any bytes.


def consume(path: Path) -> None:
    """Read everything; the only exception allowed is a catalogued PubliekError."""
    code = None
    try:
        with open_export(path) as reader:
            for batch in reader.batches(rows=7):
                assert batch.schema == reader.schema
                assert 0 < batch.num_rows <= 7
    except PubliekError as error:
        code = error.code
    assert code is None or code in ERRORS


BASE_CSV = (
    "Ordernummer;Naam;E-mailadres;Prijs\r\n"
    '100030;"Jansen; J.";jan@example.nl;"€ 12,50"\r\n'
    '100031;"Visser\r\nde";v@example.nl;€ 3,00\r\n'
    "100032;Één;;0\r\n"
).encode("utf-8-sig")


SPECKS = [b"\x00", b'"', b";", b",", b"\t", b"\r", b"\xe9", b"\n\n", b"\xef\xbb\xbf"]


@st.composite
def near_valid(draw: st.DrawFn) -> bytes:
    """A valid export, then broken the way real files break."""
    data = bytearray(BASE_CSV * draw(st.integers(1, 5)))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["cut", "insert", "replace", "delete"]))
        if action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(SPECKS))
        elif action == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            del data[at : at + draw(st.integers(1, 20))]
    wrapper = draw(st.sampled_from(["plain", "gzip", "zip", "cp1252"]))
    raw = bytes(data)
    if wrapper == "gzip":
        raw = gzip.compress(raw)
        raw = raw[: draw(st.integers(0, len(raw)))] if draw(st.booleans()) else raw
    elif wrapper == "zip":
        raw = zipped({"export.csv": raw})
    elif wrapper == "cp1252":
        raw = raw.decode("utf-8", "replace").encode("cp1252", "replace")
    return raw


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hypothesis")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(st.binary(max_size=3_000), near_valid()),
    suffix=st.sampled_from([".csv", ".txt", ".xlsx", ".xls", ".ods", ".gz", ".zip", ""]),
)
def test_any_bytes_give_batches_or_a_publiek_error(scratch: Path, data: bytes, suffix: str) -> None:
    consume(write(scratch, "export" + suffix, data))


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_workbooks_and_archives(
    tmp_path: Path, sector: SectorSummary, manifest: dict[str, Any], cut: float
) -> None:
    workbook = (sector.folder / exports_of(manifest, "museum_xlsx")[0]["file"]).read_bytes()
    for name, data in {
        "w.xlsx": workbook,
        "w.ods": ods([[("string", "a")], [("float", "1")]]),
        "w.zip": zipped({"e.csv": BASE_CSV * 100}),
        "w.csv.gz": gzip.compress(BASE_CSV * 100),
    }.items():
        consume(write(tmp_path, name, data[: int(len(data) * cut)]))


# ---------------------------------------------------------------------------------------
# Streaming: batches come before the file is read to its end.


class CountingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer) or 0
        CountingFile.read_bytes += count
        return count

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size) or b""
        CountingFile.read_bytes += len(data)
        return data


def lines(count: int) -> Iterator[str]:
    """About 100 bytes per row, like a narrow ticketing export."""
    letters = string.ascii_lowercase
    for n in range(count):
        name = letters[n % 26] * (5 + n % 20)
        yield f"{100_000 + n};{name};{name}{n}@example.nl;Grote Zaal;{n % 97},50;Verkocht\n"


@pytest.mark.slow
def test_a_million_rows_stream_in_bounded_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "groot.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Ordernummer;Naam;E-mail;Zaal;Prijs;Status\n")
        handle.writelines(lines(1_000_000))
    size = path.stat().st_size
    monkeypatch.setattr(
        readers._Source,
        "arrow_stream",
        lambda self: pa.PythonFile(CountingFile(self.path, "r"), mode="r"),
    )
    CountingFile.read_bytes = 0
    with open_export(path) as reader:
        batches = reader.batches(rows=50_000)
        first = next(batches)
        assert first.num_rows == 50_000
        # Arrow reads ahead a few dozen 1 MiB blocks; the rest is still unread.
        assert CountingFile.read_bytes < min(size / 2, 64 * 2**20)
        count, last = first.num_rows, first
        for batch in batches:
            assert batch.num_rows <= 50_000
            count, last = count + batch.num_rows, batch
    assert count == 1_000_000
    assert last.column(ROW_COLUMN)[-1].as_py() == 1_000_001
    assert CountingFile.read_bytes >= size
