"""Deterministic cell-key noise and rounding.

Every person has a secret record key; a cell's key is the sum of its persons' keys, so the
same group of people always gets the same noise, whichever query finds it. Asking the
same question a thousand times gives the same answer a thousand times: averaging gains
nothing. Two different groups get independent noise, so subtracting two released figures
does not give an exact count.
"""

from __future__ import annotations

import hashlib


def cell_noise(key_sum: int, measure: str, spread: int) -> int:
    """A whole number from -spread to +spread, uniform, fixed by the cell key and measure."""
    if spread == 0:
        return 0
    digest = hashlib.sha256(f"{measure}:{key_sum}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2 * spread + 1) - spread


def round_to(value: float, base: int) -> int:
    """Round half up to a multiple of ``base``."""
    return int((value + base / 2) // base) * base


def released_count(value: int, key_sum: int, measure: str, *, k: int, spread: int,
                   base: int) -> int:  # fmt: skip
    """A count as it may leave: with noise, rounded, and never shown below k."""
    noisy = value + cell_noise(key_sum, measure, spread)
    lowest = -(-k // base) * base  # k, or the first multiple of base above it
    return max(round_to(noisy, base), lowest)


def released_revenue(cents: int, key_sum: int, *, spread: int, base_euro: int) -> int:
    """Revenue in whole euros, rounded to ``base_euro`` and moved by whole steps of it."""
    euros = round_to(cents / 100, base_euro)
    return max(euros + cell_noise(key_sum, "revenue", spread) * base_euro, 0)
