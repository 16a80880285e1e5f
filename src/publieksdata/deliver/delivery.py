"""One delivery, end to end: read → map → validate → pseudonymise → link → load, atomically.

Raw identifiers live only in the memory of :func:`deliver_file` for one batch at a time:
they are normalised, pseudonymised and dropped before anything is written. The delivery
is committed whole or not at all, and ``received = loaded + rejected + duplicates`` holds.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from publieksdata.deliver.coding import Census, Coder
from publieksdata.deliver.convert import (
    Conversion,
    accepted_identities,
    convert,
    customer_identifiers,
    facts,
)
from publieksdata.deliver.duplicates import Duplicates, Repeats
from publieksdata.deliver.mapping import (
    MappingProfile,
    MappingStore,
    Recognition,
    known_profile,
    recognise,
    with_columns,
    with_notations,
    with_values,
)
from publieksdata.deliver.prefetch import prefetched
from publieksdata.deliver.problems import CATALOGUE, Problem, ProblemGroup, ProblemLog, number
from publieksdata.deliver.readers import ExportReader, file_sha256, open_export
from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.pseudonymise.linkage import Nodes, PersonKinds, link
from publieksdata.pseudonymise.pseudonyms import Pseudonymiser, digest_sql, encoded
from publieksdata.sql import MemoryOnly
from publieksdata.standard.text import Language
from publieksdata.warehouse import merges, summary
from publieksdata.warehouse.store import Warehouse
from publieksdata.warehouse.upkeep import Erasure, denied_mask, erase

BATCH_ROWS = 200_000
Progress = Callable[[int], None]  # rows read so far


@dataclass
class DeliveryReport:
    """What happened to a delivery, for the user: counts, problems, what to do."""

    institution_id: str
    status: str  # "loaded" or "already-delivered"
    delivery_id: int | None = None
    profile: str = ""
    profile_source: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    received: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    warnings: int = 0
    persons_new: int = 0
    persons_merged: int = 0
    productions_to_confirm: int = 0
    period: str = ""
    replaced: int | None = None
    problem_counts: dict[str, int] = field(default_factory=dict)
    problem_groups: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    problems_not_listed: int = 0
    file: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def balanced(self) -> bool:
        """received = loaded + rejected + duplicates: nothing is lost silently."""
        return self.received == self.loaded + self.rejected + self.duplicates

    def lines(self, language: Language = "nl") -> list[str]:
        """A short report for people: counts first, then the first problems."""
        nl = language == "nl"
        if self.status == "already-delivered":
            return [
                f"Dit bestand is al geleverd (levering {self.delivery_id}); er is niets toegevoegd."
                if nl
                else f"This file was delivered before (delivery {self.delivery_id}); nothing "
                "was added."
            ]
        words = (
            ("ontvangen", "geladen", "afgewezen", "dubbel", "waarschuwingen")
            if nl
            else ("received", "loaded", "rejected", "duplicates", "warnings")
        )
        numbers = (self.received, self.loaded, self.rejected, self.duplicates, self.warnings)
        out = [", ".join(f"{w} {number(n, language)}" for w, n in zip(words, numbers, strict=True))]
        if self.replaced is not None:
            out.append(
                f"Vervangt levering {self.replaced}."
                if nl
                else f"Replaces delivery {self.replaced}."
            )
        if self.ignored_columns:
            label = "Genegeerde kolommen" if nl else "Ignored columns"
            out.append(f"{label}: {', '.join(self.ignored_columns)}")
        if self.productions_to_confirm:
            n = number(self.productions_to_confirm, language)
            one = self.productions_to_confirm == 1
            out.append(
                f"{n} {'productie heeft' if one else 'producties hebben'} een voorgesteld genre; "
                f"bevestig of verbeter {'die' if one else 'ze'} met 'publieksdata productions'."
                if nl
                else f"{n} {'production has' if one else 'productions have'} a suggested genre; "
                f"confirm or correct {'it' if one else 'them'} with 'publieksdata productions'."
            )
        groups = sorted(self.problem_groups, key=lambda g: -int(g["count"]))
        out += [ProblemGroup(**g).message(language) for g in groups]
        return out


def _missing_error(recognition: Recognition, path: Path) -> PubliekError:
    """Which required fields no column provides, and which columns were not understood."""
    need = " / ".join(" of ".join(alts) for alts in recognition.missing)
    need_en = " / ".join(" or ".join(alts) for alts in recognition.missing)
    ignored = ", ".join(recognition.ignored) or "-"
    return PubliekError(
        "mapping-incomplete",
        f"{path.name}: deze verplichte velden vinden we niet: {need}. Niet herkende kolommen: "
        f"{ignored}. Koppel ze met --map 'Kolom=veld' en lever opnieuw.",
        f"{path.name}: these required fields are not found: {need_en}. Columns not "
        f"recognised: {ignored}. Map them with --map 'Column=field' and deliver again.",
    )


@dataclass
class _Batches:
    """Counts over all batches of one delivery."""

    received: int = 0
    rejected: int = 0
    new_persons: int = 0
    merged: int = 0
    merges: list[tuple[int, int]] = field(default_factory=list)  # (merged away, joined)


# The text each linkage key is the pseudonym of: its kind, then the normalised parts.
_KEY_TEXTS = {
    "email": ("email",),
    "email_initial": ("email", "initial"),
    "email_first": ("email", "first"),
    "phone": ("phone",),
    "phone_initial": ("phone", "initial"),
    "phone_first": ("phone", "first"),
    "initial_address": ("initial", "address"),
    "name_address": ("first", "address"),
}


def _key_text(kind: str, names: tuple[str, ...]) -> str:
    """SQL for 'kind:part|part' (NULL when a part is missing)."""
    return f"'{kind}:' || " + " || '|' || ".join(names)


class _Pseudonyms:
    """The pseudonymisers of one delivery; their keys never leave this object.

    The digests are computed by an in-memory DuckDB that never writes to disk: it holds the
    normalised identifiers of one batch for the length of one query.
    """

    def __init__(self, key: DeploymentKey, institution_id: str) -> None:
        self.person = Pseudonymiser(key, "person")
        self.customer = Pseudonymiser(key, f"customer/{institution_id}")
        self._db = MemoryOnly()
        parts = [
            f"{digest_sql(_key_text(kind, names))} AS {kind}" for kind, names in _KEY_TEXTS.items()
        ]
        self._sql = f"SELECT {', '.join(parts)}, {digest_sql('customer_id')} AS customer FROM data"

    def keys(self, identifiers: dict[str, pa.Array]) -> tuple[dict[str, pa.Array], pa.Array]:
        """Linkage keys, each the pseudonym block of a kind-labelled normalised identifier,
        and the customer pseudonyms the facts carry (the blocks of "customer" written out)."""
        if any(pc.any(pc.equal(values, "")).as_py() for values in identifiers.values()):
            raise ValueError("an empty identifier has no pseudonym: normalise it to null")
        data = pa.table({name: values.cast(pa.string()) for name, values in identifiers.items()})
        digests = self._db.cursor().sql(self._sql).to_arrow_table()  # reads ``data`` by its name
        del data
        keys = {kind: self.person.blocks_of_digests(digests[kind]) for kind in _KEY_TEXTS}
        keys["customer"] = self.customer.blocks_of_digests(digests["customer"])
        return keys, encoded(keys["customer"])


@dataclass
class _Prepared:
    """One batch converted and pseudonymised: facts, identities, keys, its problems."""

    received: int
    table: pa.Table  # accepted rows that repeat no earlier row of the batch
    identity: np.ndarray  # per row, the index of its identity in ``keys``
    keys: dict[str, pa.Array]  # per identity, its linkage keys
    nodes: Nodes  # the same keys as numbers, for linkage
    repeats: Repeats
    problems: ProblemLog
    census: Census  # its productions, coded


def _preparer(
    profile: MappingProfile, pseudonyms: _Pseudonyms, duplicates: Duplicates, coder: Coder
) -> Callable[[pa.RecordBatch], _Prepared]:
    """The first stage, run in worker threads: nothing here touches the warehouse."""

    def prepare(batch: pa.RecordBatch) -> _Prepared:
        problems = ProblemLog()
        conv = convert(batch, profile, problems)
        table = facts(conv)  # every row: rejected and repeated rows are left out below
        accepted = ~conv.rejected
        identity, identifiers = accepted_identities(conv)
        del conv  # the raw batch and its identifiers go here
        keys, customer = pseudonyms.keys(identifiers)
        del identifiers
        of_row = np.zeros(len(accepted), np.int32)
        of_row[accepted] = identity
        customer_key = pa.array(of_row, pa.int32(), mask=~accepted)
        table = table.append_column(
            "customer_key", pa.DictionaryArray.from_arrays(customer_key, customer)
        )
        repeats = duplicates.within(table, accepted)
        identity = identity[repeats.keep[accepted]]
        if not repeats.keep.all():
            table = table.filter(pa.array(repeats.keep))
        table, census = coder.fill(table)
        nodes = Nodes.of_batch(keys)
        return _Prepared(batch.num_rows, table, identity, keys, nodes, repeats, problems, census)

    return prepare


def _without_erased(erased: np.ndarray, prepared: _Prepared, log: ProblemLog) -> _Prepared:
    """The batch without the rows of identities erased at this institution (reported)."""
    rows = erased[prepared.identity]
    log.add_rows("erased-person", None, prepared.table["source_row"].to_numpy()[rows])
    kept = pa.array(np.flatnonzero(~erased))
    renumber = np.cumsum(~erased) - 1
    keys = {kind: values.take(kept) for kind, values in prepared.keys.items()}
    return _Prepared(
        prepared.received,
        prepared.table.filter(pa.array(~rows)),
        renumber[prepared.identity[~rows]],
        keys,
        Nodes.of_batch(keys),
        prepared.repeats,
        prepared.problems,
        prepared.census,
    )


def _load_batches(
    batches: Iterable[pa.RecordBatch],
    reader: ExportReader,
    profile: MappingProfile,
    warehouse: Warehouse,
    pseudonyms: _Pseudonyms,
    delivery_id: int,
    institution_id: str,
    log: ProblemLog,
    duplicates: Duplicates,
    coder: Coder,
    progress: Progress | None,
) -> _Batches:
    counts = _Batches()
    kinds = PersonKinds(warehouse.db)
    for prepared in prefetched(iter(batches), _preparer(profile, pseudonyms, duplicates, coder)):
        log.extend(prepared.problems)
        coder.note(prepared.census)
        repeated = prepared.repeats.count
        keep = duplicates.across(warehouse.db, delivery_id, prepared.table, prepared.repeats)
        if keep is not None:
            repeated += int((~keep).sum())
            prepared = replace(prepared, table=prepared.table.filter(pa.array(keep)),
                               identity=prepared.identity[keep])  # fmt: skip
        erased = denied_mask(warehouse, institution_id, prepared.keys)
        if erased.any():
            prepared = _without_erased(erased, prepared, log)
        received, table, identity = prepared.received, prepared.table, prepared.identity
        linked = link(warehouse.db, prepared.nodes, kinds)
        person = linked.person[identity]
        table = table.append_column("person_id", pa.array(person, pa.int64(), mask=person < 0))
        counts.received += received
        counts.rejected += received - table.num_rows - repeated
        del prepared
        warehouse.insert_facts(delivery_id, institution_id, table)
        counts.new_persons += linked.new_persons
        counts.merged += linked.merged_persons
        counts.merges += linked.merges
        if progress is not None:
            progress(counts.received)
    for bad in reader.bad_rows:
        log.add(Problem(bad.code, bad.row, None))
    counts.received += reader.bad_row_count
    counts.rejected += reader.bad_row_count
    return counts


def corrected_mapping(
    path: Path,
    institution_id: str,
    changes: dict[str, str | None],
    store: MappingStore,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> MappingProfile:
    """Apply a user's corrections ('Column=field', and 'Column:label=code' as ``values``) to
    the mapping this file would get, and save the result as the institution's next mapping
    version."""
    with open_export(path) as reader:
        sample = next(reader.batches(1000), None)
        recognition = recognise(reader.facts.headers, sample, store.latest(institution_id))
    profile = with_columns(recognition.profile, changes)
    if recognition.source != "built-in":
        profile = with_notations(profile, sample)
    profile = with_values(profile, values or {})
    return store.save(institution_id, profile)


def erase_file(path: Path, institution_id: str, warehouse: Warehouse,
               key: DeploymentKey) -> Erasure:  # fmt: skip
    """Erase the persons whose identifiers a file lists (any columns with e-mail, phone,
    customer number or name and address) from this institution's records."""
    log = ProblemLog()
    with open_export(path) as reader:
        recognition = recognise(reader.facts.headers)
        identifying = [t for t in recognition.profile.columns.values() if t.startswith("customer.")]
        if not identifying:
            raise PubliekError(
                "erase-no-identifiers",
                f"{path.name}: geen kolom met e-mail, telefoon, klantnummer of naam en adres.",
                f"{path.name}: no column with e-mail, phone, customer number or name and address.",
            )
        pseudonyms = _Pseudonyms(key, institution_id)
        parts: dict[str, list[pa.Array]] = {}
        for batch in reader.batches(BATCH_ROWS):
            conv = Conversion(batch, recognition.profile, log)
            customer_identifiers(conv)
            for kind, values in pseudonyms.keys(conv.identifiers)[0].items():
                parts.setdefault(kind, []).append(values)
    keys = {kind: pa.concat_arrays(values) for kind, values in parts.items()}
    return erase(warehouse, institution_id, keys) if keys else Erasure(0, 0, 0)


