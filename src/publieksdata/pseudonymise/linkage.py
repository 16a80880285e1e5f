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

from publieksdata import sorted_sets
from publieksdata.pseudonymise.pseudonyms import halves
from publieksdata.sql import append_arrow
from publieksdata.warehouse.merges import composed

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
    merges: tuple[tuple[int, int], ...] = ()  # (person merged away, the person it joined)


def _bools(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _query(db: duckdb.DuckDBPyConnection, sql: str, data: pa.Table) -> pa.Table:
    """A query over the Arrow table ``data`` (read by DuckDB's replacement scan)."""
    assert "data" in sql, sql
    return db.sql(sql).to_arrow_table()


def _per_node(node: np.ndarray, other: np.ndarray, size: int) -> np.ndarray:
    """How many distinct ``other`` values come with each node (numbered below ``size``)."""
    if len(node) == 0:
        return np.zeros(size, np.int64)
    width = np.int64(other.max()) + 1
    pairs = sorted_sets.unique(node.astype(np.int64) * width + other.astype(np.int64))
    return np.bincount(pairs // width, minlength=size)


@dataclass(frozen=True)
class Nodes:
    """The keys of a batch as numbers: one node per distinct key, shared by all kinds.
    Made from the keys alone, so the threads that prepare batches make them."""

    high: np.ndarray  # per node, the halves of its key (a 16-byte block), as
    low: np.ndarray  # ``person_keys`` stores them
    kind: np.ndarray  # per node, its kind (index into KINDS): a key's text names its kind
    of: dict[str, np.ndarray]  # per kind, per row: the node of its key
    valid: dict[str, np.ndarray]  # per kind, per row: whether it has that key

    @classmethod
    def of_batch(cls, keys: dict[str, pa.Array]) -> Nodes:
        n = len(keys["email"])
        encoded = pc.dictionary_encode(pa.concat_arrays([_array(keys[k]) for k in KINDS]))
        missing = len(encoded.dictionary)  # the node of a missing key: one past the last
        nodes = np.asarray(encoded.indices.fill_null(missing), np.int64).reshape(len(KINDS), n)
        valid = _bools(pc.is_valid(encoded.indices)).reshape(len(KINDS), n)
        kind = np.zeros(missing + 1, np.int8)
        for index in range(len(KINDS)):
            kind[nodes[index][valid[index]]] = index
        return cls(
            *halves(encoded.dictionary),
            kind[:missing],
            dict(zip(KINDS, nodes, strict=True)),
            dict(zip(KINDS, valid, strict=True)),
        )

    @property
    def size(self) -> int:
        return len(self.high)

    @property
    def slots(self) -> int:
        """Length of arrays indexed by node: every key, and one slot for a missing key."""
        return len(self.high) + 1


def _row_levels(nodes: Nodes) -> dict[str, np.ndarray]:
    """Per base, the highest level each row has a key for (-1: none)."""
    levels: dict[str, np.ndarray] = {}
    for kind, (base, level) in KINDS.items():
        current = levels.setdefault(base, np.full(len(nodes.valid[kind]), -1, np.int8))
        current[nodes.valid[kind] & (current < level)] = level
    return levels


def _own_node(nodes: Nodes, levels: dict[str, np.ndarray], base: str) -> np.ndarray:
    """Per row the node of its key of its own level for ``base`` (-1: none)."""
    own = np.full(len(levels[base]), -1, np.int64)
    for kind, (kind_base, level) in KINDS.items():
        if kind_base == base:
            mine = levels[base] == level
            own[mine] = nodes.of[kind][mine]
    return own


@dataclass(frozen=True)
class _Known:
    """The stored (key, person) pairs of this batch's keys, by node (a pair may come twice
    after a merge: everything here treats them as a set)."""

    node: np.ndarray
    person: np.ndarray
    kind: np.ndarray  # index into KINDS

    @classmethod
    def fetch(cls, db: duckdb.DuckDBPyConnection, nodes: Nodes, kinds: PersonKinds) -> _Known:
        table = _query(
            db,
            "SELECT p.person_id, data.node FROM person_keys p JOIN data USING (key_high, key_low)",
            pa.table({"key_high": nodes.high, "key_low": nodes.low, "node": np.arange(nodes.size)}),
        )
        node = np.asarray(table["node"].to_numpy(), np.int64)
        person = kinds.current(np.asarray(table["person_id"].to_numpy(), np.int64))
        return cls(node, person, nodes.kind[node].astype(np.int64))


def _hubs(nodes: Nodes, known: _Known) -> np.ndarray:
    """Keys that tie too many persons or e-mail addresses together to mean one person."""
    hub = np.zeros(nodes.slots, bool)
    email = nodes.of["email"]
    for kind in ("phone_first", "phone_initial", "name_address", "initial_address", "customer"):
        both = nodes.valid[kind] & nodes.valid["email"]
        hub |= _per_node(nodes.of[kind][both], email[both], nodes.slots) > FAN_OUT_CAP
    return hub | (_per_node(known.node, known.person, nodes.slots) > FAN_OUT_CAP)


class PersonKinds:
    """Which kinds of key each person has, as one bit per kind, kept for one delivery:
    read from ``person_keys`` once, then kept up to date as batches add keys and merge
    persons, so no batch has to read all of ``person_keys`` again to know it.

    It also keeps the delivery's merges: the stored keys keep the persons they were stored
    with until the delivery has committed (``warehouse.merges``), so the persons read from
    them are passed through :meth:`current`."""

    def __init__(self, db: duckdb.DuckDBPyConnection) -> None:
        codes = ", ".join(f"'{kind}'" for kind in KINDS)
        stored = db.execute(
            "SELECT person_id, coalesce(bit_or((1::USMALLINT) << (list_position("
            f"[{codes}], kind) - 1)::USMALLINT), 0) AS bits FROM person_keys GROUP BY person_id"
        ).fetchnumpy()
        persons = np.asarray(stored["person_id"], np.int64)
        self._bits = np.zeros(int(persons.max(initial=0)) + 1, np.uint16)
        self._bits[persons] = np.asarray(stored["bits"], np.uint16)
        self._old = self._joined = np.zeros(0, np.int64)  # merges composed, by ``_old``

    def of(self, persons: np.ndarray) -> np.ndarray:
        """The bits of these persons (0 for a person not known yet)."""
        inside = persons < len(self._bits)
        return np.where(inside, self._bits[np.where(inside, persons, 0)], 0).astype(np.uint16)

    def add(self, persons: np.ndarray, kinds: np.ndarray) -> None:
        """These persons now have keys of these kinds (indices into KINDS)."""
        self._grow(int(persons.max(initial=0)))
        np.bitwise_or.at(self._bits, persons, (np.uint16(1) << kinds.astype(np.uint16)))

    def merge(self, merges: list[tuple[int, int]]) -> None:
        """Each person merged away gives its kinds to the person it joined."""
        for old, keep in merges:
            self._grow(max(old, keep))
            self._bits[keep] |= self._bits[old]
            self._bits[old] = 0
        if merges:
            known = zip(self._old.tolist(), self._joined.tolist(), strict=True)
            final = composed([*known, *merges])
            self._old = np.array(sorted(final), np.int64)
            self._joined = np.array([final[old] for old in self._old.tolist()], np.int64)

    def current(self, persons: np.ndarray) -> np.ndarray:
        """The persons these have become by the delivery's merges so far."""
        if not len(self._old):
            return persons
        position = np.searchsorted(self._old, persons).clip(0, len(self._old) - 1)
        return np.where(self._old[position] == persons, self._joined[position], persons)

    def _grow(self, person: int) -> None:
        if person >= len(self._bits):
            bigger = np.zeros(max(person + 1, 2 * len(self._bits)), np.uint16)
            bigger[: len(self._bits)] = self._bits
            self._bits = bigger


def _bits(kinds: list[str]) -> np.uint16:
    return np.uint16(sum(1 << list(KINDS).index(kind) for kind in kinds))


def _known_only_below(
    nodes: Nodes, known: _Known, known_kinds: np.ndarray, base: str, level: int
) -> np.ndarray:
    """Keys of ``base`` at ``level`` whose only owner has no key of that base above it."""
    higher = [k for k, (b, lv) in KINDS.items() if b == base and lv > level]
    kinds = [i for i, (b, lv) in enumerate(KINDS.values()) if b == base and lv == level]
    found = np.zeros(nodes.slots, bool)
    if not higher or len(known.node) == 0:
        return found
    mine = sorted_sets.isin(known.kind, kinds)
    single = _per_node(known.node[mine], known.person[mine], nodes.slots) == 1
    unnamed = mine & ((known_kinds & _bits(higher)) == 0)
    found[known.node[unnamed]] = True
    return np.asarray(found & single)


def _one_name_below(
    lower: np.ndarray, has_lower: np.ndarray, own: np.ndarray, size: int
) -> np.ndarray:
    """Lower keys that come with only one own-level key in this batch."""
    both = has_lower & (own >= 0)
    return np.asarray(_per_node(lower[both], own[both], size) == 1)


def link(db: duckdb.DuckDBPyConnection, nodes: Nodes, kinds: PersonKinds) -> Linked:
    """Give every row a person id, reusing, merging or creating persons, and remember the
    keys. Runs inside the delivery's transaction; the merges are applied to stored rows
    after it (``Linked.merges``, ``warehouse.merges``)."""
    n = len(nodes.valid["email"])
    known = _Known.fetch(db, nodes, kinds)
    persons = sorted_sets.unique(known.person)
    hub = _hubs(nodes, known)
    known_kinds = kinds.of(known.person)  # per stored pair, the kinds its person has
    levels = _row_levels(nodes)
    own = {base: _own_node(nodes, levels, base) for base in levels}
    first_person = n + nodes.size  # nodes: rows, then keys, then known persons
    sources, targets = [], []
    for kind, (base, level) in KINDS.items():
        node = nodes.of[kind]
        usable = nodes.valid[kind] & ~hub[node]
        above = levels[base] > level
        if above.any():
            reach = _known_only_below(nodes, known, known_kinds, base, level)
            alone = _one_name_below(node, nodes.valid[kind], own[base], nodes.slots)
            usable &= ~above | (reach[node] & alone[node])
        sources.append(np.flatnonzero(usable))
        targets.append(n + node[usable])
    if len(known.node):
        firm = sorted_sets.isin(known.kind, [i for i, kind in enumerate(KINDS) if kind in FIRM])
        unique = _per_node(known.node, known.person, nodes.slots)[known.node] == 1
        use = (firm | unique) & ~hub[known.node]
        owner = first_person + np.searchsorted(persons, known.person)
        sources.append(n + known.node[use])
        targets.append(owner[use])
    src, dst = np.concatenate(sources), np.concatenate(targets)
    size = first_person + len(persons)
    graph = coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    has_key = np.logical_or.reduce(list(nodes.valid.values()))
    return _assign(db, nodes, label, has_key, persons, label[first_person:], known, kinds)


def _assign(
    db: duckdb.DuckDBPyConnection,
    nodes: Nodes,
    label: np.ndarray,
    has_key: np.ndarray,  # per row: whether it has any key
    persons: np.ndarray,  # the known persons, ascending
    person_label: np.ndarray,  # the component of each known person
    known: _Known,
    kinds: PersonKinds,
) -> Linked:
    """Person ids per component: the lowest known person in it, else a new one; the other
    known persons in a component merge into that one."""
    order = np.argsort(person_label, kind="stable")  # within a component, persons ascending
    grouped = person_label[order]
    first = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]][: len(grouped)])
    owned = grouped[first]
    person_of_label = np.full(int(label.max(initial=0)) + 1, -1, np.int64)
    person_of_label[owned] = persons[order][first]
    row_labels = label[: len(has_key)]
    fresh = sorted_sets.difference(row_labels[has_key], owned)
    person_of_label[fresh] = _new_person_ids(db, len(fresh))
    kept = person_of_label[person_label]
    merged = kept != persons
    merges = list(zip(persons[merged].tolist(), kept[merged].tolist(), strict=True))
    kinds.merge(merges)
    person = np.where(has_key, person_of_label[row_labels], -1)
    _remember(db, nodes, person, known, kinds)
    return Linked(person, len(fresh), len(merges), tuple(merges))


