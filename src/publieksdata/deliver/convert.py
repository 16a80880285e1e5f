"""Convert a batch of an export to the standard, field by field, and validate it on the way.

The conversion is an ordered list of steps with one signature, each reading raw columns
through the mapping profile and writing standard columns, problems and rejected rows into
one :class:`Conversion`. Identifiers are normalised here and kept in memory only: the next
step pseudonymises them and they are never written anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from publieksdata.deliver.coding import production_key
from publieksdata.deliver.mapping import CODED, MappingProfile
from publieksdata.deliver.problems import CATALOGUE, ProblemLog
from publieksdata.pseudonymise import normalise

# Columns of the fact table, in order, with their Arrow types.
FACT_SCHEMA = pa.schema(
    [
        ("source_row", pa.int64()),
        ("order_id", pa.string()),
        ("ordered_at", pa.timestamp("s")),
        ("channel", pa.string()),
        ("status", pa.string()),
        ("production_title", pa.string()),
        ("production_key", pa.string()),
        ("producer", pa.string()),
        ("discipline", pa.string()),
        ("genre", pa.string()),
        ("starts_at", pa.timestamp("s")),
        ("venue", pa.string()),
        ("capacity", pa.int32()),
        ("ticket_number", pa.string()),
        ("ticket_count", pa.int32()),
        ("price_paid", pa.float64()),
        ("price_category", pa.string()),
        ("ticket_type", pa.string()),
        ("pc4", pa.string()),
        ("birth_year", pa.int16()),
        ("gender", pa.string()),
        ("country", pa.string()),
        ("marketing_consent", pa.bool_()),
    ]
)
# Normalised identifiers: only ever in memory, pseudonymised at once.
IDENTIFIERS = ("customer_id", "email", "phone", "first", "initial", "address")


@dataclass
class Conversion:
    """The state of converting one batch: raw in, standard columns and problems out."""

    raw: pa.RecordBatch
    profile: MappingProfile
    problems: ProblemLog
    columns: dict[str, pa.Array] = field(default_factory=dict)
    # Normalised identifiers per distinct combination of identifying cells, and per row the
    # index of its combination (empty: one combination per row).
    identifiers: dict[str, pa.Array] = field(default_factory=dict)
    combination: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rejected: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        self.rejected = np.zeros(self.raw.num_rows, bool)
        self.rows = self.raw.column("__row__").to_numpy()

    @property
    def n(self) -> int:
        return int(self.raw.num_rows)

    def text(self, target: str) -> pa.Array | None:
        """The trimmed text of the column mapped to ``target``; empty cells are null."""
        header = self.profile.header_of(target)
        if header is None:
            return None
        values = self.raw.column(header)
        if _may_need_trimming(values):
            values = pc.utf8_trim_whitespace(values)
        blank = pc.equal(values, "")  # readers already give empty cells as null: this is rare
        if not pc.any(blank).as_py():
            return values
        return pc.if_else(blank, pa.scalar(None, pa.string()), values)

    def report(
        self, mask: np.ndarray, code: str, target: str, *, show: pa.Array | None = None,
        example: str = "", codelist: str = "",
    ) -> None:  # fmt: skip
        """Record a problem for each masked row; an error also rejects the row."""
        header = self.profile.header_of(target)
        shown = show.filter(pa.array(mask)) if show is not None and mask.any() else None
        self.problems.add_rows(code, header, self.rows[mask], shown, example, codelist)
        if CATALOGUE[code].severity == "error":
            self.rejected |= mask


Step = Callable[[Conversion], None]


def _may_need_trimming(values: pa.Array) -> bool:
    """Whether any text may begin or end with white space: a first or last byte that is an
    ASCII control character, the space, or part of a character beyond ASCII (such as a
    non-breaking space). Most columns have none, and looking at two bytes per cell costs a
    quarter of trimming every cell. An empty cell makes a neighbour's byte looked at too,
    which can only ask for a trim that was not needed."""
    if not pa.types.is_string(values.type) or not values.buffers()[2]:
        return True
    offsets = np.frombuffer(values.buffers()[1], np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    chars = np.frombuffer(values.buffers()[2], np.uint8)
    firsts = chars.take(np.minimum(offsets[:-1], len(chars) - 1))
    lasts = chars.take(offsets[1:] - 1)  # -1 (leading empty cells) is the last byte
    printable = np.uint8(0x7F - 0x21)  # '!' to '~', after subtracting '!' (wrapping below)
    return bool(((firsts - np.uint8(0x21)) >= printable).any()
                or ((lasts - np.uint8(0x21)) >= printable).any())  # fmt: skip


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _present(values: pa.Array) -> np.ndarray:
    return _mask(pc.is_valid(values))


def parse_moment(values: pa.Array, fmt: str) -> tuple[pa.Array, np.ndarray]:
    """Parse dates or date-times strictly; returns the timestamps and a mask of failures.

    Exports repeat the same moments many times, so each distinct text is parsed once.
    Arrow's parser accepts 31 February (it rolls over to March); every value that does not
    format back to itself is therefore checked again by Python's strict parser.
    """
    encoded = pc.dictionary_encode(values)
    texts = encoded.dictionary
    parsed = pc.strptime(texts, format=fmt, unit="s", error_is_null=True)
    doubtful = np.flatnonzero(~_mask(pc.equal(pc.strftime(parsed, format=fmt), texts)))
    if len(doubtful):
        strict = parsed.to_pylist()
        for i in doubtful:
            try:
                strict[i] = dt.datetime.strptime(texts[i].as_py(), fmt)
            except ValueError:
                strict[i] = None
        parsed = pa.array(strict, pa.timestamp("s"))
    result = parsed.take(encoded.indices)
    failed = _present(values) & ~_present(result)
    return result, failed


def _example(fmt: str) -> str:
    return dt.datetime(2026, 11, 23, 20, 15).strftime(fmt)


def _required(conv: Conversion, target: str, values: pa.Array | None) -> pa.Array:
    if values is None:
        return pa.nulls(conv.n, pa.string())
    conv.report(~_present(values), "missing-value", target)
    return values


def order_fields(conv: Conversion) -> None:
    """Order number and moment of purchase (for admissions the transaction)."""
    order = conv.text("order.order_id")
    target = "order.order_id"
    if order is None:
        order, target = conv.text("admission.transaction_id"), "admission.transaction_id"
    conv.columns["order_id"] = _required(conv, target, order)
    ordered = conv.text("order.ordered_at")
    if ordered is None:
        conv.columns["ordered_at"] = pa.nulls(conv.n, pa.timestamp("s"))
        return
    fmt = conv.profile.notation("order.ordered_at")
    parsed, failed = parse_moment(ordered, fmt)
    if conv.profile.kind == "ticketing":
        conv.report(~_present(ordered), "missing-value", "order.ordered_at")
    conv.report(failed, "bad-datetime", "order.ordered_at", show=ordered, example=_example(fmt))
    conv.columns["ordered_at"] = parsed


def performance_fields(conv: Conversion) -> None:
    """What was visited and when: production, start, venue, capacity."""
    profile = conv.profile
    title = conv.text("production.title")
    title_target = "production.title"
    if title is None:
        title, title_target = conv.text("admission.exhibition"), "admission.exhibition"
    if profile.kind == "ticketing":
        title = _required(conv, title_target, title)
    conv.columns["production_title"] = title if title is not None else pa.nulls(conv.n, pa.string())
    for column, target in (("producer", "production.producer"), ("venue", "venue.name")):
        values = conv.text(target)
        conv.columns[column] = values if values is not None else pa.nulls(conv.n, pa.string())
    conv.columns["production_key"] = normalise.apply_rows(
        _production_key, conv.columns["production_title"], conv.columns["producer"]
    )
    start, target, fmt = conv.text("performance.starts_at"), "performance.starts_at", ""
    if start is not None:
        fmt = profile.notation(target)
    else:
        day = conv.text("performance.date") or conv.text("admission.visit_date")
        target = "performance.date" if profile.has("performance.date") else "admission.visit_date"
        clock_target = "performance.time" if profile.has("performance.time") else (
            "admission.time_slot")  # fmt: skip
        clock = conv.text(clock_target)
        if day is not None and clock is not None:
            time_format = profile.notation(clock_target)
            clock = pc.fill_null(clock, "00:00" if ":" in time_format else "00.00")
            start = pc.binary_join_element_wise(day, clock, " ")
            fmt = f"{profile.notation(target)} {time_format}"
        else:
            start, fmt = day, profile.notation(target)
    start = _required(conv, target, start)
    parsed, failed = parse_moment(start, fmt)
    code = "bad-datetime" if "%H" in fmt else "bad-date"
    conv.report(failed, code, target, show=start, example=_example(fmt))
    conv.columns["starts_at"] = parsed
    capacity = conv.text("performance.capacity")
    conv.columns["capacity"] = _whole(capacity, conv.n, pa.int32())


def _per_distinct(parse: Callable[[pa.Array], pa.Array], values: pa.Array) -> pa.Array:
    """``parse`` applied to each distinct text once: exports repeat prices and counts."""
    encoded = pc.dictionary_encode(values)
    return parse(encoded.dictionary).take(encoded.indices)


def _whole(values: pa.Array | None, n: int, kind: pa.DataType) -> pa.Array:
    """Whole numbers where the text is one, else null (for optional counts)."""
    if values is None:
        return pa.nulls(n, kind)
    return _per_distinct(lambda distinct: _whole_texts(distinct, kind), values)


def _whole_texts(values: pa.Array, kind: pa.DataType) -> pa.Array:
    ok = pc.match_substring_regex(values, r"^\d{1,9}(\.0+)?$")
    digits = pc.replace_substring_regex(values, r"\.0+$", "")
    return pc.cast(pc.if_else(ok, digits, pa.scalar(None, pa.string())), kind)


def parse_amount(values: pa.Array, decimal_comma: bool) -> pa.Array:
    """'€ 1.234,50', '12,50', '37.50' → 1234.5, 12.5, 37.5; anything else null."""
    return _per_distinct(lambda distinct: _amounts(distinct, decimal_comma), values)


def _amounts(values: pa.Array, decimal_comma: bool) -> pa.Array:
    text = pc.replace_substring_regex(values, r"(?i)(€|eur|\s|\x{00a0})", "")
    if decimal_comma:
        text = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    else:
        text = pc.replace_substring(text, ",", "")
    ok = pc.match_substring_regex(text, r"^-?\d+(\.\d+)?$")
    return pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())


def ticket_fields(conv: Conversion) -> None:
    """Number of tickets, amount paid, ticket number and price category."""
    count = conv.text("ticket.ticket_count")
    if count is None:
        conv.columns["ticket_count"] = pa.array(np.ones(conv.n, np.int32))
    else:
        count = _required(conv, "ticket.ticket_count", count)
        parsed = _whole(count, conv.n, pa.int32())
        bad = _present(count) & ~_mask(pc.and_(pc.greater_equal(parsed, 1),
                                               pc.less_equal(parsed, 500)))  # fmt: skip
        conv.report(bad, "bad-count", "ticket.ticket_count", show=count)
        conv.columns["ticket_count"] = parsed
    price = _required(conv, "ticket.price_paid", conv.text("ticket.price_paid"))
    amount = parse_amount(price, conv.profile.decimal_comma)
    unreadable = _present(price) & ~_present(amount)
    conv.report(unreadable, "bad-amount", "ticket.price_paid", show=price)
    negative = _mask(pc.less(amount, 0))
    conv.report(negative, "negative-amount", "ticket.price_paid", show=price)
    conv.columns["price_paid"] = amount
    for column, target in (
        ("ticket_number", "ticket.ticket_number"),
        ("price_category", "ticket.price_category"),
    ):
        values = conv.text(target)
        conv.columns[column] = values if values is not None else pa.nulls(conv.n, pa.string())


def _codes(conv: Conversion, target: str, values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Labels to standard codes through the profile; a mask of unknown labels."""
    encoded = pc.dictionary_encode(values)
    labels = encoded.dictionary.to_pylist()
    codes = pa.array([conv.profile.code_of(target, label) for label in labels], pa.string())
    coded = codes.take(encoded.indices)
    return coded, _present(values) & ~_present(coded)


