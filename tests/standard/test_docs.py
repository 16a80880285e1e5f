"""The documentation in docs/standard/ is generated from the JSON and never drifts from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from publieksdata.standard import docs
from publieksdata.standard.codelists import codelists
from publieksdata.standard.definitions import definitions
from publieksdata.standard.docs import FILE_NAMES, render, stale_docs, write_docs
from publieksdata.standard.schema import load_standard
from publieksdata.standard.text import LANGUAGES, Language

DOCS = Path(__file__).resolve().parents[2] / "docs" / "standard"
STANDARD = load_standard()
by_language = pytest.mark.parametrize("language", LANGUAGES)


@pytest.fixture(scope="module")
def rendered() -> dict[Language, str]:
    return {language: render(language) for language in LANGUAGES}


def test_committed_docs_agree_with_the_json() -> None:
    stale = stale_docs(DOCS)
    assert stale == [], (
        f"{[p.name for p in stale]} differ from the JSON; regenerate them with "
        "`publieksdata standard docs` (publieksdata.standard.docs.write_docs)"
    )


@by_language
def test_docs_name_every_resource_and_field(language: Language, rendered: dict[str, str]) -> None:
    text = rendered[language]
    for resource in STANDARD.resources:
        assert f"(`{resource.name}`)" in text
        assert resource.title(language) in text
        for field in resource.fields:
            assert f"`{field.name}`" in text


@by_language
def test_docs_name_every_code(language: Language, rendered: dict[str, str]) -> None:
    text = rendered[language]
    for cl in codelists().values():
        assert f'<a id="codelist-{cl.id}"></a>' in text
        for code in cl.codes:
            assert f"| `{code.code}` | {code.label(language)} |" in text


@by_language
def test_docs_name_every_definition(language: Language, rendered: dict[str, str]) -> None:
    text = rendered[language]
    for d in definitions().values():
        assert f"### {d.term(language)} (`{d.id}`)" in text


@by_language
def test_docs_say_what_happens_to_every_direct_identifier(
    language: Language, rendered: dict[str, str]
) -> None:
    privacy_cells = [
        line.rstrip(" |").rsplit(" | ", 1)[-1]
        for line in rendered[language].splitlines()
        if line.startswith("| `")
    ]
    direct = [cell for cell in privacy_cells if cell.startswith("direct:")]
    assert len(direct) == len(STANDARD.identifying_fields())
    kept = docs._HANDLING["keep"][LANGUAGES.index(language)]
    assert all(cell != f"direct: {kept}" for cell in direct)


def test_the_languages_differ_and_link_to_each_other(rendered: dict[str, str]) -> None:
    assert rendered["nl"] != rendered["en"]
    assert "(standard.md)" in rendered["nl"]
    assert "(standaard.md)" in rendered["en"]
    assert "Gegevensbestanden" in rendered["nl"]
    assert "Resources" in rendered["en"]


def test_codelist_links_have_targets(rendered: dict[str, str]) -> None:
    text = rendered["en"]
    for _, field in ((r.name, f) for r in STANDARD.resources for f in r.fields):
        if field.codelist:
            assert f"(#codelist-{field.codelist})" in text


def test_table_cells_escape_pipes() -> None:
    assert docs._cell("a|b\nc") == "a\\|b c"


def test_render_is_deterministic() -> None:
    assert render("nl") == render("nl")


def test_write_docs_writes_both_languages(tmp_path: Path) -> None:
    written = write_docs(tmp_path / "nested")
    assert sorted(p.name for p in written) == sorted(FILE_NAMES.values())
    assert stale_docs(tmp_path / "nested") == []


def test_an_edited_file_is_stale(tmp_path: Path) -> None:
    write_docs(tmp_path)
    english = tmp_path / FILE_NAMES["en"]
    english.write_text(english.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    assert stale_docs(tmp_path) == [english]


def test_a_missing_file_is_stale(tmp_path: Path) -> None:
    write_docs(tmp_path)
    (tmp_path / FILE_NAMES["nl"]).unlink()
    assert stale_docs(tmp_path) == [tmp_path / FILE_NAMES["nl"]]


def test_an_empty_folder_is_stale(tmp_path: Path) -> None:
    assert len(stale_docs(tmp_path)) == len(LANGUAGES)


def test_a_change_to_the_standard_makes_the_docs_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docs(tmp_path)
    changed = dataclasses.replace(STANDARD, version="1.0.1")
    monkeypatch.setattr(docs, "load_standard", lambda: changed)
    assert sorted(stale_docs(tmp_path)) == sorted(tmp_path / n for n in FILE_NAMES.values())


def test_a_change_to_a_code_list_makes_the_docs_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docs(tmp_path)
    lists = dict(codelists())
    gender = lists["gender"]
    lists["gender"] = dataclasses.replace(gender, codes=gender.codes[:-1])
    monkeypatch.setattr(docs, "codelists", lambda: lists)
    assert len(stale_docs(tmp_path)) == len(LANGUAGES)
