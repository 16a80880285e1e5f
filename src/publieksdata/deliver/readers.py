"""Open any export file and stream it as batches of string columns.

Box-office exports are messy: any delimiter, UTF-8 with or without BOM or Windows-1252,
Excel or OpenDocument workbooks, sometimes gzipped or zipped. This module finds out what a
file is (``FileFacts``), then streams its rows as Arrow record batches in which every
column is ``string`` and named after its header, plus ``__row__``: the row number the user
sees when opening the file in a spreadsheet (the header is row 1 unless blank lines come
before it). Empty cells are null, never ``""``: "no value" must not look like a value.

CSV is streamed with Arrow's CSV reader, so memory stays bounded however large the file.
Workbooks are read with calamine, which loads one whole sheet; a sheet holds at most
1,048,576 rows, which bounds the memory of a workbook too.

Rows that do not split into the header's columns are skipped from the batches but kept in
``ExportReader.bad_rows`` with their row number. Errors are ``PubliekError``s whose codes
are listed in ``ERRORS``; their messages name the file, never a cell value (cells may hold
personal data before pseudonymisation).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import charset_normalizer
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

from publieksdata.errors import PubliekError

# ---------------------------------------------------------------------------------------
# Error catalogue: one place for the UI, the API, the CLI and the docs.

_AGAIN_NL = "Exporteer de gegevens als CSV of als Excel-bestand (.xlsx) en lever dat aan."
_AGAIN_EN = "Export the data as CSV or as an Excel file (.xlsx) and deliver that."

ERRORS: dict[str, tuple[str, str]] = {
    "file-missing": (
        "Het bestand {name} is niet gevonden. Kies het bestand opnieuw en lever het nog eens aan.",
        "The file {name} was not found. Choose the file again and deliver it once more.",
    ),
    "file-empty": (
        "{name} is leeg: er staan geen gegevens in. Maak de export opnieuw in uw "
        "kassasysteem en lever die aan.",
        "{name} is empty: it holds no data. Export again from your ticketing system and "
        "deliver that file.",
    ),
    "file-binary": (
        "{name} is geen tekstbestand (CSV) en geen werkblad dat we kennen. " + _AGAIN_NL,
        "{name} is neither a text (CSV) file nor a spreadsheet we know. " + _AGAIN_EN,
    ),
    "format-unsupported": (
        "{name} is een {kind}-bestand; dat kunnen we niet inlezen. " + _AGAIN_NL,
        "{name} is in {kind} format, which we cannot read. " + _AGAIN_EN,
    ),
    "file-damaged": (
        "{name} is beschadigd of onvolledig: het gecomprimeerde bestand is niet helemaal te "
        "lezen. Download of exporteer het bestand opnieuw en lever het nog eens aan.",
        "{name} is damaged or incomplete: the compressed file cannot be read to the end. "
        "Download or export the file again and deliver it once more.",
    ),
    "file-encrypted": (
        "{name} is beveiligd met een wachtwoord. Sla het op zonder wachtwoord (in Excel: "
        "Bestand › Info › Werkmap beveiligen › Versleutelen met wachtwoord, het wachtwoord "
        "leegmaken) en lever het opnieuw aan.",
        "{name} is protected with a password. Save it without a password (in Excel: File › "
        "Info › Protect Workbook › Encrypt with Password, clear the password) and deliver "
        "it again.",
    ),
    "zip-no-file": (
        "Het zip-bestand {name} bevat {count} CSV- of Excelbestanden; er moet er precies één "
        "in zitten. Zet het exportbestand in de zip, of lever het los aan.",
        "The zip file {name} contains {count} CSV or Excel files; it must contain exactly "
        "one. Put the export file in the zip, or deliver it on its own.",
    ),
    "zip-several-files": (
        "Het zip-bestand {name} bevat {count} CSV- of Excelbestanden; er mag er maar één in "
        "zitten. Lever ze één voor één aan, elk los of in een eigen zip.",
        "The zip file {name} contains {count} CSV or Excel files; only one is allowed. "
        "Deliver them one at a time, each on its own or in its own zip.",
    ),
    "encoding-invalid": (
        "{name} bevat verderop tekens die niet passen bij de tekenset van het begin van het "
        "bestand ({encoding}). Open het in Excel of LibreOffice, sla het op als 'CSV UTF-8' "
        "en lever het opnieuw aan.",
        "Further on, {name} holds characters that do not fit the character set of its start "
        "({encoding}). Open it in Excel or LibreOffice, save it as 'CSV UTF-8' and deliver "
        "it again.",
    ),
    "header-missing": (
        "De eerste regel van {name} lijkt gegevens te bevatten in plaats van kolomnamen. "
        "Exporteer opnieuw mét kolomkoppen, zodat de eerste regel de kolomnamen bevat.",
        "The first row of {name} seems to hold data instead of column names. Export again "
        "with column headers, so that the first row holds the column names.",
    ),
    "header-empty": (
        "De kopregel van {name} heeft geen kolomnamen. Zet de kolomnamen in de eerste regel "
        "en lever het bestand opnieuw aan.",
        "The header row of {name} has no column names. Put the column names in the first "
        "row and deliver the file again.",
    ),
    "too-many-columns": (
        "{name} heeft {count} kolommen; meer dan {limit} kunnen we niet verwerken. "
        "Controleer of dit het goede exportbestand is.",
        "{name} has {count} columns; we cannot process more than {limit}. Check that this "
        "is the right export file.",
    ),
    "row-too-long": (
        '{name} heeft een regel van meer dan {limit} MB, of een aanhalingsteken (") dat '
        "nergens wordt afgesloten. Exporteer opnieuw, of open het in Excel of LibreOffice, "
        "sla het op als 'CSV UTF-8' en lever het opnieuw aan.",
        '{name} has a row longer than {limit} MB, or a quote (") that is never closed. '
        "Export again, or open it in Excel or LibreOffice, save it as 'CSV UTF-8' and "
        "deliver it again.",
    ),
    "file-unreadable": (
        "{name} kon niet als CSV worden gelezen. Open het in Excel of LibreOffice, sla het "
        "op als 'CSV UTF-8' of als .xlsx en lever het opnieuw aan.",
        "{name} could not be read as CSV. Open it in Excel or LibreOffice, save it as "
        "'CSV UTF-8' or as .xlsx and deliver it again.",
    ),
    "spreadsheet-unreadable": (
        "{name} is een werkblad dat we niet kunnen openen: het is beschadigd of in een "
        "onbekende versie opgeslagen. Open het in Excel of LibreOffice, sla het op als "
        ".xlsx en lever het opnieuw aan.",
        "{name} is a spreadsheet we cannot open: it is damaged or saved in an unknown "
        "version. Open it in Excel or LibreOffice, save it as .xlsx and deliver it again.",
    ),
    "spreadsheet-empty": (
        "{name} heeft geen werkblad met gegevens. Controleer of de export op het eerste "
        "werkblad staat en lever het bestand opnieuw aan.",
        "{name} has no sheet with data. Check that the export is on the first sheet and "
        "deliver the file again.",
    ),
    # Row-level problems: not raised, but reported in ExportReader.bad_rows.
    "row-too-many-columns": (
        "Regel {row} heeft {fields} kolommen, de kopregel {expected}; de regel is "
        "overgeslagen. Vaak staat het scheidingsteken in een waarde zonder aanhalingstekens.",
        "Row {row} has {fields} columns, the header {expected}; the row was skipped. Often "
        "the delimiter occurs in a value without quotes.",
    ),
    "row-too-few-columns": (
        "Regel {row} heeft {fields} kolommen, de kopregel {expected}; de regel is "
        "overgeslagen. Vaak is de regel afgebroken of ontbreken er scheidingstekens.",
        "Row {row} has {fields} columns, the header {expected}; the row was skipped. Often "
        "the row was cut off or delimiters are missing.",
    ),
}


def export_error(code: str, **fields: object) -> PubliekError:
    """The catalogue's error ``code`` with its templates filled in."""
    nl, en = ERRORS[code]
    return PubliekError(code, nl.format(**fields), en.format(**fields))


