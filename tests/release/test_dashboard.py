"""Dashboards answered ahead: read when current, computed afresh after any change they read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from publieksdata.deliver.coding import load_institutions
from publieksdata.insights.source import Source
from publieksdata.pseudonymise.keys import DeploymentKey, Secret
from publieksdata.release.dashboard import DASHBOARD, OVERLAP, SECTOR, ask, prepare
from publieksdata.release.insights import Insights
from publieksdata.release.policy import ReleasePolicy
from publieksdata.warehouse.store import Warehouse
from tests.conftest import Delivered


@pytest.fixture
def copy(delivered: Delivered, tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(delivered.warehouse, path)
    return path


def _two(delivered: Delivered) -> tuple[str, str]:
    ids = sorted({str(e["institution_id"]) for e in delivered.sector.exports})
    return ids[0], ids[1]


def _prepare(path: Path, key: DeploymentKey, institutions: list[str]) -> int:
    with Warehouse(path, key.fingerprint) as warehouse:
        return prepare(warehouse, key, institutions, sector=True)


def _answers(path: Path, key: DeploymentKey, institution: str,
             stored: bool) -> tuple[list[object], list[str]]:  # fmt: skip
    """The dashboard, the sector overview and the overlap matrices as released, and the
    questions that had to be computed."""
    source = Source.duckdb(path, stored=stored)
    insights = Insights(source, key, ReleasePolicy())
    released = ask(insights.for_institution(institution), DASHBOARD)
    released += ask(insights.sector(), SECTOR + OVERLAP)
    source.close()
    return [r.table for r in released], [q for q, _, _ in insights.computed]


def test_a_prepared_dashboard_is_read_and_releases_the_same(
    copy: Path, delivered: Delivered
) -> None:
    mine, _ = _two(delivered)
    stored = _prepare(copy, delivered.key, [mine])
    assert stored >= len(DASHBOARD) + len(SECTOR) + len(OVERLAP)
    tables, computed = _answers(copy, delivered.key, mine, stored=True)
    assert computed == []
    fresh, recomputed = _answers(copy, delivered.key, mine, stored=False)
    assert len(recomputed) == stored
    assert tables == fresh
    assert _prepare(copy, delivered.key, [mine]) == 0, "current cubes are kept, not redone"


def test_a_change_to_another_institution_keeps_only_my_own_questions(
    copy: Path, delivered: Delivered
) -> None:
    mine, theirs = _two(delivered)
    _prepare(copy, delivered.key, [mine, theirs])
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        warehouse.withdraw(warehouse.deliveries(theirs)[0].delivery_id)
    tables, computed = _answers(copy, delivered.key, mine, stored=True)
    assert {q.split("|")[0] for q in computed} == {"institutions", "crossover", "reach",
                                                   "overlap@institution",
                                                   "overlap@discipline"}  # fmt: skip
    questions = [q for q in computed if q != "institutions"]
    assert all(q.split("|")[1] in ("", mine) for q in questions)
    own = [q for q in questions if q.split("|")[1] == mine]
    assert [q.split("|")[0] for q in own] == ["crossover"], "my own figures did not change"
    fresh, _ = _answers(copy, delivered.key, mine, stored=False)
    assert tables == fresh
    source = Source.duckdb(copy)
    insights = Insights(source, delivered.key, ReleasePolicy())
    insights.tabulation("reach", [theirs], None, ("season",))
    source.close()
    assert [q for q, _, _ in insights.computed] == ["institutions", f"reach|{theirs}||season"]


def test_the_register_and_other_keys_make_every_cube_stale(
    copy: Path, delivered: Delivered
) -> None:
    mine, _ = _two(delivered)
    stored = _prepare(copy, delivered.key, [mine])
    other = DeploymentKey(Secret(bytes(range(1, 33))))
    _, computed = _answers(copy, other, mine, stored=True)
    assert len(computed) == stored, "noise keyed by another key is not reused"
    with Warehouse(copy, delivered.key.fingerprint) as warehouse:
        load_institutions(warehouse, delivered.sector.folder / "institutions.csv")
    _, computed = _answers(copy, delivered.key, mine, stored=True)
    assert len(computed) == stored - 1
    assert "institutions" not in computed, "who has data does not hang on the register"
