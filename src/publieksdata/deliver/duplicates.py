"""Rows delivered twice: identical in every field after normalisation, counted once.

Each row gets a 64-bit hash of the fields that tell rows apart (order, ticket, performance,
buyer, price). Rows with distinct hashes are distinct, so only rows sharing a hash are
compared field by field. A repeat inside one batch (the usual case: an export that repeats
a line) is dropped by the thread that prepares the batch. A repeat of a row from an earlier
batch is rare: the hashes of the rows loaded so far tell when a batch has one, and then
the earlier rows with that hash are read back from the warehouse and compared. A repeat is
dropped before its batch is loaded, so a delivery never deletes rows it loaded itself
(which would make DuckDB write all of them again at commit). A batch's hashes may include
rows later left out (erased persons): that can only ask for a comparison, never drop a row.
A row's discipline and genre are not compared: they are decided per production over the
whole delivery, so two equal lines end up with equal codes whatever their batches said.
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

_NOT_COMPARED = {"source_row", "discipline", "genre"}
COMPARED = ["customer_key", *(f.name for f in FACT_SCHEMA if f.name not in _NOT_COMPARED)]
# The hash covers the fields that tell rows apart; rows that share it are compared in full.
# Cast to the stored types, so that a loaded row hashes as it did in its batch.
HASHED = ("hash(order_id, ticket_number, starts_at::TIMESTAMP, production_key, "
          "customer_key::VARCHAR, price_paid::DOUBLE)")  # fmt: skip
_LATER_REPEATS = (
    "SELECT source_row FROM (SELECT source_row, row_number() OVER "
    f"(PARTITION BY {', '.join(COMPARED)} ORDER BY source_row) AS n FROM data) WHERE n > 1"
)
_EQUAL = " AND ".join(f"d.{name} IS NOT DISTINCT FROM t.{name}" for name in COMPARED)


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

    def known(self, values: np.ndarray) -> np.ndarray:
        """Those of these values that were added before."""
        byte, bit = self._slots(values)
        values = values[(self._bits[byte] & bit) != 0]
        found = []
        for run in self._runs:
            if not len(values):
                break
            position = np.searchsorted(run, values).clip(0, len(run) - 1)
            hit = run[position] == values
            found.append(values[hit])
            values = values[~hit]
        return np.concatenate(found) if found else np.zeros(0, np.uint64)

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

    keep: np.ndarray  # per row of the batch: accepted, and no repeat of an earlier row
    count: int  # accepted rows that repeat an earlier row of the batch
    hashes: np.ndarray  # per row to load, its hash
    distinct: np.ndarray  # the distinct hashes of the rows to load, sorted


class Duplicates:
    """The duplicates of one delivery: within each batch, found by the workers that prepare
    the batches, and across batches, found in order as the batches are loaded."""

    def __init__(self, profile: MappingProfile) -> None:
        self.active = not (profile.grain == "ticket" and not profile.has("ticket.ticket_number"))
        self.count = 0
        self._seen = _Seen()  # hashes of the rows loaded so far
        self._db = MemoryOnly()

    def within(self, data: pa.Table, accepted: np.ndarray) -> Repeats:
        """The accepted rows of the batch that repeat an earlier accepted row of the same
        batch. ``data`` holds every row, rejected ones too, so that the caller leaves out
        both kinds in one filter. Safe to call from several threads at once: it keeps no
        state."""
        if not self.active or not accepted.any():
            return Repeats(accepted, 0, np.zeros(0, np.uint64), np.zeros(0, np.uint64))
        db = self._db.cursor()
        hashes = np.asarray(db.sql(f"SELECT {HASHED} AS h FROM data").fetchnumpy()["h"])
        loaded = hashes[accepted]
        ordered = np.sort(loaded)
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return Repeats(accepted, 0, loaded, ordered)
        shared = sorted_sets.isin(hashes, ordered[1:][same]) & accepted
        repeats = with_arrow(db, _LATER_REPEATS, data.filter(pa.array(shared)))
        keep = accepted & ~sorted_sets.isin(data["source_row"].to_numpy(),
                                            repeats.fetchnumpy()["source_row"])  # fmt: skip
        count = int(accepted.sum() - keep.sum())
        return Repeats(keep, count, hashes[keep], sorted_sets.unique(hashes[keep]))

    def across(self, db: duckdb.DuckDBPyConnection, delivery_id: int, table: pa.Table,
               repeats: Repeats) -> np.ndarray | None:  # fmt: skip
        """Count a batch's repeats, and find the rows that repeat a row of an earlier batch
        (already loaded): the rows of ``table`` to load, or None for all of them. Call in the
        order of loading, before the batch is loaded."""
        self.count += repeats.count
        known = self._seen.known(repeats.distinct)
        self._seen.add(repeats.distinct)
        if not len(known):
            return None
        asked = sorted_sets.isin(repeats.hashes, known)
        candidates = table.select(["source_row", *COMPARED]).filter(pa.array(asked))
        candidates = candidates.append_column("h", pa.array(repeats.hashes[asked]))
        repeated = with_arrow(
            db,
            f"SELECT DISTINCT d.source_row FROM data d JOIN (SELECT *, {HASHED} AS h "
            f"FROM tickets WHERE delivery_id = {int(delivery_id)}) t ON t.h = d.h "
            f"WHERE {_EQUAL}",
            candidates,
        ).fetchnumpy()["source_row"]
        if not len(repeated):
            return None
        self.count += len(repeated)
        return ~sorted_sets.isin(table["source_row"].to_numpy(), repeated)
