"""The hashes seen so far answer like a plain mapping of hash to rows, however the batches
come."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.duplicates import _Seen

_BATCHES = st.lists(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 40), max_size=30),
                    max_size=25)  # fmt: skip


@given(_BATCHES)
def test_seen_hashes_behave_like_a_mapping_to_their_rows(batches: list[list[int]]) -> None:
    seen, plain = _Seen(), defaultdict(list)
    row = 0
    for batch in batches:
        values = np.sort(np.array(batch, np.uint64))
        which, earlier = seen.matches(values)
        expected = sorted((i, r) for i, v in enumerate(values.tolist()) for r in plain[v])
        assert sorted(zip(which.tolist(), earlier.tolist(), strict=True)) == expected
        rows = np.arange(row, row + len(values), dtype=np.int64)
        seen.add(values, rows)
        for value, number in zip(values.tolist(), rows.tolist(), strict=True):
            plain[value].append(number)
        row += len(values)
    assert len(seen._runs) <= row.bit_length() + 1  # a few runs, not one per batch
    for hashes, _ in seen._runs:
        assert (hashes[1:] >= hashes[:-1]).all()
