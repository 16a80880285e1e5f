"""Benchmark: answering insight questions from tabulations prepared ahead, from the visit
summary, and by folding the raw tickets on the fly, in one run.

    python bench/insights.py [--scale medium] [--institutions 10] [--sector-repeats 3]
                             [--keep FOLDER [--reuse]]

The warehouse is built straight from the generator's ground truth (one fact row per sold or
cancelled visit, true persons), which is quick at any scale; delivery has its own benchmark.
It prints the machine, the warehouse size, the build time of the summary and of the prepared
tabulations, and for one institution's dashboard, the sector overview and the overlap
matrices (all institutions: those that agreed to be named, the others together; and by
discipline) the p50 and p95 latency of opening them with a fresh process state (no cache in
memory), prepared, from the summary and from the raw tickets, with the ratios.
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


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()} · {os.cpu_count()} cores · {cpu} · Python {platform.python_version()}"
    )


def build(sector: Path, path: Path, key: Any) -> tuple[int, float]:
    """A warehouse from the ground truth; returns the fact rows and the summary build time."""
    from publieksdata.deliver.coding import load_institutions
    from publieksdata.warehouse import summary
    from publieksdata.warehouse.store import Warehouse

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


def prepare(path: Path, key: Any, institutions: list[str]) -> float:
    """Seconds to prepare the dashboards of ``institutions`` and the sector's."""
    from publieksdata.release import dashboard
    from publieksdata.warehouse.store import Warehouse

    started = time.perf_counter()
    with Warehouse(path, key.fingerprint) as warehouse:
        dashboard.prepare(warehouse, key, institutions, sector=True)
    return time.perf_counter() - started


def run(path: Path, key: Any, institutions: list[str], mode: str,
        sector_repeats: int) -> dict[str, list[float]]:  # fmt: skip
    """Every question asked of a fresh Insights (no cache in memory), per institution:
    ``prepared`` reads stored tabulations, ``summary`` ignores them, ``raw`` folds tickets."""
    from publieksdata.insights.source import Source
    from publieksdata.release.dashboard import DASHBOARD, OVERLAP, SECTOR, ask
    from publieksdata.release.insights import Insights
    from publieksdata.release.policy import ReleasePolicy

    source = Source.duckdb(path, raw=mode == "raw", stored=mode == "prepared")
    timings: dict[str, list[float]] = {"dashboard": [], "sector": [], "overlap": []}

    def timed(view: Any, questions: Any) -> float:
        started = time.perf_counter()
        ask(view, questions)
        return time.perf_counter() - started

    for institution in institutions:
        fresh = Insights(source, key, ReleasePolicy())
        timings["dashboard"].append(timed(fresh.for_institution(institution), DASHBOARD))
    for _ in range(sector_repeats):
        fresh = Insights(source, key, ReleasePolicy())
        timings["sector"].append(timed(fresh.sector(), SECTOR))
        fresh = Insights(source, key, ReleasePolicy())
        timings["overlap"].append(timed(fresh.sector(), OVERLAP))
    source.close()
    return timings


def main() -> None:
    from publieksdata.pseudonymise.keys import DeploymentKey, key_file_text, load_key
    from publieksdata.synth.config import scale
    from publieksdata.synth.generator import generate_sector

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--institutions", type=int, default=10)
    parser.add_argument("--sector-repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the warehouse and key of an earlier --keep"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path, key_path = folder / "warehouse.duckdb", folder / "bench.key"
        if args.reuse and path.exists() and key_path.exists():
            key = load_key(key_path, env={})
            generated = build_seconds = float("nan")
        else:
            started = time.perf_counter()
            generate_sector(scale(args.scale), folder / "sector")
            generated = time.perf_counter() - started
            path.unlink(missing_ok=True)
            key = DeploymentKey.generate()
            key_path.write_text(key_file_text(key))
            key_path.chmod(0o600)
            _, build_seconds = build(folder / "sector", path, key)
        import duckdb

        db = duckdb.connect(str(path), read_only=True)
        largest = [r[0] for r in db.execute(
            "SELECT institution_id FROM visit_facts GROUP BY 1 ORDER BY count(*) DESC LIMIT ?",
            [args.institutions]).fetchall()]  # fmt: skip
        visits = db.execute("SELECT count(*) FROM visit_facts").fetchall()[0][0]
        rows = db.execute("SELECT count(*) FROM tickets").fetchall()[0][0]
        db.close()
        prepare_seconds = prepare(path, key, largest)
        timings = {mode: run(path, key, largest, mode, args.sector_repeats)
                   for mode in ("prepared", "summary", "raw")}  # fmt: skip
    from publieksdata.release.dashboard import DASHBOARD, OVERLAP, SECTOR

    print(f"machine        {machine()}")
    reused = build_seconds != build_seconds  # nan: built by an earlier run
    print(f"sector         {args.scale}: " +
          ("reused" if reused else f"generated in {generated:,.0f} s"))  # fmt: skip
    print(f"warehouse      {rows:,} fact rows; summary of {visits:,} visits" +
          ("" if reused else f" built in {build_seconds:,.1f} s"))  # fmt: skip
    print(f"prepared       {len(DASHBOARD)} questions for each of the {len(largest)} largest "
          f"institutions, {len(SECTOR)} sector and {len(OVERLAP)} overlap questions: "
          f"{prepare_seconds:,.1f} s")  # fmt: skip
    print("latency        opening each with a fresh state (no cache in memory)")
    for name in ("dashboard", "sector", "overlap"):
        got = {mode: timings[mode][name] for mode in timings}
        cells = "   ".join(
            f"{mode} p50 {p(values, 0.5):6.2f} s p95 {p(values, 0.95):6.2f} s"
            for mode, values in got.items()
        )
        prepared = statistics.median(got["prepared"])
        print(
            f"{name:<14} {cells}   raw/prepared {statistics.median(got['raw']) / prepared:,.0f}"
            f"  summary/prepared {statistics.median(got['summary']) / prepared:,.0f}"
        )


if __name__ == "__main__":
    main()
