"""`publieksdata insights`: real processes over the delivered tiny sector."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from publieksdata.pseudonymise.keys import key_file_text
from tests.conftest import Delivered
from tests.test_cli import run


@pytest.fixture(scope="module")
def options(delivered: Delivered, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ...]:
    key_file = tmp_path_factory.mktemp("key") / "publieksdata.key"
    key_file.write_text(key_file_text(delivered.key))
    os.chmod(key_file, 0o600)
    return ("--data", str(delivered.warehouse.parent), "--key-file", str(key_file))


def institution(delivered: Delivered) -> str:
    return str(delivered.sector.exports[0]["institution_id"])


def test_reach_prints_a_table_with_marks_and_notes(delivered: Delivered,
                                                   options: tuple[str, ...]) -> None:  # fmt: skip
    result = run("insights", "reach", "--institution", institution(delivered), "--by", "pc4",
                 *options)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "< 10" in result.stdout
    assert "minder dan 10 personen" in result.stdout
    assert "Totaal" in result.stdout


def test_reach_writes_csv_and_xlsx_with_reasons(delivered: Delivered, options: tuple[str, ...],
                                                tmp_path: Path) -> None:  # fmt: skip
    csv_path, xlsx_path = tmp_path / "r.csv", tmp_path / "r.xlsx"
    asked = ("--sector", "--by", "season", "--by", "age_band")
    result = run("--lang", "en", "insights", "reach", *asked, "--csv", str(csv_path),
                 "--xlsx", str(xlsx_path), *options)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(csv_path.open(encoding="utf-8-sig")))
    assert rows[0][:3] == ["Season", "Age", "Reach (persons)"]
    cells = [r for r in rows[1:] if not r[0].startswith("#")]
    assert any(r[2] == "< 10" and r[-1] == "fewer than 10 persons" for r in cells)
    assert all(r[-1] == "" for r in cells if r[2] not in ("< 10", "x"))
    sheet = CalamineWorkbook.from_path(str(xlsx_path)).get_sheet_by_index(0).to_python()
    assert len(sheet) == len(cells) + 1
    shown = [r for r in sheet[1:] if r[-1] == ""]
    assert shown
    assert all(isinstance(r[2], float) for r in shown), "shown figures are real numbers"


def test_reach_as_json_carries_no_protection_columns(delivered: Delivered,
                                                     options: tuple[str, ...]) -> None:  # fmt: skip
    result = run("insights", "reach", "--sector", "--by", "discipline", "--json", *options)
    assert result.returncode == 0, result.stderr
    released = json.loads(result.stdout)
    figures = {"persons", "visits", "tickets", "revenue", "average_spend", "status"}
    assert set(released["cells"][0]) == {*figures, "discipline"}
    assert released["notes"]


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (("--by", "pc4"), "insights-scope"),
        (("--sector", "--institution", "I0001"), "insights-scope"),
        (("--institution", "I9999"), "insights-unknown-institution"),
        (("--sector", "--by", "seizoen"), "insights-unknown-breakdown"),
        (("--sector", "--by", "pc4", "--by", "season", "--by", "genre"),
         "insights-too-many-breakdowns"),
        (("--sector", "--season", "2024"), "insights-bad-season"),
    ],
)  # fmt: skip
def test_wrong_questions_get_a_clear_one_line_answer(
    options: tuple[str, ...], arguments: tuple[str, ...], code: str
) -> None:
    result = run("insights", "reach", *arguments, *options)
    assert result.returncode == 2
    assert f"[{code}]" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_policy_file_is_refused(options: tuple[str, ...], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("k = 1\n")
    result = run("insights", "reach", "--sector", "--policy", str(policy), *options)
    assert result.returncode == 2
    assert "[policy-bad-value]" in result.stderr


def test_crossover_names_only_institutions_that_agreed(
    delivered: Delivered, options: tuple[str, ...]
) -> None:
    asked = ("--institution", institution(delivered), "--by", "institution", "--json")
    result = run("--lang", "en", "insights", "crossover", *asked, *options)
    assert result.returncode == 0, result.stderr
    released = json.loads(result.stdout)
    assert {"share", "institution"} <= set(released["cells"][0])
    assert any(c["institution"] == "other_institutions" for c in released["cells"])


def test_the_overlap_matrix_prints_and_exports(options: tuple[str, ...], tmp_path: Path) -> None:
    csv_path = tmp_path / "overlap.csv"
    result = run("--lang", "en", "insights", "overlap", "--by", "discipline",
                 "--csv", str(csv_path), *options)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Also visited" in result.stdout
    rows = list(csv.reader(csv_path.open(encoding="utf-8-sig")))
    assert rows[0][:4] == ["Visited", "Also visited", "Reach (persons)",
                           "Share of the visitors of 'Visited'"]  # fmt: skip
    diagonal = [r for r in rows[1:] if not r[0].startswith("#") and r[0] == r[1]]
    assert diagonal
    assert all(r[3] in ("100.0", "x", "–") for r in diagonal)
    assert any(r[3] == "100.0" for r in diagonal)
    wrong = run("insights", "overlap", "--by", "season", *options)
    assert wrong.returncode == 2
    assert "[insights-unknown-breakdown]" in wrong.stderr


def test_differential_privacy_from_the_policy_and_its_budget(
    delivered: Delivered, options: tuple[str, ...], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(delivered.warehouse, data / "warehouse.duckdb")
    policy = tmp_path / "policy.toml"
    policy.write_text("[release]\ndp_epsilon = 0.5\ndp_budget = 0.5\n")
    mine = ("--data", str(data), "--key-file", options[3], "--policy", str(policy))
    first = run("--lang", "en", "insights", "reach", "--sector", "--by", "gender", *mine)
    assert first.returncode == 0, first.stderr
    assert "Differential privacy (OpenDP)" in first.stdout
    again = run("--lang", "en", "insights", "reach", "--sector", "--by", "gender", *mine)
    assert again.stdout == first.stdout, "the same question, the same answer"
    refused = run("insights", "reach", "--sector", "--by", "channel", *mine)
    assert refused.returncode == 2
    assert "[privacy-budget-exhausted]" in refused.stderr
    said = run("--lang", "en", "budget", "--data", str(data), "--policy", str(policy))
    assert "Differential privacy is on: ε = 0.50 of 0.50 spent in 1 table;" in said.stdout
    dutch = run("budget", "--data", str(data), "--policy", str(policy))
    assert "staat aan: ε = 0,50 van 0,50 besteed in 1 tabel;" in dutch.stdout
