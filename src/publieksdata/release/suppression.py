"""Cell suppression: primary (cells that are too small or about too few institutions) and
complementary (enough further cells that no hidden cell follows from the margins).

A table with margins is a set of linear relations: for every breakdown, the cells along it
add up to their margin. A relation with exactly one hidden member gives that member away
(margin minus the visible cells), so a second member is hidden too — preferably the most
detailed and smallest cell, never a margin while a detailed cell can serve — until every
relation hides none or at least two. The attack tests check the result by solving the
linear system of each released table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

Dims = tuple[str | None, ...]  # one value per breakdown; None marks a margin

NO_PERSONS = "no-persons"  # only tickets of buyers no one can recognise: nobody to protect
PRIMARY_SMALL = "fewer-than-k"
PRIMARY_INSTITUTIONS = "too-few-institutions"
PRIMARY_DOMINANCE = "dominant-institution"
COMPLEMENTARY = "complementary"


def relations(cells: Sequence[Dims]) -> list[list[int]]:
    """Per breakdown and per value of the others: the margin's index first, then its cells."""
    index = {dims: i for i, dims in enumerate(cells)}
    found = []
    for axis in range(len(cells[0]) if cells else 0):
        members: dict[Dims, list[int]] = {}
        for i, dims in enumerate(cells):
            if dims[axis] is not None:
                members.setdefault((*dims[:axis], None, *dims[axis + 1 :]), []).append(i)
        for margin, inner in members.items():
            if margin in index:
                found.append([index[margin], *inner])
    return found


def primary(
    persons: np.ndarray,
    k: int,
    *,
    institutions: np.ndarray | None = None,
    min_institutions: int = 1,
    top: np.ndarray | None = None,
    second: np.ndarray | None = None,
    total: np.ndarray | None = None,
    dominance_p: float = 0.0,
    named: np.ndarray | None = None,
) -> list[str | None]:
    """The reason each cell must be hidden on its own (None: it may be shown).

    The p% rule: a cell is sensitive when the contributors other than the largest two add
    up to less than p% of the largest, for then the second can estimate the largest too
    closely. The institution rules do not apply to a cell whose institutions all agreed to
    be named.
    """
    reasons: list[str | None] = [None] * len(persons)
    for i in range(len(persons)):
        if persons[i] == 0:
            reasons[i] = NO_PERSONS
        elif persons[i] < k:
            reasons[i] = PRIMARY_SMALL
        elif named is not None and named[i]:
            continue
        elif institutions is not None and institutions[i] < min_institutions:
            reasons[i] = PRIMARY_INSTITUTIONS
        elif (
            top is not None
            and second is not None
            and total is not None
            and total[i] - top[i] - second[i] < dominance_p / 100 * top[i]
        ):
            reasons[i] = PRIMARY_DOMINANCE
    return reasons


def _bounds(reason: str | None, value: int, k: int) -> tuple[float, float]:
    """What a reader knows of a hidden cell from its mark: '< k' or 'x' (at least k)."""
    if reason == PRIMARY_SMALL:
        return (0 if value == 0 else 1), k - 1
    return k, float("inf")


def _exposed(group: list[int], additive: bool, persons: np.ndarray, reasons: list[str | None],
             k: int) -> bool:  # fmt: skip
    """Whether a relation with a visible margin narrows a small hidden cell below its full
    range 1..k-1, or gives any hidden member away.

    Where persons do not add up along the relation (one person in several cells, as across
    performances), a reader knows only that the margin is at most the sum, which narrows
    nothing; the additive visits and tickets then give away a cell only when it is the one
    hidden.
    """
    hidden = [i for i in group[1:] if reasons[i] is not None]
    if len(hidden) == 1:
        return True
    if not additive:
        return False
    rest = int(persons[group[0]]) - sum(int(persons[i]) for i in group[1:] if reasons[i] is None)
    bounds = {i: _bounds(reasons[i], int(persons[i]), k) for i in hidden}
    for i in hidden:
        if reasons[i] != PRIMARY_SMALL:
            continue
        low, high = bounds[i]
        others_low = sum(bounds[j][0] for j in hidden if j != i)
        others_high = sum(bounds[j][1] for j in hidden if j != i)
        if rest - others_high > low or rest - others_low < high:
            return True
    return False


def _partner(candidates: list[int], cells: Sequence[Dims], persons: np.ndarray,
             need: int) -> int:  # fmt: skip
    """The cell to hide next: detailed before margins, then the smallest that gives enough
    room (at least ``need`` persons), else the largest there is."""

    def margins(i: int) -> int:
        return sum(v is None for v in cells[i])

    fewest = min(margins(i) for i in candidates)
    pool = [i for i in candidates if margins(i) == fewest]
    roomy = [i for i in pool if persons[i] >= need]
    if roomy:
        return min(roomy, key=lambda i: (int(persons[i]), cells[i]))
    return max(pool, key=lambda i: (int(persons[i]), cells[i]))


