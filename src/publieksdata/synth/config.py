"""What to generate: sizes from a tiny test sector to the national scale."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, replace

import numpy as np

from publieksdata.errors import PubliekError
from publieksdata.standard.definitions import Season, season_of

# A fixed export date keeps output reproducible; it falls inside the current season so the
# exports hold pre-sales for performances still to come.
DEFAULT_EXPORT_DATE = dt.date(2026, 11, 23)


@dataclass(frozen=True)
class SynthConfig:
    """All knobs of the generator; the same config and seed give byte-identical files."""

    institutions: int
    persons: int
    seed: int = 2020
    seasons: int = 5
    export_date: dt.date = DEFAULT_EXPORT_DATE
    scale: str = "custom"

    def __post_init__(self) -> None:
        if not 3 <= self.institutions <= 5000:
            raise PubliekError(
                "synth-institutions",
                "Kies tussen 3 en 5.000 instellingen.",
                "Choose between 3 and 5,000 institutions.",
            )
        if not 100 <= self.persons <= 50_000_000:
            raise PubliekError(
                "synth-persons",
                "Kies tussen 100 en 50 miljoen personen.",
                "Choose between 100 and 50 million persons.",
            )
        if not 2 <= self.seasons <= 10:
            raise PubliekError(
                "synth-seasons", "Kies 2 tot 10 seizoenen.", "Choose 2 to 10 seasons."
            )

    @property
    def season_list(self) -> list[Season]:
        """The seasons covered, oldest first; the last one holds the export date."""
        current = season_of(self.export_date)
        return [current - k for k in range(self.seasons - 1, -1, -1)]

    def rng(self, *stream: str | int) -> np.random.Generator:
        """An independent random stream per named part, so parts can change separately."""
        words = [self.seed] + [s if isinstance(s, int) else zlib.crc32(s.encode()) for s in stream]
        return np.random.default_rng(words)

    def with_seed(self, seed: int) -> SynthConfig:
        return replace(self, seed=seed)


SCALES: dict[str, SynthConfig] = {
    "tiny": SynthConfig(institutions=12, persons=3_000, scale="tiny"),
    "small": SynthConfig(institutions=60, persons=40_000, scale="small"),
    "medium": SynthConfig(institutions=300, persons=1_000_000, scale="medium"),
    "national": SynthConfig(institutions=1_500, persons=10_000_000, scale="national"),
}


def scale(name: str) -> SynthConfig:
    """A named scale, with the known names when the name is wrong."""
    if name not in SCALES:
        known = ", ".join(SCALES)
        raise PubliekError(
            "synth-scale",
            f"Onbekende schaal '{name}'. Kies uit: {known}.",
            f"Unknown scale '{name}'. Choose one of: {known}.",
        )
    return SCALES[name]
