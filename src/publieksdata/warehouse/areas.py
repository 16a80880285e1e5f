"""Public reference data per postcode area (PC4): inhabitants, municipality and province.

The product ships no reference data; an operator loads the files CBS publishes. Two
formats are recognised by their header:

- CBS *Kerncijfers per postcode* (PC4 2020 and later) as CSV: ``PC4`` and ``INWONER``;
- a PC4 table with municipality and province: ``pc4``, ``inwoners``, a municipality code
  column (``gemeentecode`` or ``gemeentecode_2021_namematch``), ``gemeente`` and
  ``provinciecode``.

A third format gives each area's middle, for distances: CBS PC4 boundaries as GeoJSON (a
FeatureCollection whose features carry a ``pc4`` property and a Polygon or MultiPolygon in
WGS84); the middle is the area-weighted centroid of the outer rings.

CBS marks secret figures with -99997; they are stored as unknown, never as a number. Loading
is all or nothing, and a later file updates only the columns it has.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from publieksdata.errors import PubliekError
from publieksdata.warehouse import cubes
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


def _centroid(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """Area-weighted centroid (latitude, longitude) of a (Multi)Polygon's outer rings."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons: list[Any] = {"Polygon": [coordinates], "MultiPolygon": coordinates}.get(str(kind), [])
    area = cx = cy = 0.0
    for polygon in polygons:
        ring = polygon[0] if polygon else []
        for (x1, y1), (x2, y2) in pairwise(ring):
            cross = x1 * y2 - x2 * y1
            area += cross
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
    if abs(area) < 1e-12:
        return None
    return cy / (3 * area), cx / (3 * area)


def _read_boundaries(path: Path) -> list[dict[str, object]]:
    try:
        features = json.loads(path.read_text("utf-8"))["features"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise PubliekError(
            "areas-unreadable",
            f"{path.name} is geen GeoJSON met gebieden ({type(error).__name__}).",
            f"{path.name} is not GeoJSON with areas ({type(error).__name__}).",
        ) from None
    out = []
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") or {}
        pc4 = str(properties.get("pc4") or properties.get("PC4") or "").zfill(4)
        middle = _centroid(feature.get("geometry") or {})
        if not _PC4.fullmatch(pc4):
            raise _bad(path, number, "pc4", "geen PC4 (vier cijfers, 1000 tot 9999).",
                       "not a PC4 (four digits, 1000 to 9999).")  # fmt: skip
        if middle is None:
            raise _bad(path, number, "geometry", "geen vlak (Polygon of MultiPolygon).",
                       "not an area (Polygon or MultiPolygon).")  # fmt: skip
        out.append({"pc4": pc4, "latitude": middle[0], "longitude": middle[1]})
    return out


def read_areas(path: Path) -> tuple[str, list[dict[str, object]]]:
    """The rows of a reference file, checked; the format's name first."""
    if path.suffix.lower() in (".geojson", ".json"):
        return "pc4-boundaries", _dedupe(path, _read_boundaries(path), "pc4")
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
    return chosen.name, _dedupe(path, out, headers[index["pc4"]], first_row=2)


def _dedupe(path: Path, rows: list[dict[str, object]], header: str,
            first_row: int = 1) -> list[dict[str, object]]:  # fmt: skip
    seen: set[object] = set()
    for number, item in enumerate(rows, start=first_row):
        if item["pc4"] in seen:
            raise _bad(path, number, header, "deze PC4 staat er twee keer in.",
                       "this PC4 appears twice.")  # fmt: skip
        seen.add(item["pc4"])
    return rows


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
    columns = [c for c in ("inhabitants", "municipality_code", "municipality", "province_code",
                           "latitude", "longitude") if rows and c in rows[0]]  # fmt: skip
    placeholders = ", ".join("?" for _ in range(len(columns) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    with warehouse.transaction():
        warehouse.db.executemany(
            f"INSERT INTO areas (pc4, {', '.join(columns)}) VALUES ({placeholders}) "
            f"ON CONFLICT (pc4) DO UPDATE SET {updates}",
            [[row["pc4"], *(row[c] for c in columns)] for row in rows],
        )
        cubes.bump(warehouse.db, [cubes.AREAS])
        warehouse.log("areas-loaded", None, {"format": name, "areas": len(rows)})
    return name, len(rows)
