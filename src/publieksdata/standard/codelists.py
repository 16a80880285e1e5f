"""Versioned code lists with Dutch and English labels (disciplines, genres, channels, ...)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any

from publieksdata.standard.text import Text

CODELIST_DIR = "v1/codelists"


@dataclass(frozen=True)
class Code:
    """One entry of a code list; ``parent`` links a genre to its discipline."""

    code: str
    label: Text
    parent: str | None = None
    aliases: tuple[str, ...] = ()  # other words exports use for it, Dutch and English
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeList:
    """A named, versioned list of codes."""

    id: str
    version: str
    title: Text
    description: Text
    codes: tuple[Code, ...]

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.codes)

    def __getitem__(self, code: str) -> Code:
        for c in self.codes:
            if c.code == code:
                return c
        raise KeyError(f"'{code}' is not in code list '{self.id}'")

    @property
    def values(self) -> tuple[str, ...]:
        """The codes in their documented order."""
        return tuple(c.code for c in self.codes)

    def code_of(self, label: str) -> str | None:
        """The code a label stands for: the code itself, its Dutch or English label or one of
        its aliases ('Checked in', 'checked-in' and 'CHECKED_IN' alike); None if none."""
        return self._words.get(label_key(label))

    @cached_property
    def _words(self) -> dict[str, str]:
        words: dict[str, str] = {}
        for c in self.codes:
            for word in (c.code, c.label.nl, c.label.en, *c.aliases):
                words.setdefault(label_key(word), c.code)
        return words

    def children(self, parent: str) -> tuple[str, ...]:
        """Codes whose parent is ``parent`` (the genres of one discipline)."""
        return tuple(c.code for c in self.codes if c.parent == parent)


def label_key(text: str) -> str:
    """Labels compare without case, and with spaces, dots, dashes and underscores alike."""
    return " ".join(re.split(r"[\s._-]+", text.casefold())).strip()


def _parse(data: dict[str, Any]) -> CodeList:
    codes = tuple(
        Code(
            code=c["code"],
            label=Text.from_json(c["label"]),
            parent=c.get("parent"),
            aliases=tuple(c.get("aliases", ())),
            extra={k: v for k, v in c.items() if k not in {"code", "label", "parent", "aliases"}},
        )
        for c in data["codes"]
    )
    return CodeList(
        id=data["id"],
        version=data["version"],
        title=Text.from_json(data["title"]),
        description=Text.from_json(data["description"]),
        codes=codes,
    )


@cache
def codelists() -> dict[str, CodeList]:
    """All code lists of the standard, by id, in alphabetical order."""
    folder = resources.files("publieksdata.standard").joinpath(CODELIST_DIR)
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            parsed = _parse(json.loads(entry.read_text(encoding="utf-8")))
            found[parsed.id] = parsed
    return found


def codelist(list_id: str) -> CodeList:
    """One code list by id, with a helpful error when it does not exist."""
    lists = codelists()
    if list_id not in lists:
        raise KeyError(f"Unknown code list '{list_id}'. Known: {', '.join(lists)}")
    return lists[list_id]
