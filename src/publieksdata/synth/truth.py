"""The ground truth of a synthetic sector, written apart from the exports and for tests only.

It says which export row belongs to which person and visit, which rows are duplicates or
invalid (and why), the planted behaviour groups, and the counts a correct delivery and
correct metrics must reproduce. It holds no identifier: persons are numbers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from publieksdata import sorted_sets
from publieksdata.deliver.layouts import Layout
from publieksdata.standard.definitions import Season
from publieksdata.synth.behaviour import CHANNELS, STATUSES, TICKET_TYPES, Visits
from publieksdata.synth.exports import (
    DUPLICATE,
    INVALID,
    REASONS,
    STATUS_NAMES,
    VALID,
    WARNINGS,
    Written,
)
from publieksdata.synth.geography import Geography
from publieksdata.synth.population import GENDERS, GROUPS, Population
from publieksdata.synth.sector import Institutions, Programme

SOLD = STATUSES.index("sold")
_RECORDS = pa.schema(
    [
        ("institution_id", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("person", pa.int32()),
        ("visit", pa.int64()),
        ("tickets", pa.int32()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("column", pa.string()),
        ("warning", pa.string()),
        ("warning_column", pa.string()),
    ]
)


def _names(codes: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Codes for an index array, -1 giving a null."""
    table = pa.array([*codes, None], pa.string())
    return table.take(pa.array(np.where(index < 0, len(codes), index)))


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Distinct (a, b) pairs: visits are distinct (buyer, performance) pairs."""
    return len(sorted_sets.unique(a.astype(np.int64) << 32 | b.astype(np.int64)))


class TruthWriter:
    """Collects the truth while the exports are written, one export at a time."""

    def __init__(self, folder: Path, visits: Visits) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.visits = visits
        self.records = pq.ParquetWriter(folder / "records.parquet", _RECORDS)
        self.per_institution: dict[str, dict[str, Any]] = {}
        self.valid_persons: list[np.ndarray] = []

    def add(self, institution_id: str, file: str, layout: Layout, written: Written) -> None:
        """Record every row of one export and its expected delivery counts."""
        n = len(written)
        person = self.visits.person[written.visit]
        table = pa.table(
            {
                "institution_id": pa.array([institution_id] * n, pa.string()),
                "file": pa.array([file] * n, pa.string()),
                "row": pa.array(np.arange(1, n + 1, dtype=np.int64)),
                "person": pa.array(person.astype(np.int32)),
                "visit": pa.array(written.visit.astype(np.int64)),
                "tickets": pa.array(written.tickets.astype(np.int32)),
                "status": _names(STATUS_NAMES, written.status),
                "reason": _names(REASONS, written.reason),
                "column": _names(tuple(layout.headers), written.column),
                "warning": _names(WARNINGS, written.warning),
                "warning_column": _names(tuple(layout.headers), written.warning_column),
            },
            schema=_RECORDS,
        )
        self.records.write_table(table)
        valid = written.status == VALID
        sold = valid & (self.visits.status[written.visit] == SOLD)
        reasons = Counter(REASONS[r] for r in written.reason[written.status == INVALID])
        warned = valid & (written.warning >= 0)
        warnings = Counter(WARNINGS[w] for w in written.warning[warned])
        self.valid_persons.append(sorted_sets.unique(person[valid]))
        self.per_institution[institution_id] = {
            "file": file,
            "rows_received": n,
            "rows_valid": int(valid.sum()),
            "rows_duplicate": int((written.status == DUPLICATE).sum()),
            "rows_invalid": int((written.status == INVALID).sum()),
            "invalid_by_reason": dict(sorted(reasons.items())),
            "valid_with_warning": dict(sorted(warnings.items())),
            "persons": len(self.valid_persons[-1]),
            "visits_sold": _distinct_pairs(
                person[sold], self.visits.performance[written.visit[sold]]
            ),
            "tickets_sold": int(written.tickets[sold].sum()),
        }

    def close(
        self,
        pop: Population,
        geo: Geography,
        inst: Institutions,
        prog: Programme,
        seasons: list[Season],
    ) -> dict[str, Any]:
        """Write persons, visits and the expected counts; return the expected counts."""
        self.records.close()
        _write_persons(self.folder / "persons.parquet", pop, geo)
        _write_visits(self.folder / "visits.parquet", self.visits, inst, prog, seasons)
        persons = sorted_sets.unique(np.concatenate(self.valid_persons or [np.zeros(0, np.int32)]))
        groups = np.bincount(pop.group[persons], minlength=len(GROUPS))
        totals = {
            key: sum(v[key] for v in self.per_institution.values())
            for key in (
                "rows_received",
                "rows_valid",
                "rows_duplicate",
                "rows_invalid",
                "tickets_sold",
            )
        }
        expected = {
            "sector": {
                **totals,
                "persons": len(persons),
                "persons_by_group": {g: int(c) for g, c in zip(GROUPS, groups, strict=True)},
                "households_sharing_email": int((pop.email_owner != np.arange(len(pop))).sum()),
            },
            "institutions": self.per_institution,
        }
        text = json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
        (self.folder / "expected.json").write_text(text, encoding="utf-8")
        return expected


def _write_persons(path: Path, pop: Population, geo: Geography) -> None:
    province_codes = geo.provinces
    table = pa.table(
        {
            "person": pa.array(np.arange(len(pop), dtype=np.int32)),
            "group": _names(GROUPS, pop.group),
            "household": pa.array(pop.household),
            "email_shared_with": pa.array(pop.email_owner),
            "has_email": pa.array(pop.has_email),
            "has_phone": pa.array(pop.has_phone),
            "birth_year": pa.array(pop.birth_year()),
            "gender": _names(GENDERS, pop.gender),
            "pc4": pa.array(geo.pc4[pop.pc4_index]).cast(pa.string()),
            "municipality_code": _names(geo.municipality_code, pop.municipality),
            "province_code": _names(province_codes, pop.province),
        }
    )
    pq.write_table(table, path)


def _write_visits(
    path: Path, visits: Visits, inst: Institutions, prog: Programme, seasons: list[Season]
) -> None:
    """Every visit that happened, with its true person, performance and purchase."""
    prod = prog.perf_prod[visits.performance]
    table = pa.table(
        {
            "visit": pa.array(np.arange(len(visits), dtype=np.int64)),
            "person": pa.array(visits.person),
            "institution_id": _names(tuple(inst.ids), visits.institution),
            "season": _names(tuple(s.name for s in seasons), visits.season),
            "performance": pa.array(visits.performance),
            "production": pa.array(prod),
            "tour": pa.array(np.asarray(prog.prod_tour, dtype=np.int32)[prod]),
            "title": _names(tuple(prog.prod_title), prod),
            "discipline": _names(tuple(prog.prod_discipline), prod),
            "starts_at": pa.array(prog.perf_start[visits.performance] * 60, pa.timestamp("s")),
            "ordered_at": pa.array(visits.ordered_at * 60, pa.timestamp("s")),
            "subscription": pa.array(visits.subscription),
            "tickets": pa.array(visits.tickets),
            "price_cents": pa.array(visits.price_cents),
            "ticket_type": _names(TICKET_TYPES, visits.ticket_type),
            "channel": _names(CHANNELS, visits.channel),
            "status": _names(STATUSES, visits.status),
        }
    )
    pq.write_table(table, path)
