"""The release policy of a deployment, declared once: what may leave the warehouse.

An operator sets it in one TOML file (``PUBLIEKSDATA_POLICY``); every value has a safe
default and every wrong value gets a message saying which and what is allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from publieksdata.errors import PubliekError


@dataclass(frozen=True)
class Rule:
    """One policy value: its default, its allowed range and its meaning (NL, EN)."""

    default: int | float
    low: int | float
    high: int | float
    nl: str
    en: str


RULES: dict[str, Rule] = {
    "k": Rule(10, 2, 1000,
              "minimaal aantal afzonderlijke personen in een getoonde cel",
              "minimum number of distinct persons in a released cell"),
    "min_institutions": Rule(3, 2, 100,
                             "minimaal aantal instellingen in een cijfer over andermans publiek",
                             "minimum number of institutions in a figure about others' audiences"),
    "dominance_p": Rule(10.0, 0.0, 100.0,
                        "p%-regel: de op één na grootste instelling mag de grootste niet tot op "
                        "p% van haar omzet kunnen schatten",
                        "p% rule: the second-largest institution must not be able to estimate the "
                        "largest one's revenue to within p%"),
    "noise": Rule(2, 0, 10,
                  "grootste afwijking van de vaste celsleutel-ruis op aantallen (0: geen ruis)",
                  "largest deviation of the deterministic cell-key noise on counts (0: no noise)"),
    "rounding": Rule(1, 1, 1000,
                     "aantallen afronden op een veelvoud hiervan (1: niet afronden)",
                     "round counts to a multiple of this (1: no rounding)"),
    "revenue_rounding": Rule(10, 1, 100_000,
                             "omzet afronden op een veelvoud van zoveel euro",
                             "round revenue to a multiple of this many euros"),
    "dp_epsilon": Rule(0.0, 0.0, 10.0,
                       "differentiële privacy voor sectortabellen: ε per tabel (0: uit, dan "
                       "vaste celsleutel-ruis)",
                       "differential privacy for sector tables: ε per table (0: off, then "
                       "deterministic cell-key noise)"),
    "dp_budget": Rule(10.0, 0.0, 1000.0,
                      "totale privacybudget ε voor zulke tabellen; daarna weigert het platform",
                      "total privacy budget ε for such tables; beyond it the platform refuses"),
    "dp_max_cells": Rule(5, 1, 100,
                         "per persoon tellen hoogstens zoveel cellen van een tabel mee",
                         "each person counts in at most this many cells of a table"),
    "dp_max_visits": Rule(10, 1, 1000,
                          "per persoon en cel tellen hoogstens zoveel bezoeken mee",
                          "each person counts with at most this many visits per cell"),
    "dp_max_tickets": Rule(20, 1, 10_000,
                           "per persoon en cel tellen hoogstens zoveel kaartjes mee",
                           "each person counts with at most this many tickets per cell"),
}  # fmt: skip


@dataclass(frozen=True)
class ReleasePolicy:
    """Thresholds and perturbation that every released figure obeys."""

    k: int = 10
    min_institutions: int = 3
    dominance_p: float = 10.0
    noise: int = 2
    rounding: int = 1
    revenue_rounding: int = 10
    dp_epsilon: float = 0.0
    dp_budget: float = 10.0
    dp_max_cells: int = 5
    dp_max_visits: int = 10
    dp_max_tickets: int = 20

    def __post_init__(self) -> None:
        for item in fields(self):
            _check(item.name, getattr(self, item.name))
        if self.noise >= self.k:
            raise PubliekError(
                "policy-noise-too-large",
                f"Beleid: noise ({self.noise}) moet kleiner zijn dan k ({self.k}).",
                f"Policy: noise ({self.noise}) must be smaller than k ({self.k}).",
            )
        if self.dp_epsilon > self.dp_budget:
            raise PubliekError(
                "policy-budget-too-small",
                f"Beleid: dp_epsilon ({self.dp_epsilon}) is groter dan het hele budget "
                f"dp_budget ({self.dp_budget}).",
                f"Policy: dp_epsilon ({self.dp_epsilon}) is larger than the whole budget "
                f"dp_budget ({self.dp_budget}).",
            )
        if self.dp_max_tickets < self.dp_max_visits:
            raise PubliekError(
                "policy-tickets-below-visits",
                "Beleid: dp_max_tickets moet minstens dp_max_visits zijn (elk bezoek heeft "
                "minstens één kaartje).",
                "Policy: dp_max_tickets must be at least dp_max_visits (every visit has at "
                "least one ticket).",
            )

    @property
    def private(self) -> bool:
        """Whether sector tables get differential privacy instead of cell-key noise."""
        return self.dp_epsilon > 0

    @classmethod
    def load(cls, path: Path) -> ReleasePolicy:
        """Read a policy file; unknown names and wrong values are refused, not ignored."""
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise PubliekError(
                "policy-missing",
                f"Het beleidsbestand {path} bestaat niet.",
                f"The policy file {path} does not exist.",
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise PubliekError(
                "policy-unreadable",
                f"Het beleidsbestand {path} is geen geldige TOML ({error}).",
                f"The policy file {path} is not valid TOML ({error}).",
            ) from None
        values = data.get("release", data)
        unknown = sorted(set(values) - set(RULES))
        if unknown:
            known = ", ".join(RULES)
            raise PubliekError(
                "policy-unknown-setting",
                f"{path}: onbekende instelling {', '.join(unknown)}. Bekend zijn: {known}.",
                f"{path}: unknown setting {', '.join(unknown)}. Known are: {known}.",
            )
        return cls(**values)


def _check(name: str, value: Any) -> None:
    rule = RULES[name]
    whole = isinstance(rule.default, int)
    kind_ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not kind_ok or not rule.low <= value <= rule.high:
        kind_nl, kind_en = (
            ("een geheel getal", "a whole number") if whole else ("een getal", "a number")
        )
        raise PubliekError(
            "policy-bad-value",
            f"Beleid: {name} ({rule.nl}) moet {kind_nl} van {rule.low} tot en met {rule.high} "
            f"zijn, niet {value!r}.",
            f"Policy: {name} ({rule.en}) must be {kind_en} from {rule.low} to {rule.high}, "
            f"not {value!r}.",
        )
