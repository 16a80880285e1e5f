"""Released tables as files people open: CSV (Excel-friendly) and XLSX.

Hidden cells keep their marks ('< 10', 'x') and every row says why, so a spreadsheet never
shows a misleading zero.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from publieksdata.release.tables import LABELS, SHOWN, Release
from publieksdata.standard.text import Language, Text
from publieksdata.xlsx import CellKind, write_xlsx

STATUS = Text(nl="Toelichting", en="Note")


def _columns(
    release: Release, language: Language, *, decimal_comma: bool
) -> tuple[list[str], list[list[str]]]:
    """Headers and text columns: raw numbers where shown, marks and reasons where not."""
    header = [*release.headers(language), *(LABELS[f](language) for f in release.figures),
              STATUS(language)]  # fmt: skip
    columns: list[list[str]] = [[] for _ in header]
    for row in release.table.to_pylist():
        status = row["status"]
        values = [release.value(d, row[d], language) for d in release.by]
        for figure in release.figures:
            mark = release.mark(row[figure], status, figure)
            text = mark if mark is not None else str(row[figure])
            comma = mark is None and language == "nl" and decimal_comma
            values.append(text.replace(".", ",") if comma else text)
        values.append("" if status == SHOWN else release.reason(status, language))
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return header, columns


def write_csv(release: Release, path: Path, language: Language = "nl") -> None:
    """A CSV with a header; ';' and a BOM in Dutch so Excel opens it right away."""
    header, columns = _columns(release, language, decimal_comma=True)
    delimiter = ";" if language == "nl" else ","
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))
        for note in release.notes(language):
            writer.writerow([f"# {note}"])


def write_xlsx_release(release: Release, path: Path, language: Language = "nl") -> None:
    """One sheet; shown figures are real numbers, hidden ones keep their mark as text."""
    header, columns = _columns(release, language, decimal_comma=False)
    text: CellKind = "text"
    number: CellKind = "number"
    kinds = [text] * len(release.by) + [number] * len(release.figures) + [text]
    write_xlsx(path, release.metric, header, [pa.array(c, pa.string()) for c in columns], kinds)
