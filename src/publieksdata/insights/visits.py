"""Visits, the unit most metrics count: one buyer at one performance of one institution.

Only sold tickets count. Tickets of buyers without any identifier (a person id of null)
count in tickets and revenue, never in visits or reach: no one can tell them apart.
Revenue is summed in whole cents, so every engine gives the same figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
from ibis.expr.types import Table

from publieksdata.insights.source import Source
from publieksdata.standard.definitions import Season, definitions

PERFORMANCE = ("institution_id", "production_key", "starts_at")


def visits(
    source: Source,
    *,
    institutions: Sequence[str] | None = None,
    seasons: Sequence[Season] | None = None,
) -> Table:
    """One row per (performance, person) with what was bought for it."""
    t = source.table("tickets")
    t = t.filter(t.status == definitions()["ticket"].parameters["counted_status"])
    if institutions is not None:
        t = t.filter(t.institution_id.isin(list(institutions)))
    if seasons:
        t = t.filter(
            ibis.or_(
                *(
                    (t.starts_at >= ibis.timestamp(s.start.isoformat()))
                    & (t.starts_at < ibis.timestamp((s + 1).start.isoformat()))
                    for s in seasons
                )
            )
        )
    return t.group_by([*PERFORMANCE, "person_id"]).aggregate(
        tickets=t.ticket_count.sum().cast("int64"),
        revenue_cents=(t.price_paid * 100).round().cast("int64").sum(),
        ordered_at=t.ordered_at.min(),
        channel=t.channel.min(),
        discipline=t.discipline.min(),
        genre=t.genre.min(),
        pc4=t.pc4.min(),
        birth_year=t.birth_year.min(),
        gender=t.gender.min(),
    )
