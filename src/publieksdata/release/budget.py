"""The privacy budget: what every differentially private release spent, kept and enforced.

Each new table with differential privacy spends ε; together they may not exceed the
deployment's budget. The ledger is a small SQLite file beside the warehouse (the warehouse
is opened read-only for questions). It also keeps each released table: asking the same
question of the same data again returns the very same answer and spends nothing, so
repeating a question cannot average the noise away nor drain the budget. Spending is
checked and recorded in one exclusive transaction, so two processes cannot both take the
last of the budget.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pyarrow as pa

from publieksdata.errors import PubliekError

SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    question TEXT NOT NULL,
    stamp TEXT NOT NULL,
    epsilon REAL NOT NULL,
    released_at TEXT NOT NULL,
    cells BLOB NOT NULL,
    PRIMARY KEY (question, stamp)
);
"""


class Ledger:
    """The budget ledger of one deployment."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute(SCHEMA)
            yield db

    def spent(self) -> float:
        """ε spent so far."""
        with self._connect() as db:
            return float(db.execute("SELECT coalesce(sum(epsilon), 0) FROM releases").fetchone()[0])

    def releases(self) -> int:
        """How many tables were released with differential privacy."""
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM releases").fetchone()[0])

    def answer(self, question: str, stamp: str) -> pa.Table | None:
        """The table released earlier for this question of this data, if any."""
        with self._connect() as db:
            row = db.execute("SELECT cells FROM releases WHERE question = ? AND stamp = ?",
                             (question, stamp)).fetchone()  # fmt: skip
        return None if row is None else pa.ipc.open_stream(pa.py_buffer(row[0])).read_all()

    def spend(self, question: str, stamp: str, epsilon: float, budget: float,
              cells: pa.Table) -> pa.Table:  # fmt: skip
        """Record a release and what it spent, or refuse it when the budget would be
        exceeded. If another process released the same question meanwhile, its table is
        the answer and nothing more is spent."""
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, cells.schema) as writer:
            writer.write_table(cells)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT cells FROM releases WHERE question = ? AND stamp = ?",
                                 (question, stamp)).fetchone()  # fmt: skip
                if row is not None:
                    db.execute("ROLLBACK")
                    return pa.ipc.open_stream(pa.py_buffer(row[0])).read_all()
                spent = float(db.execute("SELECT coalesce(sum(epsilon), 0) FROM releases")
                              .fetchone()[0])  # fmt: skip
                if spent + epsilon > budget + 1e-9:
                    raise PubliekError(
                        "privacy-budget-exhausted",
                        f"Het privacybudget is op: er is al ε = {spent:.2f} van {budget:.2f} "
                        f"besteed en deze tabel kost {epsilon:.2f}. Eerder gestelde vragen "
                        "blijven beschikbaar; de beheerder beslist over meer budget.",
                        f"The privacy budget is used up: ε = {spent:.2f} of {budget:.2f} is "
                        f"spent and this table costs {epsilon:.2f}. Questions asked before "
                        "remain available; the operator decides on more budget.",
                    )
                db.execute(
                    "INSERT INTO releases VALUES (?, ?, ?, ?, ?)",
                    (question, stamp, epsilon, dt.datetime.now(dt.UTC).isoformat(),
                     sink.getvalue().to_pybytes()),
                )  # fmt: skip
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return cells