# ---------------------------------------------------------------------------------------
# What was found, and what could not be read.

Format = Literal["csv", "xlsx", "xlsb", "xls", "ods"]
Compression = Literal["gzip", "zip"]
ROW_COLUMN = "__row__"


@dataclass(frozen=True)
class FileFacts:
    """What was detected; shown to the user and stored with the delivery."""

    format: Format
    compression: Compression | None
    encoding: str | None  # "utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"; None: workbook
    delimiter: str | None
    headers: tuple[str, ...]  # as in the file, stripped of BOM and whitespace
    sha256: str  # of the bytes as delivered, so a re-delivery is recognised
    size_bytes: int
    member: str | None = None  # the file read inside a zip
    sheet: str | None = None  # the sheet read in a workbook


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that does not split into the header's columns: where, never what."""

    row: int  # spreadsheet-style: the header is row 1, the first data row row 2
    code: str  # "row-too-many-columns" | "row-too-few-columns"
    fields: int  # how many fields the row has


# ---------------------------------------------------------------------------------------
# Limits.

SAMPLE_BYTES = 1 << 20  # decoded to find the encoding, delimiter and header
UTF8_PROBE_BYTES = 64 << 20  # must be valid UTF-8 before UTF-8 is chosen
# Arrow's CSV block, which is also the longest record it can read. Measured on a 1M-row
# export: 1 MiB blocks read fastest (0.6 s; 4 MiB: 0.8 s, 32 MiB: 1.2 s) in the least memory.
BLOCK_BYTES = 1 << 20
MAX_COLUMNS = 16_384  # Excel's limit
MAX_BAD_ROWS = 100_000  # kept in bad_rows (~8 MB); bad_row_count counts all
MAX_CONTROLS_SHARE = 0.01  # more control characters than this: not text
_CHUNK = 1 << 20