def coded_fields(conv: Conversion) -> None:
    """Status, channel, ticket type, genre, discipline, gender: to the standard's code lists."""
    for column, target, required in (
        ("status", "order.status", True),
        ("channel", "order.channel", False),
        ("ticket_type", "ticket.ticket_type", False),
        ("genre", "production.genre", False),
        ("discipline", "production.discipline", False),
        ("gender", "customer.gender", False),
    ):
        values = conv.text(target)
        if values is None:
            conv.columns[column] = pa.nulls(conv.n, pa.string())
            continue
        if required:
            values = _required(conv, target, values)
        coded, unknown = _codes(conv, target, values)
        code = "unknown-code" if required else "unknown-code-dropped"
        conv.report(unknown, code, target, show=values, codelist=CODED[target])
        conv.columns[column] = coded


# The cells a person is recognised by; only ever in memory, normalised and pseudonymised.
IDENTIFYING = (
    "customer.customer_id", "customer.email", "customer.phone", "customer.postcode",
    "customer.full_name", "customer.first_name", "customer.infix", "customer.last_name",
    "customer.infix_last_name", "customer.address_line", "customer.house_number",
    "customer.house_number_addition",
)  # fmt: skip
Texts = Callable[[str], "pa.Array | None"]


def customer_identifiers(conv: Conversion) -> None:
    """Normalise e-mail, phone, customer number and name with address, in memory only.

    A buyer's rows repeat the same cells (one row per ticket, many orders), so each distinct
    combination of identifying cells is normalised once; problems are reported per row.
    """
    given = {target: values for target in IDENTIFYING if (values := conv.text(target)) is not None}
    if given:
        first, combination = normalise.distinct_rows(list(given.values()))
    else:  # nothing to recognise anyone by: every row is the one empty combination
        first, combination = np.zeros(min(conv.n, 1), np.int64), np.zeros(conv.n, np.int64)
    taken = pa.array(first, pa.int64())
    cells = {target: values.take(taken) for target, values in given.items()}
    identifiers, unusable, pc4 = _identifiers(cells.get, len(first))
    for (target, code), mask in unusable.items():
        conv.report(mask[combination], code, target)
    conv.identifiers, conv.combination = identifiers, combination
    conv.columns["pc4"] = pc4.take(pa.array(combination))
    nothing = ~np.logical_or.reduce(
        [_present(identifiers[k]) for k in ("email", "phone", "customer_id", "address")]
    )
    conv.report(nothing[combination] & ~conv.rejected, "no-identifier", "customer.email")


