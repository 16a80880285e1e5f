"""Public reference data per postcode area (PC4): inhabitants, municipality and province.

The product ships no reference data; an operator loads the files CBS publishes. Two
formats are recognised by their header:

- CBS *Kerncijfers per postcode* (PC4 2020 and later) as CSV: ``PC4`` and ``INWONER``;
- a PC4 table with municipality and province: ``pc4``, ``inwoners``, a municipality code
  column (``gemeentecode`` or ``gemeentecode_2021_namematch``), ``gemeente`` and
  ``provinciecode``.

CBS marks secret figures with -99997; they are stored as unknown, never as a number. Loading
is all or nothing, and a later file updates only the columns it has.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from publieksdata.errors import PubliekError
from publieksdata.warehouse.store import Warehouse

SECRET = -99997
_PC4 = re.compile(r"[1-9][0-9]{3}")
_MUNICIPALITY = re.compile(r"GM[0-9]{4}")
_PROVINCE = re.compile(r"PV[0-9]{2}")


@dataclass(frozen=True)
class AreaFormat:
    """Which header names give which column."""

    name: str
    columns: dict[str, tuple[str, ...]]  # our column -> accepted header names


FORMATS = (
    AreaFormat("pc4-municipality", {
        "pc4": ("pc4",), "inhabitants": ("inwoners",),
        "municipality_code": ("gemeentecode", "gemeentecode_2021_namematch"),
        "municipality": ("gemeente",), "province_code": ("provinciecode",),
    }),
    AreaFormat("cbs-kerncijfers", {"pc4": ("PC4",), "inhabitants": ("INWONER",)}),
)  # fmt: skip


def _format(headers: list[str], path: Path) -> tuple[AreaFormat, dict[str, int]]:
    for candidate in FORMATS:
        found = {}
        for column, names in candidate.columns.items():
            hit = next((headers.index(n) for n in names if n in headers), None)
            if hit is not None:
                found[column] = hit
        if set(found) == set(candidate.columns):
            return candidate, found
    raise PubliekError(
        "areas-format",
        f"{path.name}: dit is geen bekend CBS-bestand per PC4. Verwacht worden de kolommen "
        "PC4 en INWONER (Kerncijfers per postcode), of pc4, inwoners, gemeentecode, gemeente "
        "en provinciecode.",
        f"{path.name}: this is not a known CBS file per PC4. Expected are the columns PC4 and "
        "INWONER (Kerncijfers per postcode), or pc4, inwoners, gemeentecode, gemeente and "
        "provinciecode.",
    )


def _bad(path: Path, row: int, header: str, nl: str, en: str) -> PubliekError:
    return PubliekError(
        "areas-value",
        f"{path.name}, rij {row:,}, kolom '{header}': {nl}".replace(",", "."),
        f"{path.name}, row {row:,}, column '{header}': {en}",
    )


def read_areas(path: Path) -> tuple[str, list[dict[str, object]]]:
    """The rows of a reference file, checked; the format's name first."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
            delimiter = max(",;\t", key=header.count)
            handle.seek(0)
            rows = list(csv.reader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise PubliekError(
            "areas-unreadable",
            f"{path.name} is niet te lezen als CSV ({type(error).__name__}).",
            f"{path.name} cannot be read as CSV ({type(error).__name__}).",
        ) from None
    chosen, index = _format(rows[0] if rows else [], path)
    headers = rows[0]
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}
        out.append(_checked(values, path, number, {c: headers[i] for c, i in index.items()}))
    seen: set[object] = set()
    for number, item in enumerate(out, start=2):
        if item["pc4"] in seen:
            raise _bad(path, number, headers[index["pc4"]], "deze PC4 staat er twee keer in.",
                       "this PC4 appears twice.")  # fmt: skip
        seen.add(item["pc4"])
    return chosen.name, out


def _checked(values: dict[str, str], path: Path, row: int,
             headers: dict[str, str]) -> dict[str, object]:  # fmt: skip
    pc4 = values["pc4"].zfill(4)
    if not _PC4.fullmatch(pc4):
        raise _bad(path, row, headers["pc4"], "geen PC4 (vier cijfers, 1000 tot 9999).",
                   "not a PC4 (four digits, 1000 to 9999).")  # fmt: skip
    text = values["inhabitants"]
    inhabitants: int | None = None
    if text:
        try:
            inhabitants = int(float(text))
        except ValueError:
            raise _bad(path, row, headers["inhabitants"], "geen aantal inwoners.",
                       "not a number of inhabitants.") from None  # fmt: skip
        if inhabitants == SECRET:
            inhabitants = None
        elif inhabitants < 0:
            raise _bad(path, row, headers["inhabitants"], "een negatief aantal inwoners.",
                       "a negative number of inhabitants.")  # fmt: skip
    out: dict[str, object] = {"pc4": pc4, "inhabitants": inhabitants}
    for column, pattern in (("municipality_code", _MUNICIPALITY), ("province_code", _PROVINCE)):
        if column in values:
            code = values[column] or None
            if code is not None and not pattern.fullmatch(code):
                raise _bad(path, row, headers[column], "geen CBS-code (bijv. GM0363, PV27).",
                           "not a CBS code (e.g. GM0363, PV27).")  # fmt: skip
            out[column] = code
    if "municipality" in values:
        out["municipality"] = values["municipality"] or None
    return out


def load_areas(warehouse: Warehouse, path: Path) -> tuple[str, int]:
    """Load a reference file into the warehouse, whole or not at all."""
    name, rows = read_areas(path)
    columns = [c for c in ("inhabitants", "municipality_code", "municipality", "province_code")
               if rows and c in rows[0]]  # fmt: skip
    placeholders = ", ".join("?" for _ in range(len(columns) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    with warehouse.transaction():
        warehouse.db.executemany(
            f"INSERT INTO areas (pc4, {', '.join(columns)}) VALUES ({placeholders}) "
            f"ON CONFLICT (pc4) DO UPDATE SET {updates}",
            [[row["pc4"], *(row[c] for c in columns)] for row in rows],
        )
        warehouse.log("areas-loaded", None, {"format": name, "areas": len(rows)})
    return name, len(rows)
