"""A released table: what leaves the warehouse, and the one function that makes it.

:func:`release` takes a tabulation (cells with their protection columns), applies the
deployment's policy — primary and complementary suppression, the institution rules,
cell-key noise and rounding — and keeps only released figures. Nothing of the protection
columns (institution counts, revenue shares, record keys) leaves with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pyarrow as pa

from publieksdata.insights.dimensions import DIMENSIONS, Dimension
from publieksdata.release import suppression
from publieksdata.release.noise import released_count, released_revenue
from publieksdata.release.policy import ReleasePolicy
from publieksdata.standard.text import Language, Text

Scope = Literal["own", "sector"]
SHOWN = "shown"
COUNTS = ("persons", "visits", "tickets")
FIGURES = ("persons", "visits", "tickets", "revenue", "average_spend")

REASONS: dict[str, Text] = {
    suppression.NO_PERSONS: Text(
        nl="alleen kaartjes van niet herkende kopers", en="only tickets of unrecognised buyers"),
    suppression.PRIMARY_SMALL: Text(
        nl="minder dan {k} personen", en="fewer than {k} persons"),
    suppression.COMPLEMENTARY: Text(
        nl="verborgen zodat een kleine cel niet uit de totalen volgt",
        en="hidden so that a small cell cannot be worked out from the totals"),
    suppression.PRIMARY_INSTITUTIONS: Text(
        nl="minder dan {min_institutions} instellingen",
        en="fewer than {min_institutions} institutions"),
    suppression.PRIMARY_DOMINANCE: Text(
        nl="één instelling overheerst dit cijfer", en="one institution dominates this figure"),
}  # fmt: skip
LABELS: dict[str, Text] = {
    "persons": Text(nl="Bereik (personen)", en="Reach (persons)"),
    "visits": Text(nl="Bezoeken", en="Visits"),
    "tickets": Text(nl="Kaartjes", en="Tickets"),
    "revenue": Text(nl="Omzet (€)", en="Revenue (€)"),
    "average_spend": Text(nl="Gem. besteding per bezoek (€)", en="Avg. spend per visit (€)"),
    "share": Text(nl="Deel van uw publiek", en="Share of your audience"),
    "inhabitants": Text(nl="Inwoners (CBS)", en="Inhabitants (CBS)"),
    "per_1000": Text(nl="Bezoekers per 1.000 inwoners", en="Visitors per 1,000 inhabitants"),
}
TOTAL = Text(nl="Totaal", en="Total")
_DUTCH = str.maketrans(",.", ".,")  # 1,234.50 -> 1.234,50


@dataclass(frozen=True)
class Release:
    """Released cells: the breakdowns, the figures (null when hidden) and each cell's status."""

    metric: str
    by: tuple[str, ...]
    scope: Scope
    policy: ReleasePolicy
    table: pa.Table
    breakdowns: Mapping[str, Dimension] = field(default_factory=lambda: DIMENSIONS)
    figures: tuple[str, ...] = FIGURES

    def with_penetration(self, population: Mapping[str | None, int | None]) -> Release:
        """Add inhabitants (public figures) and released visitors per 1,000 inhabitants."""
        by = self.by[0]
        areas = self.table.column(by).to_pylist()
        persons = self.table.column("persons").to_pylist()
        inhabitants = [population.get(a) for a in areas]
        rate = [None if p is None or not n else round(1000 * p / n, 1)
                for p, n in zip(persons, inhabitants, strict=True)]  # fmt: skip
        table = self.table.append_column("inhabitants", pa.array(inhabitants, pa.int64()))
        table = table.append_column("per_1000", pa.array(rate, pa.float64()))
        return replace(self, table=table, figures=("persons", "inhabitants", "per_1000"))

    def with_share(self, reach: int | None) -> Release:
        """Add each shown cell's reach as a percentage of ``reach`` (the audience asked
        about), from released figures only."""
        persons = self.table.column("persons").to_pylist()
        share = [None if p is None or not reach else round(100 * p / reach, 1) for p in persons]
        table = self.table.append_column("share", pa.array(share, pa.float64()))
        return replace(self, table=table, figures=(*self.figures, "share"))

    @property
    def perturbed(self) -> bool:
        return self.policy.noise > 0 or self.policy.rounding > 1

    def reason(self, status: str, language: Language = "nl") -> str:
        """Why a cell is hidden, in words."""
        return REASONS[status](language).format(
            k=self.policy.k, min_institutions=self.policy.min_institutions
        )

    def display(self, value: Any, status: str, figure: str, language: Language = "nl") -> str:
        """A figure as people should see it: '< 10' for a small cell, never a false zero."""
        if figure == "inhabitants":  # public figures: shown whatever the cell's status
            return "–" if value is None else self.display(value, SHOWN, "persons", language)
        if status == suppression.PRIMARY_SMALL and figure == "persons":
            return f"< {self.policy.k}"
        if status == suppression.NO_PERSONS:
            return "–"
        if status != SHOWN:
            return "x"  # as CBS marks a confidential figure
        if value is None:
            return "–"
        if figure == "share":
            text = f"{value:.1f} %"
        elif figure == "per_1000":
            text = f"{value:,.1f}"
        else:
            text = f"{value:,.2f}" if figure == "average_spend" else f"{value:,}"
        return text.translate(_DUTCH) if language == "nl" else text

    def notes(self, language: Language = "nl") -> list[str]:
        """What was hidden or changed, and why."""
        nl = language == "nl"
        statuses = self.table.column("status").to_pylist()
        out = []
        for status in REASONS:
            count = statuses.count(status)
            if count:
                cells = ("cel" if nl else "cell") if count == 1 else ("cellen" if nl else "cells")
                out.append(f"{count} {cells}: {self.reason(status, language)}")
        if self.perturbed:
            p = self.policy
            out.append(
                f"Aantallen hebben vaste ruis van hoogstens ±{p.noise} en zijn afgerond op "
                f"{p.rounding}; omzet op € {p.revenue_rounding}. Totalen zijn apart berekend "
                "en hoeven niet gelijk te zijn aan de som van de cellen."
                if nl
                else f"Counts carry fixed noise of at most ±{p.noise} and are rounded to "
                f"{p.rounding}; revenue to € {p.revenue_rounding}. Totals are computed "
                "separately and need not equal the sum of the cells."
            )
        return out

    def value(self, breakdown: str, value: str | None, language: Language = "nl") -> str:
        """A breakdown's value for people; a margin is the total."""
        if value is None:
            return TOTAL(language)
        return self.breakdowns[breakdown].show(value, language)

    def headers(self, language: Language = "nl") -> list[str]:
        """The breakdowns' names for people."""
        return [self.breakdowns[d].label(language) for d in self.by]

    def rows(self, language: Language = "nl") -> list[list[str]]:
        """A header and one row of display text per cell."""
        header = [*self.headers(language), *(LABELS[f](language) for f in self.figures)]
        data = self.table.to_pylist()
        out = [header]
        for row in data:
            dims = [self.value(d, row[d], language) for d in self.by]
            out.append(
                dims + [self.display(row[f], row["status"], f, language) for f in self.figures]
            )
        return out


