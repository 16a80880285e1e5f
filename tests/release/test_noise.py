"""Cell-key noise: fixed per cell, centred on zero, bounded, and never below k."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from publieksdata.release.noise import cell_noise, released_count, released_revenue, round_to

keys = st.integers(0, 2**31 - 2)


@given(keys, st.integers(0, 10))
def test_noise_is_fixed_and_bounded(key: int, spread: int) -> None:
    noise = cell_noise(key, "persons", spread)
    assert noise == cell_noise(key, "persons", spread)
    assert -spread <= noise <= spread


def test_noise_is_centred_and_uses_every_step() -> None:
    counts = Counter(cell_noise(key, "visits", 2) for key in range(20_000))
    assert set(counts) == {-2, -1, 0, 1, 2}
    assert abs(sum(n * c for n, c in counts.items()) / 20_000) < 0.05
    assert min(counts.values()) > 3_500  # each of the five steps near a fifth


def test_measures_get_their_own_noise() -> None:
    same = sum(cell_noise(k, "persons", 2) == cell_noise(k, "tickets", 2) for k in range(5_000))
    assert same < 1_500  # independent draws agree about a fifth of the time


@given(st.integers(10, 10**7), keys, st.integers(0, 9), st.sampled_from([1, 5, 10]))
def test_a_released_count_is_near_the_truth_and_never_below_k(
    value: int, key: int, spread: int, base: int
) -> None:
    shown = released_count(value, key, "persons", k=10, spread=spread, base=base)
    assert shown >= 10
    assert shown % base == 0
    assert abs(shown - value) <= spread + base  # noise plus rounding (and the k floor)


@given(st.integers(0, 10**9), keys)
def test_revenue_is_rounded_and_never_negative(cents: int, key: int) -> None:
    euros = released_revenue(cents, key, spread=2, base_euro=10)
    assert euros % 10 == 0
    assert euros >= 0
    assert abs(euros - cents / 100) <= 25


def test_rounding_is_half_up() -> None:
    assert [round_to(v, 5) for v in (12, 12.5, 13, 17.4)] == [10, 15, 15, 15]
