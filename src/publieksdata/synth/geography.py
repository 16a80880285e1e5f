"""Where the synthetic sector lives: municipalities, provinces and PC4 areas.

The embedded table (``geography.json``) holds the ten largest municipalities of every
province with their PC4 areas and inhabitants, derived from CBS open data (Bron: CBS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Geography:
    """Municipalities and their PC4 areas as parallel arrays."""

    municipality_code: tuple[str, ...]
    municipality_name: tuple[str, ...]
    municipality_province: tuple[str, ...]
    municipality_population: np.ndarray
    pc4: np.ndarray  # int, one entry per PC4 area
    pc4_municipality: np.ndarray  # index into the municipality tuples
    pc4_population: np.ndarray

    @property
    def provinces(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.municipality_province)))

    def province_index(self) -> np.ndarray:
        """The province of each municipality as an index into :attr:`provinces`."""
        order = {p: i for i, p in enumerate(self.provinces)}
        return np.array([order[p] for p in self.municipality_province], dtype=np.int16)


@cache
def embedded_geography() -> Geography:
    """The geography shipped with the package."""
    text = resources.files("publieksdata.synth").joinpath("geography.json").read_text("utf-8")
    munis = json.loads(text)["municipalities"]
    pc4 = [(p, i, n) for i, m in enumerate(munis) for p, n in m["pc4"]]
    return Geography(
        municipality_code=tuple(m["code"] for m in munis),
        municipality_name=tuple(m["name"] for m in munis),
        municipality_province=tuple(m["province"] for m in munis),
        municipality_population=np.array([m["population"] for m in munis], dtype=np.int64),
        pc4=np.array([p for p, _, _ in pc4], dtype=np.int32),
        pc4_municipality=np.array([i for _, i, _ in pc4], dtype=np.int32),
        pc4_population=np.array([n for _, _, n in pc4], dtype=np.int64),
    )
