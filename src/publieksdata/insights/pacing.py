"""Pre-sales pacing: how sales for upcoming performances run against comparable past ones.

Existing systems only show performances that have ended. Here every upcoming performance
gets its tickets sold so far beside a sales curve pooled over the institution's past
performances of the same discipline: which share of their final sales they had reached the
same number of days before the start. Pooling (never one past performance) keeps the curve
an aggregate over many buyers.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass

import ibis
from ibis.expr.types import StringValue, Table

from publieksdata.insights.dimensions import UNKNOWN, Dimension, days_ahead
from publieksdata.insights.source import Source
from publieksdata.insights.visits import sold_visits
from publieksdata.standard.text import Text

LOOKBACK_DAYS = 730  # comparable performances: those of the last two years
MIN_COMPARABLE = 3


def upcoming(source: Source, institution_id: str, today: dt.date) -> Table:
    """Visits to this institution's performances that start after ``today``."""
    every = sold_visits(source)
    return every.filter(
        (every.institution_id == institution_id)
        & (every.starts_at >= ibis.timestamp((today + dt.timedelta(days=1)).isoformat()))
    )


def performance(v: Table) -> StringValue:
    """'2026-12-04 20:15 · <production key>': sortable by start."""
    return v.starts_at.cast("string").substr(0, 16) + " · " + v.production_key.fill_null(UNKNOWN)


PERFORMANCE = {
    "performance": Dimension("performance", Text(nl="Voorstelling", en="Performance"),
                             performance),
}  # fmt: skip


@dataclass(frozen=True)
class Curve:
    """Share of final sales reached n days before the start, pooled per discipline."""

    days: list[int]  # sorted lead times of past tickets
    tickets: list[int]  # tickets at each lead time
    performances: int

    @property
    def total(self) -> int:
        return sum(self.tickets)

    def reached(self, days_before: int) -> float | None:
        """Share of final tickets already sold ``days_before`` days before the start."""
        if self.performances < MIN_COMPARABLE or self.total == 0:
            return None
        later = bisect_left(self.days, days_before)  # tickets bought closer to the start
        return 1 - sum(self.tickets[:later]) / self.total


def curves(source: Source, institution_id: str, today: dt.date) -> dict[str, Curve]:
    """Pooled sales curves of the institution's past performances, per discipline."""
    every = sold_visits(source)
    start = ibis.timestamp((today - dt.timedelta(days=LOOKBACK_DAYS)).isoformat())
    end = ibis.timestamp(today.isoformat())
    past = every.filter(
        (every.institution_id == institution_id)
        & (every.starts_at >= start)
        & (every.starts_at < end)
        & every.ordered_at.notnull()
    )
    grouped = (
        past.mutate(discipline=past.discipline.fill_null(UNKNOWN), days=days_ahead(past))
        .group_by(["discipline", "days"])
        .aggregate(tickets=ibis._.tickets.sum())
        .order_by(["discipline", "days"])
        .to_pyarrow()
        .to_pylist()
    )
    per_discipline = (
        past.mutate(discipline=past.discipline.fill_null(UNKNOWN))
        .select("discipline", "production_key", "starts_at")
        .distinct()
        .group_by("discipline")
        .aggregate(performances=ibis._.count())
        .to_pyarrow()
        .to_pylist()
    )
    found: dict[str, Curve] = {}
    for row in per_discipline:
        rows = [r for r in grouped if r["discipline"] == row["discipline"]]
        found[row["discipline"]] = Curve(
            [int(r["days"]) for r in rows],
            [int(r["tickets"]) for r in rows],
            int(row["performances"]),
        )
    return found
