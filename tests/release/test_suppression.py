"""Complementary suppression under attack: solve the released table's linear system.

A reader knows every shown cell, that a '< k' cell holds 1 to k-1 persons (0 when it only
has tickets without persons) and that an 'x' cell holds at least k, and that the cells add up
to their margins. With a linear program per hidden small cell we compute the least and most
it can hold. No such cell may be pinned down: at least three values stay possible, before
the noise on every shown figure blurs the equations further. A table with one breakdown
keeps a hidden small cell's whole range 1..k-1 open.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from publieksdata.release.suppression import (
    PRIMARY_SMALL,
    Dims,
    complementary,
    primary,
    relations,
)

K = 10
values = st.one_of(st.integers(1, K - 1), st.integers(K, 3 * K), st.integers(3 * K, 500))


def with_margins(inner: dict[Dims, int], axes: int) -> tuple[list[Dims], np.ndarray]:
    """The cells and every margin, summed."""
    table: dict[Dims, int] = {}
    for dims, value in inner.items():
        for mask in product((False, True), repeat=axes):
            key = tuple(None if m else d for d, m in zip(dims, mask, strict=True))
            table[key] = table.get(key, 0) + value
    cells = sorted(table, key=lambda d: tuple((v is None, v or "") for v in d))
    return cells, np.array([table[c] for c in cells])


def attack(
    cells: list[Dims], persons: np.ndarray, reasons: list[str | None]
) -> dict[int, tuple[float, float]]:
    """The least and most each hidden small cell can hold, given all that is released."""
    hidden = [i for i, r in enumerate(reasons) if r is not None]
    column = {cell: n for n, cell in enumerate(hidden)}
    rows, rhs = [], []
    for group in relations(cells):
        margin, inner = group[0], group[1:]
        row = np.zeros(len(hidden))
        known = 0.0
        for i, sign in [(margin, -1.0)] + [(i, 1.0) for i in inner]:
            if i in column:
                row[column[i]] += sign
            else:
                known += sign * persons[i]
        if row.any():
            rows.append(row)
            rhs.append(-known)
    bounds = [
        ((0 if persons[i] == 0 else 1), K - 1) if reasons[i] == PRIMARY_SMALL else (K, None)
        for i in hidden
    ]
    out = {}
    for i in hidden:
        if reasons[i] != PRIMARY_SMALL:
            continue
        objective = np.zeros(len(hidden))
        objective[column[i]] = 1
        low = linprog(objective, A_eq=rows or None, b_eq=rhs or None, bounds=bounds)
        high = linprog(-objective, A_eq=rows or None, b_eq=rhs or None, bounds=bounds)
        assert low.status == 0, "the true table is always feasible"
        assert high.status == 0
        out[i] = (low.fun, -high.fun)
    return out


def protect(cells: list[Dims], persons: np.ndarray) -> list[str | None]:
    return complementary(cells, persons, primary(persons, K), K)


def assert_safe(cells: list[Dims], persons: np.ndarray, width: float = 2) -> list[str | None]:
    reasons = protect(cells, persons)
    for i, (low, high) in attack(cells, persons, reasons).items():
        assert high - low >= width - 1e-6, (cells[i], persons[i], low, high)
    for group in relations(cells):
        assert sum(reasons[i] is not None for i in group) != 1
    return reasons


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), values, min_size=1))
def test_one_breakdown_never_gives_a_small_cell_away(inner: dict[str, int]) -> None:
    cells, persons = with_margins({(key,): v for key, v in inner.items()}, 1)
    small = sum(1 for v in inner.values() if v < K)
    # all of the range, unless every cell is small (then their total bounds them)
    assert_safe(cells, persons, K - 2 if small < len(inner) else 1)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from("abcde"), st.sampled_from("vwxyz")), values,
                       min_size=1))  # fmt: skip
def test_two_breakdowns_never_give_a_small_cell_away(inner: dict[tuple[str, str], int]) -> None:
    cells, persons = with_margins(inner, 2)
    assert_safe(cells, persons)


def test_the_classic_case_hides_a_second_cell_with_room() -> None:
    cells, persons = with_margins({("a",): 1, ("b",): 10, ("c",): 200}, 1)
    reasons = assert_safe(cells, persons)
    hidden = {cells[i] for i, r in enumerate(reasons) if r is not None}
    assert hidden == {("a",), ("c",)}, "b (10) would pin a at 1; c leaves room"


def test_nothing_small_means_nothing_hidden() -> None:
    cells, persons = with_margins({("a", "x"): 40, ("a", "y"): 50, ("b", "x"): 60}, 2)
    assert protect(cells, persons) == [None] * len(cells)


def test_a_small_total_hides_everything_under_it() -> None:
    cells, persons = with_margins({("a",): 3, ("b",): 4}, 1)
    assert all(r is not None for r in protect(cells, persons))
