"""Set operations on integer arrays by sorting.

numpy 2 finds the distinct values of a plain ``np.unique`` (and so of ``np.isin`` and
``np.setdiff1d``) with a hash table, which on large arrays of 64-bit numbers is some twenty
times slower than sorting them. Linkage and duplicate detection do these operations on every
batch, so they use these instead; the results are the same (tested).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def unique(values: npt.ArrayLike) -> np.ndarray:
    """The distinct values, sorted: ``np.unique(values)``."""
    ordered = np.sort(np.asarray(values).ravel())
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def isin(values: npt.ArrayLike, members: npt.ArrayLike) -> np.ndarray:
    """Per value, whether it is one of ``members``: ``np.isin(values, members)``."""
    values, distinct = np.asarray(values), unique(members)
    if len(distinct) == 0:
        return np.zeros(values.shape, bool)
    position = np.searchsorted(distinct, values).clip(0, len(distinct) - 1)
    return np.asarray(distinct[position] == values)


def difference(values: npt.ArrayLike, others: npt.ArrayLike) -> np.ndarray:
    """The distinct values not among ``others``, sorted: ``np.setdiff1d(values, others)``."""
    distinct = unique(values)
    return np.asarray(distinct[~isin(distinct, others)])
