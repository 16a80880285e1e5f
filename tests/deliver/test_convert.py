"""Conversion helpers: cell text, strict date parsing (the same answer as Python's own strict
parser, value by value) and identities."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.convert import IDENTIFIERS, Conversion, accepted_identities, parse_moment
from publieksdata.deliver.mapping import MappingProfile
from publieksdata.deliver.problems import ProblemLog

DAY = st.builds(
    "{:02d}-{:02d}-{:04d}".format,
    st.integers(0, 32),
    st.integers(0, 13),
    st.integers(1899, 2100),
)
TEXTS = st.lists(st.one_of(DAY, st.none(), st.text(max_size=12)), max_size=40)


def strict(text: str | None, fmt: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.strptime(text, fmt)
    except ValueError:
        return None


@given(TEXTS)
def test_parse_moment_agrees_with_strict_parsing(texts: list[str | None]) -> None:
    parsed, failed = parse_moment(pa.array(texts, pa.string()), "%d-%m-%Y")
    expected = [strict(t, "%d-%m-%Y") for t in texts]
    assert parsed.to_pylist() == expected
    assert failed.tolist() == [
        t is not None and e is None for t, e in zip(texts, expected, strict=True)
    ]


def test_rolled_over_days_are_failures() -> None:
    parsed, failed = parse_moment(pa.array(["31-02-2026", "28-02-2026", "31-02-2026"]), "%d-%m-%Y")
    assert parsed.to_pylist() == [None, dt.datetime(2026, 2, 28), None]
    assert failed.tolist() == [True, False, True]


def _conversion(
    combinations: list[tuple[str | None, ...]], rows: list[int] | None, rejected: list[bool]
) -> Conversion:
    """A converted batch whose rows have these combinations of identifiers (``rows``: per
    row the index of its combination; None: one combination per row)."""
    n = len(rejected)
    raw = pa.record_batch({"__row__": pa.array(range(2, n + 2), pa.int64())})
    conv = Conversion(raw, MappingProfile("test", {}), ProblemLog())
    conv.identifiers = {
        name: pa.array([c[i] for c in combinations], pa.string())
        for i, name in enumerate(IDENTIFIERS)
    }
    if rows is not None:
        conv.combination = np.array(rows, np.int64)
    conv.rejected = np.array(rejected, bool)
    return conv


def _check_identities(
    combinations: list[tuple[str | None, ...]], rows: list[int] | None, rejected: list[bool]
) -> None:
    """Accepted rows share an identity exactly when all their identifiers are equal, each
    identity carries those identifiers, and no identity is of rejected rows only."""
    identity, distinct = accepted_identities(_conversion(combinations, rows, rejected))
    per_row = [combinations[i] for i in rows] if rows is not None else combinations
    accepted = [row for row, out in zip(per_row, rejected, strict=True) if not out]
    assert len(identity) == len(accepted)
    assert len(distinct["email"]) == len(set(accepted))
    columns = [distinct[name].to_pylist() for name in IDENTIFIERS]
    for row, index in zip(accepted, identity, strict=True):
        assert tuple(column[index] for column in columns) == row


_VALUE = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
_COMBINATION = st.tuples(*[_VALUE] * len(IDENTIFIERS))


@given(st.lists(st.tuples(_COMBINATION, st.booleans()), max_size=40))
def test_rows_are_one_identity_exactly_when_their_identifiers_are_equal(
    rows: list[tuple[tuple[str | None, ...], bool]],
) -> None:
    _check_identities([row for row, _ in rows], None, [out for _, out in rows])


@given(st.data())
def test_rows_sharing_combinations_of_cells_get_the_identity_of_their_combination(
    data: st.DataObject,
) -> None:
    """Rows point at combinations of cells, which may normalise to equal identifiers;
    combinations that only rejected rows use give no identity."""
    combinations = data.draw(st.lists(_COMBINATION, min_size=1, max_size=12))
    rows = data.draw(st.lists(st.integers(0, len(combinations) - 1), max_size=40))
    rejected = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    _check_identities(combinations, rows, rejected)


def test_identities_of_many_distinct_values_do_not_overflow() -> None:
    """So many distinct values per identifier that their combinations pass 2**63."""
    rows = [tuple(f"{name}{i % (1700 + j)}" for j, name in enumerate(IDENTIFIERS))
            for i in range(4000)]  # fmt: skip
    rows += rows[:50]  # and some identities twice
    _check_identities(rows, None, [False] * len(rows))


# White space of every kind Arrow and Python agree on, and text beyond ASCII that is not.
_CELLS = st.lists(st.none() | st.text(alphabet=" \t\n\x0b\x1c\x85\u00a0\u3000abé€", max_size=4),
                  max_size=30)  # fmt: skip


@given(_CELLS, st.integers(0, 3))
def test_cell_text_is_trimmed_and_blank_cells_are_null(cells: list[str | None], skip: int) -> None:
    """Also when the column is a slice of a longer one (as a batch of a file is)."""
    column = pa.array([*["xyz"] * skip, *cells], pa.string())[skip:]
    raw = pa.record_batch({"Naam": column, "__row__": pa.array(range(len(cells)), pa.int64())})
    conv = Conversion(raw, MappingProfile("test", {"Naam": "customer.last_name"}), ProblemLog())
    text = conv.text("customer.last_name")
    assert text is not None
    assert text.to_pylist() == [c.strip() or None if c is not None else None for c in cells]
