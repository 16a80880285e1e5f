"""The dashboard: the questions it shows, and answering them before anyone asks.

An institution's dashboard and the sector overview ask the same questions every time they
open. :func:`prepare` asks them once after the data changed — after a delivery, or for the
whole sector by ``publieksdata prepare`` — and stores their tabulations in the warehouse
(``warehouse.cubes``), so that opening the dashboard only reads and releases them. Released
figures are not stored: the release layer still judges every answer when it is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

from publieksdata.insights.source import Source
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.release.insights import Insights, View
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import Release
from publieksdata.warehouse import cubes
from publieksdata.warehouse.store import Warehouse

Question = tuple[str, dict[str, Any]]

DASHBOARD: tuple[Question, ...] = (
    ("reach", {}),
    ("reach", {"by": "season"}),
    ("reach", {"by": ("season", "age_band")}),
    ("reach", {"by": "pc4"}),
    ("reach", {"by": ("season", "visitor_type")}),
    ("reach", {"by": "frequency"}),
    ("reach", {"by": ("channel", "lead_time")}),
    ("crossover", {"by": "discipline"}),
)
SECTOR: tuple[Question, ...] = (
    ("reach", {"by": "discipline"}),
    ("reach", {"by": ("season", "discipline")}),
    ("reach", {"by": "age_band"}),
    ("reach", {"by": ("season", "sector_newcomer")}),
)
OVERLAP: tuple[Question, ...] = (
    ("overlap", {"by": "institution"}),
    ("overlap", {"by": "discipline"}),
)


def ask(view: View, questions: Sequence[Question]) -> list[Release]:
    """Every question of a dashboard, released."""
    return [getattr(view, method)(**arguments) for method, arguments in questions]


def prepare(warehouse: Warehouse, key: DeploymentKey, institutions: Sequence[str] | None,
            *, sector: bool = False,
            progress: Callable[[int, int], None] | None = None) -> int:  # fmt: skip
    """Store the tabulations of these institutions' dashboards (None: of every institution
    with data; one without is refused) and, with ``sector``, of the sector overview and the
    overlap matrices, for the data as it is now; returns how many were computed (those still
    current are kept as they are)."""
    db = warehouse.db
    insights = Insights(Source.connected(db), key, ReleasePolicy())
    chosen = insights.institutions() if institutions is None else list(institutions)
    steps = len(chosen) + (1 if sector else 0)
    stored = 0

    def keep() -> None:  # after each dashboard: a long run keeps what it finished
        nonlocal stored
        with warehouse.transaction():
            for question, made_from, cells in insights.computed:
                cubes.store(db, question, made_from, cells)
        stored += len(insights.computed)
        insights.computed.clear()

    with _query_memory(db):
        for done, institution in enumerate(chosen):
            ask(insights.for_institution(institution), DASHBOARD)
            keep()
            if progress is not None:
                progress(done + 1, steps)
        if sector:
            ask(insights.sector(), SECTOR + OVERLAP)
            if progress is not None:
                progress(steps, steps)
    keep()
    return stored


@contextmanager
def _query_memory(db: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The memory questions get on their own read-only connections (DuckDB's default),
    instead of the smaller limit a delivery works within; restored afterwards."""
    limit = db.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    db.execute("RESET memory_limit")
    try:
        yield
    finally:
        db.execute(f"SET memory_limit = '{limit}'")
