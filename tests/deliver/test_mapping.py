"""Mapping: built-in profiles, automatic recognition by header and content, corrections and
saved versions per institution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.deliver.delivery import DeliveryReport, corrected_mapping, deliver_file
from publieksdata.deliver.layouts import LAYOUTS
from publieksdata.deliver.mapping import (
    _DATETIME_FORMATS,
    _SYNONYMS,
    _TIME_FORMATS,
    BUILTIN,
    SYNONYMS,
    MappingProfile,
    MappingStore,
    header_key,
    recognise,
    with_columns,
)
from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.warehouse.store import Warehouse

OWN_EXPORT = (
    "Bestelling;Aankoopdatum;Onderdeel;Speeldatum;Bedrag;Orderstatus;Contact;Kolom X;Woonplaats\n"
    "A1;03-10-2025 10:12;Hamlet;12-10-2025 20:15;€ 24,50;Verkocht;piet@example.nl;x;Zwolle\n"
    "A2;04-10-2025 11:00;Hamlet;12-10-2025 20:15;€ 19,50;Verkocht;jan@example.nl;y;Zwolle\n"
    "A3;04-10-2025 11:05;Hamlet;12-10-2025 20:15;€ 19,50;Verkocht;els@example.nl;z;Zwolle\n"
    "A4;05-10-2025 09:00;Hamlet;12-10-2025 20:15;€ 19,50;Geannuleerd;ans@example.nl;z;Zwolle\n"
    "A5;05-10-2025 09:30;Hamlet;12-10-2025 20:15;€ 19,50;Verkocht;kees@example.nl;z;Zwolle\n"
)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_known_layout_is_recognised_as_itself(name: str) -> None:
    recognition = recognise(LAYOUTS[name].headers)
    assert recognition.source == "built-in"
    assert recognition.profile.name == name
    assert recognition.complete


def test_an_unknown_export_is_mapped_by_header_and_content() -> None:
    header, *rows = OWN_EXPORT.splitlines()
    names = header.split(";")
    sample = pa.record_batch(
        [pa.array([r.split(";")[k] for r in rows]) for k in range(len(names))], names=names
    )
    recognition = recognise(names, sample)
    columns = recognition.profile.columns
    assert recognition.source == "automatic"
    assert columns["Bestelling"] == "order.order_id"
    assert columns["Aankoopdatum"] == "order.ordered_at"
    assert columns["Speeldatum"] == "performance.starts_at"
    assert columns["Contact"] == "customer.email"  # by content: the header says nothing
    assert recognition.profile.datetime_format == "%d-%m-%Y %H:%M"
    assert recognition.profile.decimal_comma
    assert "Kolom X" in recognition.ignored


def test_a_missing_field_is_named_and_can_be_mapped_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "eigen.csv"
    path.write_text(OWN_EXPORT, "utf-8")
    key = DeploymentKey.generate()
    store = MappingStore(tmp_path / "mappings")
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        with pytest.raises(PubliekError) as caught:
            deliver_file(path, "I0007", warehouse, key, mappings=store)
        assert caught.value.code == "mapping-incomplete"
        assert "production.title" in caught.value.message("en")
        assert "Onderdeel" in caught.value.message("nl")
        assert warehouse.scalar("SELECT count(*) FROM deliveries") == 0
        saved = corrected_mapping(path, "I0007", {"Onderdeel": "production.title"}, store)
        report = deliver_file(path, "I0007", warehouse, key, mappings=store, profile=saved)
        assert report.loaded == 5
        assert report.balanced()
    assert store.versions("I0007") == [1]
    again = recognise(OWN_EXPORT.splitlines()[0].split(";"), saved=store.latest("I0007"))
    assert again.source == "saved"
    assert again.complete


def test_saved_mappings_are_versioned_and_never_overwritten(tmp_path: Path) -> None:
    store = MappingStore(tmp_path)
    first = store.save("I0001", BUILTIN["kassa_nl"])
    second = store.save("I0001", with_columns(first, {"Zaal": None}))
    assert (first.version, second.version) == (1, 2)
    assert store.latest("I0001") == second
    assert MappingProfile.from_json((tmp_path / "I0001" / "v1.json").read_text()) == first
    with pytest.raises(PubliekError) as caught:
        store.save("../elders", first)
    assert caught.value.code == "institution-id"


def test_a_correction_to_an_unknown_field_names_the_standard() -> None:
    with pytest.raises(PubliekError) as caught:
        with_columns(BUILTIN["kassa_nl"], {"Zaal": "venue.nickname"})
    assert caught.value.code == "mapping-unknown-target"


def _sample(columns: dict[str, list[str]]) -> pa.RecordBatch:
    return pa.record_batch([pa.array(v) for v in columns.values()], names=list(columns))


MOMENTS = ["03-10-2025 10:12", "04-10-2025 11:00", "05-10-2025 09:30"]
DAYS = ["12-10-2025", "13-10-2025", "14-10-2025"]
CLOCKS = ["20:15", "14:30", "20:15"]


@pytest.mark.parametrize(
    ("header", "values", "target"),
    [
        ("Datum bestelling", MOMENTS, "order.ordered_at"),
        ("Besteld op", MOMENTS, "order.ordered_at"),
        ("Verkocht op", MOMENTS, "order.ordered_at"),
        ("Datum van bestelling", DAYS, "order.ordered_at"),
        ("Aankoopmoment", MOMENTS, "order.ordered_at"),
        ("Booking date", MOMENTS, "order.ordered_at"),
        ("Sold on", MOMENTS, "order.ordered_at"),
        ("Aanvang", MOMENTS, "performance.starts_at"),  # "Aanvang" is the time elsewhere
        ("Aanvang", CLOCKS, "performance.time"),
        ("Starttijd", CLOCKS, "performance.time"),
        ("Bezoekdatum", DAYS, "performance.date"),
        ("Datum voorstelling", DAYS, "performance.date"),
        ("Begintijd voorstelling", MOMENTS, "performance.starts_at"),
        ("Opmerking bestelling", ["graag aan het gangpad", "", "rolstoel"], None),
        ("Bestelling op naam", ["ja", "nee", "ja"], None),
        ("Besteld op", ["website", "kassa", "telefoon"], None),  # says a moment, holds none
        ("Besteltijd", CLOCKS, None),  # a time of day is not the moment of an order
    ],
)
def test_headers_naming_a_moment_in_two_words_are_read_by_their_content(
    header: str, values: list[str], target: str | None
) -> None:
    profile = recognise([header], _sample({header: values})).profile
    assert profile.columns.get(header) == target


def _delivered(
    tmp_path: Path, text: str, sql: str, store: MappingStore | None = None
) -> tuple[DeliveryReport, list[tuple[Any, ...]]]:
    """An export written out as text, delivered into a fresh warehouse: the report, and the
    rows ``sql`` finds there."""
    path = tmp_path / "export.csv"
    path.write_text(text, "utf-8")
    key = DeploymentKey.generate()
    with Warehouse(tmp_path / "w.duckdb", key.fingerprint) as warehouse:
        report = deliver_file(path, "I0007", warehouse, key, mappings=store)
        return report, warehouse.db.execute(sql).fetchall()


def test_an_export_with_its_own_words_for_moments_loads_without_a_mapping(tmp_path: Path) -> None:
    """'Datum bestelling' and an 'Aanvang' with date and time: recognised, not asked for."""
    report, starts = _delivered(
        tmp_path,
        "Ordernr;Datum bestelling;E-mail;Voorstelling;Aanvang;Bedrag;Status\n"
        "A1;1-3-2024 10:05;p@example.nl;De Storm;15-3-2024 20:00;25,50;Verkocht\n"
        "A2;2-3-2024 11:00;a@example.nl;De Storm;15-3-2024 20:00;12,75;Verkocht\n"
        "A3;2-3-2024 12:00;b@example.nl;Hamlet;16-3-2024 20:15;12,75;Verkocht\n",
        "SELECT DISTINCT strftime(starts_at, '%Y-%m-%d %H:%M') FROM tickets ORDER BY 1",
    )
    assert (report.profile_source, report.loaded, report.rejected) == ("automatic", 3, 0)
    assert [s for (s,) in starts] == ["2024-03-15 20:00", "2024-03-16 20:15"]


@given(
    st.lists(
        st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 12, 31)), min_size=1, max_size=20
    ),
    st.sampled_from(_DATETIME_FORMATS + _TIME_FORMATS),
)
def test_a_performance_moment_is_what_its_values_write(
    moments: list[dt.datetime], fmt: str
) -> None:
    """Whatever its header suggests, a column of a performance's moment is the time, the
    date, or both, as every sampled value writes it."""
    values = [m.strftime(fmt) for m in moments]
    target = recognise(["Aanvang"], _sample({"Aanvang": values})).profile.columns["Aanvang"]
    if fmt in _TIME_FORMATS:
        assert target == "performance.time"
    else:
        assert target == ("performance.starts_at" if "%H" in fmt else "performance.date")


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Evenement", "production.title"),
        ("Voorstellingsnaam", "production.title"),
        ("Klant nr.", "customer.customer_id"),
        ("Telefoonnr", "customer.phone"),
        ("Reserveringsnummer", "order.order_id"),
        ("Aantal kaartjes", "ticket.ticket_count"),
        ("Betaald bedrag", "ticket.price_paid"),
        ("Zaalnaam", "venue.name"),
    ],
)
def test_common_dutch_and_english_names_are_recognised(header: str, target: str) -> None:
    assert recognise([header]).profile.columns == {header: target}


def test_every_word_for_a_field_means_that_field_unless_a_known_layout_uses_it() -> None:
    """A new word must not quietly mean another field: only a header of a built-in layout
    may take a word first (it is how that system writes it)."""
    layouts = {header_key(h) for profile in BUILTIN.values() for h in profile.columns}
    for target, words in _SYNONYMS.items():
        for word in words:
            assert SYNONYMS[header_key(word)] == target or header_key(word) in layouts, word


def test_columns_that_write_their_moments_differently_each_keep_their_notation(
    tmp_path: Path,
) -> None:
    """Orders with seconds, performances without, birth dates in ISO: all three are read."""
    store = MappingStore(tmp_path / "mappings")
    report, rows = _delivered(
        tmp_path,
        "Ordernr;Besteldatum;E-mail;Geboortedatum;Voorstelling;Datum voorstelling;Bedrag;Status\n"
        "A1;01-03-2024 10:05:33;p@example.nl;1980-03-15;De Storm;15-03-2024 20:00;25,50;Verkocht\n"
        "A2;02-03-2024 11:00:00;a@example.nl;1975-11-02;De Storm;15-03-2024 20:00;12,75;Verkocht\n"
        "A3;02-03-2024 12:00:59;b@example.nl;2001-01-31;Hamlet;16-03-2024 20:15;12,75;Verkocht\n",
        "SELECT birth_year, ordered_at FROM tickets ORDER BY birth_year",
        store,
    )
    assert (report.loaded, report.rejected, report.warnings) == (3, 0, 0)
    assert [year for year, _ in rows] == [1975, 1980, 2001]
    assert rows[2][1] == dt.datetime(2024, 3, 2, 12, 0, 59)  # its seconds kept
    saved = store.latest("I0007")
    assert saved is not None
    assert saved.notation("performance.starts_at") == "%d-%m-%Y %H:%M"
    assert saved.notation("order.ordered_at") == "%d-%m-%Y %H:%M:%S"
    assert saved.notation("customer.birth_date") == "%Y-%m-%d"


def test_an_attendee_list_in_english_loads_without_a_mapping(tmp_path: Path) -> None:
    """The columns and words of an event platform's attendee export: 'Order #', 'Event Start
    Date', 'Total Paid', 'Attendee Status' with 'Attending', 'Checked In' and 'Refunded'."""
    report, rows = _delivered(
        tmp_path,
        "Order #,Order Date,First Name,Last Name,Email,Quantity,Ticket Type,Event Name,"
        "Event Start Date,Total Paid,Attendee Status\n"
        "1001,2024-03-01 10:05:33,Anna,Vries,anna@example.com,2,General Admission,Hamlet,"
        "2024-03-15 20:00:00,25.00,Attending\n"
        "1002,2024-03-02 11:00:00,Piet,Jansen,piet@example.com,1,Student,Hamlet,"
        "2024-03-15 20:00:00,10.00,Checked In\n"
        "1003,2024-03-02 12:00:00,Els,Bakker,els@example.com,1,General Admission,Macbeth,"
        "2024-03-16 20:15:00,12.50,Refunded\n",
        "SELECT status, ticket_type, ticket_count FROM tickets ORDER BY order_id",
    )
    assert (report.profile_source, report.loaded, report.rejected) == ("automatic", 3, 0)
    assert rows == [
        ("sold", "full_price", 2),
        ("sold", "student", 1),
        ("refunded", "full_price", 1),
    ]