def _ranges(
    groups: list[list[int]], additive: bool, persons: np.ndarray, reasons: list[str | None],
    k: int, cells_of_interest: list[int],
) -> dict[int, tuple[float, float]]:  # fmt: skip
    """The least and most each small hidden cell can hold for a reader who knows every shown
    figure, every mark and every relation: one pair of linear programs per cell, over the
    hidden cells its relations connect it to."""
    hidden = [i for i, r in enumerate(reasons) if r is not None]
    column = {cell: n for n, cell in enumerate(hidden)}
    # Where persons do not add up (``additive`` false), a reader knows only that a margin is
    # at most the sum of its cells and at least each of them.
    # Each constraint: sum of sign * cell <= or = 0; shown cells move to the right-hand side.
    constraints = []
    for group in groups:
        margin, inner = group[0], group[1:]
        if additive:
            constraints.append([(margin, -1.0)] + [(i, 1.0) for i in inner])
        else:
            constraints.append([(margin, 1.0)] + [(i, -1.0) for i in inner])
            constraints += [[(i, 1.0), (margin, -1.0)] for i in inner]
    entries: dict[tuple[int, int], float] = {}
    rhs: list[float] = []
    for terms in constraints:
        row = len(rhs)
        known, involved = 0.0, False
        for i, sign in terms:
            if i in column:
                entries[(row, column[i])] = entries.get((row, column[i]), 0.0) + sign
                involved = True
            else:
                known += sign * float(persons[i])
        if involved:  # a constraint on shown cells only tells nothing new
            rhs.append(-known)
    matrix = coo_matrix(
        (list(entries.values()), ([r for r, _ in entries], [c for _, c in entries])),
        shape=(len(rhs), len(hidden)),
    ).tocsr()
    bounds = [_bounds(reasons[i], int(persons[i]), k) for i in hidden]
    system = (
        {"A_eq": matrix, "b_eq": np.array(rhs)} if additive
        else {"A_ub": matrix, "b_ub": np.array(rhs)}
    )  # fmt: skip
    truth = np.array([float(persons[i]) for i in hidden])
    lowest, highest = truth.copy(), truth.copy()
    wanted = np.array([column[i] for i in cells_of_interest], dtype=np.int64)

    def solve(objective: np.ndarray) -> np.ndarray | None:
        result = linprog(objective, bounds=bounds, method="highs", **system)
        return np.asarray(result.x) if result.status == 0 else None

    # Cheap first: a few solutions far from the truth prove most cells are not pinned.
    rng = np.random.default_rng(0)
    screens = [np.ones(len(hidden)), -np.ones(len(hidden))]
    screens += [rng.choice([-1.0, 1.0], len(hidden)) for _ in range(6)]
    for objective in screens:
        solution = solve(objective)
        if solution is not None:
            lowest, highest = np.minimum(lowest, solution), np.maximum(highest, solution)
    found = {}
    for i, n in zip(cells_of_interest, wanted, strict=True):
        if highest[n] - lowest[n] >= 2 - 1e-6:
            found[i] = (float(lowest[n]), float(highest[n]))
            continue
        objective = np.zeros(len(hidden))
        objective[n] = 1.0
        low, high = solve(objective), solve(-objective)
        # not solved: count the cell as pinned, so that more is hidden
        found[i] = (0.0, 0.0) if low is None or high is None else (low[n], high[n])
    return found


def complementary(
    cells: Sequence[Dims], persons: np.ndarray, reasons: list[str | None], k: int
) -> list[str | None]:
    """Add complementary suppressions until no relation gives a hidden cell away or narrows
    a small one, and (with two breakdowns, where relations chain) no small cell can be
    pinned down to fewer than three values by solving the whole table.

    A cell without persons is hidden but needs no cover: its mark says it holds nobody, so
    for the reader it is a shown zero.
    """
    empty = {i for i, r in enumerate(reasons) if r == NO_PERSONS}
    reasons = [None if r == NO_PERSONS else r for r in reasons]
    groups = relations(cells)
    # Distinct persons add up along a relation only when each person falls in one cell.
    additive = [bool(persons[g[0]] == sum(int(persons[i]) for i in g[1:])) for g in groups]
    _protect(groups, additive, cells, persons, reasons, k)
    return [NO_PERSONS if i in empty else r for i, r in enumerate(reasons)]


def _protect(groups: list[list[int]], additive: list[bool], cells: Sequence[Dims],
             persons: np.ndarray, reasons: list[str | None], k: int) -> None:  # fmt: skip
    if not groups:
        return  # no totals: a hidden cell follows from nothing shown (the overlap matrix)
    while True:
        _per_relation(groups, additive, cells, persons, reasons, k)
        if not cells or len(cells[0]) < 2:
            return  # one relation: the check per relation is exact
        small = [i for i, r in enumerate(reasons) if r == PRIMARY_SMALL]
        if not small:
            return
        ranges = _ranges(groups, all(additive), persons, reasons, k, small)
        pinned = [i for i in small if ranges[i][1] - ranges[i][0] < 2 - 1e-6]
        if not pinned:
            return
        for cell in pinned:
            around = [j for g in groups if cell in g for j in g if reasons[j] is None] or [
                j for g in groups if any(reasons[i] for i in g) for j in g if reasons[j] is None
            ]
            if not around:
                return  # nothing is shown: the marks are all a reader knows
            reasons[_partner(around, cells, persons, 2 * k)] = COMPLEMENTARY


def _per_relation(groups: list[list[int]], additive: list[bool], cells: Sequence[Dims],
                  persons: np.ndarray, reasons: list[str | None], k: int) -> None:  # fmt: skip
    """Every relation hides none, or at least two members with room enough."""
    changed = True
    while changed:
        changed = False
        for group, adds in zip(groups, additive, strict=True):
            margin, inner = group[0], group[1:]
            hidden = [i for i in group if reasons[i] is not None]
            if not hidden:
                continue
            if reasons[margin] is not None:
                if len(hidden) > 1:
                    continue
            elif not _exposed(group, adds, persons, reasons, k):
                continue
            visible = [i for i in inner if reasons[i] is None] or (
                [margin] if reasons[margin] is None else []
            )
            if not visible:
                continue
            reasons[_partner(visible, cells, persons, 2 * k)] = COMPLEMENTARY
            changed = True
