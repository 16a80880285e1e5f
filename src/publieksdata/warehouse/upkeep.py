"""Keeping the warehouse: key rotation, erasure of persons and the retention period.

Each operation is one transaction and is written to the warehouse's event log (G6);
none of them needs or sees a raw identifier except erasure, which pseudonymises the
identifiers it is given in memory, exactly as a delivery does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.pseudonymise.pseudonyms import Pseudonymiser, blocks_of, from_halves, halves
from publieksdata.sql import with_arrow
from publieksdata.standard.definitions import season_of
from publieksdata.warehouse import summary
from publieksdata.warehouse.store import Warehouse


def _strings(warehouse: Warehouse, sql: str, params: list[object]) -> pa.Array:
    """The text column ``v`` of a query as an Arrow array."""
    return pa.array(warehouse.db.execute(sql, params).fetchnumpy()["v"], pa.string())


def _rekey_column(
    warehouse: Warehouse, table: str, column: str, where: str, params: list[object],
    old: Pseudonymiser, new_key: DeploymentKey,
) -> int:  # fmt: skip
    """Replace every pseudonym in one column by its re-keyed value, through a mapping table."""
    values = _strings(warehouse, f"SELECT DISTINCT {column} AS v FROM {table} "
                      f"WHERE {column} IS NOT NULL AND {where}", params)  # fmt: skip
    if len(values) == 0:
        return 0
    mapping = pa.table({"old": values, "new": old.rekey(values, new_key)})
    with_arrow(
        warehouse.db,
        f"UPDATE {table} SET {column} = r.new FROM data r "
        f"WHERE {table}.{column} = r.old AND {where}",
        mapping,
        params,
    )
    return len(values)


def _rekey_keys(
    warehouse: Warehouse, table: str, where: str, params: list[object],
    old: Pseudonymiser, new_key: DeploymentKey,
) -> int:  # fmt: skip
    """Replace every linkage key in ``table`` by its re-keyed value, through a mapping."""
    found = warehouse.db.execute(
        f"SELECT DISTINCT key_high, key_low FROM {table} WHERE {where}", params
    ).fetchnumpy()
    if len(found["key_high"]) == 0:
        return 0
    high, low = halves(old.rekey_blocks(from_halves(found["key_high"], found["key_low"]), new_key))
    mapping = pa.table({"old_high": found["key_high"], "old_low": found["key_low"],
                        "new_high": high, "new_low": low})  # fmt: skip
    with_arrow(
        warehouse.db,
        f"UPDATE {table} SET key_high = m.new_high, key_low = m.new_low FROM data m "
        f"WHERE {table}.key_high = m.old_high AND {table}.key_low = m.old_low AND {where}",
        mapping,
        params,
    )
    return len(high)


def rotate(warehouse: Warehouse, old_key: DeploymentKey, new_key: DeploymentKey) -> int:
    """Re-key every stored pseudonym from ``old_key`` to ``new_key`` without raw data.

    Person ids do not change, so every figure (reach, overlap) is the same afterwards.
    Returns the number of distinct pseudonyms re-keyed.
    """
    if warehouse.meta("key_fingerprint") != old_key.fingerprint:
        raise PubliekError(
            "key-mismatch",
            "Het warehouse hoort niet bij de huidige sleutel; roteren kan niet.",
            "The warehouse does not belong to the current key; it cannot be rotated.",
        )
    person = Pseudonymiser(old_key, "person")
    with warehouse.transaction():
        count = _rekey_keys(warehouse, "person_keys", "kind <> 'customer'", [], person, new_key)
        count += _rekey_keys(warehouse, "denied", "kind IS DISTINCT FROM 'customer'", [],
                             person, new_key)  # fmt: skip
        institutions = [
            r[0]
            for r in warehouse.db.execute(
                "SELECT DISTINCT institution_id FROM tickets WHERE customer_key IS NOT NULL "
                "UNION SELECT institution_id FROM denied WHERE kind = 'customer'"
            ).fetchall()
        ]
        for institution in sorted(institutions):
            customer = Pseudonymiser(old_key, f"customer/{institution}")
            count += _rekey_column(warehouse, "tickets", "customer_key", "institution_id = ?",
                                   [institution], customer, new_key)  # fmt: skip
            count += _rekey_keys(warehouse, "denied", "kind = 'customer' AND institution_id = ?",
                                 [institution], customer, new_key)  # fmt: skip
        # Customer keys in the linkage table are those of the facts, now re-keyed.
        warehouse.db.execute("DELETE FROM person_keys WHERE kind = 'customer'")
        for institution in sorted(institutions):
            pairs = warehouse.db.sql(
                "SELECT DISTINCT customer_key, person_id FROM tickets WHERE institution_id = ? "
                "AND customer_key IS NOT NULL AND person_id IS NOT NULL", params=[institution],
            ).to_arrow_table()  # fmt: skip
            high, low = halves(blocks_of(pairs["customer_key"]))
            with_arrow(
                warehouse.db,
                "INSERT INTO person_keys BY NAME SELECT *, 'customer' AS kind FROM data",
                pa.table({"key_high": high, "key_low": low, "person_id": pairs["person_id"]}),
            )
        warehouse.set_meta("key_fingerprint", new_key.fingerprint)
        detail = {"from": old_key.fingerprint, "to": new_key.fingerprint, "pseudonyms": count}
        warehouse.log("key-rotated", None, detail)
    return count


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed."""

    persons: int
    rows: int
    keys_denied: int


