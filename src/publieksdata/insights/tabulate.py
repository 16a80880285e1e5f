"""Tabulation: a metric cut by breakdowns, with every margin, ready for the release layer.

Each cell carries, beside its figures, what disclosure control needs to judge it: the
number of distinct persons, of institutions, the two largest institutions' revenue and
the sum of its persons' record keys (for deterministic cell-key noise). Margins (a
breakdown's value null) are computed from the visits themselves, never summed from cells.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import ibis
import pyarrow as pa
from ibis.expr.types import Table

from publieksdata.insights.dimensions import DIMENSIONS, Dimension
from publieksdata.pseudonymise.keys import DeploymentKey

# Record keys live in [0, PRIME): a keyed affine map of the person id, in 64-bit integers on
# every engine (person ids stay below 2**32, so nothing overflows).
PRIME = 2**31 - 1
MEASURES = ("persons", "visits", "tickets", "revenue_cents")
COUNTED = ("persons", "visits", "tickets")  # what a differentially private table counts
PROTECTION = ("institutions", "top_revenue_cents", "second_revenue_cents", "key_sum",
              "all_named")  # fmt: skip


@dataclass(frozen=True)
class RecordKeys:
    """Secret record keys for each contribution: a person's visits at one institution.

    Keying the contribution, not the person alone, means that any change to what one
    institution delivered about a person draws the noise of the cells it touches anew,
    whether or not that person is also counted through another institution.
    """

    factor: int
    offset: int
    secret: bytes

    @classmethod
    def from_key(cls, key: DeploymentKey) -> RecordKeys:
        secret = key.derive("release/record-key").reveal()
        factor = int.from_bytes(secret[:8], "big") % (PRIME - 1) + 1
        offset = int.from_bytes(secret[8:16], "big") % PRIME
        return cls(factor, offset, secret[16:])

    @property
    def fingerprint(self) -> str:
        """Names these keys without revealing them (stored tabulations carry it)."""
        material = f"{self.factor}:{self.offset}:".encode() + self.secret
        return hashlib.sha256(b"record-keys/" + material).hexdigest()[:16]

    def institution(self, institution_id: str) -> int:
        digest = hmac.new(self.secret, institution_id.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % PRIME

    def institutions(self, ids: Sequence[str]) -> Table:
        """A small table of institution keys to join (the same on every engine)."""
        return ibis.memtable(
            {"institution_id": list(ids), "institution_key": [self.institution(i) for i in ids]}
        )

    def of(self, person: ibis.Value, institution_key: ibis.Value) -> ibis.Value:
        return (person.cast("int64") * self.factor + institution_key + self.offset) % PRIME


def levels(by: Sequence[str]) -> list[tuple[str, ...]]:
    """The full breakdown first, then every margin down to the grand total."""
    return [combo for size in range(len(by), -1, -1) for combo in combinations(by, size)]


def _aggregate(table: Table, by: Sequence[str], **metrics: ibis.Value) -> Table:
    return table.group_by(list(by)).aggregate(**metrics) if by else table.aggregate(**metrics)


def _level(cells: Table, by: Sequence[str], level: tuple[str, ...]) -> Table:
    counted = "visits" in cells.columns  # rows that stand for several visits say how many
    per_row = cells.visits if counted else cells.person_id.notnull().cast("int64")
    contributions = cells.group_by([*level, "person_id", "institution_id"]).aggregate(
        visits=per_row.sum(),
        tickets=cells.tickets.sum(),
        revenue_cents=cells.revenue_cents.sum(),
        record_key=cells.record_key.max(),
        named=cells.named.max(),
    )
    figures = _aggregate(
        contributions,
        level,
        persons=contributions.person_id.nunique(),
        visits=contributions.visits.sum(),
        tickets=contributions.tickets.sum(),
        revenue_cents=contributions.revenue_cents.sum(),
        key_sum=contributions.record_key.sum().fill_null(0) % PRIME,
    )
    per_institution = _aggregate(
        contributions,
        (*level, "institution_id"),
        revenue=contributions.revenue_cents.sum(),
        named=contributions.named.max(),
    )
    ranked = per_institution.mutate(
        rank=ibis.row_number().over(  # counts from 0
            group_by=list(level) or None, order_by=[ibis.desc("revenue"), "institution_id"]
        )
    )
    shares = _aggregate(
        ranked,
        level,
        institutions=ranked.institution_id.nunique(),
        top_revenue_cents=ranked.revenue.max(),
        second_revenue_cents=ibis.ifelse(ranked["rank"] == 0, 0, ranked.revenue).max(),
        all_named=ranked.named.min(),  # every institution in the cell agreed to be named
    )
    joined = figures.join(shares, list(level)) if level else figures.cross_join(shares)
    filled = {d: (joined[d] if d in level else ibis.null("string")) for d in by}
    return joined.select(**filled, **{m: joined[m] for m in (*MEASURES, *PROTECTION)})


def tabulate(visits: Table, by: Sequence[str], keys: RecordKeys,
             institutions: Sequence[str] | None = None,
             breakdowns: Mapping[str, Dimension] = DIMENSIONS,
             margins: bool = True) -> pa.Table:  # fmt: skip
    """Every cell and margin of ``visits`` cut by ``by``, sorted for a stable order.

    ``institutions`` lists every institution the visits may come from (all of them when
    not given, found with one more query). Rows that stand for several visits carry their
    number in a ``visits`` column. ``margins=False`` leaves the margins out, for a table
    that is never released with them (the overlap matrix)."""
    cells = visits.mutate(**{d: breakdowns[d].expression(visits) for d in by})
    if institutions is None:
        found = cells.select("institution_id").distinct().to_pyarrow().column(0).to_pylist()
        institutions = [str(i) for i in found]
    cells = cells.join(keys.institutions(sorted(institutions)), "institution_id")
    if "named" not in cells.columns:  # only overlap questions name institutions
        cells = cells.mutate(named=ibis.literal(0, "int64"))
    cells = cells.mutate(record_key=keys.of(cells.person_id, cells.institution_key))
    parts = [_level(cells, by, level) for level in (levels(by) if margins else [tuple(by)])]
    union = parts[0] if len(parts) == 1 else ibis.union(*parts)
    table = union.to_pyarrow()
    types = {m: pa.int64() for m in (*MEASURES, *PROTECTION)}
    table = table.cast(pa.schema([pa.field(d, pa.string()) for d in by] +
                                 [pa.field(m, t) for m, t in types.items()]))  # fmt: skip
    return table.sort_by([(d, "ascending", "at_end") for d in by]) if by else table


def bounded(visits: Table, by: Sequence[str], *, max_cells: int, max_visits: int,
            max_tickets: int,
            breakdowns: Mapping[str, Dimension] = DIMENSIONS) -> pa.Table:  # fmt: skip
    """The cells and margins of ``visits`` cut by ``by`` with each person's contribution
    bounded, as differential privacy needs: at every level (the detailed cells, each margin,
    the total) a person counts in at most ``max_cells`` cells, chosen at random. Visits and
    tickets are counted in the detailed cells only, at most ``max_visits`` and
    ``max_tickets`` per person and cell (margins of those are sums of noisy cells). Only
    recognised persons count."""
    known = visits.filter(visits.person_id.notnull())
    cells = known.mutate(**{d: breakdowns[d].expression(known) for d in by})
    parts = []
    for level in levels(by):
        per_person = _aggregate(cells, (*level, "person_id"), visits=cells.count(),
                                tickets=cells.tickets.sum())  # fmt: skip
        salt = ibis.literal(secrets.token_hex(16))  # a fresh draw of cells for every table
        shuffle = ibis.literal("").concat(salt, *(per_person[d] for d in level)).hash()
        ranked = per_person.mutate(
            pick=ibis.row_number().over(group_by="person_id", order_by=shuffle)
        )
        kept = ranked.filter(ranked.pick < max_cells)
        detailed = len(level) == len(by)
        counted = _aggregate(
            kept,
            level,
            persons=kept.count(),
            visits=ibis.least(kept.visits, max_visits).sum() if detailed
            else ibis.null("int64"),
            tickets=ibis.least(kept.tickets, max_tickets).sum() if detailed
            else ibis.null("int64"),
        )  # fmt: skip
        filled = {d: (counted[d] if d in level else ibis.null("string")) for d in by}
        parts.append(counted.select(**filled, **{m: counted[m].cast("int64") for m in COUNTED}))
    union = parts[0] if len(parts) == 1 else ibis.union(*parts)
    table = union.to_pyarrow()
    return table.cast(pa.schema([pa.field(d, pa.string()) for d in by] +
                                [pa.field(m, pa.int64()) for m in COUNTED]))  # fmt: skip
