"""Visits, the unit most metrics count: one buyer at one performance of one institution.

Only sold tickets count. Tickets of buyers without any identifier (a person id of null)
count in tickets and revenue, never in visits or reach: no one can tell them apart.
Revenue is summed in whole cents, so every engine gives the same figure.

Some breakdowns need more than the visit itself — the person's other seasons (new or
returning, retention) or their number of visits in the question's scope (frequency). Those
columns are added only when a breakdown asks for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import ibis
from ibis.expr.types import Table

from publieksdata.insights.source import Source
from publieksdata.standard.definitions import Season, definitions, season_of
from publieksdata.warehouse.summary import fold

PERFORMANCE = ("institution_id", "production_key", "starts_at")
VISIT_COLUMNS = (*PERFORMANCE, "person_id", "tickets", "revenue_cents", "ordered_at", "channel",
                 "discipline", "genre", "pc4", "birth_year", "gender")  # fmt: skip
HISTORY = "history"  # prior_here, next_here, prior_sector, next_sector
FREQUENCY = "frequency"  # visits_in_scope
RECENCY = "recency"  # seasons_ago: from the person's latest season in scope to today's
AREA = "area"  # municipality_code, province_code (from the reference data per PC4)
DISTANCE = "distance"  # distance_km: visitor's PC4 to the institution's municipality


def _lookback(term: str) -> int:
    return int(definitions()[term].parameters["lookback_seasons"])


def sold_visits(source: Source) -> Table:
    """Every sold visit in the warehouse, with the start year of its season: the summary
    the warehouse keeps, or (``raw``, DuckDB only) the same fold run on the tickets on the
    fly."""
    if source.raw:
        source.backend.raw_sql(f"CREATE OR REPLACE TEMP VIEW folded_visits AS {fold()}")
    facts = source.table("folded_visits" if source.raw else "visit_facts")
    return facts.select(*VISIT_COLUMNS, "season_year")


def in_seasons(visits: Table, seasons: Sequence[Season] | None) -> Table:
    """Only the visits in these seasons (all of them when none are given)."""
    if not seasons:
        return visits
    return visits.filter(visits.season_year.isin([s.start_year for s in seasons]))


def _presence(visits: Table, keys: list[str], lookback: int) -> Table:
    """Per person (and institution) and season: seen in the seasons before, and the next."""
    seen = visits.filter(visits.person_id.notnull()).select(*keys, "season_year").distinct()
    other = seen.view()
    same = [seen[k] == other[k] for k in keys]
    before = seen.join(
        other,
        [*same, other.season_year >= seen.season_year - lookback,
         other.season_year <= seen.season_year - 1],
    ).select(*(seen[k] for k in keys), seen.season_year).distinct()  # fmt: skip
    after = (
        seen.join(other, [*same, other.season_year == seen.season_year + 1])
        .select(*(seen[k] for k in keys), seen.season_year)
        .distinct()
    )
    return (
        seen.left_join(before.mutate(prior=True), [*keys, "season_year"])
        .select(*keys, "season_year", "prior")
        .left_join(after.mutate(following=True), [*keys, "season_year"])
        .select(*keys, "season_year", prior=ibis._.prior.fill_null(False),
                following=ibis._.following.fill_null(False))
    )  # fmt: skip


def _with_history(mine: Table, everything: Table, today: dt.date) -> Table:
    here = _presence(mine, ["person_id", "institution_id"], _lookback("new")).rename(
        prior_here="prior", next_here="following"
    )
    sector = _presence(everything, ["person_id"], _lookback("first_time_in_sector")).rename(
        prior_sector="prior", next_sector="following"
    )
    joined = mine.left_join(here, ["person_id", "institution_id", "season_year"]).select(
        *mine.columns, "prior_here", "next_here"
    )
    current = season_of(today).start_year
    return joined.left_join(sector, ["person_id", "season_year"]).select(
        *mine.columns, "prior_here", "next_here", "prior_sector", "next_sector",
        next_known=joined.season_year + 1 < current,  # the next season has ended
    )  # fmt: skip


def _with_distance(source: Source, mine: Table) -> Table:
    """The great-circle distance from the middle of the visitor's PC4 to the middle of the
    institution's municipality (its PC4 middles weighted by inhabitants)."""
    areas = source.table("areas").filter(ibis._.latitude.notnull())
    weight = areas.inhabitants.fill_null(0).cast("float64") + 1.0  # unknown still counts
    towns = (
        areas.mutate(weight=weight)
        .group_by("municipality_code")
        .aggregate(
            town_lat=(ibis._.latitude * ibis._.weight).sum() / ibis._.weight.sum(),
            town_lon=(ibis._.longitude * ibis._.weight).sum() / ibis._.weight.sum(),
        )
    )
    located = (
        source.table("institutions")
        .select("institution_id", "municipality_code")
        .join(towns, "municipality_code")
        .select("institution_id", "town_lat", "town_lon")
    )
    homes = areas.select("pc4", home_lat="latitude", home_lon="longitude")
    joined = mine.left_join(homes, "pc4").select(*mine.columns, "home_lat", "home_lon")
    joined = joined.left_join(located, "institution_id").select(
        *joined.columns, "town_lat", "town_lon"
    )
    lat1, lon1 = joined.home_lat.radians(), joined.home_lon.radians()
    lat2, lon2 = joined.town_lat.radians(), joined.town_lon.radians()
    h = ((lat2 - lat1) / 2).sin() ** 2 + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2).sin() ** 2
    radius = float(definitions()["distance"].parameters["earth_radius_km"])
    return joined.select(*mine.columns, distance_km=2 * radius * h.sqrt().asin())


def visits(
    source: Source,
    *,
    institutions: Sequence[str] | None = None,
    seasons: Sequence[Season] | None = None,
    extras: Collection[str] = (),
    today: dt.date | None = None,
) -> Table:
    """One row per (performance, person) with what was bought for it, in the scope asked.

    ``today`` decides which seasons have ended, for retention, and the current season, for
    recency (default: the real today)."""
    everything = sold_visits(source)
    mine = everything
    if institutions is not None:
        mine = mine.filter(mine.institution_id.isin(list(institutions)))
    if HISTORY in extras:
        mine = _with_history(mine, everything, today or dt.date.today())
    mine = in_seasons(mine, seasons)
    if AREA in extras:
        areas = source.table("areas").select("pc4", "municipality_code", "province_code")
        joined = mine.left_join(areas, "pc4")
        mine = joined.select(*mine.columns, "municipality_code", "province_code")
    if DISTANCE in extras:
        mine = _with_distance(source, mine)
    if RECENCY in extras:
        current = season_of(today or dt.date.today()).start_year
        latest = mine.season_year.max().over(group_by=mine.person_id)
        mine = mine.mutate(seasons_ago=ibis.greatest(current - latest, 0))
    if FREQUENCY in extras:
        mine = mine.mutate(
            visits_in_scope=mine.person_id.notnull()
            .cast("int64")
            .sum()
            .over(group_by=mine.person_id)
        )
    return mine
