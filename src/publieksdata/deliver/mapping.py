"""Mapping: which column of an export holds which field of the standard, and how it is written.

A mapping profile is data (JSON), not code. Built-in profiles cover the layouts of known
systems; an institution's own mapping is saved, versioned, and reused next time; anything
else is recognised automatically from Dutch and English header names and from the content.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from publieksdata.deliver.layouts import LAYOUTS, Layout
from publieksdata.errors import PubliekError
from publieksdata.standard.codelists import codelist

Grain = Literal["ticket", "order_line", "admission"]

# Targets a column can hold: fields of the standard, plus the combinations real exports use.
COMBINED = {
    "customer.full_name": "first name, infix and last name in one column",
    "customer.infix_last_name": "infix and last name in one column ('van der Berg')",
    "customer.address_line": "street, house number and addition in one column",
    "performance.date": "the date of the performance, with its time in another column",
    "performance.time": "the start time of the performance",
}
TARGETS = (
    "order.order_id", "order.ordered_at", "order.channel", "order.status",
    "customer.customer_id", "customer.email", "customer.phone", "customer.first_name",
    "customer.infix", "customer.last_name", "customer.street", "customer.house_number",
    "customer.house_number_addition", "customer.postcode", "customer.city", "customer.country",
    "customer.birth_date", "customer.gender", "customer.marketing_consent",
    "production.title", "production.genre", "production.producer", "production.discipline",
    "performance.starts_at", "performance.capacity", "venue.name",
    "ticket.ticket_number", "ticket.ticket_count", "ticket.price_paid", "ticket.price_category",
    "ticket.ticket_type", "admission.transaction_id", "admission.visit_date",
    "admission.time_slot", "admission.exhibition", *COMBINED,
)  # fmt: skip

# Each requirement is satisfied by any one of its targets.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "ticketing": (
        ("order.order_id",),
        ("order.ordered_at",),
        ("production.title",),
        ("performance.starts_at", "performance.date"),
        ("ticket.price_paid",),
        ("order.status",),
    ),
    "admission": (
        ("admission.transaction_id", "order.order_id"),
        ("admission.visit_date", "performance.starts_at", "performance.date"),
        ("ticket.price_paid",),
        ("order.status",),
    ),
}
IDENTIFYING = (
    "customer.email", "customer.phone", "customer.customer_id", "customer.postcode",
)  # fmt: skip
CODED = {
    "order.channel": "channel",
    "order.status": "order_status",
    "ticket.ticket_type": "ticket_type",
    "customer.gender": "gender",
    "production.genre": "genre",
    "production.discipline": "discipline",
}

# Words real exports use for fields, besides the headers of the built-in profiles.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "order.order_id": ("order", "ordernr", "bestelling", "bestelnummer", "bestelnr", "ordernumber",
                       "orderno", "orderid", "ordercode", "reserveringsnummer", "boekingsnummer",
                       "transactienummer", "bookingreference"),
    "order.ordered_at": ("orderdatum", "aankoopdatum", "verkoopdatum", "purchasedate", "orderdate"),
    "order.channel": ("kanaal", "channel", "saleschannel", "verkoopkanaal"),
    "order.status": ("status", "orderstatus", "bestelstatus", "ticketstatus", "kaartstatus",
                     "attendeestatus", "paymentstatus", "betaalstatus"),
    "customer.customer_id": ("klant", "klantid", "klantnr", "klantcode", "relatienummer",
                             "relatienr", "relatie", "customerid", "customernumber", "contactid"),
    "customer.email": ("email", "emailadres", "mail", "e-mail", "emailaddress"),
    "customer.phone": ("telefoon", "tel", "telnr", "telefoonnr", "mobiel", "mobielnummer",
                       "telefoonnummer", "phone", "phonenumber", "mobile", "mobilephone"),
    "customer.first_name": ("voornaam", "roepnaam", "firstname", "givenname"),
    "customer.infix": ("tussenvoegsel", "tussenv", "voorvoegsel", "infix", "prefix"),
    "customer.last_name": ("achternaam", "naam", "surname", "lastname", "familyname"),
    "customer.street": ("straat", "straatnaam", "street"),
    "customer.house_number": ("huisnummer", "huisnr", "nr", "housenumber"),
    "customer.house_number_addition": ("toevoeging", "huisnummertoevoeging", "addition"),
    "customer.postcode": ("postcode", "pc", "zip", "zipcode", "postalcode", "postcodeklant"),
    "customer.city": ("plaats", "woonplaats", "city", "town"),
    "customer.country": ("land", "country"),
    "customer.birth_date": ("geboortedatum", "gebdatum", "dateofbirth", "birthdate", "dob"),
    "customer.gender": ("geslacht", "gender", "sekse"),
    "customer.marketing_consent": ("nieuwsbrief", "optin", "marketingoptin", "toestemming"),
    "production.title": ("voorstelling", "voorstellingsnaam", "titelvoorstelling", "productie",
                         "productienaam", "titel", "event", "eventname", "eventnaam",
                         "eventtitle", "evenement", "evenementnaam", "show", "tentoonstelling",
                         "film", "concert"),
    "production.genre": ("genre",),
    "performance.starts_at": ("datumvoorstelling", "aanvang", "eventdate", "voorstellingsdatum",
                              "speeldatum", "performancedate"),
    "performance.capacity": ("capaciteit", "capacity"),
    "venue.name": ("zaal", "zaalnaam", "locatie", "locatienaam", "venue", "hall"),
    "ticket.ticket_number": ("ticketnummer", "kaartnummer", "barcode", "ticketnumber", "stoel"),
    "ticket.ticket_count": ("aantal", "quantity", "qty", "aantalkaarten", "aantalkaartjes",
                            "aantaltickets", "numberoftickets", "tickets"),
    "ticket.price_paid": ("prijs", "ticketprijs", "kaartprijs", "bedrag", "betaald",
                          "betaaldbedrag", "totaalbetaald", "totaal", "price", "amount",
                          "amountpaid", "totalpaid", "revenue", "paid"),
    "ticket.price_category": ("rang", "prijsklasse", "pricezone", "pricecategory"),
    "ticket.ticket_type": ("kortingssoort", "prijssoort", "kaartsoort", "tickettype", "korting"),
}  # fmt: skip

# Headers that are not a known word but say what they hold in two parts, as in "Datum
# bestelling", "Besteld op", "Order date" or "Datum voorstelling": a part that names the
# purchase or the performance, and a part that names a moment. (Compared without case,
# spaces or punctuation, so Dutch compounds like "verkoopdatum" match too.)
_MOMENT_PARTS = ("datum", "date", "moment", "tijdstip", "tijd", "time", "op", "on", "dag", "day")
_WHAT_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("order.ordered_at", ("besteld", "bestel", "order", "aankoop", "gekocht", "verkocht",
                          "verkoop", "transactie", "purchase", "sale", "sold", "booking",
                          "booked", "boeking", "geboekt", "reservering")),
    ("performance.starts_at", ("voorstelling", "aanvang", "evenement", "event", "performance",
                               "uitvoering", "speel", "show", "concert", "film", "bezoek",
                               "visit", "activiteit", "activity", "start", "begin")),
)  # fmt: skip
# Where a performance's moment is written: date and time together, the date, or the time.
_MOMENTS = ("performance.starts_at", "performance.date", "performance.time")

# The fields that hold moments, and the profile's notation each follows unless it has its own.
_MOMENT_FIELDS = {
    "performance.starts_at": "datetime_format",
    "order.ordered_at": "datetime_format",
    "performance.date": "date_format",
    "admission.visit_date": "date_format",
    "customer.birth_date": "date_format",
    "performance.time": "time_format",
    "admission.time_slot": "time_format",
}
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%d-%m-%Y",
    "%d/%m/%Y", "%d.%m.%Y",
)  # fmt: skip
_TIME_FORMATS = ("%H:%M", "%H.%M", "%H:%M:%S")


def header_key(header: str) -> str:
    """Compare headers without case, spaces or punctuation ('E-mailadres' = 'emailadres')."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