def _identifiers(
    text: Texts, n: int
) -> tuple[dict[str, pa.Array], dict[tuple[str, str], np.ndarray], pa.Array]:
    """The normalised identifiers of ``n`` combinations of cells (``text`` gives a column of
    them), the combinations whose cells could not be used (by column and problem), and PC4."""
    nulls = pa.nulls(n, pa.string())
    email_raw, phone_raw = text("customer.email"), text("customer.phone")
    email = normalise.emails(email_raw) if email_raw is not None else nulls
    phone = normalise.phones(phone_raw) if phone_raw is not None else nulls
    postcode_raw = text("customer.postcode")
    postcode = (
        normalise.apply(normalise.postcode, postcode_raw) if postcode_raw is not None else nulls
    )
    unusable = {
        (target, code): _present(raw) & ~_present(clean)
        for target, code, raw, clean in (
            ("customer.email", "bad-email", email_raw, email),
            ("customer.phone", "bad-phone", phone_raw, phone),
            ("customer.postcode", "bad-postcode", postcode_raw, postcode),
        )
        if raw is not None
    }
    first, infix, last = _names(text, n)
    number, addition = _house(text, n)
    name_key = normalise.name_keys(first, infix, last)
    initial = pc.utf8_slice_codeunits(name_key, 0, 1)
    surname = pc.utf8_slice_codeunits(name_key, 2, 200)
    address = pc.binary_join_element_wise(
        surname, postcode, number, pc.fill_null(addition, ""), "|"
    )
    customer = text("customer.customer_id")
    identifiers = {
        "customer_id": customer if customer is not None else nulls,
        "email": email,
        "phone": phone,
        "first": pc.if_else(pc.is_valid(initial), normalise.apply(_first_name, first), None),
        "initial": initial,
        "address": address,
    }
    return identifiers, unusable, pc.utf8_slice_codeunits(postcode, 0, 4)


