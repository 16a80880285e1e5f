"""Crossover: where else my audience goes — other disciplines, groups of institutions, or an
institution that agreed to be named; and the tour view: one production's audience at every
venue that played it.

The rows are the visits my visitors made at *other* institutions in the same seasons. Each
carries the other institution's region and main discipline and whether it agreed to appear
by name, so that the release layer can hold figures about others to its institution rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
from ibis.expr.types import StringValue, Table

from publieksdata.insights.dimensions import DIMENSIONS, UNKNOWN, Dimension
from publieksdata.insights.source import Source
from publieksdata.insights.visits import in_seasons, sold_visits
from publieksdata.standard.definitions import Season
from publieksdata.standard.text import Text

OTHERS = "other_institutions"


def elsewhere(source: Source, institution_id: str, seasons: Sequence[Season] | None) -> Table:
    """Visits at other institutions by persons who visited ``institution_id``."""
    every = in_seasons(sold_visits(source), seasons)
    mine = (
        every.filter((every.institution_id == institution_id) & every.person_id.notnull())
        .select("person_id")
        .distinct()
    )
    theirs = every.filter(every.institution_id != institution_id).semi_join(mine, "person_id")
    return with_register(source, theirs)


def on_tour(source: Source, key: str, seasons: Sequence[Season] | None) -> Table:
    """Visits to one production (by its key: folded title and producer) at every venue."""
    every = in_seasons(sold_visits(source), seasons)
    return with_register(source, every.filter(every.production_key == key))


def with_register(source: Source, visits: Table) -> Table:
    """Visits with their institution's province, main discipline, name and consent to be
    named in figures for others."""
    register = source.table("institutions").select(
        "institution_id",
        province=ibis._.province_code.fill_null(UNKNOWN),
        main_discipline=ibis._.disciplines.split(";")[0].strip().fill_null(UNKNOWN),
        named=ibis._.named_in_overlap.fill_null(False).cast("int64"),
        institution_name=ibis._.name.fill_null(ibis._.institution_id),
    )
    joined = visits.left_join(register, "institution_id")
    return joined.select(
        *visits.columns,
        province=joined.province.fill_null(UNKNOWN),
        main_discipline=joined.main_discipline.fill_null(UNKNOWN),
        named=joined.named.fill_null(0),
        institution_name=joined.institution_name.fill_null(joined.institution_id),
    )


def region_discipline(v: Table) -> StringValue:
    """A group of institutions: province and main discipline ('PV27/theatre')."""
    return v.province + "/" + v.main_discipline


def named_institution(v: Table) -> StringValue:
    """The institution by its (public) name where it agreed to be named; all others
    together."""
    return ibis.ifelse(v.named == 1, v.institution_name, OTHERS)


CROSSOVER: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("discipline", Text(nl="Discipline", en="Discipline"),
                  lambda v: v.discipline.fill_null(UNKNOWN), "discipline"),
        Dimension("region_discipline", Text(nl="Provincie en discipline",
                                            en="Province and discipline"), region_discipline),
        Dimension("institution", Text(nl="Instelling", en="Institution"), named_institution,
                  labels={OTHERS: Text(nl="andere instellingen", en="other institutions")}),
    )
}  # fmt: skip
TOUR: dict[str, Dimension] = {
    **DIMENSIONS,
    "venue": Dimension("venue", Text(nl="Speelplek", en="Venue"), named_institution,
                       labels={OTHERS: Text(nl="andere speelplekken", en="other venues")}),
    "region_discipline": CROSSOVER["region_discipline"],
}  # fmt: skip
