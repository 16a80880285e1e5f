"""Benchmark: answering insight questions from the visit summary against folding the raw
tickets on the fly, in one run.

    python bench/insights.py [--scale medium] [--institutions 10] [--sector-repeats 3]
                             [--keep FOLDER]

The warehouse is built straight from the generator's ground truth (one fact row per sold or
cancelled visit, true persons), which is quick at any scale; delivery has its own benchmark.
It prints the machine, the warehouse size, the build time of the summary, and for one
institution's dashboard and for the sector overview the p50 and p95 latency of a fresh
question (no cache) from the summary and from the raw tickets, with their ratio; and the
same for the all-institutions overlap matrix (institutions that agreed to be named, the
others together) and the one by discipline.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

DASHBOARD: list[tuple[str, dict[str, Any]]] = [
    ("reach", {}),
    ("reach", {"by": "season"}),
    ("reach", {"by": ("season", "age_band")}),
    ("reach", {"by": "pc4"}),
    ("reach", {"by": ("season", "visitor_type")}),
    ("reach", {"by": "frequency"}),
    ("reach", {"by": ("channel", "lead_time")}),
    ("crossover", {"by": "discipline"}),
]
SECTOR: list[tuple[str, dict[str, Any]]] = [
    ("reach", {"by": "discipline"}),
    ("reach", {"by": ("season", "discipline")}),
    ("reach", {"by": "age_band"}),
    ("reach", {"by": ("season", "sector_newcomer")}),
]
OVERLAP: list[tuple[str, dict[str, Any]]] = [
    ("overlap", {"by": "institution"}),
    ("overlap", {"by": "discipline"}),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()} · {os.cpu_count()} cores · {cpu} · Python {platform.python_version()}"
    )


def build(sector: Path, path: Path) -> tuple[int, float]:
    """A warehouse from the ground truth; returns the fact rows and the summary build time."""
    from publieksdata.deliver.coding import load_institutions
    from publieksdata.pseudonymise.keys import DeploymentKey
    from publieksdata.warehouse import summary
    from publieksdata.warehouse.store import Warehouse

    key = DeploymentKey.generate()
    truth = sector / "truth"
    with Warehouse(path, key.fingerprint) as warehouse:
        load_institutions(warehouse, sector / "institutions.csv")
        warehouse.db.execute(
            "INSERT INTO tickets BY NAME SELECT 1 AS delivery_id, v.institution_id, "
            "v.person AS person_id, NULL AS customer_key, v.visit AS source_row, "
            "v.visit::VARCHAR AS order_id, v.ordered_at, v.channel, v.status, "
            "v.title AS production_title, lower(v.title) AS production_key, v.discipline, "
            "v.starts_at, v.tickets AS ticket_count, v.price_cents * v.tickets / 100.0 "
            "AS price_paid, p.pc4, p.birth_year, p.gender "
            f"FROM '{truth}/visits.parquet' v JOIN '{truth}/persons.parquet' p "
            "ON p.person = v.person ORDER BY v.institution_id, v.starts_at"
        )
        rows = int(warehouse.scalar("SELECT count(*) FROM tickets"))
        started = time.perf_counter()
        with warehouse.transaction():
            summary.rebuild(warehouse.db)
        seconds = time.perf_counter() - started
    return rows, seconds


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(path: Path, key: Any, institutions: list[str], raw: bool,
        sector_repeats: int) -> dict[str, list[float]]:  # fmt: skip
    """Every question asked of a fresh Insights (no cache), per institution."""
    from publieksdata.insights.source import Source
    from publieksdata.release.insights import Insights
    from publieksdata.release.policy import ReleasePolicy

    source = Source.duckdb(path, raw=raw)
    timings: dict[str, list[float]] = {"dashboard": [], "sector": [], "overlap": []}

    def ask(view: Any, questions: list[tuple[str, dict[str, Any]]]) -> float:
        started = time.perf_counter()
        for method, arguments in questions:
            getattr(view, method)(**arguments)
        return time.perf_counter() - started

    for institution in institutions:
        fresh = Insights(source, key, ReleasePolicy())
        timings["dashboard"].append(ask(fresh.for_institution(institution), DASHBOARD))
    for _ in range(sector_repeats):
        fresh = Insights(source, key, ReleasePolicy())
        timings["sector"].append(ask(fresh.sector(), SECTOR))
        fresh = Insights(source, key, ReleasePolicy())
        timings["overlap"].append(ask(fresh.sector(), OVERLAP))
    source.close()
    return timings


def main() -> None:
    from publieksdata.pseudonymise.keys import DeploymentKey
    from publieksdata.synth.config import scale
    from publieksdata.synth.generator import generate_sector

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--institutions", type=int, default=10)
    parser.add_argument("--sector-repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate_sector(scale(args.scale), folder / "sector")
        generated = time.perf_counter() - started
        path = folder / "warehouse.duckdb"
        path.unlink(missing_ok=True)
        rows, build_seconds = build(folder / "sector", path)
        import duckdb

        db = duckdb.connect(str(path), read_only=True)
        largest = [r[0] for r in db.execute(
            "SELECT institution_id FROM visit_facts GROUP BY 1 ORDER BY count(*) DESC LIMIT ?",
            [args.institutions]).fetchall()]  # fmt: skip
        visits = db.execute("SELECT count(*) FROM visit_facts").fetchall()[0][0]
        db.close()
        key = DeploymentKey.generate()
        summary = run(path, key, largest, raw=False, sector_repeats=args.sector_repeats)
        raw = run(path, key, largest, raw=True, sector_repeats=args.sector_repeats)
    print(f"machine        {machine()}")
    print(f"sector         {args.scale}: generated in {generated:,.0f} s")
    print(f"warehouse      {rows:,} fact rows; summary of {visits:,} visits built in "
          f"{build_seconds:,.1f} s")  # fmt: skip
    print(f"dashboard      {len(DASHBOARD)} questions for each of the {len(largest)} largest "
          "institutions; sector overview "
          f"{len(SECTOR)} questions; overlap matrix {len(OVERLAP)} questions; every question "
          "fresh (no cache)")  # fmt: skip
    for name in ("dashboard", "sector", "overlap"):
        ours, theirs = summary[name], raw[name]
        print(
            f"{name:<14} summary p50 {p(ours, 0.5):6.2f} s  p95 {p(ours, 0.95):6.2f} s   "
            f"raw p50 {p(theirs, 0.5):6.2f} s  p95 {p(theirs, 0.95):6.2f} s   "
            f"ratio raw/summary p50 {statistics.median(theirs) / statistics.median(ours):.2f}"
        )


if __name__ == "__main__":
    main()