def _key_table(keys: dict[str, pa.Array]) -> pa.Table:
    """The distinct linkage keys (16-byte blocks per kind) as rows of kind and halves."""
    parts = []
    for kind, blocks in keys.items():
        present = blocks.drop_null().unique()
        high, low = halves(present)
        parts.append(pa.table({"kind": pa.array([kind] * len(present), pa.string()),
                               "key_high": high, "key_low": low}))  # fmt: skip
    return (
        pa.concat_tables(parts) if parts else pa.table({"kind": [], "key_high": [], "key_low": []})
    )


def erase(warehouse: Warehouse, institution_id: str, keys: dict[str, pa.Array]) -> Erasure:
    """Remove this institution's records of the persons these linkage keys name, and deny
    the keys so a later re-delivery does not bring them back.

    An e-mail address alone names everyone who used it: an erasure by e-mail removes the
    records of each of them, as all of them carry the address the request names.
    """
    erase_keys = _key_table(keys)
    with warehouse.transaction():
        persons = [
            r[0]
            for r in with_arrow(
                warehouse.db,
                "SELECT DISTINCT person_id FROM person_keys JOIN data USING (key_high, key_low)",
                erase_keys,
            ).fetchall()
        ]
        with_arrow(
            warehouse.db,
            "INSERT INTO denied BY NAME SELECT ? AS institution_id, * FROM data ANTI JOIN "
            "(SELECT * FROM denied WHERE institution_id = ?) d USING (key_high, key_low)",
            erase_keys,
            [institution_id, institution_id],
        )
        rows = 0
        if persons:
            placeholders = ", ".join("?" * len(persons))
            rows = int(warehouse.scalar(
                f"SELECT count(*) FROM tickets WHERE institution_id = ? "
                f"AND person_id IN ({placeholders})", [institution_id, *persons],
            ))  # fmt: skip
            warehouse.db.execute(
                f"DELETE FROM tickets WHERE institution_id = ? AND person_id IN ({placeholders})",
                [institution_id, *persons],
            )
            summary.refresh_persons_at(warehouse.db, institution_id, persons)
        warehouse.log("erasure", institution_id, {"persons": len(persons), "rows": rows})
    return Erasure(len(persons), rows, erase_keys.num_rows)


def denied_mask(warehouse: Warehouse, institution_id: str,
                keys: dict[str, pa.Array]) -> np.ndarray:  # fmt: skip
    """Rows of a delivery that belong to a person erased at this institution."""
    n = len(next(iter(keys.values())))
    found = warehouse.db.execute(
        "SELECT key_high, key_low FROM denied WHERE institution_id = ?", [institution_id]
    ).fetchnumpy()
    mask = np.zeros(n, bool)
    if len(found["key_high"]) == 0:
        return mask
    denied = from_halves(found["key_high"], found["key_low"])
    for values in keys.values():
        hit = pc.fill_null(pc.is_in(values, value_set=denied), False)
        mask |= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    return mask


def retain(warehouse: Warehouse, seasons: int, today: dt.date | None = None) -> int:
    """Remove facts of performances older than ``seasons`` seasons (the current one counts),
    and the linkage keys of persons who then have no facts left. Returns rows removed."""
    if seasons < 1:
        raise PubliekError("retention-seasons", "Bewaar minstens 1 seizoen.",
                           "Keep at least 1 season.")  # fmt: skip
    first_kept = (season_of(today or dt.date.today()) - (seasons - 1)).start
    with warehouse.transaction():
        rows = int(
            warehouse.scalar("SELECT count(*) FROM tickets WHERE starts_at < ?", [first_kept])
        )
        warehouse.db.execute("DELETE FROM tickets WHERE starts_at < ?", [first_kept])
        summary.drop_before(warehouse.db, first_kept)
        warehouse.db.execute(
            "DELETE FROM person_keys WHERE person_id NOT IN "
            "(SELECT DISTINCT person_id FROM tickets WHERE person_id IS NOT NULL)"
        )
        warehouse.log("retention", None, {"seasons": seasons, "before": str(first_kept),
                                          "rows": rows})  # fmt: skip
    return rows
