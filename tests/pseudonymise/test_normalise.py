"""Identifier normalisation n1: golden tables, properties and the no-leak guarantee (G1)."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publieksdata.pseudonymise import normalise
from publieksdata.pseudonymise.normalise import (
    NORMALISATION_VERSION,
    address_line,
    apply,
    apply_rows,
    apply_split,
    email,
    house_number,
    house_number_addition,
    name,
    name_key,
    name_keys,
    pc4,
    phone,
    postcode,
    split_full_name,
)

SPEC = Path(__file__).resolve().parents[2] / "docs" / "normalisation.md"


# ---------------------------------------------------------------------------------------
# the specification document
# ---------------------------------------------------------------------------------------


def test_the_specification_states_the_version_and_why_it_changes() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    assert NORMALISATION_VERSION == "n1"
    assert f"`{NORMALISATION_VERSION}`" in spec
    assert "new version" in spec


@pytest.mark.parametrize(
    "words",
    [
        normalise.GMAIL_DOMAINS,
        normalise.PLUS_TAG_DOMAINS,
        normalise.UNUSED_LETTER_PAIRS,
        normalise.TUSSENVOEGSELS,
        normalise.TITLES,
    ],
    ids=["gmail", "plus-tag", "letter-pairs", "tussenvoegsels", "titles"],
)
def test_every_rule_list_is_in_the_specification(words: frozenset[str]) -> None:
    spec = SPEC.read_text(encoding="utf-8")
    missing = sorted(w for w in words if f"`{w}`" not in spec)
    assert not missing, f"docs/normalisation.md does not list {missing}"


# ---------------------------------------------------------------------------------------
# e-mail
# ---------------------------------------------------------------------------------------

EMAILS = [
    # trimming, case, Unicode
    ("jan@example.nl", "jan@example.nl"),
    ("  Jan@Example.NL  ", "jan@example.nl"),
    ("JAN.JANSEN@ZIGGO.NL", "jan.jansen@ziggo.nl"),
    ("\u00a0jan@example.nl\u00a0", "jan@example.nl"),
    ("\u200bjan@example.nl\ufeff", "jan@example.nl"),
    ("jan@exam\u00adple.nl", "jan@example.nl"),
    ("\tjan@example.nl\n", "jan@example.nl"),
    ("mailto:jan@example.nl", "jan@example.nl"),
    ("MAILTO:Jan@Example.nl", "jan@example.nl"),
    ("Jan Jansen <jan@example.nl>", "jan@example.nl"),
    ("<jan@example.nl>", "jan@example.nl"),
    ("jan@example.nl.", "jan@example.nl"),
    ("rene\u0301@example.nl", "ren\u00e9@example.nl"),  # decomposed é composed (NFC)
    ("RENÉ@ÉXAMPLE.NL", "rené@éxample.nl"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("jan_jansen-2@sub.example.co.uk", "jan_jansen-2@sub.example.co.uk"),
    ("jan@xn--bcher-kva.example", "jan@xn--bcher-kva.example"),
    # Gmail: dots and +tag ignored, googlemail.com is gmail.com
    ("Jan.Jansen@Gmail.com", "janjansen@gmail.com"),
    ("j.a.n.jansen+theater@gmail.com", "janjansen@gmail.com"),
    ("janjansen@googlemail.com", "janjansen@gmail.com"),
    ("jan.jansen+a+b@googlemail.com", "janjansen@gmail.com"),
    # plus tags dropped only where the provider documents them
    ("jan+museum@hotmail.com", "jan@hotmail.com"),
    ("jan+museum@outlook.com", "jan@outlook.com"),
    ("jan+x@live.nl", "jan@live.nl"),
    ("jan+x@icloud.com", "jan@icloud.com"),
    ("jan+x@protonmail.com", "jan@protonmail.com"),
    ("jan+x@pm.me", "jan@pm.me"),
    ("jan.jansen@hotmail.com", "jan.jansen@hotmail.com"),  # dots matter at Microsoft
    ("jan+x@ziggo.nl", "jan+x@ziggo.nl"),  # unknown provider: the tag may be a mailbox
    ("jan+x@kpnmail.nl", "jan+x@kpnmail.nl"),
    ("jan-x@yahoo.com", "jan-x@yahoo.com"),
    ("jan@hotmail.nl", "jan@hotmail.nl"),  # no domain is rewritten except googlemail.com
    ("jan@me.com", "jan@me.com"),
    # unusable
    (None, None),
    ("", None),
    ("   ", None),
    ("naam@", None),
    ("@example.nl", None),
    ("jan", None),
    ("jan@example", None),
    ("jan@@example.nl", None),
    ("jan@example@nl.nl", None),
    ("jan jansen@example.nl", None),
    ("jan@exa mple.nl", None),
    ("jan@example.nl; piet@example.nl", None),
    (".jan@example.nl", None),
    ("jan.@example.nl", None),
    ("jan..jansen@example.nl", None),
    ('"jan"@example.nl', None),
    ("jan@-example.nl", None),
    ("jan@example-.nl", None),
    ("jan@example..nl", None),
    ("jan@example.n", None),
    ("jan@192.168.1.1", None),
    ("jan@[192.168.1.1]", None),
    ("jan,jansen@example.nl", None),
    ("+theater@gmail.com", None),
    ("...@gmail.com", None),
    ("mailto:", None),
    ("a" * 65 + "@example.nl", None),
    ("jan@" + "a" * 250 + ".nl", None),
]


@pytest.mark.parametrize(("raw", "expected"), EMAILS)
def test_email(raw: str | None, expected: str | None) -> None:
    assert email(raw) == expected


_local = st.from_regex(r"[a-z0-9_]{1,10}(\.[a-z0-9_]{1,10}){0,2}", fullmatch=True)
_domain = st.sampled_from(["example.nl", "ziggo.nl", "hotmail.com", "gmail.com", "uva.nl"])


@given(local=_local, domain=_domain, variant=st.integers(0, 7))
def test_email_case_and_whitespace_variants_are_one_address(
    local: str, domain: str, variant: int
) -> None:
    address = f"{local}@{domain}"
    written = [
        address.upper(),
        address.title(),
        f"  {address}\t",
        f"\u00a0{address}\u200b",
        f"mailto:{address}",
        f"Naam <{address}>",
        f"{local}@{domain.upper()}",
        f"{local.upper()}@{domain}.",
    ][variant]
    assert email(written) == email(address) is not None


@given(st.text())
def test_email_is_idempotent(raw: str) -> None:
    once = email(raw)
    assert email(once) == once


@given(st.text())
def test_email_output_has_one_at_and_no_space(raw: str) -> None:
    out = email(raw)
    if out is not None:
        assert out.count("@") == 1
        assert not any(ch.isspace() for ch in out)
        assert out == out.lower()


# ---------------------------------------------------------------------------------------
# phone
# ---------------------------------------------------------------------------------------

PHONES = [
    # every Dutch notation of one mobile number
    ("0612345678", "+31612345678"),
    ("06-12345678", "+31612345678"),
    ("06 12345678", "+31612345678"),
    ("06 1234 5678", "+31612345678"),
    ("06 12 34 56 78", "+31612345678"),
    ("06.12.34.56.78", "+31612345678"),
    ("06/12345678", "+31612345678"),
    ("06\u201312345678", "+31612345678"),  # en dash
    ("06\u201012345678", "+31612345678"),  # Unicode hyphen
    ("06\u221212345678", "+31612345678"),  # minus sign
    ("06\u00a012345678", "+31612345678"),
    ("(06) 12345678", "+31612345678"),
    ("(06)-12345678", "+31612345678"),
    ("+31612345678", "+31612345678"),
    ("+31 6 1234 5678", "+31612345678"),
    ("+31 6 12345678", "+31612345678"),
    ("+31-6-12345678", "+31612345678"),
    ("+31 (0)6 12345678", "+31612345678"),
    ("+31(0)612345678", "+31612345678"),
    ("+310612345678", "+31612345678"),
    ("0031612345678", "+31612345678"),
    ("0031 6 12345678", "+31612345678"),
    ("0031 (0)6 12345678", "+31612345678"),
    ("612345678", "+31612345678"),  # leading zero lost in a spreadsheet
    ("31612345678", "+31612345678"),  # plus lost in a spreadsheet
    ("０６１２３４５６７８", "+31612345678"),  # full-width digits
    ("  0612345678  ", "+31612345678"),
    # notes and labels are stripped; anything else with letters is refused
    ("0612345678 (mobiel)", "+31612345678"),
    ("06-12345678 mobiel", "+31612345678"),
    ("020-1234567 (werk, overdag)", "+31201234567"),
    ("tel: 06-12345678", "+31612345678"),
    ("Tel. 020 123 45 67", "+31201234567"),
    ("tel:+31612345678", "+31612345678"),
    ("mobiel: 06 12345678", "+31612345678"),
    # landlines, two- and three-digit area codes
    ("020-1234567", "+31201234567"),
    ("020 123 45 67", "+31201234567"),
    ("(020) 1234567", "+31201234567"),
    ("+31 (0)20 1234567", "+31201234567"),
    ("+31 20 1234567", "+31201234567"),
    ("0031 20 1234567", "+31201234567"),
    ("010-4123456", "+31104123456"),
    ("0111-123456", "+31111123456"),
    ("0595 123456", "+31595123456"),
    ("+31 (0)595 123456", "+31595123456"),
    # other personal Dutch numbers go through phonenumbers
    ("085-1234567", "+31851234567"),  # VoIP
    ("066-1234567", "+31661234567"),  # pager
    # foreign numbers
    ("+32 470 12 34 56", "+32470123456"),
    ("0032 470 12 34 56", "+32470123456"),
    ("+32 (0)470 12 34 56", "+32470123456"),
    ("0049 30 1234567", "+49301234567"),
    ("+49 (0)30 1234567", "+49301234567"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+1 202-555-0143", "+12025550143"),
    ("+1 202-555-014", None),  # too short for the North American plan
    ("+1 212 736 5000", "+12127365000"),
    # unusable
    (None, None),
    ("", None),
    ("   ", None),
    ("06-123", None),
    ("0612345", None),
    ("06123456789", None),
    ("061234567890", None),
    ("0612345678 ext. 12", None),  # a switchboard extension is not one person
    ("0201234567 toestel 12", None),
    ("06 12345678 / 020 1234567", None),  # two numbers
    ("06 12345678 of 020 1234567", None),
    ("0800-1234", None),  # toll-free: a company, not a person
    ("0800-FLOWERS", None),
    ("0900-1234567", None),  # premium rate
    ("14 020", None),  # UAN (municipality)
    ("+31", None),
    ("00", None),
    ("onbekend", None),
    ("geen", None),
    ("+999 12345678", None),
    ("0" * 30, None),
    ("06" + " " * 80 + "12345678", None),
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_phone(raw: str | None, expected: str | None) -> None:
    assert phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0470 12 34 56", "BE", "+32470123456"),
        ("030 1234567", "DE", "+49301234567"),
        ("+31 6 12345678", "BE", "+31612345678"),
        ("0031 6 12345678", "BE", "+31612345678"),
        ("0612345678", "BE", None),
        ("0612345678", "XX", None),  # unknown region: only international notations work
        ("+31612345678", "XX", "+31612345678"),
    ],
)
def test_phone_in_another_default_region(raw: str, region: str, expected: str | None) -> None:
    assert phone(raw, default_region=region) == expected


MOBILE = st.builds(
    lambda d, rest: f"6{d}{rest:07d}", st.sampled_from("12345"), st.integers(0, 10**7 - 1)
)
AREA_2 = [10, 13, 15, 20, 23, 24, 26, 30, 33, 35, 36, 38, 40, 43, 45, 46, 50, 53, 55, 58]
AREA_2 += [70, 71, 72, 73, 74, 75, 76, 77, 78, 79]
AREA_3 = [111, 113, 115, 118, 161, 172, 180, 222, 229, 251, 294, 299, 313, 320, 341, 348]
AREA_3 += [411, 418, 475, 485, 492, 495, 499, 511, 513, 521, 529, 541, 548, 561, 570, 591, 599]
LANDLINE = st.one_of(
    st.builds(lambda a, rest: f"{a}{rest:07d}", st.sampled_from(AREA_2), st.integers(0, 10**7 - 1)),
    st.builds(lambda a, rest: f"{a}{rest:06d}", st.sampled_from(AREA_3), st.integers(0, 10**6 - 1)),
)


def dutch_notations(nsn: str) -> list[str]:
    """The ways Dutch exports write one national significant number (without its 0)."""
    head = nsn[:1] if nsn.startswith("6") else nsn[:2] if int(nsn[:2]) in AREA_2 else nsn[:3]
    rest = nsn[len(head) :]
    return [
        f"0{nsn}",
        f"0{head}-{rest}",
        f"0{head} {rest}",
        f"0{head} {rest[:3]} {rest[3:]}",
        f"(0{head}) {rest}",
        f"0{head}.{rest}",
        f"0{head}/{rest}",
        f"0{head}\u2013{rest}",
        f"+31{nsn}",
        f"+31 {head} {rest}",
        f"+31 (0){head} {rest}",
        f"+31-{head}-{rest}",
        f"0031{nsn}",
        f"0031 {head} {rest}",
        f"0031 (0){head} {rest}",
        f"31{nsn}",
        nsn,
        f" 0{head}-{rest}\u00a0",
        f"0{head}-{rest} (privé)",
        f"tel: 0{head}-{rest}",
    ]


@given(st.one_of(MOBILE, LANDLINE))
def test_every_dutch_notation_gives_one_e164(nsn: str) -> None:
    results = {raw: phone(raw) for raw in dutch_notations(nsn)}
    assert set(results.values()) == {f"+31{nsn}"}, results


@given(st.one_of(MOBILE, LANDLINE))
def test_the_fast_path_takes_the_common_dutch_notations(nsn: str) -> None:
    for raw in dutch_notations(nsn)[:-2]:
        assert normalise._phone_fast(raw, "NL") == f"+31{nsn}", raw


@given(st.one_of(MOBILE, LANDLINE), st.integers(0, 17))  # the notations without notes
def test_the_fast_path_agrees_with_phonenumbers_on_dutch_numbers(nsn: str, variant: int) -> None:
    raw = dutch_notations(nsn)[variant]
    assert phone(raw) == normalise._phone_library(raw, "NL") == f"+31{nsn}"


_PREFIXES = ["", "0", "00", "+31", "0031", "31", "+310", "(0)", "+31 (0)", "+32", "0049", "+"]


@settings(max_examples=500)
@given(
    prefix=st.sampled_from(_PREFIXES),
    digits=st.text("0123456789", min_size=0, max_size=13),
    separator=st.sampled_from(["", " ", "-", ".", " - "]),
    region=st.sampled_from(["NL", "BE"]),
)
def test_the_fast_path_agrees_with_phonenumbers_on_any_digits(
    prefix: str, digits: str, separator: str, region: str
) -> None:
    raw = prefix + separator + separator.join([digits[:3], digits[3:]])
    fast = normalise._phone_fast(raw, region)
    slow = normalise._phone_library(raw, region)
    if fast is not None:
        assert fast == slow
    assert phone(raw, region) == slow


@given(st.text())
def test_phone_is_idempotent_and_e164(raw: str) -> None:
    once = phone(raw)
    assert phone(once) == once
    if once is not None:
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", once)


# ---------------------------------------------------------------------------------------
# postcode
# ---------------------------------------------------------------------------------------

POSTCODES = [
    ("1234 AB", "1234 AB"),
    ("1234AB", "1234 AB"),
    ("1234ab", "1234 AB"),
    ("1234 ab", "1234 AB"),
    (" 1234  ab ", "1234 AB"),
    ("1234-AB", "1234 AB"),
    ("1234 - ab", "1234 AB"),
    ("1234\u00a0AB", "1234 AB"),
    ("１２３４ＡＢ", "1234 AB"),
    ("NL-1234 AB", "1234 AB"),
    ("nl 1234ab", "1234 AB"),
    ("1000 AA", "1000 AA"),
    ("9999 ZZ", "9999 ZZ"),
    # F, I, O, Q, U and Y have been issued since 2005
    ("1234 FI", "1234 FI"),
    ("1234 OQ", "1234 OQ"),
    ("1234 UY", "1234 UY"),
    # never issued
    ("1234 SA", None),
    ("1234 SD", None),
    ("1234 ss", None),
    ("0123 AB", None),
    ("999 AB", None),
    ("12345 AB", None),
    ("1234 A", None),
    ("1234 ABC", None),
    ("1234 A1", None),
    ("1234 ÄB", None),
    ("1234", None),
    ("AB 1234", None),
    ("1234 AB Amsterdam", None),
    ("B-1000", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), POSTCODES)
def test_postcode(raw: str | None, expected: str | None) -> None:
    assert postcode(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234 AB", "1234"),
        ("1234ab", "1234"),
        ("1234", "1234"),
        (" 1234 ", "1234"),
        ("NL-1234", "1234"),
        ("1234 SS", None),
        ("0123", None),
        ("123", None),
        ("12345", None),
        ("1234.0", None),
        ("", None),
        (None, None),
    ],
)
def test_pc4(raw: str | None, expected: str | None) -> None:
    assert pc4(raw) == expected


_LETTERS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)


@given(number=st.integers(1000, 9999), letters=_LETTERS, variant=st.integers(0, 6))
def test_postcode_variants_are_one_postcode(number: int, letters: str, variant: int) -> None:
    written = [
        f"{number}{letters}",
        f"{number}{letters.lower()}",
        f"{number} {letters.lower()}",
        f"  {number}   {letters} ",
        f"{number}-{letters}",
        f"NL-{number} {letters}",
        f"{number}{letters[0]}{letters[1].lower()}",
    ][variant]
    expected = None if letters in {"SA", "SD", "SS"} else f"{number} {letters}"
    assert postcode(written) == expected
    assert pc4(written) == (None if expected is None else str(number))


@given(st.text())
def test_postcode_and_pc4_are_idempotent(raw: str) -> None:
    assert postcode(postcode(raw)) == postcode(raw)
    assert pc4(pc4(raw)) == pc4(raw)


# ---------------------------------------------------------------------------------------
# house number and address line
# ---------------------------------------------------------------------------------------

HOUSE_NUMBERS = [
    ("12", ("12", None)),
    (" 12 ", ("12", None)),
    ("012", ("12", None)),
    ("12.0", ("12", None)),  # a spreadsheet float
    ("12A", ("12", "A")),
    ("12a", ("12", "A")),
    ("12 a", ("12", "A")),
    ("12-A", ("12", "A")),
    ("12-a", ("12", "A")),
    ("12/A", ("12", "A")),
    ("12-1", ("12", "1")),
    ("12 -1", ("12", "1")),
    ("12 bis", ("12", "BIS")),
    ("12bis", ("12", "BIS")),
    ("12 2-hoog", ("12", "2HOOG")),
    ("12-2 hoog", ("12", "2HOOG")),
    ("12 2hoog", ("12", "2HOOG")),
    ("12/II", ("12", "II")),
    ("12-II", ("12", "II")),
    ("12 huis", ("12", "HUIS")),
    ("12 h", ("12", "H")),
    ("12 zw", ("12", "ZW")),
    ("12A-1", ("12", "A1")),
    ("12 A 1", ("12", "A1")),
    ("12 (achter)", ("12", "ACHTER")),
    ("12 é", ("12", "E")),
    ("99999", ("99999", None)),
    ("1", ("1", None)),
    # unusable
    ("0", (None, None)),
    ("000", (None, None)),
    ("123456", (None, None)),
    ("A12", (None, None)),
    ("nr. 12", (None, None)),
    ("12 #3", (None, None)),
    ("12 +", (None, None)),
    ("12 achterhuisbovenin", (None, None)),
    ("", (None, None)),
    ("  ", (None, None)),
    (None, (None, None)),
]


@pytest.mark.parametrize(("raw", "expected"), HOUSE_NUMBERS)
def test_house_number(raw: str | None, expected: tuple[str | None, str | None]) -> None:
    assert house_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a", "A"),
        ("-1", "1"),
        (" 2-hoog ", "2HOOG"),
        ("II", "II"),
        ("/ii", "II"),
        ("bis", "BIS"),
        ("zw", "ZW"),
        ("", None),
        ("-", None),
        ("#3", None),
        ("achterhuisbovenin", None),
        (None, None),
    ],
)
def test_house_number_addition_in_its_own_column(raw: str | None, expected: str | None) -> None:
    assert house_number_addition(raw) == expected
    if expected is not None:
        assert house_number(f"12 {raw}") == ("12", expected)


ADDRESS_LINES = [
    ("Kerkstraat 12", ("kerkstraat", "12", None)),
    ("Kerkstraat 12 A", ("kerkstraat", "12", "A")),
    ("Kerkstraat 12A", ("kerkstraat", "12", "A")),
    ("Kerkstraat 12-A", ("kerkstraat", "12", "A")),
    ("Kerkstraat12", ("kerkstraat", "12", None)),
    ("Kerkstraat, 12", ("kerkstraat", "12", None)),
    ("KERKSTRAAT 12 a", ("kerkstraat", "12", "A")),
    ("  Kerkstraat   12  ", ("kerkstraat", "12", None)),
    ("Burgemeester de Withstraat 10-1", ("burgemeester de withstraat", "10", "1")),
    ("Laan van Meerdervoort 5bis", ("laan van meerdervoort", "5", "BIS")),
    ("2e Jan Steenstraat 4", ("2e jan steenstraat", "4", None)),
    ("1e Helmersstraat 101-III", ("1e helmersstraat", "101", "III")),
    ("Van 't Hoffstraat 3 2-hoog", ("van t hoffstraat", "3", "2HOOG")),
    ("Sint-Jansstraat 7", ("sint jansstraat", "7", None)),
    ("Rue de l'Église 4", ("rue de leglise", "4", None)),
    ("Straße 1", ("strasse", "1", None)),
    ("Kerkstraat", (None, None, None)),
    ("12", (None, None, None)),
    ("12 Kerkstraat", (None, None, None)),
    ("Kerkstraat 0", (None, None, None)),
    ("Kerkstraat 12 #3", (None, None, None)),
    ("", (None, None, None)),
    (None, (None, None, None)),
]


@pytest.mark.parametrize(("raw", "expected"), ADDRESS_LINES)
def test_address_line(raw: str | None, expected: tuple[str | None, str | None, str | None]) -> None:
    assert address_line(raw) == expected


@given(st.text())
def test_house_number_output_reads_back_the_same(raw: str) -> None:
    number, addition = house_number(raw)
    if number is not None:
        assert number.isdigit()
        assert not number.startswith("0")
        if not (addition or "x")[0].isdigit():  # '12' + '1' would read as 121
            assert house_number(f"{number}{addition or ''}") == (number, addition)
        assert house_number(f"{number} {addition or ''}") == (number, addition)
    else:
        assert addition is None


@given(st.text())
def test_address_line_output_reads_back_the_same(raw: str) -> None:
    street, number, addition = address_line(raw)
    if street is not None:
        assert address_line(f"{street} {number} {addition or ''}") == (street, number, addition)
    else:
        assert number is None
        assert addition is None


# ---------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------

NAMES = [
    ("Jan", "jan"),
    ("  JAN  ", "jan"),
    ("Renée", "renee"),
    ("Rene\u0301e", "renee"),
    ("Łukasz", "lukasz"),
    ("Wałęsa", "walesa"),
    ("Yıldız", "yildiz"),
    ("Straßmann", "strassmann"),
    ("Søren Ødegaard", "soren odegaard"),
    ("Ærø", "aero"),
    ("Œuvre", "oeuvre"),
    ("Đorđević", "dordevic"),
    ("Þór", "thor"),
    ("Çelik", "celik"),
    ("Müller", "muller"),
    ("Ĳsselmuiden", "ijsselmuiden"),
    ("İsmail", "ismail"),
    ("van 't Hek", "van t hek"),
    ("van ’t Hek", "van t hek"),
    ("'s-Gravesande", "s gravesande"),
    ("D'Ancona", "dancona"),
    ("O'Brien", "obrien"),
    ("Jansen-de Vries", "jansen de vries"),
    ("Jan-Willem", "jan willem"),
    ("J.P.", "j p"),
    ("de  Vries", "de vries"),
    ("van\tder\nBerg", "van der berg"),
    ("Jan2", "jan"),
    ("Ǳ", "dz"),
    ("", None),
    ("   ", None),
    ("-", None),
    ("123", None),
    ("'", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), NAMES)
def test_name(raw: str | None, expected: str | None) -> None:
    assert name(raw) == expected


@given(st.text())
def test_name_is_idempotent(raw: str) -> None:
    once = name(raw)
    assert name(once) == once
    if once is not None:
        assert once == once.strip()
        assert "  " not in once


FULL_NAMES = [
    ("Jan van der Berg", ("jan", "van der", "berg")),
    ("Jan VAN DER BERG", ("jan", "van der", "berg")),
    ("J. van der Berg", ("j", "van der", "berg")),
    ("J.P. van der Berg", ("j p", "van der", "berg")),
    ("Jan Willem van den Heuvel", ("jan willem", "van den", "heuvel")),
    ("Renée de Hendriks", ("renee", "de", "hendriks")),
    ("Berg, Jan van der", ("jan", "van der", "berg")),
    ("Berg van der, Jan", ("jan", "van der", "berg")),
    ("van der Berg, Jan", ("jan", "van der", "berg")),
    ("Berg, van der, Jan", ("jan", "van der", "berg")),
    ("Berg, J. van der", ("j", "van der", "berg")),
    ("Jan van 't Hek", ("jan", "van t", "hek")),
    ("Kees in 't Veld", ("kees", "in t", "veld")),
    ("Ans op de Beek", ("ans", "op de", "beek")),
    ("Eva de la Rue", ("eva", "de la", "rue")),
    ("Anna ter Horst", ("anna", "ter", "horst")),
    ("Marie Jansen-van der Berg", ("marie", None, "jansen van der berg")),
    ("Anne-Marie de Vries", ("anne marie", "de", "vries")),
    ("Jan Jansen", ("jan", None, "jansen")),
    ("Anna Maria Jansen", ("anna maria", None, "jansen")),
    ("J. T. Berg", ("j t", None, "berg")),
    ("J T Berg", ("j t", None, "berg")),
    ("Dhr. J. de Vries", ("j", "de", "vries")),
    ("De heer J. de Vries", ("j", "de", "vries")),
    ("Mevr. A. Jansen", ("a", None, "jansen")),
    ("Dr. ir. P. Smit", ("p", None, "smit")),
    ("van der Berg", (None, "van der", "berg")),
    ("Jansen", (None, None, "jansen")),
    ("Jansen,", (None, None, "jansen")),
    ("", (None, None, None)),
    (",", (None, None, None)),
    (None, (None, None, None)),
]


@pytest.mark.parametrize(("raw", "expected"), FULL_NAMES)
def test_split_full_name(
    raw: str | None, expected: tuple[str | None, str | None, str | None]
) -> None:
    assert split_full_name(raw) == expected


NAME_KEYS = [
    (("J.", None, "van der Berg"), "j|vanderberg"),
    (("Jan", "VAN DER", "BERG"), "j|vanderberg"),
    (("Jan", "van der", "Berg"), "j|vanderberg"),
    (("jan", "van der", "van der Berg"), "j|vanderberg"),  # infix in both columns
    (("Jan", None, "Berg, van der"), "j|vanderberg"),
    (("Jan", None, "Berg van der"), "j|vanderberg"),
    (("Jan", "van der", "Berg van der"), "j|vanderberg"),
    (("Jan van der", None, "Berg"), "j|vanderberg"),  # infix typed after the first name
    (("Jan van der", "", "Berg"), "j|vanderberg"),
    (("Dhr. J.", None, "van der Berg"), "j|vanderberg"),
    (("Johanna", None, "Vanderberg"), "j|vanderberg"),
    (("Jan", "'t", "Hart"), "j|thart"),
    (("Jan", None, "'t Hart"), "j|thart"),
    (("Jan", None, "Hart, 't"), "j|thart"),
    (("J. T.", None, "Berg"), "j|berg"),
    (("Renée", "de", "Hendriks"), "r|dehendriks"),
    (("Émile", None, "Brontë"), "e|bronte"),
    (("Marie", None, "Jansen-van der Berg"), "m|jansenvanderberg"),
    (("Marie", None, "Jansen van der Berg"), "m|jansenvanderberg"),
    (("Jan", None, "Berg"), "j|berg"),
    (("Jan", "van der", None), None),
    (("Jan", "van der", ""), None),
    (("Jan", None, "-"), None),
    ((None, None, "Berg"), None),
    (("", None, "Berg"), None),
    (("Dhr.", None, "Berg"), None),
    ((None, None, None), None),
]


@pytest.mark.parametrize(("parts", "expected"), NAME_KEYS)
def test_name_key(parts: tuple[str | None, str | None, str | None], expected: str | None) -> None:
    assert name_key(*parts) == expected


FIRST = ["Jan", "Renée", "Anne-Marie", "Łukasz", "Kees", "Fatima", "Sanne", "Dirk Jan"]
INFIX = [
    "van",
    "de",
    "van der",
    "van den",
    "van de",
    "den",
    "ter",
    "te",
    "van 't",
    "in 't",
    "op de",
]
LAST = ["Berg", "Vries", "Jansen", "Brontë", "Heuvel", "Bakker", "El Amrani", "Smit-Bos"]


@given(st.sampled_from(FIRST), st.sampled_from(INFIX), st.sampled_from(LAST))
def test_one_person_written_many_ways_has_one_key(first: str, infix: str, last: str) -> None:
    key = name_key(first, infix, last)
    assert key is not None
    assert name_key(f"{first[0]}.", None, f"{infix} {last}") == key
    assert name_key(first.upper(), infix.upper(), last.upper()) == key
    assert name_key(first, None, f"{infix.capitalize()} {last}") == key
    assert name_key(first, None, f"{last}, {infix}") == key
    assert name_key(first, infix, f"{infix} {last}") == key
    assert name_key(f"{first} {infix}", None, last) == key
    for full in (f"{first} {infix} {last}", f"{last}, {first} {infix}", f"{last} {infix}, {first}"):
        assert name_key(*split_full_name(full)) == key, full
    assert name_key(*split_full_name(f"{first[0]}. {infix} {last}")) == key


@given(st.text(), st.text(), st.text())
def test_name_key_is_an_initial_and_letters(first: str, infix: str, last: str) -> None:
    key = name_key(first, infix, last)
    if key is not None:
        initial, rest = key.split("|")
        assert len(initial) == 1
        assert rest
        assert name(rest) == rest  # no spaces, no punctuation, folded


@given(st.lists(st.tuples(st.none() | st.text(max_size=3), st.none() | st.text(max_size=3))))
def test_apply_rows_calls_the_function_once_per_distinct_combination(
    rows: list[tuple[str | None, str | None]],
) -> None:
    calls: list[tuple[str | None, str | None]] = []

    def joined(a: str | None, b: str | None) -> str:
        calls.append((a, b))
        return f"{a!r}/{b!r}"

    columns = [pa.array([row[i] for row in rows], pa.string()) for i in range(2)]
    assert apply_rows(joined, *columns).to_pylist() == [f"{a!r}/{b!r}" for a, b in rows]
    assert sorted(calls, key=repr) == sorted(set(rows), key=repr)


_NAME_PART = st.one_of(
    st.none(),
    st.text(alphabet="aeBdJ.,-' \u00e9\u2019", max_size=10),
    st.lists(st.sampled_from([*FIRST, *INFIX, *LAST, "J.", "Dhr.", "de heer", "T", "'t", ","]),
             max_size=4).map(" ".join),
)  # fmt: skip


@given(st.lists(st.tuples(_NAME_PART, _NAME_PART, _NAME_PART), max_size=30))
def test_name_keys_of_columns_equal_name_key_row_by_row(
    rows: list[tuple[str | None, str | None, str | None]],
) -> None:
    rows = [*rows, *_NAME_ROWS]
    columns = [pa.array([row[i] for row in rows], pa.string()) for i in range(3)]
    assert name_keys(*columns).to_pylist() == [name_key(*row) for row in rows]


_NAME_ROWS = [
    ("Jan van", "de", "Berg"),  # the tussenvoegsel column wins over one after the first name
    ("Jan van der", None, "Berg"),
    ("Jan", "van der", "van der Berg"),
    ("J.", None, "Berg, van der"),
    ("Dhr. Jan", "", "Berg"),
    ("Dhr.", "van", "Berg"),
]


# ---------------------------------------------------------------------------------------
# robustness and G1
# ---------------------------------------------------------------------------------------

SINGLE: list[Callable[[str | None], str | None]] = [
    email,
    phone,
    postcode,
    pc4,
    name,
    house_number_addition,
]
SPLIT: list[Callable[[str | None], tuple[str | None, ...]]] = [
    house_number,
    address_line,
    split_full_name,
]


@settings(max_examples=300)
@given(st.one_of(st.none(), st.text(), st.text(st.characters(codec="ascii"))))
def test_no_function_raises_on_arbitrary_text(raw: str | None) -> None:
    for fn in SINGLE:
        out = fn(raw)
        assert out is None or (isinstance(out, str) and out)
    for split in SPLIT:
        parts = split(raw)
        assert all(p is None or (isinstance(p, str) and p) for p in parts)
    key = name_key(raw, raw, raw)
    assert key is None or "|" in key


@pytest.mark.parametrize("junk", [12, 12.5, b"1234AB", ["a@b.nl"], object()])
def test_non_text_is_unusable_not_an_error(junk: Any) -> None:
    for fn in SINGLE:
        assert fn(junk) is None
    for split in SPLIT:
        assert set(split(junk)) == {None}
    assert name_key(junk, junk, junk) is None


def test_long_values_are_refused_quickly() -> None:
    huge = "1" * 100_000 + "a@b" + "-" * 100_000
    for fn in SINGLE:
        assert fn(huge) is None
    for split in SPLIT:
        assert set(split(huge)) == {None}


CANARIES = [
    "canary.q7x@example.nl",
    "canary q7x@@example",
    "+31 6 4719 2235",
    "06-47192235 toestel 9",
    "0800-4719223",
    "4719 QX",
    "4719 SS",
    "47 canaryq7x",
    "Canaryq7x-straat 47b",
    "Canaryq7x van der Qwerty",
    "\x00canaryq7x\ud800",
]


def test_no_function_writes_its_input_to_a_log_or_output(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for raw in CANARIES:
            for fn in SINGLE:
                fn(raw)
            for split in SPLIT:
                split(raw)
            name_key(raw, raw, raw)
    out, err = capsys.readouterr()
    written = caplog.text + out + err + "".join(str(w.message) for w in caught)
    for raw in CANARIES:
        assert raw not in written
    assert "q7x" not in written.lower()
    assert "4719" not in written


def test_a_library_error_quoting_the_number_does_not_escape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parse(number: str, region: str) -> Any:
        raise phonenumbers.NumberParseException(0, f"cannot read {number}")

    monkeypatch.setattr(phonenumbers, "parse", parse)  # the module normalise calls
    assert phone("+32 470 47 19 22") is None  # the fallback path
    assert phone("06-12345678") == "+31612345678"  # the fast path never needs the library


# ---------------------------------------------------------------------------------------
# whole columns
# ---------------------------------------------------------------------------------------


def test_apply_normalises_a_column_and_keeps_nulls() -> None:
    column = pa.array(["1234ab", None, "1234 AB", "1234 SS", "", "9999zz", None])
    result = apply(postcode, column)
    assert result.type == pa.string()
    assert result.to_pylist() == ["1234 AB", None, "1234 AB", None, None, "9999 ZZ", None]


def test_apply_calls_the_function_once_per_distinct_value() -> None:
    calls: list[str] = []

    def counted(value: str) -> str | None:
        calls.append(value)
        return email(value)

    column = pa.array(["A@x.nl", "a@x.nl", "A@x.nl", None] * 1000)
    result = apply(counted, column)
    assert sorted(calls) == ["A@x.nl", "a@x.nl"]
    assert result.to_pylist() == ["a@x.nl", "a@x.nl", "a@x.nl", None] * 1000


@pytest.mark.parametrize(
    "column",
    [
        pa.chunked_array([["06-12345678", None], ["+31612345678", "x"]]),
        pa.array(["06-12345678", None, "+31612345678", "x"], pa.large_string()),
        pa.array(["06-12345678", None, "+31612345678", "x"]).dictionary_encode(),
    ],
    ids=["chunked", "large-string", "dictionary"],
)
def test_apply_accepts_every_arrow_string_shape(column: Any) -> None:
    assert apply(phone, column).to_pylist() == ["+31612345678", None, "+31612345678", None]


def test_apply_on_an_empty_column() -> None:
    assert apply(email, pa.array([], pa.string())).to_pylist() == []
    assert [p.to_pylist() for p in apply_split(house_number, pa.array([], pa.string()))] == [
        [],
        [],
    ]


def test_apply_split_gives_one_column_per_part() -> None:
    column = pa.array(["Kerkstraat 12 A", None, "2e Jan Steenstraat 4", "Kerkstraat 12 A", "?"])
    street, number, addition = apply_split(address_line, column)
    assert street.to_pylist() == ["kerkstraat", None, "2e jan steenstraat", "kerkstraat", None]
    assert number.to_pylist() == ["12", None, "4", "12", None]
    assert addition.to_pylist() == ["A", None, None, "A", None]
    first, infix, last = apply_split(split_full_name, pa.array(["Berg, Jan van der"]))
    assert (first[0].as_py(), infix[0].as_py(), last[0].as_py()) == ("jan", "van der", "berg")


# Whole columns: the Arrow fast paths must give exactly what the rules give value by value.

_EMAIL_CHARS = st.text("aAzZ09._+-@ <>:\"',;()[]\\\t\x00\x1féß", max_size=30)
_EMAIL_DOMAINS = [*sorted(normalise.GMAIL_DOMAINS), *sorted(normalise.PLUS_TAG_DOMAINS)]
_EMAIL_DOMAINS += ["example.nl", "a-b.co.uk", "x.xn--p1ai", "-x.nl", "x_y.nl", "x.nl.", "x.n1"]
_EMAIL_DOMAINS += ["a" * 62 + ".nl", "a" * 64 + ".nl"]


def _address(local: str, domain: str, shout: bool) -> str:
    address = f"{local}@{domain}"
    return address.upper() if shout else address


_EMAIL_LIKE = st.one_of(
    _EMAIL_CHARS,
    st.builds(
        _address,
        st.from_regex(r"[a-zA-Z0-9_.+\-]{0,12}", fullmatch=True),
        st.sampled_from(_EMAIL_DOMAINS),
        st.booleans(),
    ),
)


def _column(fn: Callable[[Any], pa.Array], values: list[str | None]) -> list[str | None]:
    return list(fn(pa.array(values, pa.string())).to_pylist())


def test_whole_email_columns_agree_with_the_rules() -> None:
    raws = [raw for raw, _ in EMAILS]
    assert _column(normalise.emails, raws) == [email(raw) for raw in raws]


@given(st.lists(st.one_of(st.none(), _EMAIL_LIKE), max_size=40))
def test_whole_email_columns_agree_with_the_rules_on_any_text(values: list[str | None]) -> None:
    assert _column(normalise.emails, values) == [email(v) for v in values]


def test_whole_phone_columns_agree_with_the_rules() -> None:
    raws = [raw for raw, _ in PHONES]
    assert _column(normalise.phones, raws) == [phone(raw) for raw in raws]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text("0123456789+ -.()/[]~\tx", max_size=20),
            st.builds(lambda p, d, s: p + s + d, st.sampled_from(_PREFIXES),
                      st.text("0123456789", max_size=13), st.sampled_from(["", " ", "-", "."])),
            st.one_of(MOBILE, LANDLINE).map(lambda nsn: dutch_notations(nsn)[0]),
        ),
        max_size=40,
    )
)  # fmt: skip
def test_whole_phone_columns_agree_with_the_rules_on_any_text(values: list[str | None]) -> None:
    assert _column(normalise.phones, values) == [phone(v) for v in values]