def release(metric: str, tabulation: pa.Table, by: Sequence[str], scope: Scope,
            policy: ReleasePolicy,
            breakdowns: Mapping[str, Dimension] = DIMENSIONS) -> Release:  # fmt: skip
    """The only door out: judge every cell, hide what must be hidden, perturb the rest."""
    columns = {name: tabulation.column(name).to_numpy() for name in
               ("persons", "institutions", "top_revenue_cents", "second_revenue_cents",
                "revenue_cents", "all_named")}  # fmt: skip
    others = scope == "sector"
    reasons = suppression.primary(
        columns["persons"],
        policy.k,
        institutions=columns["institutions"] if others else None,
        min_institutions=policy.min_institutions,
        top=columns["top_revenue_cents"] if others else None,
        second=columns["second_revenue_cents"] if others else None,
        total=columns["revenue_cents"] if others else None,
        dominance_p=policy.dominance_p,
        named=columns["all_named"] if others else None,
    )
    cells = (
        list(zip(*(tabulation.column(d).to_pylist() for d in by), strict=True))
        if by
        else [() for _ in range(tabulation.num_rows)]
    )
    reasons = suppression.complementary(cells, columns["persons"], reasons, policy.k)
    table = _figures(tabulation, by, reasons, policy)
    return Release(metric, tuple(by), scope, policy, table, breakdowns)


def _figures(tabulation: pa.Table, by: Sequence[str], reasons: list[str | None],
             policy: ReleasePolicy) -> pa.Table:  # fmt: skip
    rows = tabulation.to_pylist()
    released: dict[str, list[Any]] = {f: [] for f in FIGURES}
    for row, reason in zip(rows, reasons, strict=True):
        if reason is not None:
            for figure in FIGURES:
                released[figure].append(None)
            continue
        key = int(row["key_sum"])
        counts = {
            m: released_count(
                int(row[m]), key, m, k=policy.k, spread=policy.noise, base=policy.rounding
            )
            for m in COUNTS
        }
        # noise must not make a cell look impossible: visits >= persons, tickets >= visits
        counts["visits"] = max(counts["visits"], counts["persons"])
        counts["tickets"] = max(counts["tickets"], counts["visits"])
        revenue = released_revenue(int(row["revenue_cents"]), key, spread=policy.noise,
                                   base_euro=policy.revenue_rounding)  # fmt: skip
        for m in COUNTS:
            released[m].append(counts[m])
        released["revenue"].append(revenue)
        released["average_spend"].append(round(revenue / counts["visits"], 2))
    columns: dict[str, Any] = {d: tabulation.column(d) for d in by}
    columns.update({f: pa.array(v, pa.float64() if f == "average_spend" else pa.int64())
                    for f, v in released.items()})  # fmt: skip
    columns["status"] = pa.array([r or SHOWN for r in reasons], pa.string())
    return pa.table(columns)
