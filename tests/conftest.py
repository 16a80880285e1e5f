"""One tiny synthetic sector per test session, generated once and only read by tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publieksdata.deliver.coding import load_institutions
from publieksdata.deliver.delivery import deliver_file
from publieksdata.pseudonymise.keys import DeploymentKey, Secret
from publieksdata.synth.config import scale
from publieksdata.synth.generator import SectorSummary, generate_sector
from publieksdata.warehouse.store import Warehouse


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SectorSummary:
    return generate_sector(scale("tiny"), tmp_path_factory.mktemp("tiny"), workers=1)


@pytest.fixture(scope="session")
def sector(tiny: SectorSummary) -> SectorSummary:
    """The tiny sector, under the name the delivery tests use."""
    return tiny


@dataclass(frozen=True)
class Delivered:
    """The tiny sector delivered into one warehouse, as a deployment would hold it."""

    sector: SectorSummary
    warehouse: Path
    key: DeploymentKey


@pytest.fixture(scope="session")
def delivered(tiny: SectorSummary, tmp_path_factory: pytest.TempPathFactory) -> Delivered:
    folder = tmp_path_factory.mktemp("delivered")
    key = DeploymentKey(Secret(bytes(range(32))))  # fixed, so noise is the same every run
    path = folder / "warehouse.duckdb"
    with Warehouse(path, key.fingerprint) as warehouse:
        load_institutions(warehouse, tiny.folder / "institutions.csv")
        for export in tiny.exports:
            deliver_file(tiny.folder / export["file"], export["institution_id"], warehouse, key)
    return Delivered(tiny, path, key)


def matched(released: list[dict[str, Any]], true: list[dict[str, Any]],
            by: tuple[str, ...]) -> list[tuple[dict[str, Any], dict[str, Any]]]:  # fmt: skip
    """Released cells paired with their unreleased tabulation rows, by their breakdowns."""
    index = {tuple(row[d] for d in by): row for row in true}
    assert len(index) == len(true) == len(released)
    return [(row, index[tuple(row[d] for d in by)]) for row in released]
