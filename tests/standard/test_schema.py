"""The data standard v1 is internally consistent and keeps its privacy promises."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import pytest

from publieksdata.standard.codelists import codelists
from publieksdata.standard.schema import (
    FIELD_TYPES,
    HANDLINGS,
    LINKAGE_PREFIX,
    PRIVACY_CLASSES,
    Field,
    Standard,
    load_standard,
    parse_standard,
)
from publieksdata.standard.text import LANGUAGES

STANDARD = load_standard()
RESOURCES = {r.name: r for r in STANDARD.resources}
FIELDS = [(r.name, f) for r in STANDARD.resources for f in r.fields]
FIELD_IDS = [f"{r}.{f.name}" for r, f in FIELDS]
IDENTIFYING = [(r, f) for r, f in FIELDS if f.privacy == "direct"]

by_field = pytest.mark.parametrize(("resource", "field"), FIELDS, ids=FIELD_IDS)
by_resource = pytest.mark.parametrize("name", list(RESOURCES))


def raw_standard() -> dict[str, Any]:
    path = resources.files("publieksdata.standard").joinpath("v1/standard.json")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def unsafe_direct_fields(standard: Standard) -> list[str]:
    """Direct identifiers that would be stored in the clear: G1 at the level of the standard."""
    return [f"{r}.{f.name}" for r, f in standard.identifying_fields() if f.handling == "keep"]


def test_the_standard_has_an_id_version_and_resources() -> None:
    assert STANDARD.id
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", STANDARD.version)
    assert len(RESOURCES) == len(STANDARD.resources), "resource names must be unique"
    assert {"institution", "performance", "customer", "order", "ticket"} <= set(RESOURCES)


@by_resource
def test_field_names_are_unique_within_a_resource(name: str) -> None:
    names = [f.name for f in RESOURCES[name].fields]
    assert len(names) == len(set(names))


@by_field
def test_field_type_is_known(resource: str, field: Field) -> None:
    assert field.type in FIELD_TYPES


@by_field
def test_field_privacy_class_is_known(resource: str, field: Field) -> None:
    assert field.privacy in PRIVACY_CLASSES


@by_field
def test_field_handling_is_known(resource: str, field: Field) -> None:
    linkage = field.handling.startswith(LINKAGE_PREFIX) and field.handling != LINKAGE_PREFIX
    assert field.handling in HANDLINGS or linkage


@by_field
def test_privacy_and_handling_are_explicit_in_the_json(resource: str, field: Field) -> None:
    # The reader defaults to privacy "none" and handling "keep"; in the source of truth
    # nothing about privacy may be left to a default.
    raw = next(r for r in raw_standard()["resources"] if r["name"] == resource)
    raw_field = next(f for f in raw["schema"]["fields"] if f["name"] == field.name)
    assert "privacy" in raw_field
    assert "handling" in raw_field


@pytest.mark.parametrize(
    ("resource", "field"), IDENTIFYING, ids=[f"{r}.{f.name}" for r, f in IDENTIFYING]
)
def test_direct_identifier_is_never_kept(resource: str, field: Field) -> None:
    assert field.identifying
    assert field.handling != "keep"


def test_no_direct_identifier_is_kept_anywhere() -> None:
    assert unsafe_direct_fields(STANDARD) == []


def test_the_g1_check_catches_a_direct_identifier_that_is_kept() -> None:
    data = raw_standard()
    customer = next(r for r in data["resources"] if r["name"] == "customer")
    email = next(f for f in customer["schema"]["fields"] if f["name"] == "email")
    email["handling"] = "keep"
    assert unsafe_direct_fields(parse_standard(data)) == ["customer.email"]


def test_a_direct_identifier_without_handling_defaults_to_keep_and_is_caught() -> None:
    data = raw_standard()
    customer = next(r for r in data["resources"] if r["name"] == "customer")
    phone = next(f for f in customer["schema"]["fields"] if f["name"] == "phone")
    del phone["handling"]
    assert unsafe_direct_fields(parse_standard(data)) == ["customer.phone"]


@pytest.mark.parametrize(
    "name",
    [
        "email",
        "phone",
        "first_name",
        "last_name",
        "street",
        "house_number",
        "postcode",
        "birth_date",
        "customer_id",
    ],
)
def test_known_identifiers_are_classified_as_direct(name: str) -> None:
    identifying = {f.name for r, f in STANDARD.identifying_fields() if r == "customer"}
    assert name in identifying


def test_customer_number_is_identifying_wherever_it_appears() -> None:
    for resource, field in FIELDS:
        if field.name == "customer_id":
            assert field.identifying, f"{resource}.customer_id must be a direct identifier"


def test_identifying_fields_are_exactly_the_direct_ones() -> None:
    assert [(r, f.name) for r, f in STANDARD.identifying_fields()] == [
        (r, f.name) for r, f in IDENTIFYING
    ]
    assert all(f.identifying == (f.privacy == "direct") for _, f in FIELDS)


@by_field
def test_named_codelist_exists(resource: str, field: Field) -> None:
    if field.codelist is not None:
        assert field.codelist in codelists()


def test_every_codelist_is_used_by_some_field_or_definition() -> None:
    used = {f.codelist for _, f in FIELDS if f.codelist}
    used.add("age_band")  # named by the age_band definition, not by a field
    assert set(codelists()) == used


@by_field
def test_pattern_compiles(resource: str, field: Field) -> None:
    if field.pattern is not None:
        re.compile(field.pattern)
        assert field.type == "string", "patterns only make sense on strings"


@by_field
def test_minimum_is_not_above_maximum(resource: str, field: Field) -> None:
    if field.minimum is not None or field.maximum is not None:
        assert field.type in {"integer", "number"}
    if field.minimum is not None and field.maximum is not None:
        assert field.minimum <= field.maximum


@pytest.mark.parametrize(
    ("resource", "field", "valid", "invalid"),
    [
        ("customer", "postcode", ["1234 AB", "1234ab", "9999ZZ"], ["0123 AB", "12345", "1234"]),
        ("venue", "pc4", ["1234", "9999"], ["0123", "12345", "1234AB"]),
        ("institution", "municipality_code", ["GM0363"], ["GM363", "0363", "gm0363"]),
        ("institution", "institution_id", ["STADS-01", "AB"], ["a", "stads", "-AB"]),
        ("customer", "country", ["NL", "BE"], ["nl", "NLD", ""]),
    ],
)
def test_pattern_accepts_and_rejects_examples(
    resource: str, field: str, valid: list[str], invalid: list[str]
) -> None:
    pattern = RESOURCES[resource].field(field).pattern
    assert pattern is not None
    for value in valid:
        assert re.search(pattern, value), value
    for value in invalid:
        assert not re.search(pattern, value), value


@by_resource
def test_primary_key_names_existing_fields(name: str) -> None:
    resource = RESOURCES[name]
    fields = {f.name for f in resource.fields}
    assert resource.primary_key, f"{name} has no primary key"
    assert set(resource.primary_key) <= fields
    assert len(set(resource.primary_key)) == len(resource.primary_key)


@by_resource
def test_foreign_keys_name_existing_resources_and_fields(name: str) -> None:
    resource = RESOURCES[name]
    own = {f.name for f in resource.fields}
    for fk in resource.foreign_keys:
        reference = fk["reference"]
        assert reference["resource"] in RESOURCES
        target = RESOURCES[reference["resource"]]
        assert set(fk["fields"]) <= own
        assert set(reference["fields"]) <= {f.name for f in target.fields}
        assert len(fk["fields"]) == len(reference["fields"])
        for here, there in zip(fk["fields"], reference["fields"], strict=True):
            assert resource.field(here).type == target.field(there).type


@by_resource
def test_resource_has_titles_and_descriptions_in_both_languages(name: str) -> None:
    resource = RESOURCES[name]
    for language in LANGUAGES:
        assert resource.title(language).strip()
        assert resource.description(language).strip()


@by_field
def test_field_has_titles_and_descriptions_in_both_languages(resource: str, field: Field) -> None:
    for language in LANGUAGES:
        assert field.title(language).strip()
        assert field.description(language).strip()


def test_field_and_resource_lookup_name_the_alternatives() -> None:
    with pytest.raises(KeyError, match="institution"):
        STANDARD.resource("no_such_resource")
    with pytest.raises(KeyError, match="email"):
        STANDARD.resource("customer").field("no_such_field")
    assert STANDARD.resource("customer").field("email").privacy == "direct"


def test_parse_refuses_a_missing_language() -> None:
    data = copy.deepcopy(raw_standard())
    data["resources"][0]["schema"]["fields"][0]["title"] = {"nl": "Alleen Nederlands"}
    with pytest.raises(ValueError, match="Dutch and English"):
        parse_standard(data)
    data["resources"][0]["schema"]["fields"][0]["title"] = {"nl": "Naam", "en": "  "}
    with pytest.raises(ValueError, match="Dutch and English"):
        parse_standard(data)