def _production_key(title: str | None, producer: str | None) -> str | None:
    return production_key(title, producer) if title is not None and title.strip() else None


def _first_name(value: str) -> str | None:
    """The first given name in full; None for an initial ('J.'), which says less."""
    words = (normalise.name(value) or "").split()
    return words[0] if words and len(words[0]) > 1 else None


def _names(text: Texts, n: int) -> tuple[pa.Array, pa.Array, pa.Array]:
    nulls = pa.nulls(n, pa.string())
    full = text("customer.full_name")
    if full is not None:
        first, infix, last = normalise.apply_split(normalise.split_full_name, full)
        return first, infix, last
    first = text("customer.first_name")
    infix = text("customer.infix")
    last = text("customer.last_name") or text("customer.infix_last_name")
    return (first if first is not None else nulls, infix if infix is not None else nulls,
            last if last is not None else nulls)  # fmt: skip


def _house(text: Texts, n: int) -> tuple[pa.Array, pa.Array]:
    line = text("customer.address_line")
    if line is not None:
        _, number, addition = normalise.apply_split(normalise.address_line, line)
        return number, addition
    nulls = pa.nulls(n, pa.string())
    house = text("customer.house_number")
    if house is None:
        return nulls, nulls
    number, addition = normalise.apply_split(normalise.house_number, house)
    extra = text("customer.house_number_addition")
    if extra is not None:
        addition = pc.coalesce(addition, normalise.apply(normalise.house_number_addition, extra))
    return number, addition


