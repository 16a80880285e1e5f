"""The generator's own XLSX writer gives workbooks a real reader opens cell for cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from publieksdata.xlsx import column_letter, write_xlsx

# XML 1.0 cannot hold control characters or surrogates; exports never contain them.
cell_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    max_size=30,
)


def read(path: Path) -> list[list[object]]:
    rows: list[list[object]] = (
        CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    )
    return rows


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(st.lists(st.tuples(cell_text, cell_text), min_size=1, max_size=20))
def test_text_survives_the_round_trip(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    path = tmp_path / "text.xlsx"
    left, right = (pa.array(list(c), pa.string()) for c in zip(*rows, strict=True))
    write_xlsx(path, "Blad <1> & co", ["A & B", "<C>"], [left, right], ["text", "text"])
    header, *back = read(path)
    assert header == ["A & B", "<C>"]
    # A reader ends the sheet at the last non-empty cell; rows after it read as empty.
    back += [[]] * (len(rows) - len(back))
    assert [[str(c) for c in r] + [""] * (2 - len(r)) for r in back] == [list(r) for r in rows]


def test_dates_and_numbers_are_real_cells_and_broken_ones_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    dates = pa.array(["2023-03-03", "30-02-2026", None, "1999-12-31"])
    money = pa.array(["17.50", "gratis?", "0", "1200.00"])
    write_xlsx(path, "S", ["Datum", "Bedrag"], [dates, money], ["date", "money"])
    _, *rows = read(path)
    assert rows[0] == [dt.date(2023, 3, 3), 17.5]
    assert rows[1] == ["30-02-2026", "gratis?"]
    assert rows[2][1] == 0.0
    assert rows[2][0] in ("", None)
    assert rows[3] == [dt.date(1999, 12, 31), 1200.0]


def test_the_same_rows_give_the_same_bytes(tmp_path: Path) -> None:
    values = [pa.array(["a", "b"])]
    write_xlsx(tmp_path / "1.xlsx", "S", ["x"], values, ["text"])
    write_xlsx(tmp_path / "2.xlsx", "S", ["x"], values, ["text"])
    assert (tmp_path / "1.xlsx").read_bytes() == (tmp_path / "2.xlsx").read_bytes()


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (11, "L"), (25, "Z"), (26, "AA"), (51, "AZ"), (702, "AAA")]
)
def test_column_letters(index: int, letters: str) -> None:
    assert column_letter(index) == letters
