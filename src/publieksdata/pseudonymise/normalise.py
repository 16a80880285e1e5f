"""Identifier normalisation, specification ``n1`` (docs/normalisation.md).

One person must give the same pseudonym at every institution, so every identifier is put
into one canonical form before it is hashed. The rules are versioned: a stored pseudonym is
only comparable with pseudonyms made under the same ``NORMALISATION_VERSION``.

Every function is pure, takes one raw value and returns the canonical string, or ``None``
when the value is empty or unusable. They never raise on bad input and never log, so an
identifier cannot leak into an error message or a log line (guarantee G1).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from publieksdata.pseudonymise.foreign_phones import foreign_phones

NORMALISATION_VERSION = "n1"

# Invisible characters that survive copy and paste from web pages and spreadsheets.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

# ---------------------------------------------------------------------------------------
# e-mail
# ---------------------------------------------------------------------------------------

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
"""Google ignores dots and a ``+tag`` in the local part; googlemail.com is the same mailbox."""

PLUS_TAG_DOMAINS = frozenset(
    {
        # Microsoft consumer mail (Outlook.com) supports plus addressing on all its domains.
        "outlook.com",
        "hotmail.com",
        "hotmail.nl",
        "live.com",
        "live.nl",
        "msn.com",
        # Apple iCloud Mail delivers user+tag to user.
        "icloud.com",
        "me.com",
        "mac.com",
        # Proton Mail documents "+aliases".
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
        # Fastmail documents plus addressing.
        "fastmail.com",
    }
)
"""Domains whose provider documents that ``user+tag`` is delivered to ``user``.

Elsewhere a ``+`` may be an ordinary character of a distinct mailbox, and two persons merged
by mistake are worse than one person missed, so the tag stays.
"""

_MAX_EMAIL = 254
_LOCAL = re.compile(
    r'[^\s"(),.:;<>@\[\\\]\x00-\x1f\x7f]+(?:\.[^\s"(),.:;<>@\[\\\]\x00-\x1f\x7f]+)*'
)
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})")


def email(value: str | None) -> str | None:
    """The canonical e-mail address: NFC, trimmed, lower case, provider rules applied."""
    if not isinstance(value, str):
        return None
    text = value
    if not text.isascii():
        text = unicodedata.normalize("NFC", text.translate(_INVISIBLE))
    text = text.strip().lower()
    if text.endswith(">") and "<" in text:  # 'Jan Jansen <jan@example.nl>'
        text = text[text.rindex("<") + 1 : -1].strip()
    if text.startswith("mailto:"):
        text = text[7:].strip()
    if not text or len(text) > _MAX_EMAIL or text.count("@") != 1:
        return None
    local, domain = text.split("@")
    domain = domain.rstrip(".")  # a trailing dot ends a sentence or a fully qualified name
    if len(local) > 64 or not _LOCAL.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        return None
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    elif domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if not local:
        return None
    result = f"{local}@{domain}"
    return result if result.isascii() else unicodedata.normalize("NFC", result)


# ---------------------------------------------------------------------------------------
# phone
# ---------------------------------------------------------------------------------------

_MAX_PHONE = 64
# Separators phonenumbers also ignores: spaces, dashes of every kind, dots, slashes, brackets.
_PHONE_SEPARATORS = dict.fromkeys(
    map(ord, " \t-./()[]~\u00a0\u2007\u202f\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc"),
    None,
)
_PHONE_SEPARATORS.update(_INVISIBLE)
_HAS_LETTER = re.compile(r"[^\W\d_]")
_PHONE_LABEL = re.compile(r"\s*(?:tel(?:efoon)?|phone|mob(?:iel)?|gsm)\s*[.:]?\s*", re.I)
_PHONE_NOTE = re.compile(r"\s*(?:\([^()\d]*\)|[^\W\d_][^\d()]*)\s*$")


def _dutch_fast_pattern() -> re.Pattern[str]:
    """Dutch fixed-line and mobile numbers as phonenumbers' own metadata describes them.

    Taking the patterns from the metadata makes the fast path agree with phonenumbers by
    construction (and the tests check it); without metadata nothing takes the fast path.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("NL")
    descs = (metadata.fixed_line, metadata.mobile) if metadata is not None else ()
    patterns = [d.national_number_pattern for d in descs if d and d.national_number_pattern]
    return re.compile("|".join(f"(?:{p})" for p in patterns) or "(?!)", re.ASCII)


