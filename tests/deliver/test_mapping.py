"""Mapping: built-in profiles, automatic recognition by header and content, corrections and
saved versions per institution."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from publieksdata.deliver.delivery import corrected_mapping, deliver_file
from publieksdata.deliver.layouts import LAYOUTS
from publieksdata.deliver.mapping import (
    BUILTIN,
    MappingProfile,
    MappingStore,
    recognise,
    with_columns,
)
from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.warehouse.store import Warehouse

OWN_EXPORT = (
    "Bestelling;Aankoopdatum;Evenement;Speeldatum;Bedrag;Orderstatus;Contact;Kolom X;Woonplaats\n"
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
        assert "Evenement" in caught.value.message("nl")
        assert warehouse.scalar("SELECT count(*) FROM deliveries") == 0
        saved = corrected_mapping(path, "I0007", {"Evenement": "production.title"}, store)
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
