"""Production coding on arrival: every production gets a discipline and genre from the
standard's code lists, and a touring production is recognised as one across venues.

The code comes from the export where it has one. Otherwise it is suggested from the title
(patterns below, data rather than code) and the institution's main discipline, with a
confidence; the institution confirms or corrects it once and the confirmation is kept.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from publieksdata.errors import PubliekError
from publieksdata.sql import with_arrow
from publieksdata.standard.codelists import codelist
from publieksdata.standard.schema import load_standard
from publieksdata.warehouse import cubes, summary
from publieksdata.warehouse.store import Warehouse

# (pattern on the folded title, discipline, genre or None, confidence)
PATTERNS: tuple[tuple[str, str, str | None, float], ...] = (
    (r"\b(symfonie|symphony|pianoconcert|vioolconcert|strijkkwartet|cellosuite|requiem|"
     r"passion|passie|mis in|jaargetijden)\b", "music_classical", None, 0.9),
    (r"\b(bach|mozart|beethoven|brahms|mahler|bruckner|sjostakovitsj|tsjaikovski|dvorak|"
     r"ravel|debussy|sibelius|schubert|handel|vivaldi)\b", "music_classical", "orchestral", 0.85),
    (r"\b(opera|operette)\b", "opera", None, 0.85),
    (r"\b(musical)\b", "musical", None, 0.85),
    (r"\b(ballet|dans|dance)\b", "dance", None, 0.6),
    (r"\b(cabaret|comedy|stand-?up|conference)\b", "cabaret", None, 0.8),
    (r"\b(hamlet|medea|antigone|oedipus|macbeth|karamazov|op hoop van zegen|gijsbrecht|"
     r"woyzeck|kersentuin|oom wanja|romeo en julia|de vrek|faust)\b", "theatre", "drama", 0.85),
    (r"\b(tentoonstelling|expositie|collectie|meesters|gouden eeuw)\b", "museum_art", None, 0.6),
    (r"\b(dinosaurus\w*|heelal|natuur)\b", "museum_science", "natural_history", 0.7),
    (r"\b(fotografie|photography)\b", "museum_art", "photography", 0.75),
    (r"\b(design)\b", "museum_art", "design", 0.7),
    (r"\b(festival)\b", "festival", None, 0.7),
    (r"\b(film|documentaire|documentary)\b", "film", None, 0.7),
)  # fmt: skip
INSTITUTION_CONFIDENCE = 0.5  # the institution's main discipline, when nothing else says more


@dataclass(frozen=True)
class Coding:
    """A discipline and genre for a production, where they come from and how sure we are."""

    discipline: str | None
    genre: str | None
    source: str  # "export", "confirmed", "suggested" or "unknown"
    confidence: float


def fold(text: str) -> str:
    """Lower-case ASCII words: the form titles are compared in."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def production_key(title: str, producer: str | None = None) -> str:
    """One key for one production wherever it plays: folded title and producer.

    A touring production keeps its title and producer from venue to venue; its key is
    therefore the same at every institution, so its producer can see the tour's audience.
    """
    return fold(title) + ("|" + fold(producer) if producer else "")


def suggest(title: str, institution_discipline: str | None = None) -> Coding:
    """The most likely discipline and genre for a title, with a confidence."""
    folded = fold(title)
    for pattern, discipline, genre, confidence in PATTERNS:
        if re.search(pattern, folded):
            return Coding(discipline, genre, "suggested", confidence)
    if institution_discipline:
        return Coding(institution_discipline, None, "suggested", INSTITUTION_CONFIDENCE)
    return Coding(None, None, "unknown", 0.0)


def genre_discipline(genre: str) -> str | None:
    """The discipline a genre belongs to in the standard's code list."""
    genres = codelist("genre")
    return genres[genre].parent if genre in genres else None


def _main_discipline(warehouse: Warehouse, institution_id: str) -> str | None:
    rows = warehouse.db.execute(
        "SELECT disciplines FROM institutions WHERE institution_id = ?", [institution_id]
    ).fetchall()
    return str(rows[0][0]).split(";")[0] if rows and rows[0][0] else None


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


@dataclass
class Census:
    """What one batch says about its productions, and the codes it was loaded with."""

    named: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # title, producer
    counts: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)  # field, code
    written: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


def _most_frequent(counts: Counter[tuple[str, str]], name: str) -> str | None:
    """The code given most often for a field (the first in order of a tie)."""
    given = [(-n, code) for (field_name, code), n in counts.items() if field_name == name]
    return min(given)[1] if given else None