@dataclass(frozen=True)
class MappingProfile:
    """How to read one kind of export: columns, value labels and notations."""

    name: str
    columns: dict[str, str]  # header as in the file -> target
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> label -> code
    grain: Grain = "order_line"
    datetime_format: str = "%Y-%m-%dT%H:%M:%S"
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M"
    # target -> notation, for a column that writes its moments otherwise than the rest
    notations: dict[str, str] = field(default_factory=dict)
    decimal_comma: bool = False
    version: int = 0
    description: str = ""

    def notation(self, target: str) -> str:
        """How the export writes the moments of ``target``."""
        if target in self.notations:
            return self.notations[target]
        general = _MOMENT_FIELDS[target]
        return str(getattr(self, general))

    @property
    def kind(self) -> str:
        """'admission' for museum-style exports, else 'ticketing'."""
        return "admission" if self.grain == "admission" else "ticketing"

    def header_of(self, target: str) -> str | None:
        """The header mapped to ``target``, if any."""
        return next((h for h, t in self.columns.items() if t == target), None)

    def has(self, *targets: str) -> bool:
        """Whether any of ``targets`` is mapped."""
        return any(t in self.columns.values() for t in targets)

    def code_of(self, target: str, label: str) -> str | None:
        """The standard code for a label as the system writes it (case-insensitive)."""
        known = self.values.get(target, {})
        text = label.strip().casefold()
        if text in known:
            return known[text]
        return _standard_code(target, text)

    def missing(self) -> list[tuple[str, ...]]:
        """Requirements no column satisfies."""
        return [need for need in REQUIRED[self.kind] if not self.has(*need)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MappingProfile:
        data = json.loads(text)
        unknown = sorted(set(data["columns"].values()) - set(TARGETS))
        if unknown:
            raise PubliekError(
                "mapping-unknown-target",
                f"De koppeling noemt onbekende velden: {', '.join(unknown)}.",
                f"The mapping names unknown fields: {', '.join(unknown)}.",
            )
        return cls(**data)


def _standard_code(target: str, text: str) -> str | None:
    """A label matching a code, its label or an alias in the standard's code list."""
    return codelist(CODED[target]).code_of(text) if target in CODED else None


def profile_from_layout(layout: Layout) -> MappingProfile:
    """A built-in profile from the declaration of a known system's layout."""
    values = {
        target: {label.casefold(): code for code, label in labels.items() if label}
        for target, labels in layout.values.items()
    }
    return MappingProfile(
        name=layout.name,
        columns={c.header: c.source for c in layout.columns},
        values=values,
        grain=layout.grain,
        datetime_format=layout.datetime_format,
        date_format=layout.date_format,
        time_format=layout.time_format,
        decimal_comma=layout.decimal_comma,
        description=layout.description,
    )


BUILTIN: dict[str, MappingProfile] = {n: profile_from_layout(lay) for n, lay in LAYOUTS.items()}


def _synonyms() -> dict[str, str]:
    words = {header_key(h): t for p in BUILTIN.values() for h, t in p.columns.items()}
    for target, names in _SYNONYMS.items():
        for name in names:
            words.setdefault(header_key(name), target)
    return words


SYNONYMS = _synonyms()


@dataclass(frozen=True)
class Recognition:
    """Which profile an export is read with, and what the user must be told about it."""

    profile: MappingProfile
    source: str  # "saved", "built-in" or "automatic"
    ignored: tuple[str, ...]  # headers that map to nothing
    missing: tuple[tuple[str, ...], ...]  # requirements not met

    @property
    def complete(self) -> bool:
        return not self.missing


def _sample_strings(sample: pa.RecordBatch | None, header: str) -> list[str]:
    if sample is None or header not in sample.schema.names:
        return []
    values = sample.column(header).to_pylist()
    return [v.strip() for v in values if isinstance(v, str) and v.strip()][:200]


def _fits(values: list[str], formats: Iterable[str]) -> str | None:
    """The first format that reads every sampled value."""
    for fmt in formats:
        try:
            for value in values:
                dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return fmt
    return None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_POSTCODE = re.compile(r"[1-9][0-9]{3} ?[A-Za-z]{2}")
_PHONE = re.compile(r"[+(0][0-9 ()+\-./]{8,}")


def _by_content(values: list[str]) -> str | None:
    """Recognise identifier columns whose header says nothing, from what is in them."""
    if len(values) < 5:
        return None
    for target, pattern in (
        ("customer.email", _EMAIL),
        ("customer.postcode", _POSTCODE),
        ("customer.phone", _PHONE),
    ):
        if sum(bool(pattern.fullmatch(v)) for v in values) >= 0.8 * len(values):
            return target
    return None


def _notations(columns: dict[str, str], sample: pa.RecordBatch | None) -> dict[str, Any]:
    """Date, time and decimal notations as the sample shows them: per kind of moment the
    first column's, and the columns that write theirs otherwise (an order moment with
    seconds beside a performance without) each their own."""
    found: dict[str, Any] = {}
    own: dict[str, str] = {}
    for target, key in _MOMENT_FIELDS.items():
        header = next((h for h, t in columns.items() if t == target), None)
        values = _sample_strings(sample, header) if header else []
        if not values:
            continue
        fmt = _fits(values, _TIME_FORMATS if key == "time_format" else _DATETIME_FORMATS)
        if fmt is None:
            continue
        found.setdefault(key, fmt)
        if fmt != found[key]:
            own[target] = fmt
    found["notations"] = own
    header = next((h for h, t in columns.items() if t == "ticket.price_paid"), None)
    amounts = _sample_strings(sample, header) if header else []
    found["decimal_comma"] = (
        sum(bool(re.search(r",\d{1,2}$", a)) for a in amounts) > len(amounts) / 2
    )
    return found


def _by_parts(header: str, values: list[str]) -> str | None:
    """The moment a header names in two parts ("Datum bestelling"), if it does and the
    sampled values are moments."""
    key = header_key(header)
    for target, whats in _WHAT_PARTS:
        rests = [key.replace(what, " ", 1).split() for what in whats if what in key]
        if any(_names_moment(word) for rest in rests for word in rest):
            moments = _DATETIME_FORMATS + (() if target == "order.ordered_at" else _TIME_FORMATS)
            return target if not values or _fits(values, moments) else None
    return None


def _names_moment(word: str) -> bool:
    """Whether a word left of a header is or holds a word for a moment ("datum", "op");
    a short word only when it is the whole word ("opmerking" is not "op")."""
    return any(
        word == part or (len(part) >= 4 and (word.startswith(part) or word.endswith(part)))
        for part in _MOMENT_PARTS
    )


def _moment_by_content(target: str | None, values: list[str]) -> str | None:
    """A performance's moment as the values write it: "15-3-2024 20:00" is a date and time
    whatever the header says ("Aanvang" is the time in one system, both in another)."""
    if target not in _MOMENTS or not values:
        return target
    if _fits(values, _TIME_FORMATS):
        return "performance.time"
    fmt = _fits(values, _DATETIME_FORMATS)
    if fmt is None:
        return target
    return "performance.starts_at" if "%H" in fmt else "performance.date"


def automatic(headers: Iterable[str], sample: pa.RecordBatch | None = None) -> MappingProfile:
    """A profile from header names (Dutch and English) and, failing those, the content."""
    columns: dict[str, str] = {}
    for header in headers:
        values = _sample_strings(sample, header)
        target = (SYNONYMS.get(header_key(header)) or _by_parts(header, values)
                  or _by_content(values))  # fmt: skip
        target = _moment_by_content(target, values)
        if target and target not in columns.values():
            columns[header] = target
    grain: Grain = (
        "admission"
        if not any(t in columns.values() for t in ("order.ordered_at", "performance.starts_at"))
        and any(t.startswith("admission.") for t in columns.values())
        else "order_line"
    )
    if "ticket.ticket_number" in columns.values():
        grain = "ticket"
    return MappingProfile(name="automatic", columns=columns, grain=grain,
                          **_notations(columns, sample))  # fmt: skip


def with_notations(profile: MappingProfile, sample: pa.RecordBatch | None) -> MappingProfile:
    """The profile with date and decimal notations read again from the sample, after its
    columns were corrected by hand."""
    return replace(profile, **_notations(profile.columns, sample))


def _overlap(profile: MappingProfile, headers: set[str]) -> float:
    return len(set(profile.columns) & headers) / max(len(profile.columns), len(headers))


def known_profile(
    headers: Iterable[str], saved: MappingProfile | None = None
) -> tuple[MappingProfile, str] | None:
    """The institution's saved profile if it fits, else a built-in one that does, with its
    source ('saved' or 'built-in'); None when only automatic recognition can tell."""
    present = {h for h in headers if h != "__row__"}
    if saved is not None and set(saved.columns) <= present:
        return saved, "saved"
    best = max(BUILTIN.values(), key=lambda p: _overlap(p, present))
    if _overlap(best, present) >= 0.9 and set(best.columns) <= present:
        return best, "built-in"
    return None


def recognise(
    headers: Iterable[str],
    sample: pa.RecordBatch | None = None,
    saved: MappingProfile | None = None,
) -> Recognition:
    """Choose the profile: the institution's saved one if it fits, then the best built-in
    one, then automatic recognition (which reads the sample's content)."""
    names = [h for h in headers if h != "__row__"]
    known = known_profile(names, saved)
    profile, source = known if known is not None else (automatic(names, sample), "automatic")
    ignored = tuple(h for h in names if h not in profile.columns)
    return Recognition(profile, source, ignored, tuple(profile.missing()))


def with_columns(profile: MappingProfile, changes: Mapping[str, str | None]) -> MappingProfile:
    """The profile with columns added, changed or (target None) removed, as a user corrects it."""
    columns = dict(profile.columns)
    for header, target in changes.items():
        if target is None:
            columns.pop(header, None)
            continue
        if target not in TARGETS:
            raise PubliekError(
                "mapping-unknown-target",
                f"'{target}' is geen veld van de standaard. Zie docs/standard/standaard.md.",
                f"'{target}' is not a field of the standard. See docs/standard/standard.md.",
            )
        columns = {h: t for h, t in columns.items() if t != target}
        columns[header] = target
    return replace(profile, columns=columns, name="custom")


def with_values(
    profile: MappingProfile, changes: Mapping[str, Mapping[str, str]]
) -> MappingProfile:
    """The profile with labels of coded columns mapped to codes ({header: {label: code}}),
    as a user tells what a system's own word means ('Gereserveerd' is 'cancelled')."""
    values = {target: dict(labels) for target, labels in profile.values.items()}
    for header, labels in changes.items():
        target = profile.columns.get(header)
        if target is None:
            known = ", ".join(h for h, t in profile.columns.items() if t in CODED) or "-"
            raise PubliekError(
                "mapping-value-column",
                f"Kolom '{header}' is niet gekoppeld aan een veld met een codelijst. "
                f"Kolommen met codes: {known}.",
                f"Column '{header}' is not mapped to a field with a code list. "
                f"Columns with codes: {known}.",
            )
        if target not in CODED:
            raise PubliekError(
                "mapping-value-column",
                f"Kolom '{header}' ({target}) heeft geen codelijst; alleen waarden van "
                "codevelden worden gekoppeld.",
                f"Column '{header}' ({target}) has no code list; only values of coded fields "
                "are mapped.",
            )
        codes = codelist(CODED[target])
        for label, code in labels.items():
            if code not in codes:
                raise PubliekError(
                    "mapping-value-code",
                    f"Kolom '{header}': dat is geen code uit {codes.id}. Kies uit: "
                    f"{', '.join(codes.values)}.",
                    f"Column '{header}': that is not a code of {codes.id}. Choose one of: "
                    f"{', '.join(codes.values)}.",
                )
            values.setdefault(target, {})[label.strip().casefold()] = code
    return replace(profile, values=values, name="custom")


class MappingStore:
    """Saved mappings per institution, each save a new version; nothing identifying in them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _dir(self, institution: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", institution):
            raise PubliekError(
                "institution-id",
                f"'{institution}' is geen geldige instellingscode (letters, cijfers, - _ .).",
                f"'{institution}' is not a valid institution code (letters, digits, - _ .).",
            )
        return self.folder / institution

    def versions(self, institution: str) -> list[int]:
        folder = self._dir(institution)
        found = (re.fullmatch(r"v(\d+)\.json", p.name) for p in folder.glob("v*.json"))
        return sorted(int(m[1]) for m in found if m)

    def save(self, institution: str, profile: MappingProfile) -> MappingProfile:
        """Store as the next version and return the stored profile."""
        folder = self._dir(institution)
        folder.mkdir(parents=True, exist_ok=True)
        version = (self.versions(institution) or [0])[-1] + 1
        stored = replace(profile, version=version)
        (folder / f"v{version}.json").write_text(stored.to_json(), encoding="utf-8")
        return stored

    def latest(self, institution: str) -> MappingProfile | None:
        versions = self.versions(institution)
        if not versions:
            return None
        path = self._dir(institution) / f"v{versions[-1]}.json"
        return MappingProfile.from_json(path.read_text(encoding="utf-8"))