def _period(warehouse: Warehouse, delivery_id: int) -> str:
    first, last = warehouse.db.execute(
        "SELECT min(starts_at)::DATE, max(starts_at)::DATE FROM tickets WHERE delivery_id = ?",
        [delivery_id],
    ).fetchall()[0]
    return f"{first}..{last}"


_PR_SET_THP_DISABLE = 41  # prctl option, <linux/prctl.h>


def _without_huge_pages() -> None:
    """Ask Linux not to back this process's new memory with transparent huge pages.

    A delivery allocates and frees batch-sized buffers all the time. With huge pages, a fault
    on memory that other processes left fragmented makes the kernel compact memory first: the
    first delivery after a large job took 4.2 s instead of 3.5 s for a million rows
    (docs/decisions/0012-delivery-pipeline.md). Nothing else changes. Elsewhere, or when
    the kernel refuses, this does nothing.
    """
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None).prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0)
    except (OSError, AttributeError):
        return


def deliver_file(
    path: Path,
    institution_id: str,
    warehouse: Warehouse,
    key: DeploymentKey,
    *,
    mappings: MappingStore | None = None,
    profile: MappingProfile | None = None,
    period: str | None = None,
    progress: Progress | None = None,
) -> DeliveryReport:
    """Deliver one export file for one institution; all of it is loaded or none of it."""
    started = time.perf_counter()
    _without_huge_pages()
    saved = mappings.latest(institution_id) if mappings is not None else None
    with open_export(path, digest=False) as reader, ThreadPoolExecutor(1) as hashing:
        sha256 = hashing.submit(file_sha256, path)  # alongside the reading
        file_facts = reader.facts
        earlier = None
        if warehouse.has_delivery_of_size(institution_id, file_facts.size_bytes):
            earlier = warehouse.find_delivery(institution_id, sha256=sha256.result())
        if earlier is not None and profile is None:  # with a corrected mapping it replaces
            warehouse.log("delivery-repeated", institution_id, {"delivery": earlier.delivery_id})
            return DeliveryReport(institution_id, "already-delivered", earlier.delivery_id)
        batches = reader.batches(BATCH_ROWS)
        first = None  # read here only when the columns' content must be recognised
        if profile is not None:
            recognition = Recognition(profile, "given", (), tuple(profile.missing()))
        else:
            if known_profile(file_facts.headers, saved) is None:
                first = next(batches, None)
            recognition = recognise(file_facts.headers, first, saved)
        if not recognition.complete:
            raise _missing_error(recognition, path)
        log = ProblemLog()
        with warehouse.transaction():
            delivery_id = warehouse.next_delivery_id()
            duplicates = Duplicates(recognition.profile)
            coder = Coder(warehouse, institution_id)
            counts = _load_batches(
                chain([first] if first is not None else [], batches),
                reader,
                recognition.profile,
                warehouse,
                _Pseudonyms(key, institution_id),
                delivery_id,
                institution_id,
                log,
                duplicates,
                coder,
                progress,
            )
            merges.record(warehouse.db, counts.merges)
            to_confirm = coder.finish(delivery_id)
            chosen_period = period or _period(warehouse, delivery_id)
            # the same file delivered again with a corrected mapping, and the delivery of
            # the same period: both are replaced
            replaced = [earlier] if earlier is not None else []
            same_period = warehouse.find_delivery(institution_id, period=chosen_period)
            if same_period is not None and same_period.delivery_id not in [
                r.delivery_id for r in replaced
            ]:
                replaced.append(same_period)
            touched = summary.moments(
                warehouse.db, [delivery_id, *(r.delivery_id for r in replaced)]
            )
            for record in replaced:
                warehouse.withdraw(record.delivery_id, status="replaced",
                                   replaced_by=delivery_id, refresh=False)  # fmt: skip
            previous = replaced[0] if replaced else None
            summary.refresh_moments(warehouse.db, institution_id, touched)
            file_facts = replace(file_facts, sha256=sha256.result())
            report = _report(
                institution_id, delivery_id, recognition, counts, duplicates.count, log,
                chosen_period, previous.delivery_id if previous else None, asdict(file_facts),
            )  # fmt: skip
            report.productions_to_confirm = to_confirm
            report.seconds = round(time.perf_counter() - started, 3)
            _record(warehouse, report, file_facts.sha256)
    if counts.merges:
        with warehouse.transaction():
            merges.settle(warehouse.db)
    if mappings is not None and recognition.source == "automatic":
        mappings.save(institution_id, recognition.profile)
    return report


