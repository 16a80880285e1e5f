"""Generate the documentation of the standard (``docs/standard/``) from its JSON source.

The documentation is never edited by hand: ``publieksdata standard docs`` writes it and a
test fails when the committed files differ from what the JSON gives.
"""

from __future__ import annotations

from pathlib import Path

from publieksdata.standard.codelists import codelists
from publieksdata.standard.definitions import definitions
from publieksdata.standard.schema import Field, load_standard
from publieksdata.standard.text import LANGUAGES, Language

FILE_NAMES: dict[Language, str] = {"nl": "standaard.md", "en": "standard.md"}

_WORDS: dict[str, tuple[str, str]] = {
    "generated": (
        "Gegenereerd uit `src/publieksdata/standard/v1/`; niet met de hand bewerken.",
        "Generated from `src/publieksdata/standard/v1/`; do not edit by hand.",
    ),
    "version": ("Versie", "Version"),
    "other_language": (
        "English version: [standard.md](standard.md)",
        "Nederlandse versie: [standaard.md](standaard.md)",
    ),
    "resources": ("Gegevensbestanden", "Resources"),
    "definitions": ("Definities", "Definitions"),
    "codelists": ("Codelijsten", "Code lists"),
    "field": ("Veld", "Field"),
    "type": ("Type", "Type"),
    "required": ("Verplicht", "Required"),
    "meaning": ("Betekenis", "Meaning"),
    "rules": ("Regels", "Rules"),
    "privacy": ("Privacy", "Privacy"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "primary_key": ("Sleutel", "Primary key"),
    "code": ("Code", "Code"),
    "label": ("Omschrijving", "Label"),
    "parent": ("Hoort bij", "Belongs to"),
    "aliases": ("Ook herkend als", "Also recognised as"),
    "parameters": ("Parameters", "Parameters"),
    "pattern": ("patroon", "pattern"),
    "codelist": ("codelijst", "code list"),
    "privacy_intro": (
        "Privacy: *direct* = direct identificerend, wordt bij aankomst gepseudonimiseerd, "
        "vergroofd of weggegooid en nooit opgeslagen; *quasi* = kan in combinatie "
        "herleidbaar zijn; *none* = niet identificerend.",
        "Privacy: *direct* = directly identifying, pseudonymised, coarsened or discarded "
        "on arrival and never stored; *quasi* = may identify in combination; "
        "*none* = not identifying.",
    ),
}

_HANDLING: dict[str, tuple[str, str]] = {
    "keep": ("bewaard", "kept"),
    "discard": ("weggegooid", "discarded"),
    "pseudonymise": ("gepseudonimiseerd", "pseudonymised"),
    "coarsen:pc4": ("vergroofd tot PC4", "coarsened to PC4"),
    "coarsen:birth_year": ("vergroofd tot geboortejaar", "coarsened to birth year"),
    "pseudonymise_with:name_postcode_house": (
        "alleen in de sleutel naam+postcode+huisnummer, dan weggegooid",
        "only in the name+postcode+house number key, then discarded",
    ),
}


def _w(key: str, language: Language) -> str:
    nl, en = _WORDS[key]
    return nl if language == "nl" else en


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rules(field: Field, language: Language) -> str:
    rules = []
    if field.codelist:
        rules.append(f"{_w('codelist', language)} [{field.codelist}](#codelist-{field.codelist})")
    if field.pattern:
        rules.append(f"{_w('pattern', language)} `{field.pattern}`")
    if field.minimum is not None:
        rules.append(f"≥ {field.minimum:g}")
    if field.maximum is not None:
        rules.append(f"≤ {field.maximum:g}")
    return "; ".join(rules)


def _privacy(field: Field, language: Language) -> str:
    nl, en = _HANDLING[field.handling]
    return f"{field.privacy}: {nl if language == 'nl' else en}"


def render(language: Language) -> str:
    """The complete documentation of the standard in one language, as Markdown."""
    std = load_standard()
    lines = [
        f"# {std.title(language)}",
        "",
        f"<!-- {_w('generated', language)} -->",
        "",
        f"{_w('version', language)} {std.version}. {_w('other_language', language)}",
        "",
        std.description(language),
        "",
        f"## {_w('definitions', language)}",
        "",
    ]
    for d in definitions().values():
        lines += [f"### {d.term(language)} (`{d.id}`)", "", d.definition(language), ""]
        if d.parameters:
            params = ", ".join(f"`{k}` = `{v}`" for k, v in d.parameters.items())
            lines += [f"{_w('parameters', language)}: {params}", ""]
    lines += [f"## {_w('resources', language)}", "", _w("privacy_intro", language), ""]
    header = [_w(k, language) for k in ("field", "type", "required", "meaning", "rules", "privacy")]
    for res in std.resources:
        lines += [
            f"### {res.title(language)} (`{res.name}`)",
            "",
            res.description(language),
            "",
            f"{_w('primary_key', language)}: " + ", ".join(f"`{k}`" for k in res.primary_key),
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for f in res.fields:
            required = _w("yes" if f.required else "no", language)
            meaning = f"**{f.title(language)}**. {f.description(language)}"
            row = [
                f"`{f.name}`",
                f.type,
                required,
                meaning,
                _rules(f, language),
                _privacy(f, language),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines.append("")
    lines += [f"## {_w('codelists', language)}", ""]
    for cl in codelists().values():
        has_parent = any(c.parent for c in cl.codes)
        has_aliases = any(c.aliases for c in cl.codes)
        cols = [_w("code", language), _w("label", language)]
        if has_parent:
            cols.append(_w("parent", language))
        if has_aliases:
            cols.append(_w("aliases", language))
        lines += [
            f'<a id="codelist-{cl.id}"></a>',
            f"### {cl.title(language)} (`{cl.id}`, {_w('version', language).lower()} {cl.version})",
            "",
            cl.description(language),
            "",
            "| " + " | ".join(cols) + " |",
            "|" + "---|" * len(cols),
        ]
        for c in cl.codes:
            row = [f"`{c.code}`", c.label(language)] + ([f"`{c.parent}`"] if has_parent else [])
            row += [", ".join(c.aliases)] if has_aliases else []
            lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_docs(folder: Path) -> list[Path]:
    """Write the Dutch and English documentation into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for language in LANGUAGES:
        path = folder / FILE_NAMES[language]
        path.write_text(render(language), encoding="utf-8")
        written.append(path)
    return written


def stale_docs(folder: Path) -> list[Path]:
    """The documentation files in ``folder`` that differ from what the JSON gives."""
    return [
        folder / FILE_NAMES[lang]
        for lang in LANGUAGES
        if not (folder / FILE_NAMES[lang]).is_file()
        or (folder / FILE_NAMES[lang]).read_text(encoding="utf-8") != render(lang)
    ]
