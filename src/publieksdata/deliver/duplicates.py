"""Rows delivered twice: identical in every field after normalisation, counted once.

Each row gets a 64-bit hash of the fields that tell rows apart (order, ticket, performance,
buyer, price). Rows with distinct hashes are distinct, so only rows sharing a hash are
compared field by field. A repeat inside one batch (the usual case:
an export that repeats a line) is dropped before it is loaded, by the thread that prepares
the batch. A repeat of a row from an earlier batch is rare; then one exact query over the
delivery removes it at the end. A batch's hashes may include rows later left out (erased
persons): that can only ask for the exact query, never drop a row.
Per-ticket exports without a ticket number cannot tell a duplicate from a second ticket:
there nothing is removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from publieksdata import sorted_sets
from publieksdata.deliver.convert import FACT_SCHEMA
from publieksdata.deliver.mapping import MappingProfile
from publieksdata.sql import MemoryOnly, with_arrow

COMPARED = ", ".join(["customer_key", *(f.name for f in FACT_SCHEMA if f.name != "source_row")])
# The hash covers the fields that tell rows apart; rows that share it are compared in full.
HASHED = "order_id, ticket_number, starts_at, production_key, customer_key, price_paid"
_LATER_REPEATS = (
    "SELECT source_row FROM (SELECT source_row, row_number() OVER "
    f"(PARTITION BY {COMPARED} ORDER BY source_row) AS n FROM {{rows}}) WHERE n > 1"
)


class _Seen:
    """A growing set of hashes as a few sorted runs, merged like the digits of a binary
    counter: adding a batch and searching it cost little however long the delivery is
    (one sorted array, merged again at every batch, made ten million rows crawl). A bit per
    value of a hash's top bits answers most searches without touching the runs."""

    _TOP_BITS = 27  # 2**27 bits, 16 MB: at ten million hashes 7 % of new ones are searched

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []  # sorted; each at least twice as long as the next
        self._bits = np.zeros(1 << (self._TOP_BITS - 3), np.uint8)

    def _slots(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = np.asarray(values, np.uint64) >> np.uint64(64 - self._TOP_BITS)
        return top >> np.uint64(3), np.uint8(1) << (top & np.uint64(7)).astype(np.uint8)

    def any_of(self, values: np.ndarray) -> bool:
        """Whether any of these values was added before."""
        byte, bit = self._slots(values)
        values = values[(self._bits[byte] & bit) != 0]
        for run in self._runs:
            if not len(values):
                return False
            position = np.searchsorted(run, values).clip(0, len(run) - 1)
            if (run[position] == values).any():
                return True
        return False

    def add(self, values: np.ndarray) -> None:
        if len(values) == 0:
            return
        byte, bit = self._slots(values)
        np.bitwise_or.at(self._bits, byte, bit)
        run = np.sort(values)
        while self._runs and len(self._runs[-1]) <= 2 * len(run):
            run = np.sort(np.concatenate([self._runs.pop(), run]), kind="stable")
        self._runs.append(run)


@dataclass
class Repeats:
    """What one batch's own rows say about duplicates (found in the first stage)."""

    keep: np.ndarray | None  # rows to load; None: all of them
    count: int  # rows that repeat an earlier row of the batch
    hashes: np.ndarray  # the distinct hashes of the batch's rows


class Duplicates:
    """The duplicates of one delivery: within each batch, found by the workers that prepare
    the batches, and across batches, noted in order as the batches are loaded."""

    def __init__(self, profile: MappingProfile) -> None:
        self.active = not (profile.grain == "ticket" and not profile.has("ticket.ticket_number"))
        self.count = 0
        self._seen = _Seen()  # hashes of the rows loaded so far
        self._across = False  # a row shares its hash with a row of an earlier batch
        self._db = MemoryOnly()

    def within(self, data: pa.Table) -> Repeats:
        """The rows of the batch that repeat an earlier row of the same batch. Safe to call
        from several threads at once: it keeps no state."""
        if not self.active or data.num_rows == 0:
            return Repeats(None, 0, np.zeros(0, np.uint64))
        db = self._db.cursor()
        hashes = np.asarray(db.sql(f"SELECT hash({HASHED}) AS h FROM data").fetchnumpy()["h"])
        values, counts = np.unique(hashes, return_counts=True)
        if not (counts > 1).any():
            return Repeats(None, 0, values)
        shared = sorted_sets.isin(hashes, values[counts > 1])
        repeats = with_arrow(
            db, _LATER_REPEATS.format(rows="data"), data.filter(pa.array(shared))
        ).fetchnumpy()["source_row"]
        keep = ~sorted_sets.isin(data["source_row"].to_numpy(), repeats)
        return Repeats(keep, len(repeats), sorted_sets.unique(hashes[keep]))

    def note(self, repeats: Repeats) -> None:
        """Count a batch's repeats and remember its hashes; call in the order of loading."""
        self.count += repeats.count
        self._across |= self._seen.any_of(repeats.hashes)
        self._seen.add(repeats.hashes)

    def drop_across_batches(self, db: duckdb.DuckDBPyConnection, delivery_id: int) -> None:
        """Remove loaded rows that repeat a row of an earlier batch (exactly compared)."""
        if not self._across:
            return
        rows = f"tickets WHERE delivery_id = {int(delivery_id)}"
        removed = db.execute(
            f"DELETE FROM {rows} AND source_row IN ({_LATER_REPEATS.format(rows=rows)})"
        ).fetchall()
        self.count += int(removed[0][0])