class Coder:
    """The codes of one delivery's productions, written onto each row before it is loaded.

    Rows are not coded after loading: once one row of a transaction is updated, DuckDB
    writes all of the transaction's rows again at commit (docs/decisions/0012). Each batch
    is coded by what it says itself, in the threads that prepare batches; :meth:`finish`
    decides for the whole delivery and recodes only rows whose batch said otherwise (an
    export that gives a production's genre on some rows and not on others). A code from the
    export wins over a suggestion, the most frequent one over the delivery, and a
    confirmation by the institution wins over both.
    """

    def __init__(self, warehouse: Warehouse, institution_id: str) -> None:
        self._warehouse = warehouse
        self._institution = institution_id
        self._main = _main_discipline(warehouse, institution_id)
        self._confirmed = {
            str(key): (discipline, genre)
            for key, discipline, genre in warehouse.db.execute(
                "SELECT production_key, discipline, genre FROM productions "
                "WHERE institution_id = ? AND source = 'confirmed'",
                [institution_id],
            ).fetchall()
        }
        self._delivery = Census()
        self._written: dict[str, set[tuple[str | None, str | None]]] = {}

    def fill(self, table: pa.Table) -> tuple[pa.Table, Census]:
        """The batch with each production's codes on its rows (rows without a production
        keep the codes the export gave them), and its census. Safe in several threads."""
        encoded = pc.dictionary_encode(_array(table["production_key"]))
        present = encoded.dictionary.to_pylist()
        index = np.asarray(encoded.indices.fill_null(-1).to_numpy(), np.int64)
        rows = np.flatnonzero(index >= 0)
        first = np.zeros(len(present), np.int64)
        first[index[rows[::-1]]] = rows[::-1]  # the last write wins: each key's first row
        census = Census()
        named = zip(present, *(table[c].take(first).to_pylist()
                               for c in ("production_title", "producer")), strict=True)  # fmt: skip
        for key, title, producer in named:
            census.named[key] = (title, producer)
            census.counts[key] = Counter()
        for name in ("discipline", "genre"):
            codes = pc.dictionary_encode(_array(table[name]))
            code = np.asarray(codes.indices.fill_null(-1).to_numpy(), np.int64)
            given = (index >= 0) & (code >= 0)
            width = len(codes.dictionary)
            counts = np.bincount(index[given] * width + code[given])
            labels = codes.dictionary.to_pylist()
            for pair in np.flatnonzero(counts).tolist():
                census.counts[present[pair // width]][(name, labels[pair % width])] = int(
                    counts[pair]
                )
        for key in present:
            census.written[key] = self._row_codes(key, census)
        for position, name in enumerate(("discipline", "genre")):
            coded = pa.array([census.written[k][position] for k in present], pa.string())
            column = pc.if_else(pc.is_null(encoded.indices), table[name],
                                coded.take(encoded.indices))  # fmt: skip
            table = table.set_column(table.schema.get_field_index(name), name, column)
        return table, census

    def note(self, census: Census) -> None:
        """Add a loaded batch's census to the delivery's."""
        for key, named in census.named.items():
            self._delivery.named.setdefault(key, named)
            self._delivery.counts.setdefault(key, Counter()).update(census.counts[key])
            self._written.setdefault(key, set()).add(census.written[key])

    def _decided(self, key: str, census: Census) -> Coding:
        """What a census says about a production: the export's most frequent codes, else
        a suggestion from its title."""
        discipline, genre = (_most_frequent(census.counts[key], n) for n in ("discipline", "genre"))
        if discipline or genre:
            return Coding(discipline or genre_discipline(genre or ""), genre, "export", 1.0)
        return suggest(census.named[key][0], self._main)

    def _row_codes(self, key: str, census: Census) -> tuple[str | None, str | None]:
        if key in self._confirmed:
            return self._confirmed[key]
        coding = self._decided(key, census)
        return coding.discipline, coding.genre

    def finish(self, delivery_id: int) -> int:
        """Store the decisions as the institution's productions (a confirmation stays) and
        recode rows whose decision changed after they were loaded. Returns the number of
        the institution's productions that still need a confirmation."""
        columns = ("institution_id", "production_key", "title", "producer", "discipline",
                   "genre", "source", "confidence")  # fmt: skip
        rows, stale = [], False
        for key, (title, producer) in self._delivery.named.items():
            coding = self._decided(key, self._delivery)
            stale |= self._written[key] != {self._row_codes(key, self._delivery)}
            rows.append((self._institution, key, title, producer, coding.discipline,
                         coding.genre, coding.source, coding.confidence))  # fmt: skip
        if rows:  # one statement: DuckDB takes a few milliseconds per upserted row otherwise
            with_arrow(
                self._warehouse.db,
                "INSERT INTO productions SELECT * FROM data "
                "ON CONFLICT (institution_id, production_key) DO UPDATE SET "
                "discipline = excluded.discipline, genre = excluded.genre, "
                "source = excluded.source, confidence = excluded.confidence "
                "WHERE productions.source <> 'confirmed'",
                pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)}),
            )
        if stale:
            _write_codes(self._warehouse, self._institution, "t.delivery_id = ?", [delivery_id])
        return int(self._warehouse.scalar(
            "SELECT count(*) FROM productions WHERE institution_id = ? AND source IN "
            "('suggested', 'unknown')", [self._institution],
        ))  # fmt: skip


