"""Rows delivered twice: identical in every field after normalisation, counted once.

Each row gets a 64-bit hash of the fields that tell rows apart (order, ticket, performance,
buyer, price). Rows with distinct hashes are distinct, so only rows sharing a hash are
compared field by field. A repeat inside one batch (the usual case: an export that repeats
a line) is dropped by the thread that prepares the batch. A repeat of a row from an earlier
batch is rare: the hashes of the rows loaded so far, each with its row number, tell which
earlier rows to compare it with, and it is dropped before its batch is loaded, so a
delivery never deletes rows it loaded itself (which would make DuckDB write all of them
again at commit). A batch's hashes may include rows later left out (erased persons): that
can only ask for a comparison, never drop a row.
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
HASHED = "order_id, ticket_number, starts_at, production_key, customer_key, price_paid"
_LATER_REPEATS = (
    "SELECT source_row FROM (SELECT source_row, row_number() OVER "
    f"(PARTITION BY {', '.join(COMPARED)} ORDER BY source_row) AS n FROM data) WHERE n > 1"
)
_EQUAL = " AND ".join(f"d.{name} IS NOT DISTINCT FROM t.{name}" for name in COMPARED)


class _Seen:
    """The hashes of the rows loaded so far, each with its row number, as a few sorted runs
    merged like the digits of a binary counter: adding a batch and searching it cost little
    however long the delivery is (one sorted array, merged again at every batch, made ten
    million rows crawl). A bit per value of a hash's top bits answers most searches without
    touching the runs."""

    _TOP_BITS = 27  # 2**27 bits, 16 MB: at ten million hashes 7 % of new ones are searched

    def __init__(self) -> None:
        # (hashes sorted, their rows); each run at least twice as long as the next
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._bits = np.zeros(1 << (self._TOP_BITS - 3), np.uint8)

    def _slots(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = np.asarray(values, np.uint64) >> np.uint64(64 - self._TOP_BITS)
        return top >> np.uint64(3), np.uint8(1) << (top & np.uint64(7)).astype(np.uint8)

    def matches(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For every earlier row whose hash equals one of ``values``: the position of that
        value, and the row."""
        byte, bit = self._slots(values)
        asked = np.flatnonzero((self._bits[byte] & bit) != 0)
        found: list[tuple[np.ndarray, np.ndarray]] = []
        for hashes, rows in self._runs:
            if not len(asked):
                break
            first = np.searchsorted(hashes, values[asked], side="left")
            counts = np.searchsorted(hashes, values[asked], side="right") - first
            if counts.any():
                which = np.repeat(asked, counts)
                starts = np.repeat(first - np.cumsum(counts) + counts, counts)
                found.append((which, rows[starts + np.arange(len(which))]))
        if not found:
            return np.zeros(0, np.intp), np.zeros(0, np.int64)
        return np.concatenate([w for w, _ in found]), np.concatenate([r for _, r in found])

    def add(self, values: np.ndarray, rows: np.ndarray) -> None:
        """Remember rows by their hashes (``values`` sorted, ``rows`` in the same order)."""
        if len(values) == 0:
            return
        byte, bit = self._slots(values)
        np.bitwise_or.at(self._bits, byte, bit)
        run = (values, rows)
        while self._runs and len(self._runs[-1][0]) <= 2 * len(run[0]):
            run = _merged(self._runs.pop(), run)
        self._runs.append(run)


def _merged(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted runs as one, in linear steps: each value of ``b`` goes after the values
    of ``a`` that are not larger."""
    at = np.searchsorted(a[0], b[0], side="right") + np.arange(len(b[0]))
    rest = np.ones(len(a[0]) + len(b[0]), bool)
    rest[at] = False
    out = []
    for mine, theirs in zip(a, b, strict=True):
        both = np.empty(len(rest), mine.dtype)
        both[at], both[rest] = theirs, mine
        out.append(both)
    return out[0], out[1]


@dataclass
class Repeats:
    """What one batch's own rows say about duplicates (found in the first stage)."""

    keep: np.ndarray | None  # rows to load; None: all of them
    count: int  # rows that repeat an earlier row of the batch
    hashes: np.ndarray  # the hashes of the rows to load, sorted
    rows: np.ndarray  # their source rows, in the same order
    positions: np.ndarray  # and their positions among the rows to load


def _by_hash(hashes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes sorted, with the rows and positions that go with them."""
    order = np.argsort(hashes)
    return hashes[order], rows[order], order


class Duplicates:
    """The duplicates of one delivery: within each batch, found by the workers that prepare
    the batches, and across batches, found in order as the batches are loaded."""

    def __init__(self, profile: MappingProfile) -> None:
        self.active = not (profile.grain == "ticket" and not profile.has("ticket.ticket_number"))
        self.count = 0
        self._seen = _Seen()  # hashes of the rows loaded so far
        self._db = MemoryOnly()

    def within(self, data: pa.Table) -> Repeats:
        """The rows of the batch that repeat an earlier row of the same batch. Safe to call
        from several threads at once: it keeps no state."""
        if not self.active or data.num_rows == 0:
            return Repeats(None, 0, *_by_hash(np.zeros(0, np.uint64), np.zeros(0, np.int64)))
        db = self._db.cursor()
        hashes = np.asarray(db.sql(f"SELECT hash({HASHED}) AS h FROM data").fetchnumpy()["h"])
        rows = data["source_row"].to_numpy()
        order = np.argsort(hashes)
        same = hashes[order[1:]] == hashes[order[:-1]]
        if not same.any():
            return Repeats(None, 0, hashes[order], rows[order], order)
        shared = np.zeros(len(hashes), bool)
        shared[order[1:][same]] = shared[order[:-1][same]] = True
        repeats = with_arrow(db, _LATER_REPEATS, data.filter(pa.array(shared)))
        keep = ~sorted_sets.isin(rows, repeats.fetchnumpy()["source_row"])
        return Repeats(keep, int((~keep).sum()), *_by_hash(hashes[keep], rows[keep]))

    def across(self, db: duckdb.DuckDBPyConnection, delivery_id: int, table: pa.Table,
               repeats: Repeats) -> np.ndarray | None:  # fmt: skip
        """Count a batch's repeats, and find the rows that repeat a row of an earlier batch
        (already loaded): the rows of ``table`` to load, or None for all of them. Call in the
        order of loading, before the batch is loaded."""
        self.count += repeats.count
        which, earlier = self._seen.matches(repeats.hashes)
        self._seen.add(repeats.hashes, repeats.rows)
        if not len(which):
            return None
        candidates = table.select(["source_row", *COMPARED]).take(repeats.positions[which])
        candidates = candidates.append_column("earlier", pa.array(earlier, pa.int64()))
        repeated = with_arrow(
            db,
            f"SELECT DISTINCT d.source_row FROM data d JOIN tickets t "
            f"ON t.delivery_id = {int(delivery_id)} AND t.source_row = d.earlier WHERE {_EQUAL}",
            candidates,
        ).fetchnumpy()["source_row"]
        if not len(repeated):
            return None
        self.count += len(repeated)
        return ~sorted_sets.isin(table["source_row"].to_numpy(), repeated)
