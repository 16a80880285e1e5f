"""Generator settings: named scales and clear refusals of impossible sizes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from publieksdata.errors import PubliekError
from publieksdata.standard.definitions import season_of
from publieksdata.synth.config import SCALES, SynthConfig, scale


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"institutions": 2, "persons": 1_000}, "synth-institutions"),
        ({"institutions": 5_001, "persons": 1_000}, "synth-institutions"),
        ({"institutions": 10, "persons": 99}, "synth-persons"),
        ({"institutions": 10, "persons": 50_000_001}, "synth-persons"),
        ({"institutions": 10, "persons": 1_000, "seasons": 1}, "synth-seasons"),
        ({"institutions": 10, "persons": 1_000, "seasons": 11}, "synth-seasons"),
    ],
)
def test_impossible_sizes_are_refused_in_both_languages(
    settings: dict[str, Any], code: str
) -> None:
    with pytest.raises(PubliekError) as caught:
        SynthConfig(**settings)
    assert caught.value.code == code
    assert caught.value.message("nl") != caught.value.message("en")
    assert caught.value.message("nl").startswith(f"[{code}] Kies")


def test_an_unknown_scale_names_the_known_ones() -> None:
    with pytest.raises(PubliekError) as caught:
        scale("huge")
    for name in SCALES:
        assert name in caught.value.message("en")


def test_the_national_scale_is_the_dutch_sector() -> None:
    national = scale("national")
    assert national.institutions == 1_500
    assert national.persons == 10_000_000
    assert national.seasons == 5


def test_seasons_end_with_the_one_holding_the_export_date() -> None:
    config = SynthConfig(institutions=3, persons=100, seasons=4, export_date=dt.date(2026, 7, 31))
    assert [s.name for s in config.season_list] == [
        "2022-2023", "2023-2024", "2024-2025", "2025-2026",
    ]  # fmt: skip
    assert config.season_list[-1] == season_of(config.export_date)


def test_random_streams_are_independent_per_part_and_fixed_per_seed() -> None:
    config = SynthConfig(institutions=3, persons=100)
    assert config.rng("a").random() == config.rng("a").random()
    assert config.rng("a").random() != config.rng("b").random()
    assert config.rng("a").random() != config.with_seed(1).rng("a").random()
