"""The data standard v1 as typed objects, read from ``v1/standard.json``.

The structure follows Frictionless Table Schema (resources with fields, constraints,
primary and foreign keys) and adds what a privacy-first standard needs: every field says
whether it is identifying and what happens to it on arrival.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from publieksdata.standard.text import Text

FieldType = Literal["string", "integer", "number", "boolean", "date", "time", "datetime", "list"]
Privacy = Literal["none", "quasi", "direct"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]
PRIVACY_CLASSES: tuple[str, ...] = Privacy.__args__  # type: ignore[attr-defined]
# What happens to a field when a delivery arrives; direct identifiers may never be "keep".
HANDLINGS = ("keep", "discard", "pseudonymise", "coarsen:pc4", "coarsen:birth_year")
LINKAGE_PREFIX = "pseudonymise_with:"


@dataclass(frozen=True)
class Field:
    """One field of a resource."""

    name: str
    type: FieldType
    title: Text
    description: Text
    required: bool
    privacy: Privacy
    handling: str
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    codelist: str | None = None

    @property
    def identifying(self) -> bool:
        """True for direct identifiers, which must never reach storage in the clear."""
        return self.privacy == "direct"


@dataclass(frozen=True)
class Resource:
    """One table of the standard (institution, performance, ticket, customer, ...)."""

    name: str
    title: Text
    description: Text
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict[str, Any], ...]

    def field(self, name: str) -> Field:
        """A field by name, with the known names in the error."""
        for f in self.fields:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.fields)
        raise KeyError(f"Resource '{self.name}' has no field '{name}'. Fields: {known}")


@dataclass(frozen=True)
class Standard:
    """The whole standard: id, version and resources."""

    id: str
    version: str
    title: Text
    description: Text
    resources: tuple[Resource, ...]

    def resource(self, name: str) -> Resource:
        """A resource by name."""
        for r in self.resources:
            if r.name == name:
                return r
        known = ", ".join(r.name for r in self.resources)
        raise KeyError(f"The standard has no resource '{name}'. Resources: {known}")

    def identifying_fields(self) -> tuple[tuple[str, Field], ...]:
        """Every direct identifier as (resource, field): the list G1 is tested against."""
        return tuple((r.name, f) for r in self.resources for f in r.fields if f.identifying)


def _field(data: dict[str, Any]) -> Field:
    constraints = data.get("constraints", {})
    return Field(
        name=data["name"],
        type=data["type"],
        title=Text.from_json(data["title"]),
        description=Text.from_json(data["description"]),
        required=bool(constraints.get("required", False)),
        privacy=data.get("privacy", "none"),
        handling=data.get("handling", "keep"),
        pattern=constraints.get("pattern"),
        minimum=constraints.get("minimum"),
        maximum=constraints.get("maximum"),
        codelist=data.get("codelist"),
    )


def _resource(data: dict[str, Any]) -> Resource:
    schema = data["schema"]
    return Resource(
        name=data["name"],
        title=Text.from_json(data["title"]),
        description=Text.from_json(data["description"]),
        fields=tuple(_field(f) for f in schema["fields"]),
        primary_key=tuple(schema.get("primaryKey", ())),
        foreign_keys=tuple(schema.get("foreignKeys", ())),
    )


def parse_standard(data: dict[str, Any]) -> Standard:
    """Build a :class:`Standard` from its JSON form."""
    return Standard(
        id=data["id"],
        version=data["version"],
        title=Text.from_json(data["title"]),
        description=Text.from_json(data["description"]),
        resources=tuple(_resource(r) for r in data["resources"]),
    )


@cache
def load_standard() -> Standard:
    """The standard shipped with this version of publieksdata."""
    text = resources.files("publieksdata.standard").joinpath("v1/standard.json").read_text("utf-8")
    return parse_standard(json.loads(text))
