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
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

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


def code_productions(warehouse: Warehouse, delivery_id: int, institution_id: str) -> int:
    """Code the productions of a delivery and write the codes onto its rows.

    Codes from the export win over suggestions; a confirmation by the institution is never
    overwritten. Returns the number of productions that still need a confirmation.
    """
    main = _main_discipline(warehouse, institution_id)
    seen = warehouse.db.execute(
        "SELECT production_key, any_value(production_title), any_value(producer), "
        "mode(genre), mode(discipline) FROM tickets WHERE delivery_id = ? "
        "AND production_key IS NOT NULL GROUP BY production_key",
        [delivery_id],
    ).fetchall()
    rows: list[tuple[object, ...]] = []
    for key, title, producer, genre, discipline in seen:
        if genre or discipline:
            coding = Coding(discipline or genre_discipline(genre), genre, "export", 1.0)
        else:
            coding = suggest(title, main)
        rows.append((institution_id, key, title, producer, coding.discipline, coding.genre,
                     coding.source, coding.confidence))  # fmt: skip
    if rows:  # one statement: DuckDB takes a few milliseconds per upserted row otherwise
        columns = ("institution_id", "production_key", "title", "producer", "discipline",
                   "genre", "source", "confidence")  # fmt: skip
        with_arrow(
            warehouse.db,
            "INSERT INTO productions SELECT * FROM data "
            "ON CONFLICT (institution_id, production_key) DO UPDATE SET "
            "discipline = excluded.discipline, genre = excluded.genre, "
            "source = excluded.source, confidence = excluded.confidence "
            "WHERE productions.source <> 'confirmed'",
            pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)}),
        )
    _write_codes(warehouse, institution_id, "t.delivery_id = ?", [delivery_id])
    return int(warehouse.scalar(
        "SELECT count(*) FROM productions WHERE institution_id = ? AND source IN "
        "('suggested', 'unknown')", [institution_id],
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
        summary.refresh_institutions(warehouse.db, [institution_id])
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