DELIMITERS = (";", ",", "\t", "|")
TEXT_EXTENSIONS = frozenset({".csv", ".txt", ".tsv", ".tab"})
SHEET_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})

_GZIP = b"\x1f\x8b"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_MAGIC_KINDS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!", "RAR"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ", "xz"),
    (b"\x28\xb5\x2f\xfd", "Zstandard"),
    (b"SQLite format 3", "SQLite"),
    (b"PAR1", "Parquet"),
    (b"{\\rtf", "RTF"),
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A header cell that looks like a value: a number, date, time or amount, or an e-mail.
_NUMBER_LIKE = re.compile(r"^[-+(]?[\d.,:/ ()€-]*\d[\d.,:/ ()€-]*$")
_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.\w+$")
_SEP_LINE = re.compile(r"sep=(.)(\r\n|\r|\n)")
_DAMAGED = (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError)


# ---------------------------------------------------------------------------------------
# Where the bytes come from: a plain file, a gzip stream or one member of a zip.


@dataclass(frozen=True)
class _Source:
    """The decompressed bytes of a delivery, which can be opened again from the start."""

    path: Path
    compression: Compression | None = None
    member: str | None = None

    @property
    def inner_name(self) -> str:
        """The name whose extension tells the inner file's kind."""
        if self.member is not None:
            return Path(self.member).name
        if self.compression == "gzip" and self.path.suffix.lower() == ".gz":
            return self.path.stem
        return self.path.name

    def open(self) -> io.BufferedIOBase:
        """A Python stream of the decompressed bytes."""
        if self.compression == "gzip":
            return gzip.open(self.path, "rb")
        if self.member is not None:
            # The member keeps the archive's file open until the member is closed.
            with zipfile.ZipFile(self.path) as archive:
                return cast(io.BufferedIOBase, archive.open(self.member))  # a ZipExtFile
        return self.path.open("rb")

    def arrow_stream(self) -> Any:
        """An Arrow input stream, with Arrow's native gzip where it applies."""
        if self.compression == "gzip":
            return pa.input_stream(str(self.path), compression="gzip")
        if self.member is not None:
            return pa.PythonFile(self.open(), mode="r")
        return pa.input_stream(str(self.path))

    def head(self, size: int = 4096) -> bytes:
        with self.open() as stream:
            return stream.read(size)


# ---------------------------------------------------------------------------------------
# Detection: compression and format, by magic bytes and content.


def _unwrap(path: Path, head: bytes) -> _Source:
    """Unwrap gzip, or the one export inside a zip; a workbook (also a zip) stays whole."""
    if head.startswith(_GZIP):
        return _Source(path, "gzip")
    if head.startswith(_ZIP) and _zip_workbook(path) is None:
        return _Source(path, "zip", _zip_member(path))
    return _Source(path)


def _zip_infos(path: Path) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.infolist()
    except (*_DAMAGED, ValueError):
        raise export_error("file-damaged", name=path.name) from None


def _zip_workbook(path: Path) -> Format | None:
    """The workbook format when the zip is an Office or OpenDocument file, else None."""
    names = {info.filename for info in _zip_infos(path)}
    if "[Content_Types].xml" in names:
        if "xl/workbook.bin" in names:
            return "xlsb"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        kinds = {"word/": "Word", "ppt/": "PowerPoint"}
        kind = next((k for p, k in kinds.items() if any(n.startswith(p) for n in names)), None)
        raise export_error("format-unsupported", name=path.name, kind=kind or "Office")
    if "mimetype" in names:
        try:
            with zipfile.ZipFile(path) as archive:
                mime = archive.read("mimetype")[:100].strip()
        except (*_DAMAGED, ValueError, NotImplementedError):
            raise export_error("file-damaged", name=path.name) from None
        if mime == _ODS_MIME:
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            raise export_error("format-unsupported", name=path.name, kind="OpenDocument")
    return None


