"""Notation variants of one identifier are the same identifier once normalised."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.synth import identity as ids
from publieksdata.synth.population import LETTER_PAIRS, Population

from .normal import POSTCODE, norm_email, norm_phone, norm_postcode


def population(phone_country: list[int], phone_number: list[int]) -> Population:
    """A population of just the fields the identity functions read."""
    n = len(phone_number)
    zeros = np.zeros(n, np.int64)
    fields = dict.fromkeys(Population.__dataclass_fields__, zeros)
    fields.update(
        phone_country=np.array(phone_country, np.int16),
        phone_number=np.array(phone_number, np.int64),
        has_phone=np.ones(n, bool),
    )
    return Population(**fields)


dutch_numbers = st.one_of(
    st.integers(600_000_000, 699_999_999),  # mobile
    st.sampled_from([10, 20, 30, 40, 50, 70, 71, 72, 73, 76]).flatmap(
        lambda area: st.integers(area * 10_000_000 + 1_000_000, area * 10_000_000 + 9_999_999)
    ),
)


@given(st.lists(st.tuples(dutch_numbers, st.integers(0, 999)), min_size=1, max_size=40))
def test_every_dutch_phone_notation_is_the_same_e164_number(
    drawn: list[tuple[int, int]],
) -> None:
    numbers, variants = zip(*drawn, strict=True)
    pop = population([31] * len(numbers), list(numbers))
    person = np.arange(len(numbers))
    written = ids.phone_notations(pop, person, np.array(variants)).to_pylist()
    canonical = ids.canonical_phone(pop, person).to_pylist()
    for text, e164 in zip(written, canonical, strict=True):
        assert "+" + norm_phone(text) == e164


@given(
    st.lists(
        st.tuples(
            st.sampled_from([32, 49]), st.integers(100_000_000, 9_999_999_999), st.integers(0, 99)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_foreign_phone_numbers_keep_their_country_code(drawn: list[tuple[int, int, int]]) -> None:
    countries, numbers, variants = zip(*drawn, strict=True)
    pop = population(list(countries), list(numbers))
    person = np.arange(len(numbers))
    written = ids.phone_notations(pop, person, np.array(variants)).to_pylist()
    for text, country, number in zip(written, countries, numbers, strict=True):
        assert not text.startswith("0") or text.startswith("00")
        assert norm_phone(text) == f"{country}{number}"


local_parts = st.from_regex(r"[a-z][a-z0-9._]{0,20}", fullmatch=True)
domains = st.from_regex(r"[a-z]{2,12}\.(nl|com|be)", fullmatch=True)


@given(st.lists(st.tuples(local_parts, domains, st.integers(0, 99)), min_size=1, max_size=30))
def test_email_notations_differ_only_in_case_and_spaces(
    drawn: list[tuple[str, str, int]],
) -> None:
    emails = [f"{local}@{domain}" for local, domain, _ in drawn]
    variants = np.array([v for _, _, v in drawn])
    written = ids.email_notations(pa.array(emails), variants).to_pylist()
    assert [norm_email(w) for w in written] == emails


@given(
    st.lists(
        st.tuples(st.integers(1000, 9999), st.sampled_from(LETTER_PAIRS), st.integers(0, 99)),
        min_size=1,
        max_size=30,
    )
)
def test_postcode_notations_normalise_to_one_valid_postcode(
    drawn: list[tuple[int, str, int]],
) -> None:
    codes = [f"{digits} {letters}" for digits, letters, _ in drawn]
    written = ids.postcode_notations(pa.array(codes), np.array([v for *_, v in drawn])).to_pylist()
    for text, code in zip(written, codes, strict=True):
        assert norm_postcode(text) == code.replace(" ", "")
        assert POSTCODE.fullmatch(text.upper())


def test_generated_postcode_letters_are_never_the_forbidden_ones() -> None:
    assert not {"SA", "SD", "SS"} & set(LETTER_PAIRS)
    assert all(
        re.fullmatch(r"[A-Z]{2}", pair) and not set(pair) & set("FIOQUY") for pair in LETTER_PAIRS
    )


def test_ascii_fold_makes_names_fit_for_email_addresses() -> None:
    assert ids.ascii_fold("Małgorzata") == "malgorzata"
    assert ids.ascii_fold("Yılmaz") == "yilmaz"
    assert ids.ascii_fold("van 't Hek") == "vanthek"
    assert ids.ascii_fold("Öztürk") == "ozturk"
