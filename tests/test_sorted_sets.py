"""The sorted-set helpers give exactly what numpy's own set functions give."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from publieksdata import sorted_sets

_INTS = hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-(2**62), 2**62))
_SMALL = hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5))
_ANY = st.one_of(_INTS, _SMALL)


@given(_ANY)
def test_unique_is_numpys(values: np.ndarray) -> None:
    assert np.array_equal(sorted_sets.unique(values), np.unique(values))


@given(_ANY, _ANY)
def test_isin_is_numpys(values: np.ndarray, members: np.ndarray) -> None:
    assert np.array_equal(sorted_sets.isin(values, members), np.isin(values, members))


@given(_ANY, _ANY)
def test_difference_is_numpys(values: np.ndarray, others: np.ndarray) -> None:
    assert np.array_equal(sorted_sets.difference(values, others), np.setdiff1d(values, others))


def test_unsigned_hashes_and_small_kinds_work_too() -> None:
    hashes = np.array([2**64 - 1, 3, 2**64 - 1, 0], np.uint64)
    assert sorted_sets.unique(hashes).tolist() == [0, 3, 2**64 - 1]
    assert sorted_sets.isin(np.array([1, 2], np.int8), [2, 9]).tolist() == [False, True]
