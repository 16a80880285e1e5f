"""Benchmark: a full delivery (read → validate → pseudonymise → link → commit) against
DuckDB's own plain CSV load and a straightforward pandas + hashlib pipeline, in one run.

    python bench/deliver.py [--rows 1000000] [--rounds 1] [--keep FOLDER] [--rejected 0.25]

The export is a synthetic kassa_nl file (one row per ticket, Dutch notation, Windows line
ends, UTF-8 with BOM), its rows copied until there are ``--rows``, each copy with its own
order numbers and e-mail addresses; with ``--rejected`` that share of its rows has a
performance date that does not exist, so the delivery rejects them. It is flushed to disk
before any pipeline runs, so none pays for writing it. Each pipeline runs in its own
process, so its peak memory is its own; with ``--rounds`` the pipelines run that many times,
in turns; the median time of each and the median of the ratios within a round count. Also
prints linkage quality on the small synthetic sector.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROW_GROUP = 100_000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()} · {os.cpu_count()} cores · {cpu} · Python {platform.python_version()}"
    )


def make_export(target: Path, rows: int, sector_folder: Path, rejected: float = 0.0) -> None:
    """Copies of the rows of the largest kassa_nl export of a tiny sector.

    Each copy stands for other people: its customer numbers, e-mail addresses, phone
    numbers and house numbers differ from every other copy's, so linkage meets the same
    mix of households and repeat buyers as in one real export, not one person 40 times.
    A share ``rejected`` of the rows, spread evenly, get a performance date that does not
    exist (31 February), as a messy export has rows that must be rejected.
    """
    from publieksdata.synth.config import scale
    from publieksdata.synth.generator import generate_sector

    summary = generate_sector(scale("small"), sector_folder, workers=1)
    kassa = max((e for e in summary.exports if e["layout"] == "kassa_nl"), key=lambda e: e["rows"])
    header, *lines = (sector_folder / kassa["file"]).read_text("utf-8-sig").splitlines()
    names = header.split(";")
    columns = ("E-mailadres", "Telefoonnummer", "Klantnummer", "Huisnummer", "Datum voorstelling")
    email, phone, customer, house, starts = (names.index(c) for c in columns)
    written = 0
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(header + "\r\n")
        copy = 0
        while written < rows:
            for offset, line in enumerate(lines[: rows - written]):
                cells = line.split(";")
                cells[0] = f"{copy}{cells[0]}"
                if copy:
                    if cells[email]:
                        cells[email] = f"c{copy}.{cells[email].strip()}"
                    if cells[customer]:
                        cells[customer] = f"{copy}{cells[customer]}"
                    if cells[phone]:
                        cells[phone] = _LAST_DIGITS.sub(f"{copy % 1000:03d}", cells[phone])
                    if cells[house].isdigit():
                        cells[house] = str(int(cells[house]) + 1000 * (copy % 90))
                row = written + offset
                if int((row + 1) * rejected) > int(row * rejected):
                    cells[starts] = "31-02-2023 20:00"
                out.write(";".join(cells) + "\r\n")
            written += min(len(lines), rows - written)
            copy += 1


_LAST_DIGITS = re.compile(r"\d{3}$")


def fresh(database: Path) -> Path:
    """The path of a database file, with any file of an earlier round removed."""
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    return database


def run_ours(path: Path, folder: Path) -> dict[str, Any]:
    from publieksdata.deliver.delivery import deliver_file
    from publieksdata.pseudonymise.keys import DeploymentKey
    from publieksdata.warehouse.store import Warehouse

    key = DeploymentKey.generate()
    started = time.perf_counter()
    with Warehouse(fresh(folder / "ours.duckdb"), key.fingerprint) as warehouse:
        report = deliver_file(path, "I0001", warehouse, key)
    return {"seconds": time.perf_counter() - started, "rows": report.received}


def run_duckdb(path: Path, folder: Path) -> dict[str, Any]:
    import duckdb

    started = time.perf_counter()
    db = duckdb.connect(str(fresh(folder / "plain.duckdb")))
    db.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv(?, delim=';', header=true, all_varchar=true)",
        [str(path)],
    )
    rows = db.execute("SELECT count(*) FROM t").fetchall()[0][0]
    db.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def run_pandas(path: Path, folder: Path) -> dict[str, Any]:
    """What a data team might write: read in chunks, lower-case, SHA-256, append to DuckDB."""
    import duckdb
    import pandas as pd

    started = time.perf_counter()
    db = duckdb.connect(str(fresh(folder / "pandas.duckdb")))
    rows = 0
    first = True
    for chunk in pd.read_csv(path, sep=";", dtype=str, chunksize=ROW_GROUP, encoding="utf-8-sig"):
        for column in ("E-mailadres", "Telefoonnummer", "Klantnummer"):
            chunk[column] = (
                chunk[column]
                .fillna("")
                .str.strip()
                .str.lower()
                .map(lambda v: hashlib.sha256(v.encode()).hexdigest() if v else None)
            )
        chunk["pc4"] = chunk["Postcode"].str[:4]
        chunk = chunk.drop(columns=IDENTIFYING_COLUMNS)
        db.register("chunk", chunk)
        db.execute(
            "CREATE TABLE t AS SELECT * FROM chunk"
            if first
            else "INSERT INTO t SELECT * FROM chunk"
        )
        db.unregister("chunk")
        first = False
        rows += len(chunk)
    db.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


IDENTIFYING_COLUMNS = [
    "Voornaam", "Tussenvoegsel", "Achternaam", "Straat", "Huisnummer", "Toevoeging",
    "Postcode", "Geboortedatum",
]  # fmt: skip
PIPELINES = {"ours": run_ours, "duckdb": run_duckdb, "pandas": run_pandas}


def child(name: str, path: Path, folder: Path) -> dict[str, Any]:
    """Run one pipeline in a fresh process and collect its time and peak memory."""
    result = subprocess.run(
        [sys.executable, __file__, "--only", name, "--file", str(path), "--folder", str(folder)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def linkage_quality() -> dict[str, float]:
    """Pairwise precision and recall of linkage on the small synthetic sector."""
    import duckdb
    import pyarrow.parquet as pq

    from publieksdata.deliver.delivery import deliver_file
    from publieksdata.pseudonymise.keys import DeploymentKey
    from publieksdata.synth.config import scale
    from publieksdata.synth.generator import generate_sector
    from publieksdata.warehouse.store import Warehouse

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sector = generate_sector(scale("small"), folder / "sector", workers=1)
        key = DeploymentKey.generate()
        predicted: dict[tuple[str, int], int] = {}
        with Warehouse(folder / "w.duckdb", key.fingerprint) as warehouse:
            for export in sector.exports:
                report = deliver_file(folder / "sector" / export["file"], export["institution_id"],
                                      warehouse, key)  # fmt: skip
                for row, person in warehouse.db.execute(
                    "SELECT source_row, person_id FROM tickets WHERE delivery_id = ?",
                    [report.delivery_id],
                ).fetchall():
                    predicted[(export["file"], row - 1)] = person
        truth = pq.read_table(folder / "sector" / "truth" / "records.parquet").to_pylist()
        persons = pq.read_table(folder / "sector" / "truth" / "persons.parquet").to_pylist()
    sharing = Counter(p["email_shared_with"] for p in persons)
    shared = {p["person"] for p in persons if sharing[p["email_shared_with"]] > 1}
    nameless = {e["file"] for e in sector.exports if e["layout"] == "museum_xlsx"}
    units = set()
    for r in truth:
        person = predicted.get((r["file"], r["row"]))
        ambiguous = r["file"] in nameless and r["person"] in shared
        if r["status"] == "valid" and person is not None and not ambiguous:
            units.add((r["file"], r["person"], person))
    del duckdb

    def pairs(counter: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = pairs(Counter((t, p) for _, t, p in units))
    return {
        "precision": both / max(pairs(Counter(p for _, _, p in units)), 1),
        "recall": both / max(pairs(Counter(t for _, t, _ in units)), 1),
    }


def _rate(run: dict[str, Any]) -> float:
    return float(run["rows"]) / float(run["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each, in turns")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    parser.add_argument("--rejected", type=float, default=0.0,
                        help="share of rows with an impossible date (0 to 1)")  # fmt: skip
    parser.add_argument("--only", choices=list(PIPELINES), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        result = PIPELINES[args.only](args.file, args.folder)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        export = folder / "export.csv"
        make_export(export, args.rows, folder / "sector", args.rejected)
        os.sync()  # the kernel writing the new file back must not slow the first pipeline
        size = export.stat().st_size / 1e6
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in PIPELINES}
        for turn in range(args.rounds):
            names = list(PIPELINES)
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                rounds[name].append(child(name, export, folder))
    print(f"machine        {machine()}")
    bad = f", {args.rejected:.0%} of them to be rejected" if args.rejected else ""
    print(f"export         {args.rows:,} rows, {size:,.0f} MB (kassa_nl layout{bad})")
    results = {}
    for name, runs in rounds.items():
        r = results[name] = sorted(runs, key=lambda run: float(run["seconds"]))[len(runs) // 2]
        rate = r["rows"] / r["seconds"]
        each = " ".join(f"{run['seconds']:.1f}" for run in runs) if len(runs) > 1 else ""
        print(f"{name:<14} {r['seconds']:7.1f} s  {rate:12,.0f} rows/s  "
              f"peak {max(run['peak_mb'] for run in runs):,.0f} MB  {each}")  # fmt: skip
    for name in ("duckdb", "pandas"):
        # per round, the pipelines ran one after the other: their ratio cancels most of
        # what the machine was doing at the time, so its median is the figure to compare
        paired = sorted(
            _rate(ours) / _rate(theirs)
            for ours, theirs in zip(rounds["ours"], rounds[name], strict=True)
        )
        spread = f"  (rounds {paired[0]:.2f}-{paired[-1]:.2f})" if len(paired) > 1 else ""
        print(f"ratio          ours / {name} = {paired[len(paired) // 2]:.2f}{spread}")
    quality = linkage_quality()
    precision, recall = quality["precision"], quality["recall"]
    print(f"linkage        small sector: precision {precision:.4f}, recall {recall:.4f}")


if __name__ == "__main__":
    main()
