"""The problem log: problems merged per batch, or added for many rows at once, read exactly
as if they were logged one by one."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.problems import CATALOGUE, Problem, ProblemLog

_PROBLEMS = st.lists(
    st.builds(
        Problem,
        code=st.sampled_from(sorted(CATALOGUE)[:6]),
        row=st.integers(2, 10_000),
        column=st.sampled_from([None, "Postcode", "Prijs"]),
        value=st.sampled_from([None, "x", "y"]),
    ),
    max_size=80,
)


@given(_PROBLEMS, st.integers(0, 80), st.integers(1, 30))
def test_merging_a_later_log_equals_logging_one_by_one(
    problems: list[Problem], split: int, limit: int
) -> None:
    one_by_one, merged, later = ProblemLog(limit), ProblemLog(limit), ProblemLog(limit)
    for problem in problems:
        one_by_one.add(problem)
    for problem in problems[:split]:
        merged.add(problem)
    for problem in problems[split:]:
        later.add(problem)
    merged.extend(later)
    assert merged == one_by_one


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(CATALOGUE)[:4]),
            st.lists(st.integers(2, 10_000), max_size=30),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.integers(1, 40),
)
def test_adding_many_rows_at_once_equals_adding_them_one_by_one(
    reports: list[tuple[str, list[int], bool]], limit: int
) -> None:
    one_by_one, at_once = ProblemLog(limit), ProblemLog(limit)
    for code, rows, shown in reports:
        values = [f"v{row}" for row in rows] if shown else None
        for i, row in enumerate(rows):
            one_by_one.add(Problem(code, row, "Kolom", values[i] if values else None, "e", "c"))
        array = pa.array(values, pa.string()) if values is not None else None
        at_once.add_rows(code, "Kolom", np.array(rows, np.int64), array, "e", "c")
    assert at_once == one_by_one