def _new_person_ids(db: duckdb.DuckDBPyConnection, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, np.int64)
    sql = f"SELECT nextval('person_seq') AS id FROM range({count})"
    return np.asarray(db.execute(sql).fetchnumpy()["id"], np.int64)


def _remember(
    db: duckdb.DuckDBPyConnection,
    nodes: Nodes,
    person: np.ndarray,
    known: _Known,
    kinds: PersonKinds,
) -> None:
    """Store each (key, person) pair not known yet, and note its kind in ``kinds``.
    ``known`` holds every stored pair of these keys (before this batch's merges, which
    ``kinds`` already holds), so the pairs are told apart by number, and the warehouse need
    not be searched again."""
    stored = kinds.current(known.person)
    width = np.int64(max(int(person.max(initial=0)), int(stored.max(initial=0))) + 1)
    found = []
    for kind in KINDS:
        mine = nodes.valid[kind] & (person > -1)
        found.append(nodes.of[kind][mine] * width + person[mine])
    pairs = sorted_sets.difference(np.concatenate(found), known.node * width + stored)
    node = pairs // width
    kinds.add(pairs % width, nodes.kind[node])
    kind_names = pa.DictionaryArray.from_arrays(pa.array(nodes.kind[node]), pa.array(list(KINDS)))
    new = pa.table({"key_high": nodes.high[node], "key_low": nodes.low[node], "kind": kind_names,
                    "person_id": pa.array(pairs % width)})  # fmt: skip
    append_arrow(db, "INSERT INTO person_keys BY NAME SELECT * FROM data", new)
