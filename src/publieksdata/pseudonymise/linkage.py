"""Person linkage across the sector: one stable pseudonymous person id per real person.

Rows are linked through keyed pseudonyms of their identifiers. *Strong* keys name one
person: e-mail or phone together with the first initial, name with postcode and house
number, and the institution's own customer number. *Weak* keys (e-mail or phone alone) are
what households share; a row uses them only when it has no name, and only to reach a person
the key already names uniquely. A key that would tie more than :data:`FAN_OUT_CAP` persons
together is a shared address or a household line, and is not used to link at all: one
shared e-mail cannot chain thousands of people into one.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

STRONG = ("email_initial", "phone_initial", "name_address", "customer")
WEAK = ("email", "phone")
FAN_OUT_CAP = 5


@dataclass(frozen=True)
class Linked:
    """Person ids per row (-1: nothing to recognise the buyer by) and what changed."""

    person: np.ndarray
    new_persons: int
    merged_persons: int


def _existing(db: duckdb.DuckDBPyConnection, keys: pa.Array) -> pa.Table:
    """(key, kind, person_id) already known for these keys."""
    db.register("batch_keys", pa.table({"key": keys}))
    try:
        return db.execute(
            "SELECT DISTINCT p.key, p.kind, p.person_id FROM person_keys p "
            "JOIN batch_keys b USING (key)"
        ).to_arrow_table()
    finally:
        db.unregister("batch_keys")


def _hubs_in_batch(keys: dict[str, pa.Array]) -> pa.Array:
    """Strong keys that come with more than the cap of distinct e-mail keys in this batch."""
    hubs = []
    email = keys["email"]
    for kind in ("phone_initial", "name_address", "customer"):
        table = pa.table({"key": keys[kind], "email": email}).filter(
            pc.and_(pc.is_valid(keys[kind]), pc.is_valid(email))
        )
        fan = table.group_by("key").aggregate([("email", "count_distinct")])
        hubs.append(fan.filter(pc.greater(fan["email_count_distinct"], FAN_OUT_CAP))["key"])
    return pa.concat_arrays([h.combine_chunks() for h in hubs]).cast(pa.string())


def _known_hubs(known: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Keys already naming more persons than the cap, and keys naming exactly one."""
    owners = known.group_by("key").aggregate([("person_id", "count_distinct")])
    counts = owners["person_id_count_distinct"]
    wide = owners.filter(pc.greater(counts, FAN_OUT_CAP))["key"].combine_chunks()
    single = owners.filter(pc.equal(counts, 1))["key"].combine_chunks()
    return wide.cast(pa.string()), single.cast(pa.string())


def link(db: duckdb.DuckDBPyConnection, keys: dict[str, pa.Array]) -> Linked:
    """Give every row a person id, reusing, merging or creating persons, and remember the
    keys. Runs inside the delivery's transaction."""
    n = len(keys["email"])
    kinds = (*STRONG, *WEAK)
    all_keys = pc.unique(pa.concat_arrays([keys[k].drop_null() for k in kinds]))
    known = _existing(db, all_keys)
    persons = np.unique(known["person_id"].to_numpy()) if known.num_rows else np.zeros(0, np.int64)
    wide, single = _known_hubs(known)
    hubs = pa.concat_arrays([_hubs_in_batch(keys), wide])
    # Nodes: rows [0, n), keys [n, n + K), known persons after that.
    first_person = n + len(all_keys)
    named = np.asarray(
        pc.or_(pc.is_valid(keys["email_initial"]), pc.is_valid(keys["phone_initial"]))
    )
    sources, targets = [], []
    for kind in kinds:
        values = keys[kind]
        usable = _bools(pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=hubs))))
        if kind in WEAK:
            usable &= ~named  # a named row links through its strong keys only
        index = np.asarray(pc.index_in(values, value_set=all_keys).fill_null(0))
        sources.append(np.flatnonzero(usable))
        targets.append(n + index[usable])
    if known.num_rows:
        weak_kind = _bools(pc.is_in(known["kind"], value_set=pa.array(WEAK)))
        not_hub = ~_bools(pc.is_in(known["key"], value_set=hubs))
        unique_owner = _bools(pc.is_in(known["key"], value_set=single))
        use = not_hub & (~weak_kind | unique_owner)
        key_index = np.asarray(pc.index_in(known["key"], value_set=all_keys).fill_null(0))
        owner = first_person + np.searchsorted(persons, known["person_id"].to_numpy())
        sources.append(n + key_index[use])
        targets.append(owner[use])
    src, dst = np.concatenate(sources), np.concatenate(targets)
    size = first_person + len(persons)
    graph = coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    person_node = {int(p): first_person + i for i, p in enumerate(persons)}
    return _assign(db, keys, label, n, person_node)


def _bools(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _assign(
    db: duckdb.DuckDBPyConnection,
    keys: dict[str, pa.Array],
    label: np.ndarray,
    n: int,
    person_node: dict[int, int],
) -> Linked:
    """Person ids per component; merge persons a new row shows to be one."""
    owner_of_label: dict[int, list[int]] = {}
    for known_person, node in person_node.items():
        owner_of_label.setdefault(int(label[node]), []).append(known_person)
    row_labels = label[:n]
    has_key = np.zeros(n, bool)
    for kind in (*STRONG, *WEAK):
        has_key |= np.asarray(pc.is_valid(keys[kind]))
    fresh = np.setdiff1d(row_labels[has_key], np.fromiter(owner_of_label, np.int64))
    person_of_label = np.full(int(label.max(initial=0)) + 1, -1, np.int64)
    person_of_label[fresh] = _new_person_ids(db, len(fresh))
    merged = 0
    for component, owners in owner_of_label.items():
        owners.sort()
        person_of_label[component] = owners[0]
        if len(owners) > 1:
            merged += len(owners) - 1
            _merge(db, owners[0], owners[1:])
    person = np.where(has_key, person_of_label[row_labels], -1)
    _remember(db, keys, person)
    return Linked(person, len(fresh), merged)


def _new_person_ids(db: duckdb.DuckDBPyConnection, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, np.int64)
    sql = f"SELECT nextval('person_seq') AS id FROM range({count})"
    return np.asarray(db.execute(sql).fetchnumpy()["id"], np.int64)


def _merge(db: duckdb.DuckDBPyConnection, keep: int, others: list[int]) -> None:
    placeholders = ", ".join("?" * len(others))
    for table in ("tickets", "person_keys"):
        db.execute(
            f"UPDATE {table} SET person_id = ? WHERE person_id IN ({placeholders})",
            [keep, *others],
        )


def _remember(db: duckdb.DuckDBPyConnection, keys: dict[str, pa.Array], person: np.ndarray) -> None:
    """Store each (key, person) pair not known yet."""
    parts = []
    for kind in (*STRONG, *WEAK):
        table = pa.table(
            {"key": keys[kind], "kind": pa.array([kind] * len(person)), "person_id": person}
        )
        keep = pc.and_(pc.is_valid(keys[kind]), pc.greater(table["person_id"], -1))
        parts.append(table.filter(keep))
    found = pa.concat_tables(parts)
    db.register("found_keys", found)
    try:
        db.execute(
            "INSERT INTO person_keys SELECT DISTINCT f.key, f.kind, f.person_id FROM found_keys f "
            "ANTI JOIN person_keys p ON p.key = f.key AND p.person_id = f.person_id"
        )
    finally:
        db.unregister("found_keys")
