"""Person linkage across the sector: one stable pseudonymous person id per real person.

Rows are linked through keyed pseudonyms of their identifiers. Each key has a *base* (the
e-mail address, the phone number or the postal address) and a *level*: how much of the name
comes with it — the full first name (2), only the initial (1) or no name (0). Partners often
share an e-mail address, a landline and always an address, so a key only links persons at the
level the row itself knows:

- a row links firmly through the keys of its own level: rows and persons sharing a full-name
  key are one person; a key of a lower level links only to a person it names uniquely;
- a row may also reach down to a person known only at a lower level (a museum visitor known by
  e-mail alone), if that key names exactly one such person and no other name in the batch
  comes with the same key;
- the institution's own customer number always links within that institution;
- a key that comes with more than :data:`FAN_OUT_CAP` persons or e-mail addresses is a shared
  line or address and links nothing, so one shared e-mail cannot chain thousands of people.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from publieksdata.sql import with_arrow

# kind -> (base, level); "customer" is its own base and always firm.
KINDS: dict[str, tuple[str, int]] = {
    "email_first": ("email", 2),
    "email_initial": ("email", 1),
    "email": ("email", 0),
    "phone_first": ("phone", 2),
    "phone_initial": ("phone", 1),
    "phone": ("phone", 0),
    "name_address": ("address", 2),
    "initial_address": ("address", 1),
    "customer": ("customer", 2),
}
FIRM = ("email_first", "phone_first", "name_address", "customer")  # link to every owner
FAN_OUT_CAP = 5


@dataclass(frozen=True)
class Linked:
    """Person ids per row (-1: nothing to recognise the buyer by) and what changed."""

    person: np.ndarray
    new_persons: int
    merged_persons: int
    touched: tuple[int, ...] = ()  # persons merged away and the persons they joined


def _bools(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string())


def _query(db: duckdb.DuckDBPyConnection, sql: str, data: pa.Table) -> pa.Table:
    """A query over the Arrow table ``data`` (read by DuckDB's replacement scan)."""
    assert "data" in sql, sql
    return db.sql(sql).to_arrow_table()


def _row_levels(keys: dict[str, pa.Array]) -> dict[str, np.ndarray]:
    """Per base, the highest level each row has a key for (-1: none)."""
    levels: dict[str, np.ndarray] = {}
    n = len(keys["email"])
    for kind, (base, level) in KINDS.items():
        has = _bools(pc.is_valid(keys[kind]))
        current = levels.setdefault(base, np.full(n, -1, np.int8))
        current[has & (current < level)] = level
    return levels


def _own_key(keys: dict[str, pa.Array], levels: dict[str, np.ndarray], base: str) -> pa.Array:
    """Per row the key of its own level for ``base``."""
    own = pa.nulls(len(levels[base]), pa.string())
    for kind, (kind_base, level) in KINDS.items():
        if kind_base == base:
            own = pc.if_else(pa.array(levels[base] == level), keys[kind], own)
    return own


def _hubs(keys: dict[str, pa.Array], known: pa.Table) -> pa.Array:
    """Keys that tie too many persons or e-mail addresses together to mean one person."""
    found = []
    email = keys["email"]
    for kind in ("phone_first", "phone_initial", "name_address", "initial_address", "customer"):
        table = pa.table({"key": keys[kind], "email": email}).filter(
            pc.and_(pc.is_valid(keys[kind]), pc.is_valid(email))
        )
        fan = table.group_by("key").aggregate([("email", "count_distinct")])
        found.append(
            _strings(fan.filter(pc.greater(fan["email_count_distinct"], FAN_OUT_CAP))["key"])
        )
    owners = known.group_by("key").aggregate([("person_id", "count_distinct")])
    found.append(
        _strings(owners.filter(pc.greater(owners["person_id_count_distinct"], FAN_OUT_CAP))["key"])
    )
    return pa.concat_arrays(found)


def _unique_owner_keys(known: pa.Table) -> pa.Array:
    owners = known.group_by("key").aggregate([("person_id", "count_distinct")])
    return _strings(owners.filter(pc.equal(owners["person_id_count_distinct"], 1))["key"])


def _kinds_of(db: duckdb.DuckDBPyConnection, persons: np.ndarray) -> pa.Table:
    """Every kind of key each of these known persons has (one pass over ``person_keys``)."""
    if len(persons) == 0:
        return pa.table({"person_id": pa.array([], pa.int64()), "kind": pa.array([], pa.string())})
    return _query(
        db,
        "SELECT DISTINCT p.person_id, p.kind FROM person_keys p SEMI JOIN data USING (person_id)",
        pa.table({"person_id": pa.array(persons, pa.int64())}),
    )


def _known_only_below(known: pa.Table, kinds_of: pa.Table, base: str, level: int) -> pa.Array:
    """Keys of ``base`` at ``level`` whose only owner has no key of that base above it."""
    higher = [k for k, (b, lv) in KINDS.items() if b == base and lv > level]
    kinds = [k for k, (b, lv) in KINDS.items() if b == base and lv == level]
    if not higher or known.num_rows == 0:
        return pa.array([], pa.string())
    mine = known.filter(pc.is_in(known["kind"], value_set=pa.array(kinds)))
    owners = mine.group_by("key").aggregate([("person_id", "count_distinct"), ("person_id", "min")])
    named = kinds_of.filter(pc.is_in(kinds_of["kind"], value_set=pa.array(higher)))
    alone = pc.and_(
        pc.equal(owners["person_id_count_distinct"], 1),
        pc.invert(pc.is_in(owners["person_id_min"], value_set=named["person_id"])),
    )
    return _strings(owners.filter(alone)["key"])


def _one_name_below(lower: pa.Array, own: pa.Array) -> pa.Array:
    """Lower keys that come with only one own-level key in this batch."""
    pairs = pa.table({"lower": lower, "own": own}).filter(
        pc.and_(pc.is_valid(lower), pc.is_valid(own))
    )
    names = pairs.group_by("lower").aggregate([("own", "count_distinct")])
    return _strings(names.filter(pc.equal(names["own_count_distinct"], 1))["lower"])


def link(db: duckdb.DuckDBPyConnection, keys: dict[str, pa.Array]) -> Linked:
    """Give every row a person id, reusing, merging or creating persons, and remember the
    keys. Runs inside the delivery's transaction."""
    n = len(keys["email"])
    # One dictionary of every key gives each its node number in a single pass.
    encoded = pc.dictionary_encode(pa.concat_arrays([_strings(keys[k]) for k in KINDS]))
    all_keys = encoded.dictionary
    node_of = np.asarray(encoded.indices.fill_null(0), dtype=np.int64).reshape(len(KINDS), n)
    known = _query(
        db,
        "SELECT DISTINCT p.key, p.kind, p.person_id, data.node FROM person_keys p "
        "JOIN data USING (key)",
        pa.table({"key": all_keys, "node": pa.array(np.arange(len(all_keys)))}),
    )
    persons = np.unique(known["person_id"].to_numpy()) if known.num_rows else np.zeros(0, np.int64)
    hubs = _hubs(keys, known)
    kinds_of = _kinds_of(db, persons)
    levels = _row_levels(keys)
    first_person = n + len(all_keys)  # nodes: rows, then keys, then known persons
    sources, targets = [], []
    for position, (kind, (base, level)) in enumerate(KINDS.items()):
        values = keys[kind]
        usable = _bools(pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=hubs))))
        above = levels[base] > level
        if above.any():
            reach = pc.is_in(values, value_set=_known_only_below(known, kinds_of, base, level))
            alone = pc.is_in(
                values, value_set=_one_name_below(values, _own_key(keys, levels, base))
            )
            usable &= ~above | (_bools(reach) & _bools(alone))
        sources.append(np.flatnonzero(usable))
        targets.append(n + node_of[position][usable])
    if known.num_rows:
        firm = pc.is_in(known["kind"], value_set=pa.array(FIRM))
        unique = pc.is_in(known["key"], value_set=_unique_owner_keys(known))
        use = _bools(pc.or_(firm, unique)) & ~_bools(pc.is_in(known["key"], value_set=hubs))
        owner = first_person + np.searchsorted(persons, known["person_id"].to_numpy())
        sources.append(n + known["node"].to_numpy()[use])
        targets.append(owner[use])
    src, dst = np.concatenate(sources), np.concatenate(targets)
    size = first_person + len(persons)
    graph = coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    person_node = {int(p): first_person + i for i, p in enumerate(persons)}
    return _assign(db, keys, label, n, person_node, known)