def _zip_member(path: Path) -> str:
    """The one CSV or workbook in an archive; none or several is an error."""
    candidates = [
        info
        for info in _zip_infos(path)
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not Path(info.filename).name.startswith(".")
        and Path(info.filename).suffix.lower() in TEXT_EXTENSIONS | SHEET_EXTENSIONS
    ]
    if not candidates:
        raise export_error("zip-no-file", name=path.name, count=0)
    if len(candidates) > 1:
        raise export_error("zip-several-files", name=path.name, count=len(candidates))
    info = candidates[0]
    if info.flag_bits & 0x1:
        raise export_error("file-encrypted", name=path.name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # Windows zips files over 2 GB with Deflate64, which Python cannot unpack.
        raise export_error("format-unsupported", name=path.name, kind="Deflate64-zip")
    return info.filename


def _format(source: _Source, head: bytes) -> Format:
    """The inner file's format by its first bytes; a known non-table format raises."""
    if head.startswith(_OLE):
        return "xls"  # or an encrypted xlsx, which is an OLE file too: told apart on failure
    if head.startswith(_ZIP):
        if source.compression is None:
            return _zip_workbook(source.path) or "xlsx"
        suffix = Path(source.inner_name).suffix.lower()
        return "ods" if suffix == ".ods" else "xlsb" if suffix == ".xlsb" else "xlsx"
    name = source.path.name
    if head.startswith(_GZIP):
        raise export_error("format-unsupported", name=name, kind="gzip-in-zip")
    kind = next((k for magic, k in _MAGIC_KINDS if head.startswith(magic)), None)
    if kind is not None:
        raise export_error("format-unsupported", name=name, kind=kind)
    return "csv"


def _markup_kind(text: str) -> str | None:
    """HTML or XML saved as ``.xls`` (some ticketing systems do this), or JSON."""
    start = text.lstrip()[:2000].lower()
    if start.startswith("<"):
        return "HTML" if "<html" in start or "<table" in start else "XML"
    if start.startswith(('{"', "[{", "[\n", "[\r")):
        return "JSON"
    return None


# ---------------------------------------------------------------------------------------
# Detection: encoding.


def _decodes(data: bytes, encoding: str, final: bool) -> bool:
    """Strict decoding; unless ``final``, a character cut off at the end is fine."""
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(data, final)
    except UnicodeDecodeError:
        return False
    return True


def _controls_share(text: str) -> float:
    return len(_CONTROLS.findall(text)) / max(1, len(text))


def _first_invalid_utf8(
    stream: io.BufferedIOBase, sample: bytes, whole: bool
) -> tuple[bytes, bool]:
    """The first chunk that is not UTF-8 (b"" if none) and whether UTF-8 text came before.

    Checks up to ``UTF8_PROBE_BYTES``, because a Windows-1252 file may hold its first
    accented letter far from the start.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    chunk, read, non_ascii = sample, 0, False
    while True:
        try:
            decoder.decode(chunk, whole)
        except UnicodeDecodeError:
            return chunk or sample, non_ascii
        non_ascii = non_ascii or not chunk.isascii()
        read += len(chunk)
        if whole or read >= UTF8_PROBE_BYTES:
            return b"", False
        chunk = stream.read(_CHUNK)
        whole = len(chunk) < _CHUNK


def _utf16(sample: bytes) -> str | None:
    """UTF-16 without BOM: every other byte of Western text is zero."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _single_byte(data: bytes) -> str | None:
    """Windows-1252 or Latin-1 for text that is not UTF-8; None for binary data.

    Latin-1 differs from Windows-1252 only where Latin-1 has control characters (0x80-0x9F,
    where Windows-1252 has € and curly quotes), so Windows-1252 wins whenever it decodes.
    """
    if _decodes(data, "cp1252", True):
        text = charset_normalizer.from_bytes(data, cp_isolation=["cp1252", "latin_1"]).best()
        if text is not None or _controls_share(data.decode("cp1252")) <= MAX_CONTROLS_SHARE:
            return "cp1252"
    if _controls_share(data.decode("latin-1")) <= MAX_CONTROLS_SHARE:
        return "latin-1"
    return None


def _encoding(stream: io.BufferedIOBase, sample: bytes, whole: bool, name: str) -> str:
    """BOM, then UTF-16 by its zero bytes, then strict UTF-8, then Windows-1252/Latin-1.

    ``stream`` continues where ``sample`` ends, for checking UTF-8 beyond the sample.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    found: str | None
    if b"\x00" in sample:
        found = _utf16(sample)
    else:
        invalid, mixed = _first_invalid_utf8(stream, sample, whole)
        if mixed:
            raise export_error("encoding-invalid", name=name, encoding="UTF-8")
        found = _single_byte(invalid) if invalid else "utf-8"
    if found is None:
        raise export_error("file-binary", name=name)
    return found


@dataclass(frozen=True)
class _Sample:
    """The decoded start of a text file."""

    encoding: str
    text: str
    whole: bool  # the sample is the whole file


def _sample(source: _Source, name: str) -> _Sample:
    """Read and decode the start of the file; empty or binary content raises."""
    with source.open() as stream:
        data = stream.read(SAMPLE_BYTES + 1)
        whole = len(data) <= SAMPLE_BYTES
        if not data.strip():
            raise export_error("file-empty", name=name)
        encoding = _encoding(stream, data, whole, name)
        data = data[:SAMPLE_BYTES]
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(data, whole)
    except UnicodeDecodeError:
        raise export_error("file-binary", name=name) from None
    if _controls_share(text) > MAX_CONTROLS_SHARE:
        raise export_error("file-binary", name=name)
    return _Sample(encoding, text.removeprefix("\ufeff"), whole)


# ---------------------------------------------------------------------------------------
# Detection: delimiter and header.


def _records(text: str, delimiter: str, whole: bool, limit: int = 100) -> list[list[str]]:
    """The first complete records of the sample, parsed as a CSV reader would."""
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append(record)
            if len(records) > limit:
                return records
    except csv.Error:
        return records  # a field beyond the csv module's limit: judge on what came before
    if not whole and records:
        records.pop()  # the last record may be cut off by the end of the sample
    return records


def _delimiter_score(records: list[list[str]]) -> tuple[bool, int, float]:
    """Mostly as many fields as the header, then more fields, then more consistent."""
    rows = [r for r in records if r]
    if not rows or len(rows[0]) < 2:
        return (False, 0, 0.0)
    width, data = len(rows[0]), rows[1:]
    consistent = sum(len(r) == width for r in data) / len(data) if data else 1.0
    return (consistent >= 0.8, width, consistent)


def _delimiter(text: str, whole: bool) -> str:
    """The delimiter that splits the lines most consistently; ',' for a single column.

    Counting per line ourselves, respecting quotes: ``csv.Sniffer`` guesses wrong on
    amounts like '€ 12,50' in a semicolon file.
    """
    scores = {d: _delimiter_score(_records(text, d, whole)) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])  # the first of equals wins
    return best if scores[best][1] >= 2 else ","


@dataclass(frozen=True)
class _Header:
    """The header row of a CSV file and what comes before it."""

    cells: tuple[str, ...]
    skip_lines: int = 0  # lines before the header: blank lines and Excel's "sep=;"
    hidden_lines: int = 0  # of those, lines a spreadsheet does not show ("sep=;")


def _csv_header(sample: _Sample, name: str) -> tuple[str, _Header]:
    """The delimiter and the header: the first non-blank record."""
    text, hidden = sample.text, 0
    sep = _SEP_LINE.match(text)
    if sep is not None:
        text, hidden = text[sep.end() :], 1
    delimiter = sep.group(1) if sep is not None else _delimiter(text, sample.whole)
    records = _records(text, delimiter, sample.whole, limit=1_000)
    blank = next((i for i, r in enumerate(records) if r), None)
    if blank is None:
        if sample.whole:
            raise export_error("file-empty", name=name)
        raise export_error("row-too-long", name=name, limit=SAMPLE_BYTES >> 20)
    cells = tuple(_clean(c) for c in records[blank])
    return delimiter, _Header(cells, blank + hidden, hidden)


def _clean(cell: str) -> str:
    return cell.replace("\ufeff", "").strip()


def _check_header(cells: tuple[str, ...], typed_values: int, name: str) -> None:
    """A header names at least one column and does not look like a row of data."""
    named = [c for c in cells if c]
    if not named:
        raise export_error("header-empty", name=name)
    if len(cells) > MAX_COLUMNS:
        raise export_error("too-many-columns", name=name, count=len(cells), limit=MAX_COLUMNS)
    if any(_EMAIL_LIKE.match(c) for c in named):
        raise export_error("header-missing", name=name)
    value_like = typed_values + sum(1 for c in named if _NUMBER_LIKE.match(c))
    if value_like * 2 > len(named):
        raise export_error("header-missing", name=name)


def column_letter(index: int) -> str:
    """0 → 'A', 25 → 'Z', 26 → 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_names(headers: tuple[str, ...], first_column: int = 0) -> tuple[str, ...]:
    """Unique batch column names: an empty header becomes '(kolom C)', a repeat 'Naam (2)'."""
    names: list[str] = []
    taken = {ROW_COLUMN}
    for k, header in enumerate(headers):
        base = header or f"(kolom {column_letter(first_column + k)})"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base} ({n})"
        taken.add(candidate)
        names.append(candidate)
    return tuple(names)


