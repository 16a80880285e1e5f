"""Generate a whole synthetic sector: persons, institutions, programmes, visits, and then
each institution's export file, streamed to disk one institution at a time.

Output folder::

    sector.json         manifest: config, standard version, every export and its layout
    institutions.csv    the institutions as the standard describes them (no persons)
    exports/            one export per institution, as its system writes it
    truth/              ground truth for tests only: records, persons, visits, expected counts
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from publieksdata import __version__
from publieksdata.deliver.layouts import (
    LAYOUTS,
    MUSEUM_LAYOUTS,
    PERFORMING_LAYOUTS,
    XLSX_MAX_ROWS,
    Layout,
)
from publieksdata.errors import PubliekError
from publieksdata.standard.codelists import codelist
from publieksdata.standard.schema import load_standard
from publieksdata.synth.behaviour import complete_visits, demand, plan_visits
from publieksdata.synth.config import SynthConfig
from publieksdata.synth.exports import Sector, Written, write_export
from publieksdata.synth.geography import embedded_geography
from publieksdata.synth.population import generate_population
from publieksdata.synth.sector import (
    CATEGORIES,
    Institutions,
    generate_institutions,
    generate_programme,
)
from publieksdata.synth.truth import TruthWriter

MANIFEST = "sector.json"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SectorSummary:
    """What was generated, for the CLI's closing lines and for benchmarks."""

    folder: Path
    config: SynthConfig
    exports: list[dict[str, Any]]
    expected: dict[str, Any]
    seconds: float
    workers: int

    @property
    def rows(self) -> int:
        return int(self.expected["sector"]["rows_received"])


def layout_for(inst: Institutions, i: int, expected_rows: int) -> Layout:
    """Spread the layouts over institutions, so even a tiny sector has all of them."""
    same_kind = int((inst.category[:i] == inst.category[i]).sum())
    if CATEGORIES[inst.category[i]] == "museum":
        name = MUSEUM_LAYOUTS[same_kind % len(MUSEUM_LAYOUTS)]
        if LAYOUTS[name].file_format == "xlsx" and expected_rows > XLSX_MAX_ROWS:
            name = "admissions_tsv"  # too big for one sheet: the museum exports text
    else:
        name = PERFORMING_LAYOUTS[same_kind % len(PERFORMING_LAYOUTS)]
    return LAYOUTS[name]


def _prepare(folder: Path) -> None:
    """Use an empty or earlier generated folder; never overwrite anything else."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MANIFEST).exists():
        raise PubliekError(
            "synth-folder-in-use",
            f"De map '{folder}' bestaat al en bevat geen synthetische sector. "
            "Kies een lege of nieuwe map.",
            f"The folder '{folder}' already exists and holds no synthetic sector. "
            "Choose an empty or new folder.",
        )
    for part in ("exports", "truth", MANIFEST, "institutions.csv"):
        target = folder / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (folder / "exports").mkdir(parents=True)


def _write_institutions(path: Path, inst: Institutions, sector: Sector) -> None:
    """The institution resource of the standard, one row per institution."""
    provinces = sector.geo.provinces
    sizes = codelist("size_class").values
    fields = [f.name for f in load_standard().resource("institution").fields]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for i in range(len(inst)):
            writer.writerow(
                [
                    inst.ids[i],
                    inst.names[i],
                    ";".join(inst.disciplines[i]),
                    sizes[inst.size_class[i]],
                    sector.geo.municipality_code[inst.municipality[i]],
                    provinces[inst.province[i]],
                    "true" if inst.named_in_overlap[i] else "false",
                ]
            )


def build_sector(config: SynthConfig, progress: Progress | None = None) -> Sector:
    """Persons, institutions, programmes and visits, all in memory as arrays."""
    report = progress or (lambda stage, done, total: None)
    geo = embedded_geography()
    report("population", 0, 4)
    pop = generate_population(config, geo)
    report("institutions", 1, 4)
    inst = generate_institutions(config, geo)
    planned = plan_visits(config, pop, inst, len(geo.provinces))
    report("programme", 2, 4)
    prog = generate_programme(config, geo, inst, demand(planned, len(inst), config.seasons))
    report("purchases", 3, 4)
    visits = complete_visits(config, planned, pop, inst, prog)
    report("purchases", 4, 4)
    return Sector(geo, pop, inst, prog, visits)


@dataclass(frozen=True)
class _Job:
    """One export to write."""

    institution: int
    layout: Layout
    visits: np.ndarray
    rng: np.random.Generator
    path: Path


_FORKED: Sector | None = None  # the sector, shared with worker processes by fork


def _write_job(job: _Job) -> Written:
    assert _FORKED is not None
    return write_export(_FORKED, job.layout, job.visits, job.institution, job.rng, job.path)


def _write_all(sector: Sector, jobs: list[_Job], workers: int) -> Iterator[Written]:
    """Write the exports, in parallel processes where that helps; results in job order.

    Every export has its own random stream, so the files are the same whatever the
    number of workers.
    """
    global _FORKED
    if workers <= 1 or len(jobs) < 4 or "fork" not in mp.get_all_start_methods():
        for job in jobs:
            yield write_export(sector, job.layout, job.visits, job.institution, job.rng, job.path)
        return
    _FORKED = sector
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_write_job, jobs)
    finally:
        _FORKED = None


def default_workers() -> int:
    """One worker per core, at most four: writing is bound by memory bandwidth beyond that."""
    return max(1, min(4, os.cpu_count() or 1))


def generate_sector(
    config: SynthConfig,
    folder: Path,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SectorSummary:
    """Generate the sector and write manifest, institutions, exports and ground truth."""
    workers = default_workers() if workers is None else workers
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    _prepare(folder)
    sector = build_sector(config, progress)
    inst, visits = sector.inst, sector.visits
    by_institution = np.argsort(visits.institution, kind="stable")
    bounds = np.searchsorted(visits.institution[by_institution], np.arange(len(inst) + 1))
    jobs = []
    for i in range(len(inst)):
        index = by_institution[bounds[i] : bounds[i + 1]]
        layout = layout_for(inst, i, int(visits.tickets[index].sum()))
        path = folder / "exports" / f"{inst.ids[i]}_{layout.name}.{layout.file_format}"
        jobs.append(_Job(i, layout, index, config.rng("export", i), path))
    truth = TruthWriter(folder / "truth", visits)
    exports = []
    for job, written in zip(jobs, _write_all(sector, jobs, workers), strict=True):
        file = f"exports/{job.path.name}"
        truth.add(inst.ids[job.institution], file, job.layout, written)
        exports.append(
            {
                "institution_id": inst.ids[job.institution],
                "file": file,
                "layout": job.layout.name,
                "format": job.layout.file_format,
                "grain": job.layout.grain,
                "encoding": job.layout.encoding,
                "delimiter": job.layout.delimiter,
                "rows": len(written),
            }
        )
        report("exports", len(exports), len(inst))
    expected = truth.close(sector.pop, sector.geo, inst, sector.prog, config.season_list)
    _write_institutions(folder / "institutions.csv", inst, sector)
    manifest = {
        "generator": f"publieksdata {__version__}",
        "standard": f"{load_standard().id} {load_standard().version}",
        "scale": config.scale,
        "seed": config.seed,
        "institutions": config.institutions,
        "persons": config.persons,
        "seasons": [s.name for s in config.season_list],
        "export_date": config.export_date.isoformat(),
        "exports": exports,
    }
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    seconds = time.perf_counter() - started
    return SectorSummary(folder, config, exports, expected, seconds, workers)