def customer_profile(conv: Conversion) -> None:
    """Birth year (never the date), gender, country and marketing consent."""
    born = conv.text("customer.birth_date")
    if born is None:
        conv.columns["birth_year"] = pa.nulls(conv.n, pa.int16())
    else:
        parsed, failed = parse_moment(born, conv.profile.notation("customer.birth_date"))
        conv.report(failed, "bad-birth-date", "customer.birth_date")
        conv.columns["birth_year"] = pc.cast(pc.year(parsed), pa.int16())
    country = conv.text("customer.country")
    conv.columns["country"] = country if country is not None else pa.nulls(conv.n, pa.string())
    consent = conv.text("customer.marketing_consent")
    if consent is None:
        conv.columns["marketing_consent"] = pa.nulls(conv.n, pa.bool_())
    else:
        words = pc.utf8_lower(consent)
        yes = pc.is_in(words, value_set=pa.array(["ja", "j", "yes", "y", "true", "1", "x"]))
        no = pc.is_in(words, value_set=pa.array(["nee", "n", "no", "false", "0"]))
        conv.columns["marketing_consent"] = pc.if_else(yes, True, pc.if_else(no, False, None))


STEPS: tuple[Step, ...] = (
    order_fields,
    performance_fields,
    ticket_fields,
    coded_fields,
    customer_identifiers,
    customer_profile,
)


def convert(raw: pa.RecordBatch, profile: MappingProfile, problems: ProblemLog,
            steps: tuple[Step, ...] = STEPS) -> Conversion:  # fmt: skip
    """Run the steps over one batch."""
    conv = Conversion(raw, profile, problems)
    for step in steps:
        step(conv)
    conv.columns["source_row"] = raw.column("__row__")
    return conv


def facts(conv: Conversion) -> pa.Table:
    """Every row of the batch, rejected ones too, as a table in :data:`FACT_SCHEMA` (no
    identifiers): the caller leaves out rejected and repeated rows in one go."""
    arrays = [pc.cast(conv.columns[f.name], f.type) for f in FACT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=FACT_SCHEMA)


def accepted_identities(conv: Conversion) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The identities of the accepted rows: rows with the same normalised identifiers in
    every field are one identity, keyed and linked once (for pseudonymisation only).

    A buyer's rows repeat the same identifiers (one row per ticket, many orders), so this
    cuts the work of pseudonymisation and linkage several times. Returns per accepted row
    the index of its identity, and the identifiers of each identity.
    """
    accepted = np.flatnonzero(~conv.rejected)
    combination = conv.combination[accepted] if len(conv.combination) else accepted
    used, row_use = np.unique(combination, return_inverse=True)
    first, identity_of_use = normalise.distinct_rows(list(conv.identifiers.values()), used)
    taken = pa.array(first)
    distinct = {kind: values.take(taken) for kind, values in conv.identifiers.items()}
    return identity_of_use[row_use.ravel()], distinct