_NL_FAST = _dutch_fast_pattern()
_PERSONAL_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PAGER,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    }
)
"""Number types that can belong to one person; toll-free, premium and shared numbers of a
company would merge all its customers."""


def phone(value: str | None, default_region: str = "NL") -> str | None:
    """The number in E.164 ('+31612345678'); national notations are read for ``default_region``."""
    if not isinstance(value, str) or not value or len(value) > _MAX_PHONE:
        return None
    text = value if value.isascii() else unicodedata.normalize("NFKC", value)
    if _HAS_LETTER.search(text):
        text = _strip_phone_notes(text)
        if _HAS_LETTER.search(text):
            return None  # an extension, a second number or prose: not one personal number
    fast = _phone_fast(text, default_region)
    return fast if fast is not None else _phone_library(text, default_region)


def _strip_phone_notes(text: str) -> str:
    """Drop a leading label ('tel:') and a trailing note ('(mobiel)', 'werk')."""
    label = _PHONE_LABEL.match(text)
    if label:
        text = text[label.end() :]
    return _PHONE_NOTE.sub("", text)


def _phone_fast(text: str, region: str) -> str | None:
    """E.164 for the common Dutch notations without phonenumbers; None means 'ask phonenumbers'."""
    compact = text.translate(_PHONE_SEPARATORS)
    if compact.startswith("+31"):
        nsn = compact[3:]
    elif region != "NL":
        return None
    elif compact.startswith("0031"):
        nsn = compact[4:]
    elif compact.startswith("00"):
        return None  # another country's international prefix
    elif compact.startswith("0"):
        nsn = compact[1:]
    elif len(compact) == 11 and compact.startswith("31"):
        nsn = compact[2:]  # '31612345678': the plus lost in a spreadsheet
    else:
        nsn = compact  # '612345678': the leading zero lost in a spreadsheet
    if nsn.startswith("0"):
        nsn = nsn[1:]  # '+31 (0)6 ...': the trunk prefix written after the country code
    if len(nsn) == 9 and nsn.isdigit() and nsn.isascii() and _NL_FAST.fullmatch(nsn):
        return "+31" + nsn
    return None


def _phone_library(text: str, region: str) -> str | None:
    """E.164 through phonenumbers, for foreign and unusual numbers."""
    try:
        number = phonenumbers.parse(text, region)
        if number.extension or not phonenumbers.is_valid_number(number):
            return None
        if phonenumbers.number_type(number) not in _PERSONAL_TYPES:
            return None
        result: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # the library's messages may quote the number: never let them out
        return None
    return result


# ---------------------------------------------------------------------------------------
# postcode
# ---------------------------------------------------------------------------------------

UNUSED_LETTER_PAIRS = frozenset({"SA", "SD", "SS"})
"""PostNL never issues these letter pairs (associations with the German occupation)."""

_POSTCODE = re.compile(r"(?:NL\s*-?\s*)?([1-9][0-9]{3})\s*-?\s*([A-Z]{2})", re.ASCII)
_PC4 = re.compile(r"(?:NL\s*-?\s*)?([1-9][0-9]{3})", re.ASCII)
_MAX_POSTCODE = 24


def postcode(value: str | None) -> str | None:
    """The Dutch postcode as '1234 AB', or None for anything PostNL cannot have issued."""
    if not isinstance(value, str) or len(value) > _MAX_POSTCODE:
        return None
    text = value if value.isascii() else unicodedata.normalize("NFKC", value.translate(_INVISIBLE))
    match = _POSTCODE.fullmatch(text.strip().upper())
    if match is None or match[2] in UNUSED_LETTER_PAIRS:
        return None
    return f"{match[1]} {match[2]}"


