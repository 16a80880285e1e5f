"""The export layouts of known ticketing and museum systems.

A layout is data: file format, delimiter, encoding, grain (one row per ticket, per order
line or per admission), how dates and amounts are written, which standard field each
column holds and the system's own words for coded values. The delivery step reads the
same declarations as built-in mapping profiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Grain = Literal["ticket", "order_line", "admission"]


@dataclass(frozen=True)
class Column:
    """One column: its header and the standard field (resource.field) it holds.

    A few columns combine standard fields the way real systems do:
    ``customer.full_name``, ``customer.address_line``, ``performance.date`` and
    ``performance.time``.
    """

    header: str
    source: str


@dataclass(frozen=True)
class Layout:
    """How one kind of system writes its export."""

    name: str
    description: str
    file_format: Literal["csv", "xlsx"]
    grain: Grain
    columns: tuple[Column, ...]
    delimiter: str = ","
    quoting: Literal["needed", "none"] = "none"
    eol: str = "\n"
    encoding: Literal["utf-8", "utf-8-sig", "cp1252"] = "utf-8"
    datetime_format: str = "%Y-%m-%dT%H:%M:%S"
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M"
    decimal_comma: bool = False
    currency_prefix: str = ""
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def header_of(self, source: str) -> str | None:
        """The header of the column holding ``source``, if the layout has one."""
        return next((c.header for c in self.columns if c.source == source), None)


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(header, source) for header, source in pairs)


KASSA_NL = Layout(
    name="kassa_nl",
    description="Nederlands kassasysteem: één regel per kaartje, puntkomma, UTF-8 met BOM, "
    "Nederlandse datums en bedragen als '€ 12,50'.",
    file_format="csv",
    grain="ticket",
    delimiter=";",
    eol="\r\n",
    encoding="utf-8-sig",
    datetime_format="%d-%m-%Y %H:%M",
    date_format="%d-%m-%Y",
    decimal_comma=True,
    currency_prefix="€ ",
    columns=_cols(
        ("Ordernummer", "order.order_id"),
        ("Besteldatum", "order.ordered_at"),
        ("Klantnummer", "customer.customer_id"),
        ("Voornaam", "customer.first_name"),
        ("Tussenvoegsel", "customer.infix"),
        ("Achternaam", "customer.last_name"),
        ("E-mailadres", "customer.email"),
        ("Telefoonnummer", "customer.phone"),
        ("Straat", "customer.street"),
        ("Huisnummer", "customer.house_number"),
        ("Toevoeging", "customer.house_number_addition"),
        ("Postcode", "customer.postcode"),
        ("Woonplaats", "customer.city"),
        ("Land", "customer.country"),
        ("Geboortedatum", "customer.birth_date"),
        ("Geslacht", "customer.gender"),
        ("Nieuwsbrief", "customer.marketing_consent"),
        ("Voorstelling", "production.title"),
        ("Genre", "production.genre"),
        ("Datum voorstelling", "performance.starts_at"),
        ("Zaal", "venue.name"),
        ("Capaciteit", "performance.capacity"),
        ("Ticketnummer", "ticket.ticket_number"),
        ("Prijs", "ticket.price_paid"),
        ("Rang", "ticket.price_category"),
        ("Kortingssoort", "ticket.ticket_type"),
        ("Verkoopkanaal", "order.channel"),
        ("Status", "order.status"),
    ),
    values={
        "ticket.ticket_type": {
            "full_price": "Volbetalend",
            "reduced": "Korting",
            "child": "Kind t/m 12",
            "student": "Student",
            "senior": "65+",
            "cjp": "CJP",
            "museumkaart": "Museumkaart",
            "subscription": "Abonnement",
            "member": "Vriendenpas",
            "city_pass": "Stadspas",
            "group": "Groepskorting",
            "education": "Onderwijs",
            "free": "Vrijkaart",
        },
        "order.channel": {
            "online": "Website",
            "box_office": "Kassa",
            "phone": "Telefonisch",
            "reseller": "Externe verkoop",
            "group_sales": "Groepsverkoop",
            "on_site": "Avondkassa",
        },
        "order.status": {
            "sold": "Verkocht",
            "cancelled": "Geannuleerd",
            "refunded": "Geretourneerd",
        },
        "ticket.price_category": {"0": "1e rang", "1": "2e rang", "2": "3e rang"},
        "customer.gender": {"female": "V", "male": "M", "other": "X", "unknown": ""},
        "customer.marketing_consent": {"true": "Ja", "false": "Nee"},
        "customer.country": {"NL": "NL"},
    },
)

BOXOFFICE_EN = Layout(
    name="boxoffice_en",
    description="International box-office system: one row per order line with a quantity, "
    "comma-separated UTF-8, ISO 8601 dates and amounts like 37.50.",
    file_format="csv",
    grain="order_line",
    quoting="needed",
    columns=_cols(
        ("Order ID", "order.order_id"),
        ("Order Date", "order.ordered_at"),
        ("Customer ID", "customer.customer_id"),
        ("First Name", "customer.first_name"),
        ("Last Name", "customer.infix_last_name"),
        ("Email", "customer.email"),
        ("Phone", "customer.phone"),
        ("Address Line 1", "customer.address_line"),
        ("Postal Code", "customer.postcode"),
        ("City", "customer.city"),
        ("Country", "customer.country"),
        ("Date of Birth", "customer.birth_date"),
        ("Event Name", "production.title"),
        ("Event Date", "performance.starts_at"),
        ("Venue", "venue.name"),
        ("Quantity", "ticket.ticket_count"),
        ("Total Paid", "ticket.price_paid"),
        ("Price Zone", "ticket.price_category"),
        ("Ticket Type", "ticket.ticket_type"),
        ("Sales Channel", "order.channel"),
        ("Order Status", "order.status"),
        ("Marketing Opt-in", "customer.marketing_consent"),
    ),
    values={
        "ticket.ticket_type": {
            "full_price": "Full Price",
            "reduced": "Concession",
            "child": "Child",
            "student": "Student",
            "senior": "Senior",
            "cjp": "CJP",
            "museumkaart": "Museumkaart",
            "subscription": "Season Ticket",
            "member": "Member",
            "city_pass": "City Pass",
            "group": "Group",
            "education": "Schools",
            "free": "Comp",
        },
        "order.channel": {
            "online": "Web",
            "box_office": "Box Office",
            "phone": "Phone",
            "reseller": "Agent",
            "group_sales": "Groups",
            "on_site": "Door",
        },
        "order.status": {"sold": "Complete", "cancelled": "Cancelled", "refunded": "Refunded"},
        "ticket.price_category": {"0": "Zone A", "1": "Zone B", "2": "Zone C"},
        "customer.marketing_consent": {"true": "TRUE", "false": "FALSE"},
        "customer.country": {"NL": "Netherlands"},
    },
)

LEGACY_CP1252 = Layout(
    name="legacy_cp1252",
    description="Ouder Nederlands systeem: orderregels, puntkomma, Windows-1252, naam en "
    "adres in één kolom, datum en aanvang ('20.15') apart, bedragen als '12,50'.",
    file_format="csv",
    grain="order_line",
    delimiter=";",
    eol="\r\n",
    encoding="cp1252",
    datetime_format="%d-%m-%Y",
    date_format="%d-%m-%Y",
    time_format="%H.%M",
    decimal_comma=True,
    columns=_cols(
        ("BESTELNR", "order.order_id"),
        ("BESTELDATUM", "order.ordered_at"),
        ("KLANTNR", "customer.customer_id"),
        ("NAAM", "customer.full_name"),
        ("ADRES", "customer.address_line"),
        ("POSTCODE", "customer.postcode"),
        ("PLAATS", "customer.city"),
        ("TELEFOON", "customer.phone"),
        ("EMAIL", "customer.email"),
        ("GEBDATUM", "customer.birth_date"),
        ("PRODUCTIE", "production.title"),
        ("DATUM", "performance.date"),
        ("AANVANG", "performance.time"),
        ("ZAAL", "venue.name"),
        ("AANTAL", "ticket.ticket_count"),
        ("BEDRAG", "ticket.price_paid"),
        ("PRIJSSOORT", "ticket.ticket_type"),
        ("KANAAL", "order.channel"),
        ("STATUS", "order.status"),
    ),
    values={
        "ticket.ticket_type": {
            "full_price": "VOL",
            "reduced": "RED",
            "child": "KIND",
            "student": "STUD",
            "senior": "65+",
            "cjp": "CJP",
            "museumkaart": "MK",
            "subscription": "ABO",
            "member": "VRIEND",
            "city_pass": "STADSPAS",
            "group": "GROEP",
            "education": "SCHOOL",
            "free": "VRIJ",
        },
        "order.channel": {
            "online": "INTERNET",
            "box_office": "KASSA",
            "phone": "TELEFOON",
            "reseller": "VVV",
            "group_sales": "GROEP",
            "on_site": "DEUR",
        },
        "order.status": {"sold": "V", "cancelled": "A", "refunded": "R"},
    },
)

MUSEUM_XLSX = Layout(
    name="museum_xlsx",
    description="Museumkassa: Excel-werkboek met één regel per transactie, echte "
    "Excel-datums, tijdsloten en Museumkaart; alleen e-mail en postcode van de bezoeker.",
    file_format="xlsx",
    grain="admission",
    columns=_cols(
        ("Transactie", "admission.transaction_id"),
        ("Datum bezoek", "admission.visit_date"),
        ("Tijdslot", "admission.time_slot"),
        ("Tentoonstelling", "admission.exhibition"),
        ("Tickettype", "ticket.ticket_type"),
        ("Aantal", "ticket.ticket_count"),
        ("Bedrag", "ticket.price_paid"),
        ("E-mail", "customer.email"),
        ("Postcode", "customer.postcode"),
        ("Nieuwsbrief", "customer.marketing_consent"),
        ("Verkoopkanaal", "order.channel"),
        ("Status", "order.status"),
    ),
    values={
        "ticket.ticket_type": {
            "full_price": "Volwassene",
            "reduced": "Korting",
            "child": "Kind (4-12)",
            "student": "Student",
            "senior": "65+",
            "cjp": "CJP",
            "museumkaart": "Museumkaart",
            "subscription": "Jaarkaart",
            "member": "Vriend",
            "city_pass": "Stadspas",
            "group": "Groep",
            "education": "Onderwijs",
            "free": "Vrijkaart",
        },
        "order.channel": {
            "online": "Online",
            "box_office": "Kassa",
            "phone": "Telefoon",
            "reseller": "Partner",
            "group_sales": "Groep",
            "on_site": "Balie",
        },
        "order.status": {"sold": "Betaald", "cancelled": "Geannuleerd", "refunded": "Terugbetaald"},
        "customer.marketing_consent": {"true": "ja", "false": "nee"},
    },
)

ADMISSIONS_TSV = Layout(
    name="admissions_tsv",
    description="Online admission platform: tab-separated UTF-8, one row per basket line, "
    "ISO dates, lower-case codes, amounts like 25.00, the buyer's name as on the e-ticket.",
    file_format="csv",
    grain="admission",
    delimiter="\t",
    columns=_cols(
        ("basket_id", "admission.transaction_id"),
        ("visit_date", "admission.visit_date"),
        ("slot", "admission.time_slot"),
        ("product", "admission.exhibition"),
        ("ticket_type", "ticket.ticket_type"),
        ("qty", "ticket.ticket_count"),
        ("revenue", "ticket.price_paid"),
        ("customer_ref", "customer.customer_id"),
        ("first_name", "customer.first_name"),
        ("last_name", "customer.infix_last_name"),
        ("email", "customer.email"),
        ("zip", "customer.postcode"),
        ("optin", "customer.marketing_consent"),
        ("channel", "order.channel"),
        ("status", "order.status"),
    ),
    values={
        "ticket.ticket_type": {
            "full_price": "adult",
            "reduced": "concession",
            "child": "child",
            "student": "student",
            "senior": "senior",
            "cjp": "cjp",
            "museumkaart": "museumkaart",
            "subscription": "annual_pass",
            "member": "member",
            "city_pass": "city_pass",
            "group": "group",
            "education": "school",
            "free": "free",
        },
        "order.channel": {
            "online": "web",
            "box_office": "desk",
            "phone": "phone",
            "reseller": "partner",
            "group_sales": "groups",
            "on_site": "desk",
        },
        "order.status": {"sold": "paid", "cancelled": "cancelled", "refunded": "refunded"},
        "customer.marketing_consent": {"true": "1", "false": "0"},
    },
)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (KASSA_NL, BOXOFFICE_EN, LEGACY_CP1252, MUSEUM_XLSX, ADMISSIONS_TSV)
}
PERFORMING_LAYOUTS = ("kassa_nl", "boxoffice_en", "legacy_cp1252")
MUSEUM_LAYOUTS = ("museum_xlsx", "admissions_tsv")
# Excel keeps a million rows per sheet; a museum that large exports text instead.
XLSX_MAX_ROWS = 100_000