def _write_codes(
    warehouse: Warehouse, institution_id: str, where: str, params: list[object]
) -> None:
    warehouse.db.execute(
        "UPDATE tickets t SET discipline = p.discipline, genre = p.genre FROM productions p "
        f"WHERE p.institution_id = ? AND t.institution_id = p.institution_id "
        f"AND t.production_key = p.production_key AND {where} "
        # rows that already carry their codes (from the export) are not rewritten
        "AND (t.discipline IS DISTINCT FROM p.discipline OR t.genre IS DISTINCT FROM p.genre)",
        [institution_id, *params],
    )


def confirm(warehouse: Warehouse, institution_id: str, title: str, genre: str,
            producer: str | None = None) -> int:  # fmt: skip
    """The institution confirms or corrects a production's genre; returns rows recoded."""
    if genre_discipline(genre) is None:
        known = ", ".join(codelist("genre").values)
        raise PubliekError(
            "coding-unknown-genre",
            f"'{genre}' is geen genre uit de codelijst. Kies uit: {known}.",
            f"'{genre}' is not a genre of the code list. Choose one of: {known}.",
        )
    key = production_key(title, producer)
    with warehouse.transaction():
        updated = warehouse.db.execute(
            "UPDATE productions SET genre = ?, discipline = ?, source = 'confirmed', "
            "confidence = 1.0 WHERE institution_id = ? AND production_key = ? RETURNING 1",
            [genre, genre_discipline(genre), institution_id, key],
        ).fetchall()
        if not updated:
            raise PubliekError(
                "coding-unknown-production",
                f"Geen productie '{title}' bij {institution_id}. Zie 'publieksdata productions'.",
                f"No production '{title}' at {institution_id}. See 'publieksdata productions'.",
            )
        _write_codes(warehouse, institution_id, "t.production_key = ?", [key])
        moments = summary.production_moments(warehouse.db, institution_id, key)
        summary.refresh_moments(warehouse.db, institution_id, moments)
        rows = int(warehouse.scalar(
            "SELECT count(*) FROM tickets WHERE institution_id = ? AND production_key = ?",
            [institution_id, key],
        ))  # fmt: skip
        warehouse.log("production-confirmed", institution_id, {"genre": genre, "rows": rows})
    return rows


def load_institutions(warehouse: Warehouse, path: Path) -> int:
    """Load or update the institution register from a CSV in the standard's institution
    resource (as ``publieksdata synth`` writes ``institutions.csv``)."""
    fields = [f.name for f in load_standard().resource("institution").fields]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [f for f in fields if rows and f not in rows[0]]
    if not rows or missing:
        raise PubliekError(
            "institutions-columns",
            f"{path.name} mist de kolommen {', '.join(missing) or fields[0]} van de standaard.",
            f"{path.name} lacks the columns {', '.join(missing) or fields[0]} of the standard.",
        )
    with warehouse.transaction():
        for row in rows:
            values = [row[f] for f in fields]
            values[-1] = row["named_in_overlap"].strip().lower() in ("true", "ja", "1", "yes")
            warehouse.db.execute(
                "INSERT OR REPLACE INTO institutions VALUES (?, ?, ?, ?, ?, ?, ?)", values
            )
        cubes.bump(warehouse.db, [cubes.REGISTER])
        warehouse.log("institutions-loaded", None, {"institutions": len(rows)})
    return len(rows)
