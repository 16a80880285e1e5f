"""The reference implementations agree with the documented definitions."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.standard.codelists import codelist
from publieksdata.standard.definitions import (
    IMPLEMENTATIONS,
    Season,
    age_band,
    counts_as_ticket,
    definitions,
    distance_band,
    distance_km,
    frequency_band,
    group_size,
    is_first_time_in_sector,
    is_lapsed,
    is_new,
    is_returning,
    is_visitor,
    lead_time,
    pc4_area,
    price_band,
    reach,
    recency_band,
    season_of,
    visits,
)
from publieksdata.standard.text import LANGUAGES

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
seasons = st.integers(min_value=1000, max_value=9998).map(Season)
# Seasons a person visited, near enough to each other for look-backs to matter.
near = st.integers(min_value=2010, max_value=2030).map(Season)
visited_sets = st.frozensets(near, max_size=12)

# --- the registry ------------------------------------------------------------------------


def test_every_definition_has_an_implementation_and_vice_versa() -> None:
    assert list(IMPLEMENTATIONS) == list(definitions())


@pytest.mark.parametrize("term", list(definitions()))
def test_definition_is_bilingual(term: str) -> None:
    d = definitions()[term]
    for language in LANGUAGES:
        assert d.term(language).strip()
        assert d.definition(language).strip()


def test_lookback_parameters_agree() -> None:
    # "Every visitor in S is either new or returning" only holds if both look back equally far.
    params = {t: definitions()[t].parameters for t in ("new", "returning", "first_time_in_sector")}
    assert len({p["lookback_seasons"] for p in params.values()}) == 1


# --- seasons -----------------------------------------------------------------------------


@given(dates)
def test_a_date_lies_within_its_season(day: dt.date) -> None:
    season = season_of(day)
    assert season.start <= day <= season.end


@given(dates, st.times())
def test_a_datetime_has_the_season_of_its_date(day: dt.date, time: dt.time) -> None:
    assert season_of(dt.datetime.combine(day, time)) == season_of(day)


@given(seasons)
def test_season_name_round_trips(season: Season) -> None:
    assert Season.parse(season.name) == season
    assert Season.parse(str(season)) == season


@given(seasons)
def test_consecutive_seasons_touch(season: Season) -> None:
    following = season + 1
    assert season.end + dt.timedelta(days=1) == following.start
    assert following - 1 == season
    assert season < following


@given(st.integers(min_value=1900, max_value=2200).map(Season))
def test_season_boundaries_belong_to_the_season(season: Season) -> None:
    assert season_of(season.start) == season
    assert season_of(season.end) == season
    assert season_of(season.start - dt.timedelta(days=1)) == season - 1
    assert season_of(season.end + dt.timedelta(days=1)) == season + 1


def test_season_runs_from_august_to_july() -> None:
    season = Season(2025)
    assert season.name == "2025-2026"
    assert season.start == dt.date(2025, 8, 1)
    assert season.end == dt.date(2026, 7, 31)
    assert season_of(dt.date(2025, 7, 31)) == Season(2024)
    assert season_of(dt.date(2026, 1, 1)) == Season(2025)


@pytest.mark.parametrize("name", ["2025-2026", "2025/2026", "2025-26", "2025/26", " 2025 - 2026 "])
def test_season_parse_accepts(name: str) -> None:
    assert Season.parse(name) == Season(2025)


def test_season_parse_across_a_century() -> None:
    assert Season.parse("1999-2000") == Season(1999)
    assert Season.parse("1999-00") == Season(1999)


@pytest.mark.parametrize(
    "name", ["2025-2027", "2025-2025", "2025-3026", "2025-27", "abcd", "", "2025", "25-26"]
)
def test_season_parse_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="season"):
        Season.parse(name)


# --- tickets, visits, visitors, reach ----------------------------------------------------


def test_only_sold_tickets_count() -> None:
    assert counts_as_ticket("sold")
    assert not counts_as_ticket("cancelled")
    assert not counts_as_ticket("refunded")
    assert set(codelist("order_status").values) >= {"sold", "cancelled", "refunded"}


def test_several_tickets_for_one_performance_are_one_visit() -> None:
    assert visits([("p1", "show-a"), ("p1", "show-a"), ("p1", "show-b"), ("p2", "show-a")]) == 3
    assert visits([]) == 0


def test_a_visitor_has_at_least_one_visit() -> None:
    assert not is_visitor(0)
    assert is_visitor(1)
    assert is_visitor(7)


@given(st.lists(st.sampled_from(["a", "b", "c", "d"])))
def test_reach_counts_distinct_persons(persons: list[str]) -> None:
    assert reach(persons) == len(set(persons))
    assert reach(persons + persons) == reach(persons)


# --- recency -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latest", "current", "band"),
    [(2025, 2025, "0"), (2026, 2025, "0"), (2024, 2025, "1"), (2023, 2025, "2"),
     (2022, 2025, "3+"), (1990, 2025, "3+")],
)  # fmt: skip
def test_recency_band_examples(latest: int, current: int, band: str) -> None:
    assert recency_band(Season(latest), Season(current)) == band


@given(st.integers(min_value=1900, max_value=2200), st.integers(min_value=1900, max_value=2200))
def test_every_pair_of_seasons_has_a_documented_recency(latest: int, current: int) -> None:
    assert (
        recency_band(Season(latest), Season(current))
        in definitions()["recency"].parameters["bands"]
    )


# --- frequency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "band"),
    [(1, "1"), (2, "2"), (3, "3-4"), (4, "3-4"), (5, "5-9"), (9, "5-9"), (10, "10+"), (999, "10+")],
)
def test_frequency_band_examples(count: int, band: str) -> None:
    assert frequency_band(count) == band


@given(st.integers(min_value=1, max_value=10**9))
def test_every_positive_count_has_a_documented_band(count: int) -> None:
    assert frequency_band(count) in definitions()["frequency"].parameters["bands"]


@given(st.integers(min_value=1, max_value=10**6))
def test_frequency_bands_do_not_go_down(count: int) -> None:
    bands = definitions()["frequency"].parameters["bands"]
    assert bands.index(frequency_band(count)) <= bands.index(frequency_band(count + 1))


@given(st.integers(max_value=0))
def test_frequency_band_rejects_zero_and_negatives(count: int) -> None:
    with pytest.raises(ValueError, match="frequency band"):
        frequency_band(count)


# --- new, returning, lapsed, first time in the sector -----------------------------------


@given(visited_sets, near)
def test_every_visitor_is_exactly_one_of_new_or_returning(
    visited: frozenset[Season], season: Season
) -> None:
    new, returning = is_new(season, visited), is_returning(season, visited)
    if season in visited:
        assert new != returning
    else:
        assert not new
        assert not returning


@given(visited_sets, near)
def test_new_and_returning_accept_any_collection(
    visited: frozenset[Season], season: Season
) -> None:
    as_list = sorted(visited) * 2
    assert is_new(season, as_list) == is_new(season, visited)
    assert is_returning(season, as_list) == is_returning(season, visited)


def test_new_and_returning_use_three_seasons_of_look_back() -> None:
    s = Season(2025)
    assert is_new(s, {s})
    assert is_returning(s, {s, s - 1})
    assert is_returning(s, {s, s - 3})
    assert is_new(s, {s, s - 4})
    assert not is_returning(s, {s, s - 4})
    assert is_new(s, {s, s + 1}), "later seasons do not make a visitor returning"


def test_lapsed_examples() -> None:
    s = Season(2025)
    assert is_lapsed(s, {s - 1})
    assert is_lapsed(s, {s - 3, s - 1})
    assert not is_lapsed(s, {s - 1, s}), "still visiting"
    assert not is_lapsed(s, {s - 2}), "already lapsed a season earlier"
    assert not is_lapsed(s, set())
    assert not is_lapsed(s, {s + 1})


@given(visited_sets, near)
def test_lapsed_means_came_last_season_but_not_this_one(
    visited: frozenset[Season], season: Season
) -> None:
    lapsed = is_lapsed(season, visited)
    assert lapsed == ((season - 1) in visited and season not in visited)
    if lapsed:
        # Someone who lapsed and comes back a season later is returning, not new.
        assert is_returning(season + 1, visited | {season + 1})


@given(st.lists(visited_sets, min_size=1, max_size=5), near)
def test_first_time_in_sector_implies_new_at_every_institution(
    per_institution: list[frozenset[Season]], season: Season
) -> None:
    sector = frozenset().union(*per_institution)
    if is_first_time_in_sector(season, sector):
        for visited in per_institution:
            if season in visited:
                assert is_new(season, visited)
    assert is_first_time_in_sector(season, sector) == is_new(season, sector)


def test_first_time_in_sector_sees_other_institutions() -> None:
    s = Season(2025)
    museum, theatre = {s}, {s - 2}
    assert is_new(s, museum)
    assert not is_first_time_in_sector(s, museum | theatre)


# --- postcode area -----------------------------------------------------------------------


@pytest.mark.parametrize("postcode", ["1234 AB", "1234ab", "1234AB", " 1234 ab ", "1234"])
def test_pc4_area_accepts(postcode: str) -> None:
    assert pc4_area(postcode) == "1234"


@pytest.mark.parametrize(
    "postcode", ["0123 AB", "12345", "", "   ", "123", "1234XYZ", "1234 A", "AB 1234", "12 34 AB"]
)
def test_pc4_area_rejects(postcode: str) -> None:
    with pytest.raises(ValueError, match="postcode"):
        pc4_area(postcode)


@given(
    st.integers(min_value=1000, max_value=9999),
    st.text(alphabet=string.ascii_letters, min_size=2, max_size=2),
    st.sampled_from(["", " "]),
)
def test_pc4_area_keeps_the_four_digits(digits: int, letters: str, space: str) -> None:
    assert pc4_area(f"{digits}{space}{letters}") == str(digits)


def test_pc4_area_does_not_echo_the_postcode() -> None:
    # A postcode is a direct identifier; it must not end up in logs via an error message.
    with pytest.raises(ValueError, match="postcode") as raised:
        pc4_area("12345 XY")
    assert "12345" not in str(raised.value)


# --- age band ----------------------------------------------------------------------------

AGE_BANDS = codelist("age_band")


@pytest.mark.parametrize("age", range(111))
def test_every_age_has_a_band_that_contains_it(age: int) -> None:
    season = Season(2025)
    band = age_band(season.start_year - age, season)
    assert band in AGE_BANDS
    extra = AGE_BANDS[band].extra
    assert extra["min"] <= age
    assert "max" not in extra or age <= extra["max"]


@pytest.mark.parametrize(
    ("age", "band"), [(0, "0-14"), (14, "0-14"), (15, "15-24"), (74, "65-74"), (75, "75+")]
)
def test_age_band_edges(age: int, band: str) -> None:
    assert age_band(2025 - age, Season(2025)) == band


def test_age_band_depends_on_the_season() -> None:
    assert age_band(2000, Season(2024)) == "15-24"
    assert age_band(2000, Season(2025)) == "25-34"


def test_age_band_rejects_birth_after_the_season() -> None:
    with pytest.raises(ValueError, match="birth year"):
        age_band(2030, Season(2025))


@pytest.mark.parametrize(
    ("paid", "tickets", "band"),
    [(0.0, 2, "0"), (0.01, 1, "0-10"), (19.99, 1, "10-20"), (40.0, 2, "20-35"),
     (35.0, 1, "35-50"), (150.0, 2, "75+"), (75.0, 1, "75+")],
)  # fmt: skip
def test_price_band_examples(paid: float, tickets: int, band: str) -> None:
    assert price_band(paid, tickets) == band


@pytest.mark.parametrize(
    ("days", "band"), [(0, "0-1"), (1, "0-1"), (2, "2-7"), (30, "8-30"), (31, "31-90"),
                       (400, "91+"), (-3, "0-1")],
)  # fmt: skip
def test_lead_time_counts_whole_days(days: int, band: str) -> None:
    start = dt.datetime(2025, 10, 3, 20, 15)
    assert lead_time(start - dt.timedelta(days=days, hours=-1), start) == band


@given(st.integers(1, 10_000))
def test_group_size_and_frequency_share_their_bands(tickets: int) -> None:
    assert group_size(tickets) == frequency_band(tickets)


def test_distance_between_amsterdam_and_rotterdam() -> None:
    km = distance_km((52.3731, 4.8922), (51.9225, 4.4792))  # Dam square, Coolsingel
    assert 57 < km < 59
    assert distance_band(km) == "50-100"
    assert [distance_band(x) for x in (0, 4.99, 5, 99.9, 100, 250)] == [
        "0-5", "0-5", "5-10", "50-100", "100+", "100+"]  # fmt: skip
