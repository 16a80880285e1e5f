"""Bilingual text: every user-facing string in the standard exists in Dutch and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")


@dataclass(frozen=True)
class Text:
    """A string in Dutch and English; Dutch is the first language of our users."""

    nl: str
    en: str

    def __call__(self, language: Language = "nl") -> str:
        return self.nl if language == "nl" else self.en

    @classmethod
    def from_json(cls, value: Any) -> Text:
        """Read ``{"nl": ..., "en": ...}``, refusing a missing or empty language."""
        if not isinstance(value, dict) or not all(
            isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES
        ):
            raise ValueError(f"expected Dutch and English text, got {value!r}")
        return cls(nl=value["nl"], en=value["en"])
