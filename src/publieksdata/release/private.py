"""Differential privacy for sector tables, with OpenDP.

Where the policy asks for it (``dp_epsilon`` > 0), a sector table is released this way
instead of with cell-key noise:

1. Every person's contribution is bounded (``insights.tabulate.bounded``): at most
   ``dp_max_cells`` cells, ``dp_max_visits`` visits and ``dp_max_tickets`` tickets per cell.
   Adding or removing one person then changes the vector of persons by at most
   ``dp_max_cells`` in total (L1), of visits and tickets by that many times their caps.
2. OpenDP adds discrete Laplace noise to every cell of the table's whole domain — the code
   lists and bands of its breakdowns, including the cells no one is in — calibrated so that
   persons, visits and tickets together spend ``dp_epsilon`` (half, a quarter, a quarter).
3. Totals are sums of the noisy cells, so the table adds up; what follows is post-processing
   and spends nothing: negative counts become 0, cells under k persons show '< k'.

The institution rules (at least 3 institutions, no dominant one, named exemption) still
apply, with complementary suppression, for they protect institutions, not persons. Revenue
is not released under differential privacy (its sensitivity has no natural bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np
import opendp.prelude as dp
import pyarrow as pa

from publieksdata.errors import PubliekError
from publieksdata.insights.dimensions import UNKNOWN, Dimension
from publieksdata.insights.tabulate import COUNTED, levels
from publieksdata.release import suppression
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import SHOWN

dp.enable_features("contrib")  # OpenDP's discrete Laplace on integer vectors

SHARES = {"persons": 0.5, "visits": 0.25, "tickets": 0.25}  # of ε per table
OBSERVED = ("season", "month")  # breakdowns whose values come from the delivered periods


def domain(dimension: Dimension, observed: Sequence[str],
           areas: Sequence[str] | None) -> list[str]:  # fmt: skip
    """Every value a breakdown can take, fixed before looking at persons: its code list or
    bands; for seasons and months those delivered (institutions' periods, not persons); for
    areas the reference data."""
    values = list(dimension.order())
    if not values and dimension.name in OBSERVED:
        values = sorted(set(observed) - {UNKNOWN})
    elif not values and dimension.name in ("pc4", "municipality") and areas:
        values = sorted(set(areas))
    elif not values:
        raise PubliekError(
            "insights-dp-breakdown",
            f"'{dimension.name}' heeft geen vaste lijst van waarden; met differentiële privacy "
            "kan dat alleen met een codelijst, banden, seizoenen of maanden, of met geladen "
            "referentiegegevens voor postcodegebieden en gemeenten.",
            f"'{dimension.name}' has no fixed list of values; with differential privacy that "
            "needs a code list, bands, seasons or months, or loaded reference data for postcode "
            "areas and municipalities.",
        )
    return [*values, UNKNOWN] if UNKNOWN not in values else values


Cell = tuple[str | None, ...]  # None marks a margin


def grid(by: Sequence[str], domains: Sequence[Sequence[str]]) -> list[list[Cell]]:
    """Every cell of every level (detailed cells first, the total last) of the domain."""
    out = []
    for level in levels(by):
        chosen = [domains[n] if d in level else [None] for n, d in enumerate(by)]
        out.append([tuple(cell) for cell in product(*chosen)])
    return out


def _laplace(true: list[int], bound: int, epsilon: float) -> tuple[np.ndarray, float]:
    """OpenDP's discrete Laplace on a vector whose L1 distance between neighbours is at most
    ``bound``; the noisy vector and the ε its privacy map gives."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = space >> dp.m.then_laplace(scale=bound / epsilon)
    return np.array(measurement(true), dtype=np.int64), float(measurement.map(bound))


def noisy(cells: pa.Table, by: Sequence[str], levels_grid: list[list[Cell]],
          policy: ReleasePolicy) -> tuple[dict[Cell, dict[str, int]], float]:  # fmt: skip
    """Noisy figures for every cell of the grid, and the ε spent.

    Persons are measured at every level, for they do not add up (one person can be in
    several cells); a person is in at most ``dp_max_cells`` cells of each level, so one
    person moves the whole vector by at most the sum of that over the levels. Visits and
    tickets are measured in the detailed cells and summed for the margins."""
    true = {tuple(r[d] for d in by): r for r in cells.to_pylist()}
    every = [cell for level in levels_grid for cell in level]
    detailed = levels_grid[0]
    bound = sum(min(policy.dp_max_cells, len(level)) for level in levels_grid)
    persons, spent = _laplace([int(true[c]["persons"]) if c in true else 0 for c in every],
                              bound, policy.dp_epsilon * SHARES["persons"])  # fmt: skip
    out = {c: {"persons": max(int(v), 0)} for c, v in zip(every, persons, strict=True)}
    for measure, cap in (("visits", policy.dp_max_visits), ("tickets", policy.dp_max_tickets)):
        values, cost = _laplace(
            [int(true[c][measure] or 0) if c in true else 0 for c in detailed],
            min(policy.dp_max_cells, len(detailed)) * cap,
            policy.dp_epsilon * SHARES[measure],
        )
        spent += cost
        for margins in levels_grid[1:]:
            for margin in margins:
                out[margin][measure] = 0
        for cell, value in zip(detailed, np.maximum(values, 0), strict=True):
            out[cell][measure] = int(value)
            for level in levels(by)[1:]:  # add the cell to each margin it belongs to
                key = tuple(v if d in level else None for d, v in zip(by, cell, strict=True))
                out[key][measure] += int(value)
    return out, spent


def private_table(cells: pa.Table, protection: pa.Table, by: Sequence[str],
                  domains: Sequence[Sequence[str]],
                  policy: ReleasePolicy) -> tuple[pa.Table, float]:  # fmt: skip
    """The released table (cells and totals, figures and status) and the ε it spent.

    ``protection`` is the ordinary tabulation of the same question, read only for the
    institution rules."""
    rows, spent = noisy(cells, by, grid(by, domains), policy)
    for row in rows.values():  # noise must not make a cell look impossible (post-processing)
        row["visits"] = max(row["visits"], row["persons"])
        row["tickets"] = max(row["tickets"], row["visits"])
    keys = list(rows)
    persons = np.array([rows[k]["persons"] for k in keys], dtype=np.int64)
    guard = {tuple(r[d] for d in by): r for r in protection.to_pylist()}
    empty = {"institutions": 0, "top_revenue_cents": 0, "second_revenue_cents": 0,
             "revenue_cents": 0, "all_named": 0}  # fmt: skip
    column = {name: np.array([guard.get(k, empty)[name] or 0 for k in keys], dtype=np.int64)
              for name in empty}  # fmt: skip
    reasons = suppression.primary(
        np.maximum(persons, policy.k),  # small cells are shown as '< k', not covered
        policy.k,
        institutions=column["institutions"],
        min_institutions=policy.min_institutions,
        top=column["top_revenue_cents"],
        second=column["second_revenue_cents"],
        total=column["revenue_cents"],
        dominance_p=policy.dominance_p,
        named=column["all_named"],
    )
    reasons = suppression.complementary(keys, np.maximum(persons, policy.k), reasons, policy.k)
    status = [r or (suppression.PRIMARY_SMALL if p < policy.k else SHOWN)
              for r, p in zip(reasons, persons, strict=True)]  # fmt: skip
    shown = [s == SHOWN for s in status]
    figures: dict[str, pa.Array] = {
        d: pa.array([k[n] for k in keys], pa.string()) for n, d in enumerate(by)
    }
    for measure in COUNTED:
        values = [rows[k][measure] if ok else None for k, ok in zip(keys, shown, strict=True)]
        figures[measure] = pa.array(values, pa.int64())
    figures["revenue"] = pa.nulls(len(keys), pa.int64())
    figures["average_spend"] = pa.nulls(len(keys), pa.float64())
    figures["status"] = pa.array(status, pa.string())
    return pa.table(figures), spent
