"""One tiny synthetic sector per test session, generated once and only read by tests."""

from __future__ import annotations

import pytest

from publieksdata.synth.config import scale
from publieksdata.synth.generator import SectorSummary, generate_sector


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SectorSummary:
    return generate_sector(scale("tiny"), tmp_path_factory.mktemp("tiny"), workers=1)


@pytest.fixture(scope="session")
def sector(tiny: SectorSummary) -> SectorSummary:
    """The tiny sector, under the name the delivery tests use."""
    return tiny
