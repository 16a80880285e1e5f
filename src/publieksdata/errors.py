"""User-facing errors: a stable code and a message in Dutch and English.

Messages say where something is wrong and what to do next; they never repeat the value
of an identifying field.
"""

from __future__ import annotations

from publieksdata.standard.text import Language, Text


class PubliekError(Exception):
    """An error meant for a person: the CLI prints it as one line, without a traceback."""

    def __init__(self, code: str, nl: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.text = Text(nl=nl, en=en)

    def message(self, language: Language = "nl") -> str:
        """The message in one language, prefixed by its stable code."""
        return f"[{self.code}] {self.text(language)}"