def pc4(value: str | None) -> str | None:
    """The four digits of a valid postcode; a bare '1234' is accepted too."""
    full = postcode(value)
    if full is not None:
        return full[:4]
    if not isinstance(value, str) or len(value) > _MAX_POSTCODE:
        return None
    text = value if value.isascii() else unicodedata.normalize("NFKC", value.translate(_INVISIBLE))
    match = _PC4.fullmatch(text.strip().upper())
    return match[1] if match else None


# ---------------------------------------------------------------------------------------
# text folding shared by names, streets and house number additions
# ---------------------------------------------------------------------------------------

# Letters that Unicode does not decompose into a base letter plus accent.
_FOLD = str.maketrans(
    {
        "ł": "l",
        "ı": "i",
        "ß": "ss",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
        "ĸ": "k",
    }
)
_APOSTROPHE_CHARS = "'’‘`´ʼʻ′"
_APOSTROPHES = dict.fromkeys(map(ord, _APOSTROPHE_CHARS), None)


def _fold(text: str) -> str:
    """Lower case without diacritics or apostrophes ('Renée' → 'renee', "'t" → 't')."""
    if text.isascii():
        return text.translate(_APOSTROPHES).lower()
    text = unicodedata.normalize("NFKD", text.translate(_INVISIBLE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = unicodedata.normalize("NFKD", text.translate(_FOLD).translate(_APOSTROPHES))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


# ---------------------------------------------------------------------------------------
# house number and address line
# ---------------------------------------------------------------------------------------

_MAX_ADDRESS = 200
_MAX_ADDITION = 10
_HOUSE_NUMBER = re.compile(r"0*([1-9][0-9]{0,4})(?![0-9])(.*)", re.S)
_ADDITION_SEPARATORS = re.compile(r"[\s\-/.,_()'\"]+")
_NUMBER_START = re.compile(r"(?<![0-9])[0-9]")
_NOT_ALNUM = re.compile(r"[\W_]+")


def house_number(value: str | None) -> tuple[str | None, str | None]:
    """Split '12-A' into ('12', 'A'); the addition is upper case without separators."""
    if not isinstance(value, str) or len(value) > _MAX_ADDRESS:
        return None, None
    match = _HOUSE_NUMBER.fullmatch(value.strip())
    if match is None:
        return None, None
    number, rest = match[1], match[2]
    if rest == ".0":  # '12.0': the number went through a spreadsheet as a float
        return number, None
    addition = _addition(rest)
    if addition is None:
        return None, None
    return number, addition or None


def house_number_addition(value: str | None) -> str | None:
    """A separate addition column ('a', '-1', '2-hoog') in the form house_number() gives."""
    if not isinstance(value, str) or len(value) > _MAX_ADDRESS:
        return None
    return _addition(value) or None


def _addition(text: str) -> str | None:
    """'' for no addition, None for one that cannot be an addition ('#3', 'achterhuisbovenin')."""
    addition = _ADDITION_SEPARATORS.sub("", _fold(text)).upper()
    if not addition:
        return ""
    if len(addition) > _MAX_ADDITION or not (addition.isascii() and addition.isalnum()):
        return None
    return addition


def address_line(value: str | None) -> tuple[str | None, str | None, str | None]:
    """Split 'Kerkstraat 12 A' into street, number and addition; streets may start with a digit."""
    if not isinstance(value, str) or len(value) > _MAX_ADDRESS:
        return None, None, None
    if not value.isascii():  # '²' or '４' must not hide a digit from the search below
        value = unicodedata.normalize("NFKC", value)
    for match in _NUMBER_START.finditer(value):
        street = _street(value[: match.start()])
        if street is None:
            continue  # '2e Jan Steenstraat 4': the first digits belong to the street
        number, addition = house_number(value[match.start() :])
        if number is None:
            return None, None, None
        return street, number, addition
    return None, None, None


def _street(text: str) -> str | None:
    """A street name for matching: folded, punctuation as single spaces; None without letters."""
    folded = _NOT_ALNUM.sub(" ", _fold(text)).strip()
    if not _HAS_LETTER.search(folded):
        return None
    return " ".join(folded.split())


# ---------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------

_MAX_NAME = 300
_NOT_LETTER = re.compile(r"[\W\d_]+")

TUSSENVOEGSELS = frozenset(
    {
        "van",
        "de",
        "der",
        "den",
        "het",
        "t",  # 't
        "s",  # 's
        "te",
        "ter",
        "ten",
        "in",
        "op",
        "onder",
        "over",
        "aan",
        "bij",
        "uit",
        "uijt",
        "voor",
        "vanden",
        "vander",
        "la",
        "le",
        "les",
        "du",
        "des",
        "da",
        "di",
        "del",
        "della",
        "dos",
        "das",
        "von",
        "vom",
        "zum",
        "zur",
        "zu",
        "am",
        "im",
        "auf",
        "aus",
        "dem",
    }
)
"""Words of Dutch and foreign tussenvoegsels after :func:`name` (so "'t" is 't'); a run of
them forms one tussenvoegsel: 'van der', "van 't", 'in het', 'op de', 'de la', 'von der'."""

TITLES = frozenset({"dhr", "mevr", "mw", "mevrouw", "heer", "mr", "dr", "drs", "ir", "ing", "prof"})
"""Salutations and titles dropped at the start of a full name ('Dhr.', 'De heer', 'Mr.')."""


def name(value: str | None) -> str | None:
    """A name part for matching: ASCII-folded lower case words; punctuation separates words."""
    if not isinstance(value, str) or len(value) > _MAX_NAME:
        return None
    words = _NOT_LETTER.sub(" ", _fold(value)).split()
    return " ".join(words) if words else None


class _Token(NamedTuple):
    word: str  # normalised; may hold several words ('jansen de' from 'Jansen-de')
    initial: bool  # 'J.', 'T.' or 'T': never a tussenvoegsel
    compound: bool  # 'Jansen-van': a double surname starts here


def _tokens(text: str) -> list[_Token]:
    """Whitespace-separated name words; "'t" is a tussenvoegsel, 'T' and 'T.' are initials."""
    tokens = []
    for raw in text.split():
        word = name(raw)
        if word is not None:
            initial = raw.endswith(".") or (
                len(word) == 1 and not any(ch in _APOSTROPHE_CHARS for ch in raw)
            )
            tokens.append(_Token(word, initial, "-" in raw.strip("-")))
    return tokens


def _is_infix(token: _Token) -> bool:
    return not token.initial and token.word in TUSSENVOEGSELS


def _leading_infix(tokens: list[_Token]) -> int:
    """How many tokens at the start are tussenvoegsel words."""
    count = 0
    while count < len(tokens) and _is_infix(tokens[count]):
        count += 1
    return count


def _trailing_infix(tokens: list[_Token]) -> int:
    """How many tokens at the end are tussenvoegsel words, leaving at least one other token."""
    count = 0
    while count < len(tokens) - 1 and _is_infix(tokens[-1 - count]):
        count += 1
    return count if count < len(tokens) and not _is_infix(tokens[0]) else 0


def _strip_titles(tokens: list[_Token], keep_one: bool = True) -> list[_Token]:
    """Drop leading salutations; a full name keeps its last word ('De Heer' is a surname)."""
    start, end = 0, len(tokens) - 1 if keep_one else len(tokens)
    while start < end:
        word = tokens[start].word
        if word in TITLES or (
            word == "de" and start + 1 < len(tokens) and tokens[start + 1].word == "heer"
        ):
            start += 1
        else:
            break
    return tokens[start:]


def _join(tokens: Sequence[_Token]) -> str | None:
    return " ".join(t.word for t in tokens) or None


def split_full_name(value: str | None) -> tuple[str | None, str | None, str | None]:
    """First name(s), tussenvoegsel and last name from one field, each normalised by name().

    Best effort: 'Jan van der Berg', 'J. van der Berg', 'Berg, Jan van der', 'Berg van der, Jan'.
    """
    if not isinstance(value, str) or len(value) > _MAX_NAME:
        return None, None, None
    if "," in value:
        left, right = value.split(",", 1)
        return _split_inverted(_tokens(left), _strip_titles(_tokens(right)))
    tokens = _strip_titles(_tokens(value))
    if len(tokens) <= 1:
        return None, None, _join(tokens)
    lead = _leading_infix(tokens)
    if 0 < lead < len(tokens):  # 'van der Berg': no first name given
        return None, _join(tokens[:lead]), _join(tokens[lead:])
    for i in range(1, len(tokens)):
        run = _leading_infix(tokens[i:])
        if 0 < run < len(tokens) - i:
            return _join(tokens[:i]), _join(tokens[i : i + run]), _join(tokens[i + run :])
        if tokens[i].compound:  # 'Marie Jansen-van der Berg'
            return _join(tokens[:i]), None, _join(tokens[i:])
    return _join(tokens[:-1]), None, _join(tokens[-1:])


def _split_inverted(
    last: list[_Token], first: list[_Token]
) -> tuple[str | None, str | None, str | None]:
    """'Berg, Jan van der', 'Berg van der, Jan', 'van der Berg, Jan' and 'Berg, van der, Jan'."""
    if (run := _trailing_infix(first)) and run < len(first):
        return _join(first[:-run]), _join(first[-run:]), _join(last)
    if (run := _leading_infix(first)) and run < len(first):
        return _join(first[run:]), _join(first[:run]), _join(last)
    if run := _trailing_infix(last):
        return _join(first), _join(last[-run:]), _join(last[:-run])
    if (run := _leading_infix(last)) and run < len(last):
        return _join(first), _join(last[:run]), _join(last[run:])
    return _join(first), None, _join(last)


def name_key(first: str | None, infix: str | None, last: str | None) -> str | None:
    """Matching key 'j|vanderberg': first initial and the whole last name with its infix.

    The same for 'J.' + 'van der Berg', 'Jan' + 'VAN DER' + 'BERG' and 'Jan' + 'Berg, van der';
    None without a last name or a first initial.
    """
    last_tokens = _last_name_tokens(last)
    first_tokens = _strip_titles(_tokens(first), keep_one=False) if isinstance(first, str) else []
    if not last_tokens or not first_tokens:
        return None
    infix_tokens = _tokens(infix) if isinstance(infix, str) else []
    if not infix_tokens and (run := _trailing_infix(first_tokens)):  # first = 'Jan van der'
        infix_tokens = first_tokens[-run:]
    infix_words = " ".join(t.word for t in infix_tokens).split()
    last_words = " ".join(t.word for t in last_tokens).split()
    if last_words[: len(infix_words)] != infix_words:  # the infix may already be in 'last'
        last_words = infix_words + last_words
    return f"{first_tokens[0].word[0]}|{''.join(last_words)}"


def _last_name_tokens(last: str | None) -> list[_Token]:
    """A last name with its infix in front: 'Berg, van der' and 'Berg van der' → van der berg."""
    if not isinstance(last, str) or len(last) > _MAX_NAME:
        return []
    if "," in last:
        left, right = last.split(",", 1)
        tokens = _tokens(right) + _tokens(left)
    else:
        tokens = _tokens(last)
    if run := _trailing_infix(tokens):
        tokens = tokens[-run:] + tokens[:-run]
    return tokens


# ---------------------------------------------------------------------------------------
# whole columns
# ---------------------------------------------------------------------------------------


def apply(fn: Callable[[str], str | None], values: Any) -> pa.Array:
    """Normalise a string column by calling ``fn`` once per distinct value; nulls stay null."""
    encoded = _dictionary_encode(values)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return mapped.take(encoded.indices)


def distinct_rows(columns: Sequence[Any], rows: Any = None) -> tuple[Any, Any]:
    """Rows with equal values (or nulls) in every column are one combination: returns the
    first row of each combination (numbered in order of appearance) and, per row, its
    combination. ``rows`` (indices) limits this to those rows; the first rows are then
    among them."""
    n = len(columns[0]) if rows is None else len(rows)
    combined, bound = np.zeros(n, np.int64), 1  # every value below ``bound``
    for values in columns:
        encoded = _dictionary_encode(values)
        code = np.asarray(encoded.indices.fill_null(-1), np.int64)
        code = (code if rows is None else code[rows]) + 1
        width = len(encoded.dictionary) + 1
        if bound * width >= 2**63:  # number the combinations so far, so nothing overflows
            _, combined = np.unique(combined, return_inverse=True)
            bound = int(combined.max(initial=0)) + 1
        combined, bound = combined * width + code, bound * width
    # numbered in order of first appearance: hashing finds them four times faster than
    # sorting (np.unique) does
    group = np.asarray(pc.dictionary_encode(pa.array(combined)).indices, np.int64)
    seen = np.maximum.accumulate(group)  # a row is first where its number passes all before
    first = np.flatnonzero(np.concatenate([seen[:1] == 0, seen[1:] > seen[:-1]]))
    return (first if rows is None else np.asarray(rows)[first]), group


def apply_rows(fn: Callable[..., str | None], *columns: Any) -> pa.Array:
    """``fn`` of the values of several string columns (None for null), called once per
    distinct combination of values."""
    first, group = distinct_rows(columns)
    taken = pa.array(first, pa.int64())
    parts = [values.take(taken).to_pylist() for values in columns]
    return pa.array([fn(*row) for row in zip(*parts, strict=True)], pa.string()).take(
        pa.array(group)
    )


def apply_split(
    fn: Callable[[str | None], tuple[str | None, ...]], values: Any
) -> tuple[pa.Array, ...]:
    """Like :func:`apply` for functions that split a value into parts (one column per part)."""
    encoded = _dictionary_encode(values)
    width = len(fn(None))
    parts = [fn(v) for v in encoded.dictionary.to_pylist()]
    return tuple(
        pa.array([p[i] for p in parts], pa.string()).take(encoded.indices) for i in range(width)
    )


def name_keys(first: Any, infix: Any, last: Any) -> pa.Array:
    """:func:`name_key` for whole columns (nulls where it gives None).

    Name parts repeat far more than whole names, so each distinct first name, tussenvoegsel
    and last name is read once; only putting a tussenvoegsel before a last name is done per
    distinct pair. The tests check it gives what :func:`name_key` gives, row by row.
    """
    initial, first_infix = apply_split(_first_name_parts, first)
    infix_words = apply(_infix_words, infix)
    last_words = apply(_last_name_words, last)
    infix_used = pc.coalesce(infix_words, first_infix)
    pairs = pc.binary_join_element_wise(pc.fill_null(infix_used, ""), last_words, "|")
    return pc.binary_join_element_wise(initial, apply(_infix_before_last, pairs), "|")


def _first_name_parts(value: str | None) -> tuple[str | None, str | None]:
    """The initial of a first name, and a tussenvoegsel written after it ('Jan van der')."""
    tokens = _strip_titles(_tokens(value), keep_one=False) if isinstance(value, str) else []
    if not tokens:
        return None, None
    run = _trailing_infix(tokens)
    return tokens[0].word[0], _words(tokens[-run:]) if run else None


def _infix_words(value: str) -> str | None:
    return _words(_tokens(value))


def _last_name_words(value: str) -> str | None:
    return _words(_last_name_tokens(value))


def _words(tokens: Sequence[_Token]) -> str | None:
    """The words of name tokens, one space apart ('jansen de' holds two)."""
    return " ".join(" ".join(t.word for t in tokens).split()) or None


def _infix_before_last(pair: str) -> str:
    """'van der|berg' → 'vanderberg'; 'van der|van der berg' → 'vanderberg' (words only)."""
    infix, last = (part.split() for part in pair.split("|"))
    if last[: len(infix)] != infix:
        last = infix + last
    return "".join(last)


def emails(values: Any) -> pa.Array:
    """:func:`email` for a whole column: the common plain ASCII address in Arrow, the rest
    (quoted names, ``mailto:``, Unicode, anything unusual) value by value in Python.

    The fast path accepts only what the scalar rules accept unchanged apart from lower case
    and the provider rules, so both give the same result (tested on generated input).
    """
    values, repeat = _distinct(values)
    text = pc.utf8_lower(values)
    parts = pc.extract_regex(text, r"^(?P<local>[^@]*)@(?P<domain>[^@]*)$")
    local, domain = pc.struct_field(parts, [0]), pc.struct_field(parts, [1])
    fast = pc.and_(
        pc.and_(pc.string_is_ascii(text), pc.match_substring_regex(text, _EMAIL_FAST)),
        pc.and_(
            pc.less_equal(pc.binary_length(text), _MAX_EMAIL),
            pc.less_equal(pc.binary_length(local), 64),
        ),
    )
    gmail = pc.is_in(domain, value_set=pa.array(sorted(GMAIL_DOMAINS)))
    tagged = pc.or_(gmail, pc.is_in(domain, value_set=pa.array(sorted(PLUS_TAG_DOMAINS))))
    local = pc.if_else(tagged, pc.replace_substring_regex(local, r"\+.*", ""), local)
    local = pc.if_else(gmail, pc.replace_substring(local, ".", ""), local)
    domain = pc.if_else(gmail, "gmail.com", domain)
    result = pc.binary_join_element_wise(local, domain, "@")
    result = pc.if_else(pc.equal(local, ""), pa.scalar(None, pa.string()), result)
    return _with_fallback(values, result, fast, email).take(repeat)


def phones(values: Any) -> pa.Array:
    """:func:`phone` for a whole column: the common Dutch notations and plain international
    ones in Arrow, the rest (other notations, notes, Unicode) value by value through
    phonenumbers."""
    values, repeat = _distinct(values)
    compact = pc.replace_substring_regex(values, r"[ \t\-./()\[\]~]", "")
    nsn = pc.replace_substring_regex(compact, r"^(?:\+31|0031|0)", "")
    nsn = pc.if_else(pc.match_substring_regex(compact, r"^31\d{9}$"),
                     pc.utf8_slice_codeunits(compact, 2), nsn)  # fmt: skip
    nsn = pc.replace_substring_regex(nsn, r"^0", "")
    fast = pc.and_(
        pc.and_(pc.string_is_ascii(values), pc.less_equal(pc.binary_length(values), _MAX_PHONE)),
        pc.and_(
            pc.invert(pc.match_substring_regex(values, r"[A-Za-z]")),
            pc.and_(
                pc.invert(pc.match_substring_regex(compact, r"^00(?:[^3]|3[^1]|31$)")),
                pc.match_substring_regex(nsn, f"^(?:{_NL_FAST.pattern})$"),
            ),
        ),
    )
    result = pc.binary_join_element_wise("+31", nsn, "")
    foreign, abroad = foreign_phones(values)
    foreign = pc.and_(foreign, pc.less_equal(pc.binary_length(values), _MAX_PHONE))
    result = pc.if_else(fast, result, abroad)
    return _with_fallback(values, result, pc.or_(fast, foreign), phone).take(repeat)


_EMAIL_FAST = (
    r'^(?:[^ "(),.:;<>@\[\\\]\x00-\x1f\x7f]+(?:\.[^ "(),.:;<>@\[\\\]\x00-\x1f\x7f]+)*)'
    r"@(?:(?:[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))$"
)


def _distinct(values: Any) -> tuple[Any, Any]:
    """The distinct values of a string column, and per row the index of its value."""
    encoded = _dictionary_encode(values)
    return encoded.dictionary.cast(pa.string()), encoded.indices


def _with_fallback(
    values: Any, fast_result: Any, fast: Any, fn: Callable[[str], str | None]
) -> pa.Array:
    """``fast_result`` where ``fast`` holds; ``fn`` value by value elsewhere."""
    slow = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(fast, False)))
    result = pc.if_else(pc.fill_null(fast, False), fast_result, pa.scalar(None, pa.string()))
    if not pc.any(slow).as_py():
        return result
    slow_values = values.filter(slow).to_pylist()
    return pc.replace_with_mask(result, slow, pa.array([fn(v) for v in slow_values], pa.string()))


def _dictionary_encode(values: Any) -> Any:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        return values
    return pc.dictionary_encode(values)
