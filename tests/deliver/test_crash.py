"""Crash test: kill -9 during a delivery; afterwards the warehouse holds all of it or none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from publieksdata.pseudonymise.keys import init_key
from publieksdata.synth.generator import SectorSummary
from publieksdata.warehouse import summary
from publieksdata.warehouse.store import Warehouse
from tests.pseudonymise.test_linkage import bridged_buyers

DRIVER = """
import sys
from pathlib import Path
from publieksdata.deliver.delivery import deliver_file
from publieksdata.pseudonymise.keys import load_key
from publieksdata.warehouse.store import Warehouse
key = load_key(Path(sys.argv[2]), env={})
with Warehouse(Path(sys.argv[3]), key.fingerprint) as warehouse:
    deliver_file(Path(sys.argv[1]), "I0001", warehouse, key,
                 progress=lambda rows: print("rows", rows, flush=True))
print("done", flush=True)
"""


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "publieksdata", *args]


def big_export(source: Path, target: Path, copies: int) -> None:
    """The rows of one export many times over, each copy with its own order numbers."""
    header, *rows = source.read_text("utf-8-sig").splitlines()
    with target.open("w", encoding="utf-8") as out:
        out.write(header + "\r\n")
        for copy in range(copies):
            out.writelines(f"{copy}{row}\r\n" for row in rows)


def counts(warehouse: Path) -> tuple[int, int]:
    db = duckdb.connect(str(warehouse), read_only=True)
    tickets = db.execute("SELECT count(*) FROM tickets").fetchall()[0][0]
    deliveries = db.execute("SELECT count(*) FROM deliveries").fetchall()[0][0]
    db.close()
    return tickets, deliveries


@pytest.mark.slow
def test_a_killed_delivery_leaves_the_warehouse_as_it_was(
    sector: SectorSummary, tmp_path: Path
) -> None:
    kassa = [sector.folder / e["file"] for e in sector.exports if e["layout"] == "kassa_nl"]
    big = tmp_path / "big.csv"
    big_export(kassa[0], big, 400)  # several batches of 200,000 rows
    env = {
        **os.environ,
        "PUBLIEKSDATA_DATA": str(tmp_path / "data"),
        "PUBLIEKSDATA_KEY_FILE": str(tmp_path / "key"),
    }
    subprocess.run(command("key", "init"), env=env, check=True, capture_output=True)
    subprocess.run(command("deliver", str(kassa[1]), "--institution", "I0002"), env=env,
                   check=True, capture_output=True)  # fmt: skip
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    before = counts(warehouse)

    # A real delivery in its own process that says when each batch is in; it is killed as
    # soon as the first of its several batches has been written inside the transaction.
    victim = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(big), str(tmp_path / "key"), str(warehouse)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert victim.stdout is not None
    first = victim.stdout.readline()
    assert first.startswith("rows "), first
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert counts(warehouse) == before

    again = subprocess.run(
        command("deliver", str(big), "--institution", "I0001", "--json"), env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert '"status": "loaded"' in again.stdout
    tickets, deliveries = counts(warehouse)
    assert deliveries == before[1] + 1
    assert tickets > before[0]


SETTLE_NEVER = """
import os, sys
from pathlib import Path
import publieksdata.deliver.delivery as delivery
from publieksdata.pseudonymise.keys import load_key
from publieksdata.warehouse import merges
from publieksdata.warehouse.store import Warehouse
delivery.BATCH_ROWS = 1
merges.settle = lambda db: os._exit(9)  # the process dies right after the delivery's commit
key = load_key(Path(sys.argv[2]), env={})
with Warehouse(Path(sys.argv[3]), key.fingerprint) as warehouse:
    delivery.deliver_file(Path(sys.argv[1]), sys.argv[4], warehouse, key)
"""


def test_a_delivery_killed_before_its_merges_are_applied_is_whole_on_the_next_open(
    sector: SectorSummary, tmp_path: Path
) -> None:
    """A delivery that merged persons commits its rows and its merges; the merges reach
    the stored rows just after. A process that dies in between leaves a warehouse that
    applies them as soon as it is opened for writing."""
    path, institution = bridged_buyers(sector, tmp_path)
    key_file = tmp_path / "key"
    key = init_key(key_file)
    warehouse = tmp_path / "w.duckdb"
    died = subprocess.run(
        [sys.executable, "-c", SETTLE_NEVER, str(path), str(key_file), str(warehouse),
         institution], capture_output=True, text=True,
    )  # fmt: skip
    assert died.returncode == 9, died.stderr
    db = duckdb.connect(str(warehouse), read_only=True)
    assert db.execute("SELECT count(*) FROM tickets").fetchall() == [(5,)]
    assert db.execute("SELECT count(*) FROM person_merges").fetchall() == [(2,)]
    db.close()
    with Warehouse(warehouse, key.fingerprint) as opened:
        persons = opened.db.execute("SELECT DISTINCT person_id FROM tickets").fetchall()
        assert len(persons) == 1
        for table in ("tickets", "visit_facts", "person_keys"):
            assert opened.db.execute(
                f"SELECT DISTINCT person_id FROM {table}").fetchall() == persons  # fmt: skip
        fold = opened.db.execute(f"{summary.fold()} ORDER BY ALL").fetchall()
        assert opened.db.execute("SELECT * FROM visit_facts ORDER BY ALL").fetchall() == fold
        assert opened.scalar("SELECT count(*) FROM person_merges") == 0
