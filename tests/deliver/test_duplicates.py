"""The set of hashes seen so far answers like a plain set, however the batches come."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.duplicates import _Seen

_BATCHES = st.lists(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 40), max_size=30),
                    max_size=25)  # fmt: skip


@given(_BATCHES)
def test_seen_hashes_behave_like_a_set(batches: list[list[int]]) -> None:
    seen, plain = _Seen(), set()
    for batch in batches:
        values = np.unique(np.array(batch, np.uint64))
        assert sorted(seen.known(values).tolist()) == sorted(plain & set(batch))
        seen.add(values)
        plain |= set(batch)
    total = sum(len(batch) for batch in batches)
    assert len(seen._runs) <= total.bit_length() + 1  # a few runs, not one per batch
