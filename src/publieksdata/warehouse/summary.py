"""The visit summary: sold tickets folded into visits, kept up to date at every change.

Metrics count visits (one buyer at one performance), so folding the tickets once, when they
change, spares every question the work. The summary is refreshed inside the same
transaction as the change, only where the change can reach: after a delivery or a
withdrawal at the performance moments of the tickets it adds or removes (and of the
deliveries it replaces), after a recoding at the moments of the production, per person at
the institution after an erasure, per person after linkage merged persons, and at the
moments it removes after retention; so a change costs the same however much was delivered
before. Each refresh counts a new data version for the institutions it touched, so stored
tabulations made from the old visits are no longer used (see ``cubes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import pyarrow as pa

from publieksdata.sql import with_arrow
from publieksdata.standard.definitions import definitions
from publieksdata.warehouse import cubes

SUMMARY_VERSION = "1"
_SOLD = definitions()["ticket"].parameters["counted_status"]
_SEASON_START = definitions()["season"].parameters["start_month"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS visit_facts (
    institution_id VARCHAR NOT NULL,
    production_key VARCHAR,
    starts_at TIMESTAMP NOT NULL,
    person_id BIGINT,
    tickets BIGINT NOT NULL,
    revenue_cents BIGINT NOT NULL,
    ordered_at TIMESTAMP,
    channel VARCHAR,
    discipline VARCHAR,
    genre VARCHAR,
    pc4 VARCHAR,
    birth_year SMALLINT,
    gender VARCHAR,
    season_year INTEGER NOT NULL
);
"""
_FOLD = f"""
SELECT institution_id, production_key, starts_at, person_id,
       sum(ticket_count)::BIGINT AS tickets,
       sum(round(price_paid * 100))::BIGINT AS revenue_cents, min(ordered_at) AS ordered_at,
       min(channel) AS channel, min(discipline) AS discipline, min(genre) AS genre,
       min(pc4) AS pc4, min(birth_year) AS birth_year, min(gender) AS gender,
       (year(starts_at) - CASE WHEN month(starts_at) >= {_SEASON_START} THEN 0 ELSE 1 END
       )::INTEGER AS season_year
FROM tickets WHERE status = '{_SOLD}' AND ({{where}})
GROUP BY institution_id, production_key, starts_at, person_id
"""


def fold(where: str = "true") -> str:
    """The query that folds sold tickets (those ``where`` selects) into visits, in the
    columns of ``visit_facts``; questions run it on the fly to compare with the summary."""
    return _FOLD.format(where=where)


def _insert(db: duckdb.DuckDBPyConnection, where: str, params: list[object],
            data: pa.Table | None = None) -> None:  # fmt: skip
    """Add the visits ``where`` selects (which may read the Arrow table ``data``)."""
    sql = f"INSERT INTO visit_facts {fold(where)} ORDER BY institution_id, starts_at"
    if data is None:
        db.execute(sql, params)
    else:
        with_arrow(db, sql, data, params)


def moments(db: duckdb.DuckDBPyConnection, deliveries: Iterable[int]) -> pa.Table:
    """The performance moments of these deliveries' tickets: what their visits hang on."""
    return _moments(db, "list_contains(?, delivery_id)", [sorted(set(deliveries))])


def production_moments(db: duckdb.DuckDBPyConnection, institution_id: str,
                       production_key: str) -> pa.Table:  # fmt: skip
    """The performance moments of one production of an institution."""
    return _moments(db, "institution_id = ? AND production_key = ?",
                    [institution_id, production_key])  # fmt: skip


def _moments(db: duckdb.DuckDBPyConnection, where: str, params: list[object]) -> pa.Table:
    return db.sql(f"SELECT DISTINCT starts_at FROM tickets WHERE {where}",
                  params=params).to_arrow_table()  # fmt: skip


def refresh_moments(db: duckdb.DuckDBPyConnection, institution_id: str,
                    touched: pa.Table) -> None:  # fmt: skip
    """Fold again the visits of one institution at these moments (from :func:`moments`):
    a visit is one buyer at one performance, so every visit a delivery changes is at one
    of the moments of its tickets, or of the tickets of a delivery it replaced."""
    where = "institution_id = ? AND starts_at IN (SELECT starts_at FROM data)"
    with_arrow(db, f"DELETE FROM visit_facts WHERE {where}", touched, [institution_id])
    _insert(db, where, [institution_id], touched)
    cubes.bump(db, [institution_id])


def refresh_persons(db: duckdb.DuckDBPyConnection, persons: Iterable[int]) -> None:
    """Fold the tickets of these persons again (after linkage merged some of them)."""
    ids = sorted(set(persons))
    if ids:
        touched = _institutions_of(db, ids)
        db.execute("DELETE FROM visit_facts WHERE list_contains(?, person_id)", [ids])
        _insert(db, "list_contains(?, person_id)", [ids])
        cubes.bump(db, touched | _institutions_of(db, ids))


def refresh_persons_at(db: duckdb.DuckDBPyConnection, institution_id: str,
                       persons: Iterable[int]) -> None:  # fmt: skip
    """Fold the tickets of these persons at one institution again (after an erasure there:
    their visits elsewhere do not change)."""
    where = "institution_id = ? AND list_contains(?, person_id)"
    params: list[object] = [institution_id, sorted(set(persons))]
    db.execute(f"DELETE FROM visit_facts WHERE {where}", params)
    _insert(db, where, params)
    cubes.bump(db, [institution_id])


def _institutions_of(db: duckdb.DuckDBPyConnection, persons: list[int]) -> set[str]:
    rows = db.execute(
        "SELECT DISTINCT institution_id FROM visit_facts WHERE list_contains(?, person_id)",
        [persons],
    ).fetchall()
    return {str(r[0]) for r in rows}


def drop_before(db: duckdb.DuckDBPyConnection, moment: dt.date) -> None:
    """Remove the visits at performances before ``moment``, once their tickets are gone
    (retention): a visit hangs on one performance, so no other visit changes."""
    touched = [str(r[0]) for r in db.execute(
        "SELECT DISTINCT institution_id FROM visit_facts WHERE starts_at < ?", [moment]
    ).fetchall()]  # fmt: skip
    db.execute("DELETE FROM visit_facts WHERE starts_at < ?", [moment])
    cubes.bump(db, touched)


def rebuild(db: duckdb.DuckDBPyConnection) -> None:
    """Fold every ticket again (for a warehouse without a summary)."""
    before = {str(r[0]) for r in db.execute("SELECT DISTINCT institution_id FROM visit_facts")
              .fetchall()}  # fmt: skip
    db.execute("DELETE FROM visit_facts")
    _insert(db, "true", [])
    after = {str(r[0]) for r in db.execute("SELECT DISTINCT institution_id FROM visit_facts")
             .fetchall()}  # fmt: skip
    cubes.bump(db, before | after | {cubes.FACTS})
