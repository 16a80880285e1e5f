"""The overlap matrix: for every two groups of the sector, how many persons visited both.

A group is a discipline, a province and main discipline of institutions, or an institution
that agreed to be named (all others together). Cell (A, B) counts the persons who visited
both A and B; the diagonal (A, A) is the reach of A. Every cell is made of the visits of
those persons at A *and* at B, so that the release layer counts the institutions on both
sides when it applies its institution rules: a cell says something about both groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
from ibis.expr.types import Table

from publieksdata.insights.crossover import CROSSOVER, with_register
from publieksdata.insights.dimensions import Dimension
from publieksdata.insights.source import Source
from publieksdata.insights.visits import in_seasons, sold_visits
from publieksdata.standard.definitions import Season
from publieksdata.standard.text import Text

GROUP, ALSO = "group", "also"


def pairs(source: Source, by: str, seasons: Sequence[Season] | None) -> Table:
    """Per person, group A and institution at A: their visits, paired with every group B
    that person visited (A itself included); and the same once more as seen from B. Visits
    are folded per person, group and institution first, so the pairing stays small."""
    every = in_seasons(sold_visits(source), seasons)
    visits = with_register(source, every.filter(every.person_id.notnull()))
    grouped = visits.mutate(_group=CROSSOVER[by].expression(visits))
    folded = grouped.group_by(["person_id", "_group", "institution_id"]).aggregate(
        visits=grouped.count(),
        tickets=grouped.tickets.sum(),
        revenue_cents=grouped.revenue_cents.sum(),
        named=grouped.named.max(),
    )
    groups = folded.select("person_id", _other="_group").distinct()
    joined = folded.join(groups, "person_id")
    columns = ("person_id", "institution_id", "visits", "tickets", "revenue_cents", "named")
    from_group = joined.select(*columns, **{GROUP: joined._group, ALSO: joined._other})
    from_also = joined.filter(joined._group != joined._other).select(
        *columns, **{GROUP: joined._other, ALSO: joined._group}
    )
    return ibis.union(from_group, from_also)


def _side(name: str, label: Text, by: str) -> Dimension:
    source = CROSSOVER[by]
    return Dimension(name, label, lambda v: v[name], codes=source.codes, labels=source.labels)


def matrix_dimensions(by: str) -> dict[str, Dimension]:
    """The two sides of the matrix, showing groups as ``by`` does."""
    return {
        GROUP: _side(GROUP, Text(nl="Bezocht", en="Visited"), by),
        ALSO: _side(ALSO, Text(nl="Ook bezocht", en="Also visited"), by),
    }
