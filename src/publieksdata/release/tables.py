"""A released table: what leaves the warehouse, and the one function that makes it.

:func:`release` takes a tabulation (cells with their protection columns), applies the
deployment's policy — primary and complementary suppression, the institution rules,
cell-key noise and rounding — and keeps only released figures. Nothing of the protection
columns (institution counts, revenue shares, record keys) leaves with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pyarrow as pa

from publieksdata.insights.dimensions import DIMENSIONS, Dimension
from publieksdata.insights.pacing import Curve
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
    "share_of_group": Text(
        nl="Deel van de bezoekers van 'Bezocht'", en="Share of the visitors of 'Visited'"
    ),
    "inhabitants": Text(nl="Inwoners (CBS)", en="Inhabitants (CBS)"),
    "days_to_go": Text(nl="Dagen te gaan", en="Days to go"),
    "expected_share": Text(
        nl="Vergelijkbare voorstellingen hadden dan verkocht (% van eind)",
        en="Comparable performances had sold by then (% of final)",
    ),
    "projected_tickets": Text(
        nl="Verwachte eindverkoop (kaartjes)", en="Projected final sales (tickets)"
    ),
    "own_persons": Text(nl="Uw bereik", en="Your reach"),
    "own_visits_per_person": Text(nl="Uw bezoeken per bezoeker", en="Your visits per visitor"),
    "own_average_spend": Text(nl="Uw gem. besteding (€)", en="Your avg. spend (€)"),
    "visits_per_person": Text(nl="Bezoeken per bezoeker", en="Visits per visitor"),
    "per_1000": Text(nl="Bezoekers per 1.000 inwoners", en="Visitors per 1,000 inhabitants"),
}
TOTAL = Text(nl="Totaal", en="Total")
_DUTCH = str.maketrans(",.", ".,")  # 1,234.50 -> 1.234,50
UNGUARDED = ("inhabitants", "days_to_go", "expected_share")  # not about our visitors


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
    private: bool = False  # differential privacy (see release.private) instead of cell keys

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

    def with_pacing(self, curves: Mapping[str, Curve], disciplines: Mapping[str, str],
                    today: dt.date) -> Release:  # fmt: skip
        """Add days to go, the share of final sales comparable past performances had reached
        by then, and the projection from the released tickets sold so far."""
        days: list[int | None] = []
        reached: list[float | None] = []
        projected: list[int | None] = []
        for row in self.table.to_pylist():
            label = row["performance"]
            if label is None:
                days.append(None)
                reached.append(None)
                projected.append(None)
                continue
            start = dt.date.fromisoformat(label[:10])
            to_go = (start - today).days
            curve = curves.get(disciplines.get(label, ""))
            share = curve.reached(to_go) if curve is not None else None
            days.append(to_go)
            reached.append(None if share is None else round(100 * share, 1))
            tickets = row["tickets"] if row["status"] == SHOWN else None
            projected.append(None if tickets is None or not share else round(tickets / share))
        table = self.table.append_column("days_to_go", pa.array(days, pa.int64()))
        table = table.append_column("expected_share", pa.array(reached, pa.float64()))
        table = table.append_column("projected_tickets", pa.array(projected, pa.int64()))
        return replace(
            self,
            table=table,
            figures=("persons", "tickets", "days_to_go", "expected_share", "projected_tickets"),
        )

    def beside(self, own: Release) -> Release:
        """These (peer) cells with the same cells of ``own`` beside them: reach, visits per
        visitor and average spend, all from released figures."""
        mine = {tuple(r[d] for d in own.by): r for r in own.table.to_pylist()}
        rows = self.table.to_pylist()
        columns: dict[str, list[Any]] = {}
        for prefix, source in (("own_", [mine.get(tuple(r[d] for d in self.by)) for r in rows]),
                               ("", rows)):  # fmt: skip
            shown = [r if r is not None and r["status"] == SHOWN else None for r in source]
            columns[f"{prefix}persons"] = [r and r["persons"] for r in shown]
            columns[f"{prefix}visits_per_person"] = [
                r and round(r["visits"] / r["persons"], 2) for r in shown
            ]
            columns[f"{prefix}average_spend"] = [r and r["average_spend"] for r in shown]
        table = self.table
        for name in ("own_persons", "own_visits_per_person", "own_average_spend",
                     "visits_per_person"):  # fmt: skip
            kind = pa.int64() if name.endswith("persons") else pa.float64()
            table = table.append_column(name, pa.array(columns[name], kind))
        figures = ("own_persons", "own_visits_per_person", "own_average_spend", "persons",
                   "visits_per_person", "average_spend")  # fmt: skip
        return replace(self, table=table, figures=figures)

    def with_share(self, reach: int | None) -> Release:
        """Add each shown cell's reach as a percentage of ``reach`` (the audience asked
        about), from released figures only."""
        persons = self.table.column("persons").to_pylist()
        share = [None if p is None or not reach else round(100 * p / reach, 1) for p in persons]
        table = self.table.append_column("share", pa.array(share, pa.float64()))
        return replace(self, table=table, figures=(*self.figures, "share"))

    def as_matrix(self) -> Release:
        """An overlap matrix: its cells without margins (persons do not add up across
        groups; tabulations of the matrix have none), each with its reach as a percentage
        of its row's diagonal, from released figures only."""
        group, also = self.by
        every = self.table.to_pylist()
        keep = [i for i, r in enumerate(every) if r[group] is not None and r[also] is not None]
        rows = [every[i] for i in keep]
        diagonal = {r[group]: r["persons"] for r in rows if r[group] == r[also]}
        share = []
        for r in rows:
            reach = diagonal.get(r[group])
            share.append(None if r["persons"] is None or not reach
                         else round(100 * r["persons"] / reach, 1))  # fmt: skip
        table = self.table.take(pa.array(keep, pa.int64()))
        table = table.append_column("share_of_group", pa.array(share, pa.float64()))
        return replace(self, table=table, figures=("persons", "share_of_group"))

    @property
    def perturbed(self) -> bool:
        return self.policy.noise > 0 or self.policy.rounding > 1

    def reason(self, status: str, language: Language = "nl") -> str:
        """Why a cell is hidden, in words."""
        return REASONS[status](language).format(
            k=self.policy.k, min_institutions=self.policy.min_institutions
        )

    def mark(self, value: Any, status: str, figure: str) -> str | None:
        """The mark a figure shows instead of its value ('< 10' for a small cell, 'x' for a
        hidden one, '–' for none), or None when the value itself is shown."""
        if figure in UNGUARDED:  # public figures and days: whatever the cell's status
            return "–" if value is None else None
        if figure.startswith("own_"):  # the institution's own cell, released on its own
            return "x" if value is None else None
        if status == suppression.PRIMARY_SMALL and figure == "persons":
            return f"< {self.policy.k}"
        if status == suppression.NO_PERSONS:
            return "–"
        if status != SHOWN:
            return "x"  # as CBS marks a confidential figure
        return "–" if value is None else None

    def display(self, value: Any, status: str, figure: str, language: Language = "nl") -> str:
        """A figure as people should see it, never a false zero."""
        mark = self.mark(value, status, figure)
        if mark is not None:
            return mark
        kind = "persons" if figure == "inhabitants" else figure.removeprefix("own_")
        return _number(value, kind, language)

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
        if self.private:
            p = self.policy
            out.append(
                f"Differentiële privacy (OpenDP): deze tabel kostte ε = {p.dp_epsilon} van het "
                f"budget. Per persoon tellen hoogstens {p.dp_max_cells} cellen, "
                f"{p.dp_max_visits} bezoeken en {p.dp_max_tickets} kaartjes per cel mee; alleen "
                "herkende personen. Bereik is op elk niveau apart gemeten; bezoeken en kaartjes "
                "in totalen zijn sommen van de cellen met ruis. Omzet wordt zo niet getoond."
                if nl
                else f"Differential privacy (OpenDP): this table cost ε = {p.dp_epsilon} of the "
                f"budget. Each person counts in at most {p.dp_max_cells} cells, with at most "
                f"{p.dp_max_visits} visits and {p.dp_max_tickets} tickets per cell; recognised "
                "persons only. Reach is measured at every level; visits and tickets in totals "
                "are sums of the noisy cells. Revenue is not shown this way."
            )
        elif self.perturbed:
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


def _number(value: Any, figure: str, language: Language) -> str:
    if figure in ("share", "expected_share", "share_of_group"):
        text = f"{value:.1f} %"
    elif figure == "per_1000":
        text = f"{value:,.1f}"
    elif figure in ("average_spend", "visits_per_person"):
        text = f"{value:,.2f}"
    else:
        text = f"{value:,}"
    return text.translate(_DUTCH) if language == "nl" else text


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
    table = ordered(_figures(tabulation, by, reasons, policy), by, breakdowns)
    return Release(metric, tuple(by), scope, policy, table, breakdowns)


def ordered(table: pa.Table, by: Sequence[str], breakdowns: Mapping[str, Dimension]) -> pa.Table:
    """Rows in the order people read bands and code lists, not alphabetically."""
    if not by:
        return table
    values = list(zip(*(table.column(d).to_pylist() for d in by), strict=True))
    rows = sorted(range(table.num_rows), key=lambda i: tuple(
        breakdowns[d].sort_key(v) for d, v in zip(by, values[i], strict=True)))  # fmt: skip
    return table.take(pa.array(rows, pa.int64()))


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
