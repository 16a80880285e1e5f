"""The shared definitions, in code: one function per term of ``v1/definitions.json``.

These are the reference implementations, one record at a time. Metric queries over the
warehouse must agree with them; the parameters (season start, look-back) come from the
JSON so the documentation and the code cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from publieksdata.standard.codelists import codelist
from publieksdata.standard.text import Text


@dataclass(frozen=True)
class Definition:
    """One term of the shared vocabulary with its parameters."""

    id: str
    term: Text
    definition: Text
    parameters: dict[str, Any]


@cache
def definitions() -> dict[str, Definition]:
    """All definitions by id, in documented order."""
    text = (
        resources.files("publieksdata.standard").joinpath("v1/definitions.json").read_text("utf-8")
    )
    return {
        d["id"]: Definition(
            id=d["id"],
            term=Text.from_json(d["term"]),
            definition=Text.from_json(d["definition"]),
            parameters=d.get("parameters", {}),
        )
        for d in json.loads(text)["definitions"]
    }


def _param(term: str, name: str) -> Any:
    return definitions()[term].parameters[name]


@dataclass(frozen=True, order=True)
class Season:
    """A cultural season, e.g. 2025-2026, running from 1 August to 31 July."""

    start_year: int

    @property
    def name(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}"

    @property
    def start(self) -> dt.date:
        return dt.date(
            self.start_year, _param("season", "start_month"), _param("season", "start_day")
        )

    @property
    def end(self) -> dt.date:
        """The last day that belongs to the season."""
        return Season(self.start_year + 1).start - dt.timedelta(days=1)

    def __add__(self, seasons: int) -> Season:
        return Season(self.start_year + seasons)

    def __sub__(self, seasons: int) -> Season:
        return Season(self.start_year - seasons)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, name: str) -> Season:
        """Read '2025-2026' (also '2025/2026' and '2025-26')."""
        match = re.fullmatch(r"\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*", name)
        if not match:
            raise ValueError(f"'{name}' is not a season; write it as 2025-2026")
        start, end = int(match[1]), match[2]
        follows = int(end) == start + 1 if len(end) == 4 else int(end) == (start + 1) % 100
        if not follows:
            raise ValueError(f"'{name}' is not a season: the second year must follow the first")
        return cls(start)


def season_of(moment: dt.date) -> Season:
    """The season in which a performance or visit on this date takes place."""
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    start = dt.date(day.year, _param("season", "start_month"), _param("season", "start_day"))
    return Season(day.year if day >= start else day.year - 1)


def counts_as_ticket(status: str) -> bool:
    """Only sold tickets count; cancelled and refunded ones never do."""
    return bool(status == _param("ticket", "counted_status"))


def visits(performances_by_buyer: Collection[tuple[str, str]]) -> int:
    """Visits are distinct (buyer, performance) pairs: several tickets are one visit."""
    return len(set(performances_by_buyer))


def is_visitor(visit_count: int) -> bool:
    """A visitor has at least the minimum number of visits in the period."""
    return bool(visit_count >= _param("visitor", "min_visits"))


def reach(persons: Collection[str]) -> int:
    """Reach counts distinct persons."""
    return len(set(persons))


def band_bounds(band: str) -> tuple[int, float]:
    """The lowest and highest whole number of a band such as '3-4', '2' or '10+'."""
    if band.endswith("+"):
        return int(band[:-1]), float("inf")
    low, _, high = band.partition("-")
    return int(low), int(high or low)


def frequency_band(visit_count: int) -> str:
    """The documented band ('1', '2', '3-4', '5-9', '10+') for a visitor's visits."""
    for band in _param("frequency", "bands"):
        low, high = band_bounds(band)
        if low <= visit_count <= high:
            return str(band)
    raise ValueError(f"{visit_count} visits fall in no frequency band; a visitor has at least 1")


def recency_band(latest: Season, current: Season) -> str:
    """The documented band ('0', '1', '2', '3+') of whole seasons from a visitor's latest
    visit to the current season; a visit in the current season or later is '0'."""
    ago = max(current.start_year - latest.start_year, 0)
    for band in _param("recency", "bands"):
        low, high = band_bounds(band)
        if low <= ago <= high:
            return str(band)
    raise ValueError(f"{ago} seasons fall in no recency band")


def _seasons_before(season: Season, lookback: int) -> set[Season]:
    return {season - k for k in range(1, lookback + 1)}


def is_new(season: Season, seasons_visited: Collection[Season]) -> bool:
    """Visited the institution in ``season`` and not in the look-back seasons before it."""
    before = _seasons_before(season, _param("new", "lookback_seasons"))
    return season in seasons_visited and not before & set(seasons_visited)