def _assign(
    db: duckdb.DuckDBPyConnection,
    keys: dict[str, pa.Array],
    label: np.ndarray,
    n: int,
    person_node: dict[int, int],
    known: pa.Table,
) -> Linked:
    """Person ids per component; merge persons a new row shows to be one."""
    owner_of_label: dict[int, list[int]] = {}
    for known_person, node in person_node.items():
        owner_of_label.setdefault(int(label[node]), []).append(known_person)
    row_labels = label[:n]
    has_key = np.zeros(n, bool)
    for kind in KINDS:
        has_key |= _bools(pc.is_valid(keys[kind]))
    fresh = np.setdiff1d(row_labels[has_key], np.fromiter(owner_of_label, np.int64))
    person_of_label = np.full(int(label.max(initial=0)) + 1, -1, np.int64)
    person_of_label[fresh] = _new_person_ids(db, len(fresh))
    merges: list[tuple[int, int]] = []
    for component, owners in owner_of_label.items():
        owners.sort()
        person_of_label[component] = owners[0]
        merges += [(other, owners[0]) for other in owners[1:]]
    _merge(db, merges)
    person = np.where(has_key, person_of_label[row_labels], -1)
    _remember(db, keys, person, known, merges)
    return Linked(person, len(fresh), len(merges), tuple(p for pair in merges for p in pair))


