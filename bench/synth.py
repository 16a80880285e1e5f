"""Benchmark: synthetic sector generation throughput and peak memory.

    python bench/synth.py [--scale small] [--out /tmp/bench-synth]

Prints the machine, rows written per second, MB written per second and peak memory
(RSS). As a same-run baseline it times pyarrow writing the same number of rows of plain
text columns without any of the generator's logic, so the ratio says how close the
generator comes to "just writing bytes" on this machine.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from publieksdata.synth.config import scale
from publieksdata.synth.generator import generate_sector


def machine() -> str:
    """One line about where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    python = platform.python_version()
    return f"{platform.node()} · {os.cpu_count()} cores · {cpu} · Python {python}"


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process or its largest child (Linux: kilobytes)."""
    return resource.getrusage(who).ru_maxrss / 1024


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def baseline_rows_per_second(rows: int, columns: int = 20) -> float:
    """pyarrow writing ``rows`` rows of ready-made text columns to memory."""
    rng = np.random.default_rng(0)
    text = pa.array(rng.integers(10**8, 10**9, rows).astype(str))
    table = pa.table({f"c{k}": text for k in range(columns)})
    started = time.perf_counter()
    pacsv.write_csv(table, io.BytesIO())
    return rows / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", help="tiny, small, medium or national")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp dir)")
    parser.add_argument("--workers", type=int, default=None, help="processes writing exports")
    args = parser.parse_args()
    config = scale(args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp) / "sector"
        summary = generate_sector(config, folder, workers=args.workers)
        size = folder_mb(folder / "exports")
    rows = summary.rows
    ours = rows / summary.seconds
    base = baseline_rows_per_second(min(rows, 2_000_000))
    print(f"machine            {machine()}")
    print(
        f"scale              {args.scale}: {config.institutions:,} institutions, "
        f"{config.persons:,} persons, {config.seasons} seasons"
    )
    print(f"rows written       {rows:,} in {len(summary.exports):,} exports ({size:,.0f} MB)")
    print(f"time               {summary.seconds:.1f} s with {summary.workers} worker(s)")
    print(f"throughput         {ours:,.0f} rows/s, {size / summary.seconds:,.1f} MB/s")
    print(f"baseline           pyarrow plain CSV write: {base:,.0f} rows/s")
    print(f"ratio              generator / baseline = {ours / base:.2f}")
    print(
        f"peak memory        {peak_rss_mb():,.0f} MB main process, "
        f"{peak_rss_mb(resource.RUSAGE_CHILDREN):,.0f} MB largest worker"
    )


if __name__ == "__main__":
    main()
