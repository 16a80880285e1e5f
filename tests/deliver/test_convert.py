"""Strict date parsing: the same answer as Python's own strict parser, value by value."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.convert import parse_moment

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
