"""Write one institution's export the way its ticketing or museum system would.

The rows are built column by column with Arrow (no Python loop per row), then the mess of
real exports is planted: notation variants of the same identifiers, blanks, a share of
invalid rows and duplicated rows. What was planted where goes to the ground truth.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from publieksdata.deliver.layouts import XLSX_MAX_ROWS, Layout
from publieksdata.standard.codelists import codelist
from publieksdata.synth import identity as ids
from publieksdata.synth import names
from publieksdata.synth.behaviour import CHANNELS, STATUSES, TICKET_TYPES, Visits
from publieksdata.synth.geography import Geography
from publieksdata.synth.population import GENDERS, Population
from publieksdata.synth.sector import Institutions, Programme
from publieksdata.xlsx import CellKind, write_xlsx

# Row status in the ground truth.
VALID, DUPLICATE, INVALID = 0, 1, 2
STATUS_NAMES = ("valid", "duplicate", "invalid")
REASONS = ("missing_required", "bad_date", "bad_amount", "bad_count", "unknown_code")
WARNINGS = ("bad_postcode", "bad_phone", "bad_email")
DUPLICATE_SHARE = 0.01
INVALID_SHARE = 0.005
BLEMISH_SHARE = 0.005
BIRTH_DATE_SHARE = 0.4  # persons who ever gave their date of birth

# How a row is broken: the standard field, the reason code and the bad text. A broken row
# cannot be loaded; a blemished one loses only the unusable identifier.
_CORRUPTIONS: tuple[tuple[str, str, str], ...] = (
    ("order.order_id", "missing_required", ""),
    ("admission.transaction_id", "missing_required", ""),
    ("performance.starts_at", "bad_date", "31-02-2026 20:00"),
    ("performance.date", "bad_date", "31-02-2026"),
    ("admission.visit_date", "bad_date", "30-02-2026"),
    ("ticket.price_paid", "bad_amount", "gratis?"),
    ("ticket.ticket_count", "bad_count", "0"),
    ("order.status", "unknown_code", "???"),
)
_BLEMISHES: tuple[tuple[str, str, str], ...] = (
    ("customer.postcode", "bad_postcode", "1234 SS"),
    ("customer.phone", "bad_phone", "06-123"),
    ("customer.email", "bad_email", "naam@"),
)


# Fields that depend on the performance only (made once per performance).
_PER_PERFORMANCE = frozenset(
    {
        "production.title",
        "production.genre",
        "admission.exhibition",
        "performance.starts_at",
        "performance.date",
        "admission.visit_date",
        "performance.time",
        "admission.time_slot",
        "performance.capacity",
        "venue.name",
    }
)


@dataclass(frozen=True)
class Sector:
    """Everything generated before the exports are written."""

    geo: Geography
    pop: Population
    inst: Institutions
    prog: Programme
    visits: Visits

    @cached_property
    def titles(self) -> pa.Array:
        """Production titles as one Arrow array, made once for all exports."""
        return pa.array(self.prog.prod_title, pa.string())

    @cached_property
    def genre_labels(self) -> pa.Array:
        """The Dutch genre label of every production."""
        labels = {c.code: c.label.nl for c in codelist("genre").codes}
        return pa.array([labels[g] for g in self.prog.prod_genre], pa.string())

    @cached_property
    def venue_names(self) -> pa.Array:
        return pa.array(self.prog.venue_name, pa.string())


@dataclass
class ExportRows:
    """The rows of one export: their visit, the tickets they stand for and their columns."""

    visit: np.ndarray  # index into the sector's visits, one per written row
    tickets: np.ndarray
    columns: dict[str, pa.Array]


@dataclass(frozen=True)
class Written:
    """What each row of one export file is, for the manifest and the ground truth."""

    visit: np.ndarray
    tickets: np.ndarray
    status: np.ndarray  # VALID, DUPLICATE or INVALID
    reason: np.ndarray  # index into REASONS, -1 for rows that are not invalid
    column: np.ndarray  # index of the broken column, -1 for rows that are not invalid
    warning: np.ndarray  # index into WARNINGS, -1 for rows without a blemish (or invalid)
    warning_column: np.ndarray  # index of the blemished column, -1 for none

    def __len__(self) -> int:
        return len(self.visit)


class _Columns:
    """Makes the text of each standard field for the rows of one export."""

    def __init__(
        self,
        sector: Sector,
        layout: Layout,
        rows: np.ndarray,
        ticket_no: np.ndarray,
        rng: np.random.Generator,
        institution: int,
    ) -> None:
        self.s, self.layout, self.rng = sector, layout, rng
        self.rows, self.ticket_no = rows, ticket_no
        self.person = sector.visits.person[rows]
        self.n = len(rows)
        # The same customer is usually written the same way within one system.
        stable = (self.person.astype(np.int64) * 2_654_435_761 + institution * 97) % 1_000_003
        self.variant = np.where(rng.random(self.n) < 0.1, rng.integers(0, 1000, self.n), stable)
        self.perf = sector.visits.performance[rows]

    def _view(self, key: np.ndarray) -> tuple[_Columns, pa.Array]:
        """The same columns over one row per distinct key, and how to spread them back.

        Customer and performance fields repeat over many rows; making each text once per
        customer or performance and then taking it per row is many times faster.
        """
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        view = copy.copy(self)
        view.rows, view.ticket_no = self.rows[first], self.ticket_no[first]
        view.person, view.variant, view.perf = (
            self.person[first],
            self.variant[first],
            self.perf[first],
        )
        view.n = len(first)
        return view, pa.array(inverse)

    @cached_property
    def _by_customer(self) -> tuple[_Columns, pa.Array]:
        return self._view(self.person.astype(np.int64) << 24 | self.variant % (1 << 24))

    @cached_property
    def _by_performance(self) -> tuple[_Columns, pa.Array]:
        return self._view(self.perf)

    # -- helpers ---------------------------------------------------------------------
    def _coded(self, source: str, codes: tuple[str, ...], index: np.ndarray) -> pa.Array:
        mapping = self.layout.values[source]
        return ids.words(tuple(mapping.get(c, c) for c in codes), index)

    def _when(self, minutes: np.ndarray, fmt: str) -> pa.Array:
        # Formatting is slow; many rows share a moment (orders of several tickets).
        moments, spread = np.unique(np.asarray(minutes, dtype=np.int64), return_inverse=True)
        text = pc.strftime(pa.array(moments * 60, pa.timestamp("s")), format=fmt)
        return text.take(pa.array(spread))

    def _amount(self, cents: np.ndarray) -> pa.Array:
        euros = ids.digits(cents // 100)
        fraction = pc.utf8_lpad(ids.digits(cents % 100), 2, "0")
        mark = "," if self.layout.decimal_comma else "."
        return ids.join(self.layout.currency_prefix, euros, mark, fraction)

    def _ordinal(self, keys: np.ndarray, base: int) -> np.ndarray:
        _, rank = np.unique(keys, return_inverse=True)
        return base + rank.astype(np.int64)

    def tickets(self) -> np.ndarray:
        """Tickets each row stands for: 1 per row in per-ticket exports."""
        counts = self.s.visits.tickets[self.rows]
        return np.ones(self.n, np.int64) if self.layout.grain == "ticket" else counts

    # -- one method per source field -------------------------------------------------
    def make(self, source: str) -> pa.Array:
        """The column text of one standard field (``resource.field``)."""
        if source in _PER_PERFORMANCE:
            view, spread = self._by_performance
        elif source.startswith("customer.") and source != "customer.customer_id":
            view, spread = self._by_customer
        else:
            return self._make(source)
        return view._make(source).take(spread)

    def _make(self, source: str) -> pa.Array:
        column: pa.Array = getattr(self, source.replace(".", "__"))()
        return column

    def order__order_id(self) -> pa.Array:
        order = self.s.visits.order_key[self.rows]
        return ids.digits(self._ordinal(order, 100_001))

    def admission__transaction_id(self) -> pa.Array:
        return ids.join("T", self.order__order_id())

    def order__ordered_at(self) -> pa.Array:
        return self._when(self.s.visits.ordered_at[self.rows], self.layout.datetime_format)

    def customer__customer_id(self) -> pa.Array:
        number = self._ordinal(self.person, 20_001)
        # Some customers got a second account at the box office: the mess linkage must fix.
        second = (self.variant % 41 == 0) & (self.rng.random(self.n) < 0.5)
        return ids.digits(np.where(second, number + 500_000, number))

    def customer__first_name(self) -> pa.Array:
        return ids.first_names(self.s.pop, self.person)

    def customer__infix(self) -> pa.Array:
        return ids.infixes(self.s.pop, self.person)

    def customer__last_name(self) -> pa.Array:
        return ids.last_names(self.s.pop, self.person, self.variant)

    def customer__infix_last_name(self) -> pa.Array:
        return ids.infix_last_names(self.s.pop, self.person, self.variant)

    def customer__full_name(self) -> pa.Array:
        return ids.full_names(self.s.pop, self.person, self.variant)

    def customer__email(self) -> pa.Array:
        email = ids.canonical_email(self.s.pop, self.person)
        return ids.email_notations(email, self.variant)

    def customer__phone(self) -> pa.Array:
        return ids.phone_notations(self.s.pop, self.person, self.variant)

    def customer__street(self) -> pa.Array:
        return ids.words(names.STREETS, self.s.pop.street[self.person])

    def customer__house_number(self) -> pa.Array:
        return ids.house_numbers(self.s.pop, self.person)

    def customer__house_number_addition(self) -> pa.Array:
        return ids.additions(self.s.pop, self.person)

    def customer__address_line(self) -> pa.Array:
        return ids.address_lines(self.s.pop, self.person, self.variant)

    def customer__postcode(self) -> pa.Array:
        postcode = ids.canonical_postcode(self.s.pop, self.s.geo.pc4, self.person)
        return ids.postcode_notations(postcode, self.variant)

    def customer__city(self) -> pa.Array:
        muni = self.s.pop.municipality[self.person]
        city = ids.words(self.s.geo.municipality_name, muni)
        return ids.choose((self.variant % 5 == 3).astype(np.int8), [city, pc.utf8_upper(city)])

    def customer__country(self) -> pa.Array:
        return ids.words(
            (self.layout.values.get("customer.country", {}).get("NL", "NL"),),
            np.zeros(self.n, np.int64),
        )

    def customer__birth_date(self) -> pa.Array:
        given = (self.person.astype(np.int64) * 40_503 % 100) < BIRTH_DATE_SHARE * 100
        born = self._when(
            self.s.pop.birth_day[self.person].astype(np.int64) * 1440, self.layout.date_format
        )
        return ids.blank_where(~given, born)

    def customer__gender(self) -> pa.Array:
        return self._coded("customer.gender", GENDERS, self.s.pop.gender[self.person])

    def customer__marketing_consent(self) -> pa.Array:
        consent = (self.person.astype(np.int64) * 7_919 % 10) < 6
        return self._coded("customer.marketing_consent", ("false", "true"), consent.astype(np.int8))

    def production__title(self) -> pa.Array:
        return self.s.titles.take(pa.array(self.s.prog.perf_prod[self.perf]))

    def production__genre(self) -> pa.Array:
        return self.s.genre_labels.take(pa.array(self.s.prog.perf_prod[self.perf]))

    def admission__exhibition(self) -> pa.Array:
        return self.production__title()

    def performance__starts_at(self) -> pa.Array:
        return self._when(self.s.prog.perf_start[self.perf], self.layout.datetime_format)

    def performance__date(self) -> pa.Array:
        return self._when(self.s.prog.perf_start[self.perf], self.layout.date_format)

    def admission__visit_date(self) -> pa.Array:
        return self.performance__date()

    def performance__time(self) -> pa.Array:
        return self._when(self.s.prog.perf_start[self.perf], self.layout.time_format)

    def admission__time_slot(self) -> pa.Array:
        return self.performance__time()

    def performance__capacity(self) -> pa.Array:
        return ids.digits(self.s.prog.perf_capacity[self.perf])

    def venue__name(self) -> pa.Array:
        return self.s.venue_names.take(pa.array(self.s.prog.perf_venue[self.perf]))

    def ticket__ticket_number(self) -> pa.Array:
        return ids.digits(self.ticket_no)

    def ticket__ticket_count(self) -> pa.Array:
        return ids.digits(self.tickets())

    def ticket__price_paid(self) -> pa.Array:
        per_ticket = self.s.visits.price_cents[self.rows].astype(np.int64)
        return self._amount(per_ticket * self.tickets())

    def ticket__price_category(self) -> pa.Array:
        rank = self.s.visits.price_rank[self.rows]
        return self._coded("ticket.price_category", ("0", "1", "2"), rank)

    def ticket__ticket_type(self) -> pa.Array:
        kind = self.s.visits.ticket_type[self.rows]
        return self._coded("ticket.ticket_type", TICKET_TYPES, kind)

    def order__channel(self) -> pa.Array:
        return self._coded("order.channel", CHANNELS, self.s.visits.channel[self.rows])

    def order__status(self) -> pa.Array:
        return self._coded("order.status", STATUSES, self.s.visits.status[self.rows])


def export_rows(
    sector: Sector,
    layout: Layout,
    visit_index: np.ndarray,
    institution: int,
    rng: np.random.Generator,
) -> ExportRows:
    """All columns of an export for the given visits, in the order the system lists them."""
    v = sector.visits
    order = np.lexsort((v.order_key[visit_index], v.ordered_at[visit_index]))
    visit_index = visit_index[order]
    if layout.grain == "ticket":
        counts = v.tickets[visit_index].astype(np.int64)
        rows = np.repeat(visit_index, counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        ticket_no = np.arange(len(rows)) - starts + 1
    else:
        rows, ticket_no = visit_index, np.zeros(len(visit_index), np.int64)
    maker = _Columns(sector, layout, rows, ticket_no, rng, institution)
    columns = {c.header: maker.make(c.source) for c in layout.columns}
    return ExportRows(rows, maker.tickets(), columns)


def _spoil(
    layout: Layout,
    rows: ExportRows,
    rng: np.random.Generator,
    chosen: np.ndarray,
    spoils: tuple[tuple[str, str, str], ...],
    codes: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Write a bad text into one of the layout's spoilable columns of each chosen row.

    Returns per row the code (index into ``codes``) and the column index, -1 where untouched.
    """
    n = len(rows.visit)
    options = [
        (layout.headers.index(h), codes.index(code), bad)
        for src, code, bad in spoils
        if (h := layout.header_of(src))
    ]
    which = rng.integers(0, max(len(options), 1), n)
    code = np.full(n, -1, np.int8)
    column = np.full(n, -1, np.int8)
    for k, (col, reason, text) in enumerate(options):
        mask = chosen & (which == k)
        header = layout.headers[col]
        rows.columns[header] = pc.if_else(pa.array(mask), pa.scalar(text), rows.columns[header])
        code[mask], column[mask] = reason, col
    return code, column


