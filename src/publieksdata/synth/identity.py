"""How persons are written down: canonical identifiers (the ground truth) and the many
notations real exports use for the same e-mail, phone number, name and postcode."""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from publieksdata.synth import names
from publieksdata.synth.population import FIRST_NAMES, LETTER_PAIRS, Population

_FOLD = str.maketrans(
    {"ł": "l", "Ł": "L", "ı": "i", "ß": "ss", "ø": "o", "'": "", " ": "", "-": ""}
)
NULL = pa.scalar(None, pa.string())


def ascii_fold(text: str) -> str:
    """Lower-case ASCII as people type names into e-mail addresses."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(values: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """``values[index]`` as an Arrow string array; a negative index gives an empty string."""
    table = pa.array((*values, ""))
    return table.take(pa.array(np.where(index < 0, len(values), index)))


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and literals element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def digits(values: np.ndarray) -> pa.Array:
    """Integers as decimal strings."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def choose(selector: np.ndarray, options: list[pa.Array]) -> pa.Array:
    """Element-wise pick among equally long string arrays by ``selector``."""
    result = options[0]
    for k, option in enumerate(options[1:], start=1):
        result = pc.if_else(pa.array(selector == k), option, result)
    return result


def blank_where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` with the masked entries missing (empty in the export)."""
    return pc.if_else(pa.array(mask), NULL, values)


_FIRST_ASCII = tuple(ascii_fold(n) for n in FIRST_NAMES)
_LAST_ASCII = tuple(ascii_fold(n) for n in names.LAST_NAMES)
_INFIX_ASCII = tuple(ascii_fold(n) for n in names.INFIXES)


def canonical_email(pop: Population, person: np.ndarray) -> pa.Array:
    """The e-mail address a person uses (shared within some households), lower case.

    The person number in the local part keeps addresses unique across the sector.
    """
    owner = pop.email_owner[person]
    first = words(_FIRST_ASCII, pop.first_name[owner])
    last = join(words(_INFIX_ASCII, pop.infix[owner]), words(_LAST_ASCII, pop.last_name[owner]))
    style = pop.email_style[owner]
    local = choose(
        style,
        [
            join(first, ".", last),
            join(pc.utf8_slice_codeunits(first, 0, 1), last),
            join(first, last),
            join(first, "_", last),
        ],
    )
    email = join(local, digits(owner), "@", words(names.EMAIL_DOMAINS, pop.email_domain[owner]))
    return blank_where(~pop.has_email[person], email)


def email_notations(email: pa.Array, variant: np.ndarray) -> pa.Array:
    """The address as people and systems store it: capitals, spaces around it."""
    local_domain = pc.split_pattern(email, "@", max_splits=1)
    local = pc.list_element(local_domain, 0)
    domain = pc.list_element(local_domain, 1)
    return choose(
        variant % 6,
        [
            email,
            pc.utf8_capitalize(email),
            pc.utf8_upper(email),
            join(" ", email, " "),
            join(local, "@", pc.utf8_capitalize(domain)),
            join(email, "  "),
        ],
    )


def canonical_phone(pop: Population, person: np.ndarray) -> pa.Array:
    """The phone number in E.164 (+31612345678)."""
    phone = join("+", digits(pop.phone_country[person]), digits(pop.phone_number[person]))
    return blank_where(~pop.has_phone[person], phone)


def canonical_postcode(pop: Population, pc4: np.ndarray, person: np.ndarray) -> pa.Array:
    """The full postcode '1234 AB'."""
    return join(digits(pc4[pop.pc4_index[person]]), " ", words(LETTER_PAIRS, pop.letters[person]))


def postcode_notations(postcode: pa.Array, variant: np.ndarray) -> pa.Array:
    """'1234 AB' written as '1234AB', '1234 ab' or '1234ab'."""
    tight = pc.replace_substring(postcode, " ", "")
    return choose(
        variant % 5,
        [postcode, tight, pc.utf8_lower(postcode), pc.utf8_lower(tight), postcode],
    )


def _slice(values: pa.Array, start: int, stop: int = 32) -> pa.Array:
    return pc.utf8_slice_codeunits(values, start, stop)


def phone_notations(pop: Population, person: np.ndarray, variant: np.ndarray) -> pa.Array:
    """The phone number in one of the notations people and systems use."""
    nsn = digits(pop.phone_number[person])
    dutch = pop.phone_country[person] == 31
    landline = pop.phone_number[person] < 600_000_000
    # Mobile numbers have a one-digit prefix (6), landlines a two-digit area code (10, 20).
    area_len = landline.astype(np.int8)
    area_part = choose(area_len, [_slice(nsn, 0, 1), _slice(nsn, 0, 2)])
    rest = choose(area_len, [_slice(nsn, 1), _slice(nsn, 2)])
    rest_a, rest_b = _slice(rest, 0, 4), _slice(rest, 4)
    nl = choose(
        variant % 8,
        [
            join("0", nsn),
            join("0", area_part, "-", rest),
            join("+31 ", area_part, " ", rest_a, " ", rest_b),
            join("+31", nsn),
            join("0031", nsn),
            join("(0", area_part, ") ", rest),
            join("+31 (0)", area_part, " ", rest),
            join("0", area_part, " ", rest_a, " ", rest_b),
        ],
    )
    cc = digits(pop.phone_country[person])
    abroad = choose(
        variant % 3,
        [
            join("+", cc, " ", _slice(nsn, 0, 3), " ", _slice(nsn, 3)),
            join("00", cc, nsn),
            join("+", cc, nsn),
        ],
    )
    return blank_where(~pop.has_phone[person], pc.if_else(pa.array(dutch), nl, abroad))


def first_names(pop: Population, person: np.ndarray) -> pa.Array:
    """First names as registered."""
    return words(FIRST_NAMES, pop.first_name[person])


def infixes(pop: Population, person: np.ndarray) -> pa.Array:
    """Tussenvoegsels ('van der'); empty when the name has none."""
    return words(names.INFIXES, pop.infix[person])


def last_names(pop: Population, person: np.ndarray, variant: np.ndarray) -> pa.Array:
    """Last names, some typed in capitals."""
    last = words(names.LAST_NAMES, pop.last_name[person])
    return choose((variant % 7 == 0).astype(np.int8), [last, pc.utf8_upper(last)])


def infix_last_names(pop: Population, person: np.ndarray, variant: np.ndarray) -> pa.Array:
    """'van der Berg' in one field, the infix sometimes capitalised ('Van der Berg')."""
    infix = infixes(pop, person)
    infix = choose((variant % 4 == 1).astype(np.int8), [infix, pc.utf8_capitalize(infix)])
    with_infix = join(infix, " ", last_names(pop, person, variant))
    return pc.if_else(pa.array(pop.infix[person] < 0), last_names(pop, person, variant), with_infix)


def full_names(pop: Population, person: np.ndarray, variant: np.ndarray) -> pa.Array:
    """The whole name in one field: 'Jan van der Berg', 'Berg, Jan van der' or 'J. van der Berg'."""
    first = first_names(pop, person)
    last = last_names(pop, person, variant)
    infix = infixes(pop, person)
    has_infix = pa.array(pop.infix[person] >= 0)
    infix_last = pc.if_else(has_infix, join(infix, " ", last), last)
    first_infix = pc.if_else(has_infix, join(first, " ", infix), first)
    initial = join(pc.utf8_slice_codeunits(first, 0, 1), ".")
    return choose(
        variant % 3,
        [
            join(first, " ", infix_last),
            join(last, ", ", first_infix),
            join(initial, " ", infix_last),
        ],
    )


def house_numbers(pop: Population, person: np.ndarray) -> pa.Array:
    """House numbers without addition."""
    return digits(pop.house_number[person])


def additions(pop: Population, person: np.ndarray) -> pa.Array:
    """House number additions ('A', 'bis', '2-hoog'); empty when there is none."""
    return words(names.ADDITIONS, pop.addition[person])


def address_lines(pop: Population, person: np.ndarray, variant: np.ndarray) -> pa.Array:
    """Street, number and addition in one field: 'Kerkstraat 12 A', '12-A' or '12A'."""
    street_number = join(words(names.STREETS, pop.street[person]), " ", house_numbers(pop, person))
    addition = additions(pop, person)
    separator = choose(
        variant % 3,
        [
            pa.array([" "] * len(person)),
            pa.array(["-"] * len(person)),
            pa.array([""] * len(person)),
        ],
    )
    with_addition = join(street_number, separator, addition)
    return pc.if_else(pa.array(pop.addition[person] < 0), street_number, with_addition)
