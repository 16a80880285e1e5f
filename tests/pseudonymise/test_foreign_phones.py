"""Foreign numbers in Arrow agree with phonenumbers, number by number."""

from __future__ import annotations

import random

import phonenumbers
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from publieksdata.pseudonymise import foreign_phones as fp
from publieksdata.pseudonymise.normalise import phone, phones

_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_TYPES = sorted(
    {v for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()} - {99}
)  # every type but UNKNOWN


def _notation(code: int, nsn: str, rnd: random.Random) -> str:
    prefix = rnd.choice(["+", "00", "+", "+ ", "00 "])
    separator = rnd.choice(["", " ", "-", ".", " "])
    cut = rnd.randint(0, len(nsn))
    parts = [str(code), nsn[:cut], nsn[cut:]] if separator else [f"{code}{nsn}"]
    return prefix + separator.join(p for p in parts if p)


def _mutated(nsn: str, rnd: random.Random) -> str:
    digits = list(nsn)
    for _ in range(rnd.randint(0, 3)):
        at = rnd.randrange(len(digits) + 1)
        roll = rnd.random()
        if roll < 0.5 and at < len(digits):
            digits[at] = rnd.choice("0123456789")
        elif roll < 0.75:
            digits.insert(at, rnd.choice("0123456789"))
        elif len(digits) > 1:
            digits.pop(min(at, len(digits) - 1))
    return "".join(digits)


def _country_column(region: str, rnd: random.Random, size: int = 2 * fp._WORTH_IT) -> list[str]:
    """Numbers of one country, enough for the Arrow path: real examples of every type (valid,
    toll-free, premium ...), mutated (often invalid, too long or too short)."""
    examples = [phonenumbers.example_number_for_type(region, t) for t in _TYPES]
    examples = [e for e in examples if e is not None] or [phonenumbers.example_number(region)]
    examples = [e for e in examples if e is not None]
    if not examples:
        return []
    column = []
    for _ in range(size):
        example = rnd.choice(examples)
        nsn = phonenumbers.national_significant_number(example)
        column.append(_notation(example.country_code, _mutated(nsn, rnd), rnd))
    return column


def test_every_country_agrees_with_phonenumbers() -> None:
    rnd = random.Random(20261125)
    column = [n for region in _REGIONS for n in _country_column(region, rnd)]
    expected = [phone(n) for n in column]
    assert phones(pa.array(column)).to_pylist() == expected
    assert sum(e is not None for e in expected) > len(column) // 5  # real numbers among them
    decided, _ = fp.foreign_phones(pa.array(column))
    assert decided.to_pylist().count(True) > len(column) // 2  # most took the Arrow path


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(_REGIONS), st.randoms(use_true_random=False), st.integers(0, 200))
def test_any_country_column_agrees_with_phonenumbers(region: str, rnd: random.Random,
                                                     few: int) -> None:  # fmt: skip
    column = _country_column(region, rnd) + _country_column("BE", rnd, few)
    assert phones(pa.array(column)).to_pylist() == [phone(n) for n in column]


def test_what_phonenumbers_must_decide_is_left_to_it() -> None:
    column = [
        "+32 (0)471 07 01 74",
        "+320471070174",
        "+1 202 555 0143",
        "+31 6 1234 5678",
        "+44 7911 123456 ext. 2",
        "+8001234 5678",
        "+32  471070174",
    ] * fp._WORTH_IT
    decided, _ = fp.foreign_phones(pa.array(column))
    assert not any(decided.to_pylist())
    assert phones(pa.array(column)).to_pylist() == [phone(n) for n in column]


def test_a_country_with_few_numbers_is_left_to_phonenumbers() -> None:
    few = ["+32 471 07 01 74"] * (fp._WORTH_IT - 1) + ["+49 151 1234 5678"] * fp._WORTH_IT
    decided, result = fp.foreign_phones(pa.array(few))
    assert decided.to_pylist() == [False] * (fp._WORTH_IT - 1) + [True] * fp._WORTH_IT
    assert result.to_pylist()[-1] == phone("+49 151 1234 5678") == "+4915112345678"


def test_types_are_tested_in_phonenumbers_order() -> None:
    """A number matching several types gets the first in phonenumbers' order, as it would
    there: toll-free and premium before fixed line, VoIP before UAN, UAN before mobile."""
    every = fp._Desc("^[0-9]+$", ())
    nothing = None

    def country(general: fp._Desc | None = every, **descs: fp._Desc | None) -> fp._Country:
        kinds = {name: descs.get(name, nothing) for name in
                 ("premium", "toll_free", "shared", "voip", "personal", "pager", "uan",
                  "voicemail", "fixed", "mobile")}  # fmt: skip
        return fp._Country(
            trunk=None,
            general=general,
            not_personal=(kinds["premium"], kinds["toll_free"], kinds["shared"]),
            personal=(kinds["voip"], kinds["personal"], kinds["pager"]),
            service=(kinds["uan"], kinds["voicemail"]),
            fixed_line=kinds["fixed"],
            mobile=kinds["mobile"],
        )

    number = pa.array(["471070174"])
    cases = [
        (country(fixed=every), True),
        (country(mobile=every), True),
        (country(toll_free=every, fixed=every), False),
        (country(premium=every, mobile=every), False),
        (country(voip=every, uan=every), True),
        (country(uan=every, mobile=every), False),
        (country(voicemail=every, fixed=every), False),
        (country(general=None, fixed=every), False),
        (country(), False),
    ]
    for rules, personal in cases:
        assert fp._personal(number, rules).to_pylist() == [personal], rules
