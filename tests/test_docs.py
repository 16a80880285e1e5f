"""Docs are part of the feature: a command, layout or truth field without documentation fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from publieksdata.cli import app
from publieksdata.deliver.layouts import LAYOUTS
from publieksdata.deliver.problems import render_catalogue
from publieksdata.insights.dimensions import DIMENSIONS
from publieksdata.release.policy import RULES
from publieksdata.settings import SETTINGS
from publieksdata.synth.exports import REASONS, STATUS_NAMES, WARNINGS
from publieksdata.synth.population import GROUPS

from .test_cli import command_paths

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = text(ROOT / "README.md")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert readme.index("```sh") < readme.index("##"), "the commands come before anything else"


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    lines = [
        line
        for line in text(ROOT / ".ci" / "run").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert lines == ["make test"]


@pytest.mark.parametrize("path", [p for p in command_paths(typer.main.get_command(app)) if p])
def test_every_command_is_in_the_operator_guide(path: tuple[str, ...]) -> None:
    assert f"publieksdata {' '.join(path)}" in text(DOCS / "operator-guide.md")


def test_the_synthetic_sector_is_documented_in_full() -> None:
    doc = text(DOCS / "synthetic-sector.md")
    for name in [*LAYOUTS, *REASONS, *WARNINGS, *STATUS_NAMES, *GROUPS]:
        assert f"`{name}`" in doc, name
    for truth in ("records.parquet", "persons.parquet", "visits.parquet", "expected.json"):
        assert f"`{truth}`" in doc


def test_links_between_docs_resolve() -> None:
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text(page)):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_both_user_guides_exist_and_point_to_each_other() -> None:
    assert "user-guide.md" in text(DOCS / "gebruikershandleiding.md")
    assert "gebruikershandleiding.md" in text(DOCS / "user-guide.md")


def test_decisions_have_a_status_and_a_context() -> None:
    decisions = sorted((DOCS / "decisions").glob("*.md"))
    assert decisions
    for decision in decisions:
        body = text(decision)
        assert "Status:" in body
        assert "## Context" in body
        assert "## Decision" in body


def test_the_delivery_messages_page_is_current() -> None:
    assert text(DOCS / "delivery-messages.md") == render_catalogue(), (
        "regenerate it with `python -m publieksdata.deliver.problems`"
    )


def test_every_setting_policy_rule_and_breakdown_is_in_the_operator_guide() -> None:
    guide = text(DOCS / "operator-guide.md")
    for setting in SETTINGS.values():
        assert f"`{setting.env}`" in guide
    for name, rule in RULES.items():
        assert f"| `{name}` | {rule.default} | {rule.low}–{rule.high}" in guide, name
    for name in DIMENSIONS:
        assert f"`{name}`" in guide, name
