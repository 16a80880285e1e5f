"""Foreign phone numbers for a whole column, by phonenumbers' own rules run in Arrow.

Parsing numbers one by one through phonenumbers costs about 50 µs each, and an export has
about one foreign number in a hundred. For the plain international notation ('+32 471 07 01 74',
'0049151...') the library's work is mechanical: split off the country code, then match the
national number against the country's patterns. This module takes those patterns from the
library's metadata and runs them on the whole column with Arrow's regular expressions, so
both agree by construction (and the tests check it on generated numbers).

Whatever this cannot decide exactly is left to phonenumbers: notations with brackets or a
trunk prefix, country codes shared by several countries, patterns Arrow cannot run, and
countries with too few numbers in the column to be worth running their patterns.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

# '+' or the Dutch international prefix '00', digits, single spaces, dashes or dots between.
PLAIN_INTERNATIONAL = r"^(?:\+|00) ?[0-9]+(?:[ .\-][0-9]+)*$"
_DUTCH = 31  # the Dutch fast path and phonenumbers handle these
_NON_GEOGRAPHIC = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' own limits on a national number
# Running one country's patterns (about 2 ms) costs as much as 40 numbers through phonenumbers.
_WORTH_IT = 64


class _Desc(NamedTuple):
    """One number type: its national-number pattern and possible lengths."""

    pattern: str
    lengths: tuple[int, ...]


class _Country(NamedTuple):
    """The number types of one country, in the order phonenumbers tests them."""

    trunk: str | None  # the national prefix phonenumbers would strip, as a pattern
    general: _Desc | None
    not_personal: tuple[_Desc | None, ...]  # premium rate, toll free, shared cost
    personal: tuple[_Desc | None, ...]  # VoIP, personal number, pager
    service: tuple[_Desc | None, ...]  # UAN, voicemail: tested before fixed line and mobile
    fixed_line: _Desc | None
    mobile: _Desc | None  # None when phonenumbers does not test it separately


def _runs_in_arrow(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except pa.ArrowInvalid:
        return False
    return True


class _Unsupported(Exception):
    """A pattern Arrow's regular expressions cannot run: leave the country to phonenumbers."""


def _desc(desc: Any) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None  # phonenumbers: never matches
    pattern = f"^(?:{desc.national_number_pattern})$"
    if not _runs_in_arrow(pattern):
        raise _Unsupported
    return _Desc(pattern, tuple(desc.possible_length or ()))


@functools.cache
def _country(code: int) -> _Country | None:
    """The rules of the one country that uses this calling code; None for anything else."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if code == _DUTCH or len(regions) != 1 or regions[0] == _NON_GEOGRAPHIC:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
    if meta is None:
        return None
    trunk = f"^(?:{meta.national_prefix_for_parsing})" if meta.national_prefix_for_parsing else None
    if trunk is not None and not _runs_in_arrow(trunk):
        return None
    try:
        return _Country(
            trunk=trunk,
            general=_desc(meta.general_desc),
            not_personal=tuple(map(_desc, (meta.premium_rate, meta.toll_free, meta.shared_cost))),
            personal=tuple(map(_desc, (meta.voip, meta.personal_number, meta.pager))),
            service=tuple(map(_desc, (meta.uan, meta.voicemail))),
            fixed_line=_desc(meta.fixed_line),
            mobile=None if meta.same_mobile_and_fixed_line_pattern else _desc(meta.mobile),
        )
    except _Unsupported:
        return None


def _matches(nsn: pa.Array, desc: _Desc | None) -> pa.Array:
    """phonenumbers' ``_is_number_matching_desc`` for a column of national numbers."""
    if desc is None:
        return _none(len(nsn))
    found = pc.match_substring_regex(nsn, desc.pattern)
    if desc.lengths:
        found = pc.and_(found, pc.is_in(pc.utf8_length(nsn), pa.array(desc.lengths, pa.int32())))
    return found


def _any(nsn: pa.Array, descs: tuple[_Desc | None, ...]) -> pa.Array:
    found = _none(len(nsn))
    for desc in descs:
        found = pc.or_(found, _matches(nsn, desc))
    return found


def _personal(nsn: pa.Array, country: _Country) -> pa.Array:
    """Valid, and of a type that can belong to one person (``_PERSONAL_TYPES``)."""
    lines = _matches(nsn, country.fixed_line)
    if country.mobile is not None:
        lines = pc.or_(lines, _matches(nsn, country.mobile))
    typed = pc.or_(
        _any(nsn, country.personal), pc.and_(pc.invert(_any(nsn, country.service)), lines)
    )
    return pc.and_(
        pc.and_(_matches(nsn, country.general), pc.invert(_any(nsn, country.not_personal))),
        typed,
    )


def foreign_phones(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """For distinct ASCII phone texts: which ones this decides, and their E.164 numbers there
    (null where the number is not one person's). Undecided values go to phonenumbers."""
    plain = pc.fill_null(pc.match_substring_regex(values, PLAIN_INTERNATIONAL), False)
    decided = np.zeros(len(values), bool)
    result = pa.nulls(len(values), pa.string())
    if not pc.any(plain).as_py():
        return pa.array(decided), result
    where = pc.indices_nonzero(plain)
    digits = pc.replace_substring_regex(
        pc.replace_substring_regex(values.take(where), r"[ .\-]", ""), r"^(?:\+|00)", ""
    )
    codes = _calling_codes(digits)
    for count in pc.value_counts(codes.drop_null()).to_pylist():
        code = count["values"]
        country = _country(int(code)) if count["counts"] >= _WORTH_IT else None
        if country is None:
            continue
        mine = pc.fill_null(pc.equal(codes, code), False)
        nsn = pc.utf8_slice_codeunits(digits.filter(mine), len(code))
        length = pc.utf8_length(nsn)
        usable = pc.and_(pc.greater_equal(length, _MIN_NSN), pc.less_equal(length, _MAX_NSN))
        if country.trunk is not None:  # phonenumbers might strip a trunk prefix: ask it
            usable = pc.and_(usable, pc.invert(pc.match_substring_regex(nsn, country.trunk)))
        e164 = pc.if_else(_personal(nsn, country), pc.binary_join_element_wise("+", code, nsn, ""),
                          pa.scalar(None, pa.string()))  # fmt: skip
        rows = np.zeros(len(values), bool)
        rows[where.filter(mine).filter(usable).to_numpy()] = True
        decided |= rows
        result = pc.replace_with_mask(result, pa.array(rows), e164.filter(usable))
    return pa.array(decided), result


def _calling_codes(digits: pa.Array) -> pa.Array:
    """The country calling code each number starts with (codes are prefix-free), or null."""
    known = pa.array(sorted(map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE)))
    code = pa.nulls(len(digits), pa.string())
    for width in (3, 2, 1):
        head = pc.utf8_slice_codeunits(digits, 0, width)
        code = pc.if_else(pc.is_in(head, value_set=known), head, code)
    return code


def _none(size: int) -> pa.Array:
    return pa.array(np.zeros(size, bool))
