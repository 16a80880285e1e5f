"""Code lists are unique, versioned, bilingual and consistent with each other."""

from __future__ import annotations

import itertools
import re
from importlib import resources

import pytest

from publieksdata.standard.codelists import (
    CODELIST_DIR,
    Code,
    CodeList,
    codelist,
    codelists,
    label_key,
)
from publieksdata.standard.text import LANGUAGES

LISTS = codelists()
by_list = pytest.mark.parametrize("list_id", list(LISTS))


def test_the_expected_lists_exist() -> None:
    expected = {"age_band", "channel", "discipline", "gender", "genre", "order_status"}
    assert expected <= set(LISTS)


def test_file_names_match_list_ids() -> None:
    folder = resources.files("publieksdata.standard").joinpath(CODELIST_DIR)
    stems = {e.name.removesuffix(".json") for e in folder.iterdir() if e.name.endswith(".json")}
    assert stems == set(LISTS)


@by_list
def test_list_is_not_empty(list_id: str) -> None:
    assert len(LISTS[list_id].codes) >= 2


@by_list
def test_codes_are_unique(list_id: str) -> None:
    values = LISTS[list_id].values
    assert len(values) == len(set(values))


@by_list
def test_codes_are_non_empty_and_without_surrounding_spaces(list_id: str) -> None:
    for code in LISTS[list_id].values:
        assert code
        assert code == code.strip()


@by_list
def test_version_looks_like_semver(list_id: str) -> None:
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", LISTS[list_id].version)


@by_list
def test_title_description_and_labels_exist_in_both_languages(list_id: str) -> None:
    cl = LISTS[list_id]
    for language in LANGUAGES:
        assert cl.title(language).strip()
        assert cl.description(language).strip()
        for code in cl.codes:
            assert code.label(language).strip(), f"{list_id}:{code.code} has no {language} label"


@by_list
def test_labels_are_unique_per_language(list_id: str) -> None:
    cl = LISTS[list_id]
    for language in LANGUAGES:
        labels = [c.label(language).casefold() for c in cl.codes]
        assert len(labels) == len(set(labels)), f"duplicate {language} labels in {list_id}"


@by_list
def test_only_genres_have_parents(list_id: str) -> None:
    has_parent = any(c.parent is not None for c in LISTS[list_id].codes)
    assert has_parent == (list_id == "genre")


@pytest.mark.parametrize("genre", LISTS["genre"].codes, ids=lambda c: c.code)
def test_every_genre_belongs_to_a_discipline(genre: Code) -> None:
    assert genre.parent in LISTS["discipline"]


@pytest.mark.parametrize("discipline", LISTS["discipline"].values)
def test_every_discipline_has_a_genre(discipline: str) -> None:
    assert LISTS["genre"].children(discipline)


def test_children_partition_the_genres() -> None:
    genres = LISTS["genre"]
    children = [g for d in LISTS["discipline"].values for g in genres.children(d)]
    assert sorted(children) == sorted(genres.values)


def age_bounds(cl: CodeList) -> list[tuple[int, int | None]]:
    return [(c.extra["min"], c.extra.get("max")) for c in cl.codes]


def test_age_bands_start_at_zero_and_are_contiguous() -> None:
    bounds = age_bounds(LISTS["age_band"])
    assert bounds[0][0] == 0
    for (low, high), (next_low, _) in itertools.pairwise(bounds):
        assert high is not None, "only the last band may be open-ended"
        assert low <= high
        assert next_low == high + 1, f"gap or overlap after {low}-{high}"
    assert bounds[-1][1] is None, "the last band must be open-ended"


@pytest.mark.parametrize("band", LISTS["age_band"].codes, ids=lambda c: c.code)
def test_age_band_code_matches_its_bounds(band: Code) -> None:
    low, high = band.extra["min"], band.extra.get("max")
    assert band.code == (f"{low}+" if high is None else f"{low}-{high}")


def test_size_classes_grow() -> None:
    limits = [c.extra.get("max_visits_per_season") for c in LISTS["size_class"].codes]
    assert limits[-1] is None
    bounded = [x for x in limits[:-1] if x is not None]
    assert bounded == sorted(bounded)
    assert len(bounded) == len(limits) - 1


def test_provinces_are_the_twelve_cbs_codes() -> None:
    assert LISTS["province"].values == tuple(f"PV{n}" for n in range(20, 32))


def test_order_status_includes_the_counted_status() -> None:
    assert "sold" in LISTS["order_status"]
    assert {"cancelled", "refunded"} <= set(LISTS["order_status"].values)


def test_lookup() -> None:
    discipline = codelist("discipline")
    assert "theatre" in discipline
    assert "no_such_code" not in discipline
    assert discipline["theatre"].code == "theatre"
    with pytest.raises(KeyError, match="no_such_code"):
        discipline["no_such_code"]
    with pytest.raises(KeyError, match="genre"):
        codelist("no_such_list")


@by_list
def test_every_label_and_alias_stands_for_one_code(list_id: str) -> None:
    """An alias may not also be another code's label or alias: it would quietly mean the
    first one listed."""
    seen: dict[str, str] = {}
    for code in LISTS[list_id].codes:
        words = {label_key(w) for w in (code.code, code.label.nl, code.label.en, *code.aliases)}
        for word in words:
            assert seen.setdefault(word, code.code) == code.code, (list_id, word)
        for alias in code.aliases:
            assert alias, (list_id, code.code)
            assert alias == alias.strip(), (list_id, code.code)


@pytest.mark.parametrize(
    ("list_id", "label", "code"),
    [
        ("order_status", "Verkocht", "sold"),
        ("order_status", "Checked In", "sold"),
        ("order_status", "checked-in", "sold"),
        ("order_status", "ATTENDING", "sold"),
        ("order_status", "Canceled", "cancelled"),
        ("order_status", "Refund", "refunded"),
        ("order_status", "Gereserveerd", None),  # reserved is not sold: the user decides
        ("gender", "Mevr.", "female"),
        ("gender", "Dhr.", "male"),
        ("gender", "X", "other"),
        ("channel", "Website", "online"),
        ("channel", "Aan de deur", "on_site"),
        ("ticket_type", "General Admission", "full_price"),
        ("ticket_type", "Vriendenpas", "member"),
        ("ticket_type", "65+", "senior"),
    ],
)
def test_labels_in_exports_find_their_code(list_id: str, label: str, code: str | None) -> None:
    assert codelist(list_id).code_of(label) == code
