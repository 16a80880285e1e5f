"""One tiny synthetic sector per test session, generated once and only read by tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from publieksdata.synth.generator import SectorSummary


@pytest.fixture(scope="session")
def manifest(tiny: SectorSummary) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tiny.folder / "sector.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def records(tiny: SectorSummary) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(
        tiny.folder / "truth" / "records.parquet"
    ).to_pylist()
    return rows


@pytest.fixture(scope="session")
def persons(tiny: SectorSummary) -> dict[int, dict[str, Any]]:
    rows = pq.read_table(tiny.folder / "truth" / "persons.parquet").to_pylist()
    return {r["person"]: r for r in rows}


def read_export(folder: Path, entry: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Read one export independently of the generator: the standard library's csv module
    with the declared encoding and delimiter, or python-calamine for workbooks."""
    path = folder / entry["file"]
    if entry["format"] == "xlsx":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        header, *rows = sheet
        return [str(h) for h in header], [list(r) for r in rows]
    with path.open(encoding=entry["encoding"], newline="") as handle:
        header, *rows = list(csv.reader(handle, delimiter=entry["delimiter"]))
    return header, rows


@pytest.fixture(scope="session")
def exports(
    tiny: SectorSummary, manifest: dict[str, Any]
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every export of the tiny sector, read back, by file name."""
    return {e["file"]: read_export(tiny.folder, e) for e in manifest["exports"]}