def _report(
    institution_id: str,
    delivery_id: int,
    recognition: Recognition,
    counts: _Batches,
    duplicates: int,
    log: ProblemLog,
    period: str,
    replaced: int | None,
    file_facts: dict[str, Any],
) -> DeliveryReport:
    warnings = sum(
        n for (code, _), n in log.counts.items() if CATALOGUE[code].severity == "warning"
    )
    by_code: dict[str, int] = {}
    for (code, _), n in log.counts.items():
        by_code[code] = by_code.get(code, 0) + n
    return DeliveryReport(
        institution_id=institution_id,
        status="loaded",
        delivery_id=delivery_id,
        profile=recognition.profile.name,
        profile_source=recognition.source,
        ignored_columns=list(recognition.ignored),
        received=counts.received,
        loaded=counts.received - counts.rejected - duplicates,
        rejected=counts.rejected,
        duplicates=duplicates,
        warnings=warnings,
        persons_new=counts.new_persons,
        persons_merged=counts.merged,
        period=period,
        replaced=replaced,
        problem_counts=by_code,
        problem_groups=[asdict(g) for g in log.groups.values()],
        problems=[asdict(p) for p in log.details],
        problems_not_listed=log.not_listed,
        file={k: v for k, v in file_facts.items() if k != "headers"},
    )


def _record(warehouse: Warehouse, report: DeliveryReport, sha256: str) -> None:
    warehouse.db.execute(
        "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, 'loaded', NULL, ?)",
        [report.delivery_id, report.institution_id, sha256, report.period,
         dt.datetime.now(dt.UTC).replace(tzinfo=None), json.dumps(asdict(report))],
    )  # fmt: skip
    warehouse.log(
        "delivery-loaded",
        report.institution_id,
        {"delivery": report.delivery_id, "received": report.received, "loaded": report.loaded},
    )
