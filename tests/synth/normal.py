"""Simple, independent normalisation of identifiers, to compare notations in tests.

Deliberately not the product's normalisation: the tests check the generator against a
second reading of what a notation means.
"""

from __future__ import annotations

import re

POSTCODE = re.compile(r"[1-9][0-9]{3} ?(?!SA|SD|SS)[A-Z]{2}")


def norm_email(value: str) -> str:
    return value.strip().lower()


def norm_phone(value: str) -> str:
    """Digits with the country code, the way E.164 writes them (without '+')."""
    text = value.replace("(0)", "").strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    return "31" + digits[1:]


def norm_postcode(value: str) -> str:
    return value.replace(" ", "").upper()
