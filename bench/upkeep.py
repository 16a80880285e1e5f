"""Benchmark: withdrawal, erasure, recoding and retention on a delivered warehouse, each
against folding every ticket into visits again (what each of them used to cost), in one run.

    python bench/upkeep.py [--rows 1000000] [--rounds 3] [--keep FOLDER]

The warehouse holds one delivery of the synthetic kassa_nl export of ``bench/deliver.py``,
plus a second delivery of the rows of one production, the one that is withdrawn. Each
operation runs on a fresh copy of that warehouse; the full refold (``summary.rebuild``) runs
on a copy too, in the same round, so the ratio cancels what the machine is doing. Prints the
machine, the warehouse and, per operation, the median seconds and the ratio to the refold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from deliver import fresh, machine, make_export
from publieksdata.deliver.coding import confirm
from publieksdata.deliver.delivery import deliver_file, erase_file
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.warehouse import summary
from publieksdata.warehouse.store import Warehouse
from publieksdata.warehouse.upkeep import retain

INSTITUTION = "I0001"


def build(folder: Path, rows: int, key: DeploymentKey) -> dict[str, Callable[[Warehouse], object]]:
    """The warehouse, and the operations to time on copies of it."""
    export = folder / "export.csv"
    make_export(export, rows, folder / "sector")
    header, first, *lines = export.read_text("utf-8-sig").splitlines()
    names = header.split(";")
    column = names.index("Voorstelling")
    title = first.split(";")[column]
    production = folder / "production.csv"
    same = [line for line in [first, *lines] if line.split(";")[column] == title]
    production.write_text("\n".join([header, *same]) + "\n", "utf-8-sig")
    erasure = folder / "erase.csv"
    erasure.write_text(f"E-mailadres\n{first.split(';')[names.index('E-mailadres')]}\n", "utf-8")
    with Warehouse(fresh(folder / "base.duckdb"), key.fingerprint) as warehouse:
        deliver_file(export, INSTITUTION, warehouse, key)
        extra = deliver_file(production, INSTITUTION, warehouse, key, period="one production")
    withdrawn = int(extra.delivery_id or 0)
    return {
        "refold everything": lambda w: summary.rebuild(w.db),
        "withdraw a delivery": lambda w: w.withdraw(withdrawn),
        "erase a person": lambda w: erase_file(erasure, INSTITUTION, w, key),
        "confirm a genre": lambda w: confirm(w, INSTITUTION, title, "comedy"),
        "retain 3 seasons": lambda w: retain(w, 3, dt.date(2026, 11, 25)),
    }


def timed(folder: Path, key: DeploymentKey, operation: Callable[[Warehouse], object]) -> float:
    copy = folder / "copy.duckdb"
    shutil.copy(folder / "base.duckdb", copy)
    with Warehouse(copy, key.fingerprint) as warehouse:
        started = time.perf_counter()
        operation(warehouse)
        seconds = time.perf_counter() - started
    copy.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    key = DeploymentKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        operations = build(folder, args.rows, key)
        with Warehouse(folder / "base.duckdb", key.fingerprint, read_only=True) as warehouse:
            tickets = warehouse.scalar("SELECT count(*) FROM tickets")
            visits = warehouse.scalar("SELECT count(*) FROM visit_facts")
        seconds: dict[str, list[float]] = {name: [] for name in operations}
        for _ in range(args.rounds):
            for name, operation in operations.items():
                seconds[name].append(timed(folder, key, operation))
    print(f"machine        {machine()}")
    print(f"warehouse      {tickets:,} tickets, {visits:,} visits, one institution")
    refolds = seconds["refold everything"]
    for name, runs in seconds.items():
        ratios = [run / refold for run, refold in zip(runs, refolds, strict=True)]
        print(f"{name:<20} {statistics.median(runs):6.3f} s   "
              f"{statistics.median(ratios):5.2f} of a full refold")  # fmt: skip


if __name__ == "__main__":
    main()