def _new_person_ids(db: duckdb.DuckDBPyConnection, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, np.int64)
    sql = f"SELECT nextval('person_seq') AS id FROM range({count})"
    return np.asarray(db.execute(sql).fetchnumpy()["id"], np.int64)


def _merge(db: duckdb.DuckDBPyConnection, merges: list[tuple[int, int]]) -> None:
    """Fold each merged person into the one kept, in one pass over each table."""
    if not merges:
        return
    old, keep = zip(*merges, strict=True)
    mapping = pa.table({"old": pa.array(old, pa.int64()), "keep": pa.array(keep, pa.int64())})
    for table in ("tickets", "person_keys"):
        with_arrow(
            db,
            f"UPDATE {table} SET person_id = m.keep FROM data m WHERE {table}.person_id = m.old",
            mapping,
        )


def _remember(
    db: duckdb.DuckDBPyConnection,
    keys: dict[str, pa.Array],
    person: np.ndarray,
    known: pa.Table,
    merges: list[tuple[int, int]],
) -> None:
    """Store each (key, person) pair not known yet; ``known`` holds every stored pair of
    these keys (before ``merges``), so the warehouse need not be searched again."""
    parts = []
    for kind in KINDS:
        table = pa.table(
            {"key": keys[kind], "kind": pa.array([kind] * len(person)), "person_id": person}
        )
        keep = pc.and_(pc.is_valid(keys[kind]), pc.greater(table["person_id"], -1))
        parts.append(table.filter(keep))
    stored = known.select(["key", "person_id"])
    if merges:
        old, kept = (np.array(side, np.int64) for side in zip(*sorted(merges), strict=True))
        ids = stored["person_id"].to_numpy()
        position = np.searchsorted(old, ids).clip(0, len(old) - 1)
        ids = np.where(old[position] == ids, kept[position], ids)
        stored = stored.set_column(1, "person_id", pa.array(ids))
    with_arrow(
        db,
        "INSERT INTO person_keys SELECT DISTINCT f.key, f.kind, f.person_id FROM data f "
        "ANTI JOIN other s ON s.key = f.key AND s.person_id = f.person_id",
        pa.concat_tables(parts),
        other=stored,
    )