# ---------------------------------------------------------------------------------------
# Row numbers for CSV rows: skipped rows leave gaps.


class _RowNumbers:
    """Numbers the good rows of a stream: the next numbers that no bad row took."""

    def __init__(self, first: int) -> None:
        self._next = first
        self._bad: list[int] = []  # numbers of bad rows not yet passed

    def skip(self, number: int) -> None:
        self._bad.append(number)

    def take(self, count: int) -> npt.NDArray[np.int64]:
        start = self._next
        bad = np.array(sorted(b for b in self._bad if b >= start), dtype=np.int64)
        # How many good rows come before each bad row; the i-th good row comes after
        # every bad row with at most i good rows before it.
        before = bad - np.arange(len(bad), dtype=np.int64) - start
        index = np.arange(count, dtype=np.int64)
        numbers = start + index + np.searchsorted(before, index, side="right")
        self._next = int(numbers[-1]) + 1 if count else start
        self._bad = [int(b) for b in bad if b >= self._next]
        return numbers


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly ``rows`` rows (the last one fewer) from Arrow's 1 MiB blocks."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            merged = pending[0] if len(pending) == 1 else pa.concat_batches(pending)
            yield merged.slice(0, rows)
            rest = merged.slice(rows)
            pending, count = ([rest] if rest.num_rows else []), rest.num_rows
    if pending:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


