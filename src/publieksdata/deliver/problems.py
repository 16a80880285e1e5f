"""The catalogue of problems a delivery can have, with stable codes, in Dutch and English.

One catalogue serves the CLI, the API, the web app and the docs. A problem says where
(row and column) and what to do, and never repeats the value of an identifying field; for
other fields the value may be shown, because it helps and reveals nobody.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from publieksdata.standard.text import Language, Text

Severity = Literal["error", "warning"]
MAX_DETAILS = 1000  # problems listed one by one; beyond that only counted


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: an error rejects the row, a warning drops only the value."""

    code: str
    severity: Severity
    title: Text
    advice: Text


def _p(code: str, severity: Severity, nl: str, en: str, do_nl: str, do_en: str) -> ProblemType:
    return ProblemType(code, severity, Text(nl, en), Text(do_nl, do_en))


CATALOGUE: dict[str, ProblemType] = {
    p.code: p
    for p in (
        _p("missing-value", "error", "dit verplichte veld is leeg", "this required field is empty",
           "Vul het veld in het kassasysteem in en lever opnieuw.",
           "Fill in the field in the ticketing system and deliver again."),
        _p("bad-datetime", "error", "dit is geen geldige datum en tijd",
           "this is not a valid date and time",
           "Controleer de datum; verwacht wordt bijvoorbeeld {example}.",
           "Check the date; expected is for example {example}."),
        _p("bad-date", "error", "dit is geen geldige datum", "this is not a valid date",
           "Controleer de datum; verwacht wordt bijvoorbeeld {example}.",
           "Check the date; expected is for example {example}."),
        _p("bad-amount", "error", "dit is geen bedrag", "this is not an amount",
           "Schrijf bedragen als 12,50 of 12.50, zonder tekst.",
           "Write amounts as 12.50 or 12,50, without text."),
        _p("negative-amount", "error", "een bedrag kan niet negatief zijn",
           "an amount cannot be negative",
           "Lever terugbetalingen als status 'terugbetaald', niet als negatief bedrag.",
           "Deliver refunds with status 'refunded', not as a negative amount."),
        _p("bad-count", "error", "dit is geen aantal kaarten tussen 1 en 500",
           "this is not a number of tickets between 1 and 500",
           "Gebruik een heel getal vanaf 1.", "Use a whole number from 1."),
        _p("unknown-code", "error", "deze waarde komt niet voor in de codelijst",
           "this value is not in the code list",
           "Koppel de waarde aan een code uit {codelist} met --value 'Kolom:waarde=code' en "
           "lever opnieuw.",
           "Map the value to a code of {codelist} with --value 'Column:value=code' and "
           "deliver again."),
        _p("unknown-code-dropped", "warning", "deze waarde is onbekend en is weggelaten",
           "this value is unknown and was left out",
           "Koppel de waarde als die telt aan een code uit {codelist} met "
           "--value 'Kolom:waarde=code'.",
           "If it matters, map the value to a code of {codelist} with "
           "--value 'Column:value=code'."),
        _p("bad-postcode", "warning", "dit is geen Nederlandse postcode (verwacht 1234 AB)",
           "this is not a Dutch postcode (expected 1234 AB)",
           "De rij is geladen zonder postcode; verbeter de postcode in het kassasysteem.",
           "The row was loaded without postcode; correct it in the ticketing system."),
        _p("bad-phone", "warning", "dit is geen bruikbaar telefoonnummer",
           "this is not a usable phone number",
           "De rij is geladen zonder telefoonnummer.", "The row was loaded without phone number."),
        _p("bad-email", "warning", "dit is geen geldig e-mailadres",
           "this is not a valid e-mail address",
           "De rij is geladen zonder e-mailadres.", "The row was loaded without e-mail address."),
        _p("bad-birth-date", "warning", "dit is geen geldige geboortedatum",
           "this is not a valid date of birth",
           "De rij is geladen zonder geboortejaar.", "The row was loaded without birth year."),
        _p("no-identifier", "warning", "deze rij heeft geen e-mail, telefoon, klantnummer of "
           "naam en adres", "this row has no e-mail, phone, customer number or name and address",
           "De verkoop telt mee, maar de koper kan niet als bezoeker worden herkend.",
           "The sale counts, but the buyer cannot be recognised as a visitor."),
        _p("erased-person", "error", "deze persoon heeft gevraagd om verwijdering",
           "this person asked to be erased",
           "De rij is niet geladen; er hoeft niets te gebeuren.",
           "The row was not loaded; nothing needs to be done."),
        _p("row-too-many-columns", "error", "deze rij heeft meer kolommen dan de kopregel",
           "this row has more columns than the header",
           "Controleer scheidingstekens en aanhalingstekens in de export.",
           "Check delimiters and quotes in the export."),
        _p("row-too-few-columns", "error", "deze rij heeft minder kolommen dan de kopregel",
           "this row has fewer columns than the header",
           "Controleer scheidingstekens en aanhalingstekens in de export.",
           "Check delimiters and quotes in the export."),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One problem at one place; ``value`` only for non-identifying fields."""

    code: str
    row: int  # spreadsheet row: the header is row 1
    column: str | None
    value: str | None = None
    example: str = ""
    codelist: str = ""

    @property
    def type(self) -> ProblemType:
        return CATALOGUE[self.code]

    def message(self, language: Language = "nl") -> str:
        """'rij 1.204, kolom 'Postcode': dit is geen Nederlandse postcode (verwacht 1234 AB)'"""
        where = f"rij {self.row:,}".replace(",", ".") if language == "nl" else f"row {self.row:,}"
        if self.column is not None:
            where += f", {'kolom' if language == 'nl' else 'column'} '{self.column}'"
        shown = f" ('{self.value}')" if self.value else ""
        advice = self.type.advice(language).format(example=self.example, codelist=self.codelist)
        return f"{where}: {self.type.title(language)}{shown}. {advice}"


def number(value: int, language: Language) -> str:
    """1.204 in Dutch, 1,204 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if language == "nl" else text


@dataclass
class ProblemGroup:
    """All problems of one kind in one column: how many, and the first rows."""

    code: str
    column: str | None
    value: str | None = None  # the first offending value, never of an identifying field
    example: str = ""
    codelist: str = ""
    count: int = 0
    rows: list[int] = field(default_factory=list)

    def message(self, language: Language = "nl") -> str:
        """ "kolom 'Prijs': dit is geen bedrag — 800 rijen (rij 286, 423, …). Schrijf …"""
        kind = CATALOGUE[self.code]
        nl = language == "nl"
        unit = ("rij", "rijen") if nl else ("row", "rows")
        counted = f"{number(self.count, language)} {unit[0] if self.count == 1 else unit[1]}"
        rows = ", ".join(number(r, language) for r in self.rows)
        rows += ", …" if self.count > len(self.rows) else ""
        where = f"{'kolom' if nl else 'column'} '{self.column}': " if self.column else ""
        advice = kind.advice(language).format(example=self.example, codelist=self.codelist)
        shown = f" ('{self.value}')" if self.value else ""
        return f"{where}{kind.title(language)}{shown} — {counted} ({unit[0]} {rows}). {advice}"


@dataclass
class ProblemLog:
    """All problems of a delivery: counted in full, listed up to ``limit``."""

    limit: int = MAX_DETAILS
    counts: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    details: list[Problem] = field(default_factory=list)
    groups: dict[tuple[str, str | None], ProblemGroup] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        key = (problem.code, problem.column)
        self.counts[key] += 1
        group = self.groups.setdefault(
            key,
            ProblemGroup(
                problem.code, problem.column, problem.value, problem.example, problem.codelist
            ),
        )
        group.count += 1
        if len(group.rows) < 5:
            group.rows.append(problem.row)
        if len(self.details) < self.limit:
            self.details.append(problem)

    def add_rows(self, code: str, column: str | None, rows: Any, values: Any = None,
                 example: str = "", codelist: str = "") -> None:  # fmt: skip
        """One kind of problem at many rows (a numpy array, in order): the same as ``add`` for
        each, without making an object for every row that is only counted."""
        if len(rows) == 0:
            return
        listed = max(5, self.limit - len(self.details))
        first_rows = [int(r) for r in rows[:listed]]
        shown = values.slice(0, listed).to_pylist() if values is not None else [None] * listed
        key = (code, column)
        self.counts[key] += len(rows)
        group = self.groups.setdefault(key, ProblemGroup(code, column, shown[0], example, codelist))
        group.count += len(rows)
        group.rows += first_rows[: 5 - len(group.rows)]
        room = self.limit - len(self.details)
        self.details += [
            Problem(code, row, column, value, example, codelist)
            for row, value in zip(first_rows[:room], shown, strict=False)
        ]

    def extend(self, later: ProblemLog) -> None:
        """Add the problems of a later part of the delivery, as if added here one by one."""
        self.counts.update(later.counts)
        for key, group in later.groups.items():
            mine = self.groups.setdefault(key, replace(group, count=0, rows=[]))
            mine.count += group.count
            mine.rows += group.rows[: 5 - len(mine.rows)]
        self.details += later.details[: self.limit - len(self.details)]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def not_listed(self) -> int:
        """How many problems are counted but not listed ('… and N more')."""
        return self.total - len(self.details)


def render_catalogue() -> str:
    """The message catalogue as Markdown (docs/delivery-messages.md), in both languages."""
    from publieksdata.deliver.readers import ERRORS

    lines = [
        "# Meldingen bij een levering / Delivery messages",
        "",
        "<!-- Generated by `python -m publieksdata.deliver.problems`; do not edit by hand. -->",
        "",
        "## Per rij of veld / Per row or field",
        "",
        "An *error* rejects the row; a *warning* loads the row without the unusable value.",
        "Messages name the row (the header is row 1) and the column; they never show the value",
        "of an identifying field.",
        "",
        "| code | soort / kind | melding | message | wat te doen | what to do |",
        "|---|---|---|---|---|---|",
    ]
    for p in CATALOGUE.values():
        cells = [f"`{p.code}`", p.severity, p.title.nl, p.title.en, p.advice.nl, p.advice.en]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += [
        "",
        "## Over het hele bestand / About the whole file",
        "",
        "These refuse the file: nothing is loaded.",
        "",
        "| code | melding | message |",
        "|---|---|---|",
    ]
    for code, (nl, en) in ERRORS.items():
        lines.append(f"| `{code}` | {nl.replace('|', '/')} | {en.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    Path("docs/delivery-messages.md").write_text(render_catalogue(), encoding="utf-8")
