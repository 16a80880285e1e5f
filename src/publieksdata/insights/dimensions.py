"""The breakdowns a metric can be cut by, each a portable expression over visits.

Every dimension gives text codes from the standard (``unknown`` where the delivery did not
say), so that released tables look the same on every engine and in every language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ibis
from ibis.expr.types import StringValue, Table

from publieksdata.errors import PubliekError
from publieksdata.standard.codelists import codelist
from publieksdata.standard.definitions import (
    band_bounds,
    band_labels,
    bounded_bands,
    definitions,
)
from publieksdata.standard.text import Language, Text

UNKNOWN = "unknown"
UNKNOWN_LABEL = Text(nl="onbekend", en="unknown")
SECONDS_PER_DAY = 86_400


def _param(term: str, name: str) -> object:
    return definitions()[term].parameters[name]


def _bands(value: ibis.Value, bands: Sequence[str]) -> StringValue:
    """'1', '2', '3-4', '10+' style bands over a whole number."""
    branches = []
    for band in bands:
        low, high = band_bounds(band)
        test = value >= low if high == float("inf") else (value >= low) & (value <= high)
        branches.append((test, band))
    return ibis.cases(*branches, else_=UNKNOWN)


def season_start(v: Table) -> ibis.Value:
    """The year in which the season of the performance began."""
    start_month = int(str(_param("season", "start_month")))
    year = v.starts_at.year()
    return ibis.ifelse(v.starts_at.month() >= start_month, year, year - 1)


def season(v: Table) -> StringValue:
    start = season_start(v)
    return start.cast("string") + "-" + (start + 1).cast("string")


def month(v: Table) -> StringValue:
    return v.starts_at.year().cast("string") + "-" + v.starts_at.month().cast("string").lpad(2, "0")


def weekday(v: Table) -> StringValue:
    """ISO day of the week: 1 is Monday."""
    return (v.starts_at.day_of_week.index() + 1).cast("string")


def _coded(column: str) -> Callable[[Table], StringValue]:
    def code(v: Table) -> StringValue:
        return v[column].fill_null(UNKNOWN)

    return code


def age_band(v: Table) -> StringValue:
    """Age on the first day of the season, from the birth year."""
    age = season_start(v) - v.birth_year.cast("int64")
    branches = []
    for code in codelist(str(_param("age_band", "codelist"))).codes:
        low, high = code.extra["min"], code.extra.get("max")
        test = age >= low if high is None else (age >= low) & (age <= high)
        branches.append((test, code.code))
    return ibis.cases(*branches, else_=UNKNOWN)


def price_band(v: Table) -> StringValue:
    """Price per ticket in the bands of the standard; the lower bound belongs to the band."""
    *bounded, (last, _) = bounded_bands("price_band")
    cents = v.revenue_cents
    branches = [(cents <= 0, "0")]
    branches += [(cents < high * 100 * v.tickets, label) for label, high in bounded]
    return ibis.cases(*branches, else_=last)


def days_ahead(v: Table) -> ibis.Value:
    """Whole calendar days (UTC) from the first order to the performance, at least 0."""
    days = (v.starts_at.epoch_seconds() // SECONDS_PER_DAY) - (
        v.ordered_at.epoch_seconds() // SECONDS_PER_DAY
    )
    return ibis.greatest(days, 0)


def lead_time(v: Table) -> StringValue:
    """Whole days between the first order and the performance (calendar days, UTC)."""
    banded = _bands(days_ahead(v), band_labels("lead_time"))
    return ibis.ifelse(v.ordered_at.isnull(), UNKNOWN, banded)


def group_size(v: Table) -> StringValue:
    return _bands(v.tickets, band_labels("group_size"))


def frequency(v: Table) -> StringValue:
    """The band of the person's number of visits within the question's scope."""
    banded = _bands(v.visits_in_scope, band_labels("frequency"))
    return ibis.ifelse(v.person_id.isnull(), UNKNOWN, banded)


def recency(v: Table) -> StringValue:
    """Whole seasons from the person's latest visit in the question's scope to now."""
    banded = _bands(v.seasons_ago, band_labels("recency"))
    return ibis.ifelse(v.person_id.isnull(), UNKNOWN, banded)


def _flag(column: str, yes: str, no: str) -> Callable[[Table], StringValue]:
    def flag(v: Table) -> StringValue:
        return ibis.cases((v.person_id.isnull(), UNKNOWN), (v[column], yes), else_=no)

    return flag


VISITOR_TYPES = {
    "new": Text(nl="nieuw (3 seizoenen niet geweest)", en="new (not in the 3 seasons before)"),
    "returning": Text(nl="terugkerend", en="returning"),
}
SECTOR_NEWCOMERS = {
    "first_time_in_sector": Text(nl="nieuw in de sector", en="new to the sector"),
    "known_in_sector": Text(nl="eerder in de sector", en="seen in the sector before"),
}


def _retention(column: str) -> Callable[[Table], StringValue]:
    def retained(v: Table) -> StringValue:
        return ibis.cases(
            (v.person_id.isnull(), UNKNOWN),
            (~v.next_known, "not_yet_known"),
            (v[column], "returned"),
            else_="lapsed",
        )

    return retained


RETENTION = {
    "not_yet_known": Text(
        nl="nog niet bekend (volgend seizoen loopt nog)",
        en="not known yet (the next season has not ended)",
    ),
    "returned": Text(nl="volgend seizoen teruggekomen", en="came back the next season"),
    "lapsed": Text(nl="volgend seizoen niet teruggekomen", en="did not come back the next season"),
}


def distance(v: Table) -> StringValue:
    """The band of the straight-line distance travelled; unknown without areas."""
    *bounded, (last, _) = bounded_bands("distance")
    branches = [(v.distance_km.isnull(), UNKNOWN)]
    branches += [(v.distance_km < high, label) for label, high in bounded]
    return ibis.cases(*branches, else_=last)


@dataclass(frozen=True)
class Dimension:
    """A breakdown: its expression and its name for people."""

    name: str
    label: Text
    expression: Callable[[Table], StringValue]
    codes: str | None = None  # the code list whose labels people see
    labels: dict[str, Text] | None = None  # or labels of its own
    needs: str | None = None  # extra visit columns it reads (see insights.visits)
    bands: str | None = None  # the definition whose bands give the order of its values

    def order(self) -> tuple[str, ...]:
        """Its values in their natural order (code list or bands), where there is one."""
        if self.codes is not None:
            return codelist(self.codes).values
        if self.bands is not None:
            return band_labels(self.bands)
        if self.labels is not None:
            return tuple(self.labels)
        return ()

    def sort_key(self, value: str | None) -> tuple[int, int, str]:
        """Values in their natural order, then the rest, unknown and the total last."""
        if value is None:
            return (3, 0, "")
        order = self.order()
        if value in order:
            return (0, order.index(value), value)
        return (2 if value == UNKNOWN else 1, 0, value)

    def show(self, value: str, language: Language = "nl") -> str:
        """A value as people read it: the code list's label where there is one."""
        if value == UNKNOWN:
            return UNKNOWN_LABEL(language)
        if self.codes is not None and value in codelist(self.codes):
            return codelist(self.codes)[value].label(language)
        if self.labels is not None and value in self.labels:
            return self.labels[value](language)
        return value


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("season", Text(nl="Seizoen", en="Season"), season),
        Dimension("month", Text(nl="Maand", en="Month"), month),
        Dimension("weekday", Text(nl="Weekdag", en="Weekday"), weekday),
        Dimension(
            "discipline", Text(nl="Discipline", en="Discipline"), _coded("discipline"), "discipline"
        ),
        Dimension("genre", Text(nl="Genre", en="Genre"), _coded("genre"), "genre"),
        Dimension("pc4", Text(nl="Postcodegebied (PC4)", en="Postcode area (PC4)"), _coded("pc4")),
        Dimension(
            "municipality",
            Text(nl="Gemeente", en="Municipality"),
            _coded("municipality_code"),
            needs="area",
        ),
        Dimension(
            "province",
            Text(nl="Provincie", en="Province"),
            _coded("province_code"),
            "province",
            needs="area",
        ),
        Dimension(
            "distance",
            Text(nl="Reisafstand (km)", en="Distance travelled (km)"),
            distance,
            needs="distance",
            bands="distance",
        ),
        Dimension("age_band", Text(nl="Leeftijd", en="Age"), age_band, "age_band"),
        Dimension("gender", Text(nl="Gender", en="Gender"), _coded("gender"), "gender"),
        Dimension(
            "channel", Text(nl="Verkoopkanaal", en="Sales channel"), _coded("channel"), "channel"
        ),
        Dimension(
            "price_band", Text(nl="Prijsklasse", en="Price band"), price_band, bands="price_band"
        ),
        Dimension(
            "lead_time", Text(nl="Boekingstermijn", en="Lead time"), lead_time, bands="lead_time"
        ),
        Dimension(
            "group_size", Text(nl="Groepsgrootte", en="Group size"), group_size, bands="group_size"
        ),
        Dimension(
            "frequency",
            Text(nl="Aantal bezoeken", en="Number of visits"),
            frequency,
            needs="frequency",
            bands="frequency",
        ),
        Dimension(
            "recency",
            Text(nl="Seizoenen sinds laatste bezoek", en="Seasons since last visit"),
            recency,
            needs="recency",
            bands="recency",
        ),
        Dimension(
            "visitor_type",
            Text(nl="Nieuw of terugkerend", en="New or returning"),
            _flag("prior_here", "returning", "new"),
            labels=VISITOR_TYPES,
            needs="history",
        ),
        Dimension(
            "sector_newcomer",
            Text(nl="Nieuw in de sector", en="New to the sector"),
            _flag("prior_sector", "known_in_sector", "first_time_in_sector"),
            labels=SECTOR_NEWCOMERS,
            needs="history",
        ),
        Dimension(
            "retention",
            Text(nl="Behoud bij de instelling", en="Retention here"),
            _retention("next_here"),
            labels=RETENTION,
            needs="history",
        ),
        Dimension(
            "sector_retention",
            Text(nl="Behoud in de sector", en="Retention in the sector"),
            _retention("next_sector"),
            labels=RETENTION,
            needs="history",
        ),
    )
}
MAX_DIMENSIONS = 2  # fixed templates: a metric is cut by at most two breakdowns at once


def dimensions(
    by: str | Sequence[str] | None,
    registry: Mapping[str, Dimension] | None = None,
    most: int = MAX_DIMENSIONS,
) -> tuple[str, ...]:
    """The checked list of breakdowns asked for."""
    registry = DIMENSIONS if registry is None else registry
    names = (by,) if isinstance(by, str) else tuple(by or ())
    for name in names:
        if name not in registry:
            known = ", ".join(registry)
            raise PubliekError(
                "insights-unknown-breakdown",
                f"'{name}' is geen indeling. Kies uit: {known}.",
                f"'{name}' is not a breakdown. Choose from: {known}.",
            )
    if len(set(names)) != len(names) or len(names) > most:
        raise PubliekError(
            "insights-too-many-breakdowns",
            f"Kies hoogstens {most} verschillende indelingen tegelijk.",
            f"Choose at most {most} different breakdowns at once.",
        )
    return names