def is_returning(season: Season, seasons_visited: Collection[Season]) -> bool:
    """Visited in ``season`` and also in one of the look-back seasons before it."""
    before = _seasons_before(season, _param("returning", "lookback_seasons"))
    return season in seasons_visited and bool(before & set(seasons_visited))


def is_lapsed(season: Season, seasons_visited: Collection[Season]) -> bool:
    """Visited in the season before ``season`` but not in ``season`` itself."""
    gap = _param("lapsed", "gap_seasons")
    return (season - gap) in seasons_visited and season not in seasons_visited


def is_first_time_in_sector(season: Season, sector_seasons_visited: Collection[Season]) -> bool:
    """New to every participating institution: :func:`is_new` over the sector's visits."""
    before = _seasons_before(season, _param("first_time_in_sector", "lookback_seasons"))
    return season in sector_seasons_visited and not before & set(sector_seasons_visited)


def pc4_area(postcode: str) -> str:
    """The four digits of a Dutch postcode ('1234 AB', '1234ab' or just '1234')."""
    digits = _param("pc4_area", "digits")
    match = re.fullmatch(rf"\s*([1-9][0-9]{{{digits - 1}}})\s*(?:[A-Za-z]{{2}})?\s*", postcode)
    if not match:
        raise ValueError("not a Dutch postcode")
    return match[1]


def age_band(birth_year: int, season: Season) -> str:
    """The age band of someone born in ``birth_year`` on the first day of ``season``."""
    age = season.start.year - birth_year
    for code in codelist(_param("age_band", "codelist")).codes:
        low, high = code.extra["min"], code.extra.get("max")
        if age >= low and (high is None or age <= high):
            return code.code
    raise ValueError(f"birth year {birth_year} gives no valid age in season {season}")


def _in_bands(value: int, bands: list[str], what: str) -> str:
    for band in bands:
        low, high = band_bounds(band)
        if low <= value <= high:
            return band
    raise ValueError(f"{value} falls in no {what} band")


def bounded_bands(term: str) -> list[tuple[str, float]]:
    """The bands of a term given by bounds ('0-5', '5-10', ..., '100+'), each with the bound
    below which a value falls in it; the lower bound belongs to the band."""
    parameters = definitions()[term].parameters
    bounds = next(v for k, v in parameters.items() if k.startswith("bounds_"))
    pairs = [(f"{low}-{high}", float(high)) for low, high in pairwise(bounds)]
    return [*pairs, (f"{bounds[-1]}+", float("inf"))]


def band_labels(term: str) -> tuple[str, ...]:
    """A banded term's bands in their natural order (the price bands start with free)."""
    parameters = definitions()[term].parameters
    if "bands" in parameters:
        return tuple(parameters["bands"])
    labels = tuple(label for label, _ in bounded_bands(term))
    return ("0", *labels) if term == "price_band" else labels


def price_band(paid: float, tickets: int) -> str:
    """The band of the price per ticket ('0', '0-10', ..., '75+'); free tickets are '0'."""
    per_ticket = paid / tickets
    if per_ticket <= 0:
        return "0"
    return next(label for label, high in bounded_bands("price_band") if per_ticket < high)


def lead_time(ordered: dt.datetime, starts: dt.datetime) -> str:
    """The band of whole days between ordering and the performance."""
    days = max((starts.date() - ordered.date()).days, 0)
    return _in_bands(days, _param("lead_time", "bands"), "lead time")


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line (great-circle) distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        (lon2 - lon1) / 2) ** 2  # fmt: skip
    return 2 * float(_param("distance", "earth_radius_km")) * math.asin(math.sqrt(h))


def distance_band(km: float) -> str:
    """The band of a distance in kilometres ('0-5', ..., '100+')."""
    return next(label for label, high in bounded_bands("distance") if km < high)


def group_size(tickets: int) -> str:
    """The band of the number of tickets one buyer bought for one visit."""
    return _in_bands(tickets, _param("group_size", "bands"), "group size")


# Every documented term maps to the function that implements it; a test keeps them equal.
IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "season": season_of,
    "ticket": counts_as_ticket,
    "visit": visits,
    "visitor": is_visitor,
    "reach": reach,
    "frequency": frequency_band,
    "recency": recency_band,
    "new": is_new,
    "returning": is_returning,
    "lapsed": is_lapsed,
    "first_time_in_sector": is_first_time_in_sector,
    "pc4_area": pc4_area,
    "age_band": age_band,
    "price_band": price_band,
    "lead_time": lead_time,
    "group_size": group_size,
    "distance": distance_band,
}