def plant_mess(layout: Layout, rows: ExportRows, rng: np.random.Generator) -> Written:
    """Break a share of rows in one field each, blemish an identifier in a share of the
    others and duplicate a share of the rows.

    The columns of ``rows`` are replaced by those of the file to write.
    """
    n = len(rows.visit)
    broken = rng.random(n) < INVALID_SHARE
    reason, column = _spoil(layout, rows, rng, broken, _CORRUPTIONS, REASONS)
    blemished = (rng.random(n) < BLEMISH_SHARE) & ~broken
    warning, warning_column = _spoil(layout, rows, rng, blemished, _BLEMISHES, WARNINGS)
    copies = 1 + ((rng.random(n) < DUPLICATE_SHARE) & ~broken)
    take = np.repeat(np.arange(n), copies)
    first = np.concatenate([[True], take[1:] != take[:-1]])
    status = np.where(~first, DUPLICATE, np.where(broken[take], INVALID, VALID)).astype(np.int8)
    for header, values in rows.columns.items():
        rows.columns[header] = values.take(pa.array(take))
    invalid = status == INVALID
    return Written(
        visit=rows.visit[take],
        tickets=rows.tickets[take],
        status=status,
        reason=np.where(invalid, reason[take], -1).astype(np.int8),
        column=np.where(invalid, column[take], -1).astype(np.int8),
        warning=np.where(invalid, -1, warning[take]).astype(np.int8),
        warning_column=np.where(invalid, -1, warning_column[take]).astype(np.int8),
    )


