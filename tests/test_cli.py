"""The command line, run as a real process: help everywhere, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import typer

from publieksdata.cli import app, safe_traceback
from publieksdata.errors import PubliekError

from .deliver.test_mapping import OWN_EXPORT


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publieksdata", *args],
        capture_output=True, text=True, cwd=cwd, timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of a Click command tree."""
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths += command_paths(sub, (*prefix, name))
    return paths


COMMANDS = command_paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "publieksdata" for p in COMMANDS])
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_synth_writes_a_sector_and_reports_it_as_json(tmp_path: Path) -> None:
    result = run(
        "synth", "--out", str(tmp_path / "s"), "--persons", "500", "--institutions", "5", "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["exports"]) == 5
    assert summary["rows_received"] == sum(e["rows"] for e in summary["exports"])
    assert (tmp_path / "s" / "sector.json").is_file()


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("nl", "[synth-persons] Kies tussen 100 en 50 miljoen personen."),
        ("en", "[synth-persons] Choose between 100 and 50 million persons."),
    ],
)
def test_a_wrong_setting_is_one_line_in_the_users_language(
    tmp_path: Path, language: str, line: str
) -> None:
    result = run("--lang", language, "synth", "--persons", "5", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "synth", "--persons", "5", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "config.py" in result.stderr, "where it went wrong"


def test_a_debug_traceback_never_repeats_what_a_library_said() -> None:
    """A library may quote the data it choked on; the traceback keeps only where and what."""

    def parse(line: str) -> None:
        raise ValueError(f"CSV parse error on line: {line}")

    row = "".join(reversed("8765432160;gro.elpmaxe@nesnaj.naj"))  # no source line quotes it
    try:
        try:
            parse(row)
        except ValueError as error:
            raise PubliekError("readers-broken", "kapot", "broken") from error
    except PubliekError as error:
        text = safe_traceback(error)
    assert "example.org" not in text
    assert "0612345678" not in text
    assert "builtins.ValueError: (message left out)" in text
    assert "in parse" in text
    assert "[readers-broken] broken" in text


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run("synth", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "[synth-folder-in-use]" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_unknown_options_and_languages_are_refused(tmp_path: Path) -> None:
    assert run("synth", "--bogus").returncode == 2
    result = run("--lang", "fr", "synth")
    assert result.returncode == 2
    assert "[cli-language]" in result.stderr


def test_standard_docs_are_written_and_checked(tmp_path: Path) -> None:
    stale = run("standard", "docs", "--check", "--out", str(tmp_path))
    assert stale.returncode == 2
    assert "[standard-docs-stale]" in stale.stderr
    assert run("standard", "docs", "--out", str(tmp_path)).returncode == 0
    assert run("standard", "docs", "--check", "--out", str(tmp_path)).returncode == 0


def test_demo_ends_with_an_honest_summary(tmp_path: Path) -> None:
    result = run("demo", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "De sector per discipline" in result.stdout
    assert "Totaal" in result.stdout
    assert "Het dashboard volgt nog" in result.stdout
    assert len(list((tmp_path / "demo" / "exports").iterdir())) == 60
    assert (tmp_path / "demo" / "platform" / "warehouse.duckdb").is_file()
    assert (tmp_path / "demo" / "publieksdata.key").stat().st_mode & 0o777 == 0o600
    again = run("demo", "--out", str(tmp_path / "demo"))  # runs again on the same folder
    assert again.returncode == 0, again.stderr


RESERVED = (
    "Ordernr;Besteldatum;E-mail;Voorstelling;Aanvang;Bedrag;Status\n"
    "A1;01-03-2024 10:05;p@example.nl;De Storm;15-03-2024 20:00;25,50;Verkocht\n"
    "A2;02-03-2024 11:00;a@example.nl;De Storm;15-03-2024 20:00;12,75;Gereserveerd\n"
    "A3;02-03-2024 12:00;b@example.nl;Hamlet;16-03-2024 20:15;12,75;Gereserveerd\n"
)


def test_a_value_outside_the_code_list_is_mapped_and_the_file_delivered_again(
    tmp_path: Path,
) -> None:
    """The advice names --value; the same file delivered again with it replaces the first
    delivery instead of being refused as a repeat, and nothing counts twice."""
    export = tmp_path / "export.csv"
    export.write_text(RESERVED, "utf-8")
    assert run("key", "init", "--key-file", str(tmp_path / "key")).returncode == 0
    deliver = ("--lang", "en", "deliver", str(export), "--institution", "I0009", "--no-prepare",
               "--data", str(tmp_path / "data"), "--key-file", str(tmp_path / "key"))  # fmt: skip
    first = run(*deliver)
    assert first.returncode == 0, first.stderr
    assert "loaded 1, rejected 2" in first.stdout
    assert "--value 'Column:value=code'" in first.stdout
    for wrong, code in (
        ("Status=cancelled", "[cli-value]"),
        ("Status:Gereserveerd=reserved", "[mapping-value-code]"),
        ("Voorstelling:Hamlet=cancelled", "[mapping-value-column]"),
        ("E-mail piet.canary@example.nl", "[cli-value]"),  # what is typed is not repeated
        ("Status:Gereserveerd=piet.canary@example.nl", "[mapping-value-code]"),
    ):
        refused = run(*deliver, "--value", wrong)
        assert refused.returncode == 2, wrong
        assert refused.stderr.startswith(code), refused.stderr
        assert "canary" not in refused.stderr
    again = run(*deliver, "--value", "Status:Gereserveerd=cancelled")
    assert again.returncode == 0, again.stderr
    assert "loaded 3, rejected 0" in again.stdout
    assert "Replaces delivery 1." in again.stdout
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as db:
        statuses = db.execute("SELECT delivery_id, status FROM deliveries ORDER BY 1").fetchall()
        tickets = db.execute("SELECT delivery_id, count(*) FROM tickets GROUP BY 1").fetchall()
    assert statuses == [(1, "replaced"), (2, "loaded")]
    assert tickets == [(2, 3)]
    repeat = run(*deliver)  # the same file without a correction: a repeat, nothing added
    assert "delivered before (delivery 2)" in repeat.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("publieksdata ")


def test_deliver_tells_what_is_missing_and_takes_a_correction(tmp_path: Path) -> None:
    export = tmp_path / "eigen export.csv"
    export.write_text(OWN_EXPORT, "utf-8")
    settings = ("--data", str(tmp_path / "data"), "--key-file", str(tmp_path / "key"))
    assert run("key", "init", "--key-file", str(tmp_path / "key")).returncode == 0
    refused = run("deliver", str(export), "--institution", "I0009", *settings)
    assert refused.returncode == 2
    assert "[mapping-incomplete]" in refused.stderr
    assert "Onderdeel" in refused.stderr
    loaded = run("deliver", str(export), "--institution", "I0009", *settings,
                 "--map", "Onderdeel=production.title")  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "geladen 5" in loaded.stdout
    assert "1 productie heeft een voorgesteld genre; bevestig of verbeter die" in loaded.stdout
    assert "Dashboard voorbereid: 9 tabellen" in loaded.stdout  # 8 questions, who has data
    listed = run("deliveries", *settings)
    assert "I0009" in listed.stdout
    prepared = run("--lang", "en", "prepare", *settings)
    assert prepared.returncode == 0, prepared.stderr
    assert "Dashboard prepared: 6 tables" in prepared.stdout  # the sector's; I0009's are current
    unknown = run("prepare", "--institution", "I9999", *settings)
    assert unknown.returncode == 2
    assert "[insights-unknown-institution]" in unknown.stderr