# ---------------------------------------------------------------------------------------
# Workbook cells as the box office sees them.


def cell_text(value: object) -> str | None:
    """A workbook cell as text: ISO dates, '2' for a whole 2.0, null for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return f"{value:.15g}"  # Excel's 15 digits, without binary noise as in 0.1 + 0.2
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="auto" if value.microsecond else "seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class _Sheet:
    """The sheet read from a workbook; calamine holds it whole (at most 1,048,576 rows)."""

    sheet: Any
    name: str
    header: tuple[Any, ...]
    header_index: int  # index in iter_rows() of the header row
    first_row: int  # 0-based sheet row of the first row iter_rows() gives
    first_column: int

    def data_rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(spreadsheet row number, cells) of every row below the header."""
        for index, cells in enumerate(self.sheet.iter_rows()):
            if index > self.header_index:
                yield self.first_row + index + 1, cells


# ---------------------------------------------------------------------------------------
# The reader.


@dataclass(frozen=True)
class _CsvPlan:
    """How to hand a CSV file to Arrow."""

    encoding: str
    header: _Header


class ExportReader:
    """An opened export: its facts, and its rows as batches. A context manager."""

    def __init__(
        self,
        facts: FileFacts,
        source: _Source,
        csv_plan: _CsvPlan | None = None,
        sheet: _Sheet | None = None,
    ) -> None:
        self.facts = facts
        self.columns = column_names(facts.headers, sheet.first_column if sheet else 0)
        self.bad_rows: list[BadRow] = []  # the first MAX_BAD_ROWS
        self.bad_row_count = 0  # all of them
        self.blank_rows = 0  # rows without any value: skipped, not reported
        self._source = source
        self._csv = csv_plan
        self._sheet = sheet

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Let go of a loaded sheet; CSV streams close when their batches end."""
        self._sheet = None
        self._csv = None

    @property
    def schema(self) -> pa.Schema:
        """Every column a string, named after its header, then ``__row__``."""
        fields = [pa.field(name, pa.string()) for name in self.columns]
        return pa.schema([*fields, pa.field(ROW_COLUMN, pa.int64())])

    def batches(self, rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """Batches of at most ``rows`` rows; every call reads the file from the start."""
        if rows < 1:
            raise ValueError("rows must be at least 1")
        self.bad_rows, self.bad_row_count, self.blank_rows = [], 0, 0
        if self._csv is not None:
            return self._csv_batches(self._csv, rows)
        if self._sheet is not None:
            return self._sheet_batches(self._sheet, rows)
        raise ValueError("the reader is closed")

    # -- CSV

    def _csv_batches(self, plan: _CsvPlan, rows: int) -> Iterator[pa.RecordBatch]:
        numbers = _RowNumbers(first=plan.header.skip_lines + 2)
        try:
            stream = self._source.arrow_stream()
        except (*_DAMAGED, pa.ArrowException):
            raise export_error("file-damaged", name=self._source.path.name) from None
        try:
            blocks = self._arrow_reader(stream, plan, numbers)
            numbered = (self._numbered(b, numbers, plan.header.hidden_lines) for b in blocks)
            yield from _rebatch(numbered, rows)
        except (pa.ArrowException, UnicodeError, *_DAMAGED) as exc:
            # Not chained: Arrow's message may quote the row, which may hold personal data.
            raise self._stream_error(exc, plan) from None
        finally:
            stream.close()

    def _arrow_reader(self, stream: Any, plan: _CsvPlan, numbers: _RowNumbers) -> Any:
        read = pacsv.ReadOptions(
            use_threads=False,  # Arrow numbers invalid rows only when single-threaded
            block_size=BLOCK_BYTES,
            skip_rows=plan.header.skip_lines,
            column_names=list(self.columns),
            skip_rows_after_names=1,
            encoding="utf8" if plan.encoding.startswith("utf-8") else plan.encoding,
        )
        parse = pacsv.ParseOptions(
            delimiter=self.facts.delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,  # a blank line is a row in a spreadsheet too
            invalid_row_handler=self._bad_row_handler(numbers, plan.header.hidden_lines),
        )
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(self.columns, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        return pacsv.open_csv(
            stream, read_options=read, parse_options=parse, convert_options=convert
        )

    def _bad_row_handler(self, numbers: _RowNumbers, hidden: int) -> Callable[[Any], str]:
        width = len(self.columns)

        def handle(row: Any) -> str:
            number = int(row.number) if row.number is not None else 0
            numbers.skip(number)
            self.bad_row_count += 1
            if len(self.bad_rows) < MAX_BAD_ROWS:
                fields = int(row.actual_columns)
                code = "row-too-many-columns" if fields > width else "row-too-few-columns"
                self.bad_rows.append(BadRow(number - hidden, code, fields))
            return "skip"

        return handle

    def _numbered(self, batch: Any, numbers: _RowNumbers, hidden: int) -> pa.RecordBatch:
        """Add the row numbers, then drop the rows without any value (blank lines)."""
        row = pa.array(numbers.take(batch.num_rows) - hidden, pa.int64())
        numbered = pa.RecordBatch.from_arrays([*batch.columns, row], schema=self.schema)
        if not batch.column(0).null_count:
            return numbered  # a blank row has no value in its first column either
        empty = pc.is_null(batch.column(0))
        for column in batch.columns[1:]:
            empty = pc.and_(empty, pc.is_null(column))
        blank = int(pc.sum(empty).as_py() or 0)
        if not blank:
            return numbered
        self.blank_rows += blank
        return numbered.filter(pc.invert(empty))

    def _stream_error(self, exc: BaseException, plan: _CsvPlan) -> PubliekError:
        name, message = self._source.path.name, str(exc)
        if isinstance(exc, UnicodeError) or "UTF8" in message:
            return export_error("encoding-invalid", name=name, encoding=plan.encoding)
        if "straddl" in message:
            return export_error("row-too-long", name=name, limit=BLOCK_BYTES >> 20)
        if isinstance(exc, _DAMAGED) or self._source.compression is not None:
            return export_error("file-damaged", name=name)
        return export_error("file-unreadable", name=name)

    # -- workbooks

    def _sheet_batches(self, sheet: _Sheet, rows: int) -> Iterator[pa.RecordBatch]:
        chunk: list[list[Any]] = []
        numbers: list[int] = []
        for number, cells in sheet.data_rows():
            if all(c == "" or c is None for c in cells):
                self.blank_rows += 1
                continue
            chunk.append(cells)
            numbers.append(number)
            if len(chunk) == rows:
                yield self._sheet_batch(chunk, numbers)
                chunk, numbers = [], []
        if chunk:
            yield self._sheet_batch(chunk, numbers)

    def _sheet_batch(self, chunk: list[list[Any]], numbers: list[int]) -> pa.RecordBatch:
        columns = [
            pa.array([cell_text(r[k]) if k < len(r) else None for r in chunk], pa.string())
            for k in range(len(self.columns))
        ]
        row = pa.array(numbers, pa.int64())
        return pa.RecordBatch.from_arrays([*columns, row], schema=self.schema)


# ---------------------------------------------------------------------------------------
# Opening.


def file_sha256(path: Path) -> str:
    """The SHA-256 of the bytes as delivered, so a re-delivery is recognised."""
    with path.open("rb") as raw:
        return hashlib.file_digest(raw, "sha256").hexdigest()


def open_export(path: Path, *, digest: bool = True) -> ExportReader:
    """Detect what the file is and return a reader for it; problems raise ``PubliekError``.

    ``digest=False`` leaves ``facts.sha256`` empty, for a caller that hashes the file
    (:func:`file_sha256`) while it reads it: hashing gigabytes takes seconds.
    """
    path = Path(path)
    if not path.is_file():
        raise export_error("file-missing", name=path.name)
    size = path.stat().st_size
    if size == 0:
        raise export_error("file-empty", name=path.name)
    with path.open("rb") as raw:
        head = raw.read(4096)
    sha256 = file_sha256(path) if digest else ""
    source = _unwrap(path, head)
    if source.compression is not None:
        try:
            head = source.head()
        except _DAMAGED:
            raise export_error("file-damaged", name=path.name) from None
        if not head:
            raise export_error("file-empty", name=path.name)
    kind = _format(source, head)
    facts = FileFacts(kind, source.compression, None, None, (), sha256, size, source.member)
    if kind == "csv":
        return _csv_reader(source, facts)
    return _workbook_reader(source, facts)


def _csv_reader(source: _Source, facts: FileFacts) -> ExportReader:
    name = source.path.name
    try:
        sample = _sample(source, name)
    except _DAMAGED:
        raise export_error("file-damaged", name=name) from None
    markup = _markup_kind(sample.text)
    if markup is not None:
        raise export_error("format-unsupported", name=name, kind=markup)
    delimiter, header = _csv_header(sample, name)
    _check_header(header.cells, 0, name)
    plan = _CsvPlan(sample.encoding, header)
    facts = replace(facts, encoding=sample.encoding, delimiter=delimiter, headers=header.cells)
    return ExportReader(facts, source, csv_plan=plan)


def _workbook_reader(source: _Source, facts: FileFacts) -> ExportReader:
    name = source.path.name
    try:
        sheet = _load_sheet(source, name)
    except PubliekError:
        raise
    except python_calamine.PasswordError:
        raise export_error("file-encrypted", name=name) from None
    except Exception:  # calamine on a damaged file: any failure means "cannot open"
        raise _workbook_error(source, facts) from None
    except BaseException as exc:  # calamine's Rust panics are BaseExceptions
        if type(exc).__name__ != "PanicException":
            raise
        raise _workbook_error(source, facts) from None
    cells = tuple(_clean(cell_text(c) or "") for c in sheet.header)
    typed = sum(1 for c in sheet.header if isinstance(c, int | float | dt.date | dt.time))
    _check_header(cells, typed, name)
    return ExportReader(replace(facts, headers=cells, sheet=sheet.name), source, sheet=sheet)


def _load_sheet(source: _Source, name: str) -> _Sheet:
    """Open the workbook (from memory when it was compressed: calamine needs to seek)."""
    if source.compression is None:
        with source.path.open("rb") as file:
            return _first_sheet(python_calamine.CalamineWorkbook.from_filelike(file), name)
    with source.open() as stream:
        data = io.BytesIO(stream.read())
    return _first_sheet(python_calamine.CalamineWorkbook.from_filelike(data), name)


def _first_sheet(book: Any, name: str) -> _Sheet:
    """The first visible worksheet with a non-blank row; that row is the header."""
    for index, meta in enumerate(book.sheets_metadata):
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            continue
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        sheet = book.get_sheet_by_index(index)
        if sheet.start is None:
            continue
        for row_index, cells in enumerate(sheet.iter_rows()):
            if any(c != "" and c is not None for c in cells):
                # calamine 0.9 pads iter_rows() with the blank rows above the data, so an
                # index is a sheet row; without that padding, the start row comes first.
                first_row = max(0, sheet.start[0] - row_index)
                first_column = sheet.start[1]
                header = tuple(cells)
                return _Sheet(sheet, meta.name, header, row_index, first_row, first_column)
    raise export_error("spreadsheet-empty", name=name)


def _workbook_error(source: _Source, facts: FileFacts) -> PubliekError:
    """A workbook calamine cannot open; a password-protected Office file is an OLE file."""
    name = source.path.name
    if facts.format == "xls" and _contains(source, _ENCRYPTED_MARK):
        return export_error("file-encrypted", name=name)
    return export_error("spreadsheet-unreadable", name=name)


def _contains(source: _Source, mark: bytes) -> bool:
    try:
        with source.open() as stream:
            tail = b""
            while chunk := stream.read(_CHUNK):
                if mark in tail + chunk:
                    return True
                tail = chunk[-len(mark) :]
    except _DAMAGED:
        return False
    return False