def write_csv(layout: Layout, columns: dict[str, pa.Array], path: Path) -> None:
    """Write with the layout's delimiter, quoting, line ends and encoding."""
    table = pa.table(columns)
    buffer = io.BytesIO()
    header = layout.delimiter.join(layout.headers) + layout.eol
    buffer.write(header.encode("utf-8"))
    options = pacsv.WriteOptions(
        include_header=False,
        delimiter=layout.delimiter,
        quoting_style=layout.quoting,
        eol=layout.eol,
    )
    pacsv.write_csv(table, buffer, options)
    data = buffer.getvalue()
    if layout.encoding == "cp1252":
        # Legacy systems cannot store what Windows-1252 lacks (ł, ğ, ı) and write '?'.
        data = data.decode("utf-8").encode("cp1252", errors="replace")
    elif layout.encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


_XLSX_KINDS: dict[str, CellKind] = {
    "admission.visit_date": "date",
    "ticket.price_paid": "money",
    "ticket.ticket_count": "number",
}


def write_workbook(layout: Layout, columns: dict[str, pa.Array], path: Path) -> None:
    """Write an Excel workbook with real dates and numbers."""
    if len(next(iter(columns.values()))) > XLSX_MAX_ROWS:
        raise ValueError(f"{path.name}: more than {XLSX_MAX_ROWS} rows do not go into one sheet")
    kinds = [_XLSX_KINDS.get(c.source, "text") for c in layout.columns]
    write_xlsx(
        path,
        "Transacties",
        layout.headers,
        [columns[h] for h in layout.headers],
        kinds,
        layout.date_format,
    )


def write_export(
    sector: Sector,
    layout: Layout,
    visit_index: np.ndarray,
    institution: int,
    rng: np.random.Generator,
    path: Path,
) -> Written:
    """Build, dirty and write one export; return what each written row is."""
    rows = export_rows(sector, layout, visit_index, institution, rng)
    written = plant_mess(layout, rows, rng)
    if layout.file_format == "xlsx":
        write_workbook(layout, rows.columns, path)
    else:
        write_csv(layout, rows.columns, path)
    return written
