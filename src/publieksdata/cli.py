"""The ``publieksdata`` command: a thin Typer layer over the library.

Errors meant for people (:class:`PubliekError`) print as one line with what to do next and
exit with code 2; a traceback only appears with ``--debug``, and then without the messages
of other libraries' exceptions, which could quote data.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from publieksdata import __version__
from publieksdata.deliver.coding import confirm, load_institutions
from publieksdata.deliver.delivery import corrected_mapping, deliver_file, erase_file
from publieksdata.deliver.mapping import MappingStore
from publieksdata.deliver.problems import number
from publieksdata.errors import PubliekError
from publieksdata.insights.source import Source
from publieksdata.pseudonymise.keys import (
    DeploymentKey,
    check_fingerprint,
    init_key,
    load_key,
    previous_key_path,
    write_rotated,
)
from publieksdata.release import dashboard
from publieksdata.release.budget import Ledger
from publieksdata.release.export import write_csv, write_xlsx_release
from publieksdata.release.insights import Insights, View
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.tables import Release
from publieksdata.settings import SETTINGS, Settings
from publieksdata.standard.text import Language
from publieksdata.synth.config import SCALES, SynthConfig, scale
from publieksdata.synth.generator import SectorSummary, generate_sector
from publieksdata.warehouse.areas import load_areas
from publieksdata.warehouse.parquet import export_parquet
from publieksdata.warehouse.store import Warehouse
from publieksdata.warehouse.upkeep import retain as retain_seasons
from publieksdata.warehouse.upkeep import rotate

app = typer.Typer(
    help="publieksdata: privacy-by-design publieksdata voor de culturele sector / "
    "privacy-by-design audience data for the cultural sector.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
standard_app = typer.Typer(help="De datastandaard / the data standard.", no_args_is_help=True)
app.add_typer(standard_app, name="standard")
productions_app = typer.Typer(
    help="Producties en hun genre / productions and their genre.", no_args_is_help=True
)
app.add_typer(productions_app, name="productions")
key_app = typer.Typer(help="De pseudonimiseringssleutel / the pseudonymisation key.",
                      no_args_is_help=True)  # fmt: skip
app.add_typer(key_app, name="key")
insights_app = typer.Typer(
    help="Inzicht in het publiek, alleen als veilige totalen / audience insight, only as safe "
    "aggregates.",
    no_args_is_help=True,
)
app.add_typer(insights_app, name="insights")

DataOption = Annotated[
    Path | None,
    typer.Option("--data", help=f"{SETTINGS['data'].help} [env {SETTINGS['data'].env}]"),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file", help=f"{SETTINGS['key_file'].help} [env {SETTINGS['key_file'].env}]"
    ),
]

console = Console(stderr=True)
out = Console()
_state: dict[str, object] = {"debug": False, "language": "nl"}
DOCS_FOLDER = Path("docs/standard")

_STAGES = {
    "population": ("personen", "persons"),
    "institutions": ("instellingen", "institutions"),
    "programme": ("programma's", "programmes"),
    "purchases": ("aankopen", "purchases"),
    "exports": ("exports", "exports"),
}


def _say(nl: str, en: str) -> str:
    return nl if _state["language"] == "nl" else en


def _version(value: bool) -> None:
    if value:
        out.print(f"publieksdata {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="nl or en.")] = "nl",
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Options for every command."""
    if lang not in ("nl", "en"):
        raise PubliekError(
            "cli-language",
            f"Onbekende taal '{lang}'. Kies nl of en.",
            f"Unknown language '{lang}'. Choose nl or en.",
        )
    _state["debug"], _state["language"] = debug, lang


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        yield bar


def _generate(config: SynthConfig, folder: Path) -> SectorSummary:
    with _progress() as bar:
        tasks: dict[str, object] = {}

        def report(stage: str, done: int, total: int) -> None:
            nl, en = _STAGES[stage]
            if stage not in tasks:
                tasks[stage] = bar.add_task(_say(nl, en), total=total)
            bar.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        return generate_sector(config, folder, report)


def _summary_table(summary: SectorSummary) -> Table:
    sector = summary.expected["sector"]
    layouts = sorted({e["layout"] for e in summary.exports})
    table = Table(show_header=False, box=None)
    rows = [
        (_say("Instellingen", "Institutions"), f"{_n(len(summary.exports))}"),
        (_say("Personen in de exports", "Persons in the exports"), f"{_n(sector['persons'])}"),
        (
            _say("Exportbestanden", "Export files"),
            f"{_n(len(summary.exports))} ({len(layouts)} layouts: {', '.join(layouts)})",
        ),
        (_say("Regels", "Rows"), f"{_n(sector['rows_received'])}"),
        (_say("  waarvan dubbel", "  of which duplicate"), f"{_n(sector['rows_duplicate'])}"),
        (_say("  waarvan ongeldig", "  of which invalid"), f"{_n(sector['rows_invalid'])}"),
        (_say("Verkochte kaarten", "Tickets sold"), f"{_n(sector['tickets_sold'])}"),
        (_say("Seizoenen", "Seasons"), ", ".join(s.name for s in summary.config.season_list)),
        (_say("Tijd", "Time"), f"{summary.seconds:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the sector into.")] = Path(
        "demo-data"
    ),
    scale_name: Annotated[
        str, typer.Option("--scale", help=f"Size: {', '.join(SCALES)}.")
    ] = "tiny",
    institutions: Annotated[
        int | None, typer.Option(help="Override the number of institutions.")
    ] = None,
    persons: Annotated[int | None, typer.Option(help="Override the number of persons.")] = None,
    seasons: Annotated[int | None, typer.Option(help="Override the number of seasons.")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed; the same seed gives the same files.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Generate a synthetic sector: exports per institution plus ground truth for tests."""
    config = scale(scale_name)
    overrides = {"institutions": institutions, "persons": persons, "seasons": seasons, "seed": seed}
    chosen = {k: v for k, v in overrides.items() if v is not None}
    if chosen:
        config = SynthConfig(**{**vars(config), **chosen, "scale": "custom"})
    summary = _generate(config, out_dir)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "folder": str(summary.folder),
                    "seconds": summary.seconds,
                    "exports": summary.exports,
                    **summary.expected["sector"],
                }
            )
        )
        return
    out.print(_summary_table(summary))
    out.print(
        _say(
            f"Geschreven naar {out_dir}/ (ground truth in {out_dir}/truth/, alleen voor tests).",
            f"Written to {out_dir}/ (ground truth in {out_dir}/truth/, for tests only).",
        )
    )


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo sector.")] = Path(
        "demo-data"
    ),
) -> None:
    """The main job on the embedded default: a small synthetic sector, delivered by every
    institution into a fresh warehouse, with a report of what came in."""
    summary = _generate(scale("small"), out_dir)
    platform = out_dir / "platform"
    shutil.rmtree(platform, ignore_errors=True)
    key_file = out_dir / "publieksdata.key"
    key = load_key(key_file, env={}) if key_file.exists() else init_key(key_file)
    totals: Counter[str] = Counter()
    with Warehouse(platform / "warehouse.duckdb", key.fingerprint) as warehouse, _progress() as bar:
        load_institutions(warehouse, out_dir / "institutions.csv")
        task = bar.add_task(_say("leveringen", "deliveries"), total=len(summary.exports))
        for export in summary.exports:
            report = deliver_file(out_dir / export["file"], export["institution_id"], warehouse,
                                  key, mappings=MappingStore(platform / "mappings"))  # fmt: skip
            totals.update({k: getattr(report, k) for k in ("received", "loaded", "rejected",
                                                           "duplicates", "warnings")})  # fmt: skip
            bar.advance(task)
        persons = warehouse.scalar("SELECT count(DISTINCT person_id) FROM tickets")
        prepared = _prepare(warehouse, key, [], True, bar)  # the sector's; see 'prepare'
    out.rule("publieksdata demo")
    out.print(_summary_table(summary))
    table = Table(show_header=False, box=None)
    for label, value in (
        (_say("Geleverd: ontvangen", "Delivered: received"), totals["received"]),
        (_say("  geladen", "  loaded"), totals["loaded"]),
        (_say("  afgewezen", "  rejected"), totals["rejected"]),
        (_say("  dubbel", "  duplicates"), totals["duplicates"]),
        (_say("  waarschuwingen", "  warnings"), totals["warnings"]),
        (
            _say("Herkende personen (gepseudonimiseerd)", "Persons recognised (pseudonymised)"),
            persons,
        ),
    ):
        table.add_row(label, f"{_n(value)}")
    out.print(table)
    out.print(prepared)
    out.print(
        _say(
            f"\nElke instelling leverde haar export; identificerende gegevens zijn bij aankomst "
            "gepseudonimiseerd en staan nergens op schijf. "
            f"Warehouse: {platform}/warehouse.duckdb.\n",
            f"\nEvery institution delivered its export; identifiers were pseudonymised on arrival "
            f"and are on no disk. Warehouse: {platform}/warehouse.duckdb.\n",
        )
    )
    insights = Insights(Source.duckdb(platform / "warehouse.duckdb"), key, ReleasePolicy())
    out.rule(_say("De sector per discipline", "The sector by discipline"))
    _show(insights.sector().reach(by="discipline"), None, None, as_json=False)
    out.print(
        _say(
            "\nMeer: publieksdata insights reach --help. Het dashboard volgt nog.",
            "\nMore: publieksdata insights reach --help. The dashboard is still to come.",
        )
    )


@standard_app.command("docs")
def standard_docs(
    folder: Annotated[
        Path, typer.Option("--out", help="Where to write the documentation.")
    ] = DOCS_FOLDER,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the docs are current.")
    ] = False,
) -> None:
    """Write (or check) docs/standard/ from the standard's JSON source."""
    from publieksdata.standard.docs import stale_docs, write_docs

    if check:
        stale = stale_docs(folder)
        if stale:
            raise PubliekError(
                "standard-docs-stale",
                f"Verouderd: {', '.join(map(str, stale))}. Draai 'publieksdata standard docs'.",
                f"Out of date: {', '.join(map(str, stale))}. Run 'publieksdata standard docs'.",
            )
        out.print(_say("De documentatie is actueel.", "The documentation is up to date."))
        return
    for path in write_docs(folder):
        out.print(str(path))


@key_app.command("init")
def key_init(key_file: KeyOption = None) -> None:
    """Create a new deployment key file (mode 0600); refuses to overwrite one."""
    settings = Settings.load(key_file=key_file)
    key = init_key(settings.key_file)
    out.print(
        _say(
            f"Sleutel aangemaakt in {settings.key_file}, vingerafdruk {key.fingerprint}.",
            f"Key created in {settings.key_file}, fingerprint {key.fingerprint}.",
        )
    )


@key_app.command("fingerprint")
def key_fingerprint(key_file: KeyOption = None) -> None:
    """Print the key's fingerprint (not secret) to compare with the warehouse's."""
    key = load_key(Settings.load(key_file=key_file).key_file)
    out.print(key.fingerprint)


@key_app.command("rotate")
def key_rotate(data: DataOption = None, key_file: KeyOption = None) -> None:
    """Replace the key and re-key every stored pseudonym, without any raw data.

    The old key is kept next to the key file (name.g<generation>) until the warehouse is
    re-keyed; an interrupted rotation is resumed by running the command again.
    """
    settings = Settings.load(data=data, key_file=key_file)
    key = load_key(settings.key_file)
    with Warehouse(settings.warehouse, key.fingerprint, claim=False) as warehouse:
        stored = warehouse.meta("key_fingerprint")
        previous = previous_key_path(settings.key_file, key.generation - 1)
        if stored == key.fingerprint:  # a fresh rotation
            old, new = key, key.rotated()
            write_rotated(settings.key_file, new)
            previous = previous_key_path(settings.key_file, old.generation)
        elif previous.exists() and load_key(previous, env={}).fingerprint == stored:
            old, new = load_key(previous, env={}), key  # resume an interrupted rotation
        else:
            check_fingerprint(key, stored)
            return
        count = rotate(warehouse, old, new)
    previous.unlink()
    out.print(
        _say(
            f"Sleutel vervangen (generatie {new.generation}, vingerafdruk {new.fingerprint}); "
            f"{_n(count)} pseudoniemen opnieuw berekend.",
            f"Key replaced (generation {new.generation}, fingerprint {new.fingerprint}); "
            f"{_n(count)} pseudonyms re-keyed.",
        )
    )


def _warehouse(settings: Settings) -> tuple[Warehouse, DeploymentKey]:
    key = load_key(settings.key_file)
    return Warehouse(settings.warehouse, key.fingerprint), key


def _parse_map(pairs: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for pair in pairs:
        header, sep, target = pair.partition("=")
        if not sep:
            raise PubliekError(
                "cli-map", f"Schrijf --map als 'Kolom=veld', niet '{pair}'.",
                f"Write --map as 'Column=field', not '{pair}'.",
            )  # fmt: skip
        changes[header.strip()] = target.strip() or None
    return changes


def _parse_values(triples: list[str]) -> dict[str, dict[str, str]]:
    changes: dict[str, dict[str, str]] = {}
    for triple in triples:
        left, sep, code = triple.rpartition("=")
        header, colon, label = left.partition(":")
        if not (sep and colon and header.strip() and label.strip() and code.strip()):
            raise PubliekError(
                # not repeated: a value typed here could be anything, a person's too
                "cli-value", "Schrijf --value als 'Kolom:waarde=code', bijvoorbeeld "
                "'Status:Gereserveerd=cancelled'.",
                "Write --value as 'Column:value=code', for example "
                "'Status:Gereserveerd=cancelled'.",
            )  # fmt: skip
        changes.setdefault(header.strip(), {})[label.strip()] = code.strip()
    return changes


@app.command()
def deliver(
    file: Annotated[
        Path, typer.Argument(help="The export file (CSV, XLSX, XLS, ODS; gzip or zip).")
    ],
    institution: Annotated[
        str, typer.Option("--institution", help="Institution code, e.g. I0001.")
    ],
    period: Annotated[
        str | None,
        typer.Option(help="Period label; a new delivery for the same period replaces the old."),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Correct the mapping: 'Column=field' (repeatable)."),
    ] = None,
    values: Annotated[
        list[str] | None,
        typer.Option(
            "--value",
            help="Map a value to a code: 'Column:value=code', e.g. 'Status:Gereserveerd="
            "cancelled' (repeatable).",
        ),
    ] = None,
    data: DataOption = None,
    key_file: KeyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    prepare: Annotated[
        bool,
        typer.Option(help="Answer the institution's dashboard ahead, right after loading."),
    ] = True,
) -> None:
    """Deliver an export: read, map, validate, pseudonymise and load it, all or nothing."""
    if not file.is_file():
        raise PubliekError("deliver-no-file", f"Het bestand {file} bestaat niet.",
                           f"The file {file} does not exist.")  # fmt: skip
    settings = Settings.load(data=data, key_file=key_file)
    store = MappingStore(settings.mappings)
    profile = None
    if mapping or values:
        profile = corrected_mapping(file, institution, _parse_map(mapping or []), store,
                                    values=_parse_values(values or []))  # fmt: skip
    warehouse, key = _warehouse(settings)
    with warehouse, _progress() as bar:
        task = bar.add_task(_say("rijen", "rows"), total=None)
        report = deliver_file(
            file, institution, warehouse, key, mappings=store, profile=profile, period=period,
            progress=lambda rows: bar.update(task, completed=rows),
        )  # fmt: skip
        prepared = None
        if prepare and report.status == "loaded" and report.loaded > 0:
            prepared = _prepare(warehouse, key, [institution], False, bar)
    if as_json:
        out.print_json(json.dumps(asdict(report)))
    else:
        for line in report.lines(_language()):
            out.print(escape(line), highlight=False)
        if prepared is not None:
            out.print(prepared)
    if report.status == "loaded" and report.loaded == 0:
        sys.exit(1)


def _prepare(warehouse: Warehouse, key: DeploymentKey, institutions: list[str] | None,
             sector: bool, bar: Progress) -> str:  # fmt: skip
    """Answer dashboards ahead; an unexpected failure here leaves the data as loaded, and the
    dashboard is then computed when it is opened."""
    task = bar.add_task(_say("dashboard", "dashboard"), total=None)
    started = time.perf_counter()
    try:
        count = dashboard.prepare(warehouse, key, institutions, sector=sector,
                                  progress=lambda done, total: bar.update(
                                      task, completed=done, total=total))  # fmt: skip
    except PubliekError:
        raise  # a question asked wrongly (an institution without data) is said as such
    except Exception as error:  # the delivery itself is committed; say so and go on
        return _say(
            f"Dashboard niet voorbereid ({type(error).__name__}); het wordt berekend als u "
            "het opent.",
            f"Dashboard not prepared ({type(error).__name__}); it is computed when opened.",
        )
    seconds = time.perf_counter() - started
    return _say(f"Dashboard voorbereid: {_n(count)} tabellen in "
                f"{f'{seconds:.1f}'.replace('.', ',')} s.",
                f"Dashboard prepared: {_n(count)} tables in {seconds:.1f} s.")  # fmt: skip


@app.command("prepare")
def prepare_command(
    institution: Annotated[
        list[str] | None, typer.Option("--institution", help="Only these institutions.")
    ] = None,
    sector: Annotated[
        bool, typer.Option(help="Also the sector overview and the overlap matrices.")
    ] = True,
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Answer the dashboards ahead for the data as it is now (after a batch of deliveries,
    or nightly): every institution's, and the sector's."""
    warehouse, key = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse, _progress() as bar:
        said = _prepare(warehouse, key, institution or None, sector, bar)
    out.print(said)


@app.command()
def budget(
    data: DataOption = None,
    policy: PolicyOption = None,
) -> None:
    """The privacy budget for differentially private sector tables: spent and left."""
    settings = Settings.load(data=data, policy=policy)
    chosen = settings.release_policy()
    ledger = Ledger(settings.ledger)
    spent, tables = ledger.spent(), ledger.releases()

    def nl(value: float) -> str:
        return f"{value:.2f}".replace(".", ",")

    out.print(_say(
        f"Differentiële privacy staat {'aan' if chosen.private else 'uit'}: ε = {nl(spent)} van "
        f"{nl(chosen.dp_budget)} besteed in {_n(tables)} {'tabel' if tables == 1 else 'tabellen'}"
        f"; {nl(chosen.dp_epsilon)} per nieuwe tabel.",
        f"Differential privacy is {'on' if chosen.private else 'off'}: ε = {spent:.2f} of "
        f"{chosen.dp_budget:.2f} spent in {_n(tables)} {'table' if tables == 1 else 'tables'}; "
        f"{chosen.dp_epsilon:.2f} per new table.",
    ))  # fmt: skip


@app.command()
def deliveries(
    institution: Annotated[str | None, typer.Option(help="Only this institution.")] = None,
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """List deliveries with their counts and status."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    table = Table("id", _say("instelling", "institution"), _say("periode", "period"), "status",
                  _say("ontvangen", "received"), _say("geladen", "loaded"),
                  _say("afgewezen", "rejected"), _say("dubbel", "duplicates"))  # fmt: skip
    with warehouse:
        for d in warehouse.deliveries(institution):
            counts = [
                f"{_n(d.report[k])}" for k in ("received", "loaded", "rejected", "duplicates")
            ]
            table.add_row(str(d.delivery_id), d.institution_id, d.period, d.status, *counts)
    out.print(table)


@app.command()
def erase(
    file: Annotated[Path, typer.Argument(help="File listing the persons' identifiers.")],
    institution: Annotated[str, typer.Option("--institution", help="Institution code.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Erase persons (listed by e-mail, phone, customer number or name and address) from an
    institution's records, and keep them out of later deliveries."""
    warehouse, key = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse:
        done = erase_file(file, institution, warehouse, key)
    out.print(
        _say(
            f"{_n(done.persons)} personen gevonden, {_n(done.rows)} rijen verwijderd; "
            "zij worden ook uit latere leveringen geweerd.",
            f"{_n(done.persons)} persons found, {_n(done.rows)} rows removed; they are kept out of "
            "later deliveries too.",
        )
    )


@app.command()
def retain(
    seasons: Annotated[int, typer.Option(help="Seasons to keep, the current one included.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Apply the retention period: remove facts of performances older than N seasons."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse:
        removed = retain_seasons(warehouse, seasons)
    out.print(_say(f"{_n(removed)} rijen ouder dan {seasons} seizoenen verwijderd.",
                   f"{_n(removed)} rows older than {seasons} seasons removed."))  # fmt: skip


@app.command()
def institutions(
    file: Annotated[Path, typer.Argument(help="CSV of the standard's institution resource.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Load or update the register of participating institutions."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse:
        count = load_institutions(warehouse, file)
    out.print(_say(f"{_n(count)} instellingen geladen.", f"{_n(count)} institutions loaded."))


@productions_app.command("list")
def productions_list(
    institution: Annotated[str, typer.Option("--institution", help="Institution code.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """List an institution's productions with their discipline, genre and how sure it is."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    table = Table(_say("titel", "title"), "discipline", "genre", _say("bron", "source"),
                  _say("zekerheid", "confidence"), _say("ook bij", "also at"))  # fmt: skip
    with warehouse:
        for title, discipline, genre, source, confidence, elsewhere in warehouse.db.execute(
            "SELECT p.title, p.discipline, p.genre, p.source, p.confidence, "
            "(SELECT count(DISTINCT o.institution_id) FROM productions o "
            " WHERE o.production_key = p.production_key AND o.institution_id <> p.institution_id) "
            "FROM productions p WHERE p.institution_id = ? ORDER BY p.source DESC, p.title",
            [institution],
        ).fetchall():
            table.add_row(title, discipline or "-", genre or "-", source, f"{confidence:.0%}",
                          str(elsewhere))  # fmt: skip
    out.print(table)


@productions_app.command("confirm")
def productions_confirm(
    institution: Annotated[str, typer.Option("--institution", help="Institution code.")],
    title: Annotated[str, typer.Option("--title", help="The production's title.")],
    genre: Annotated[str, typer.Option("--genre", help="A genre code of the standard.")],
    producer: Annotated[
        str | None, typer.Option(help="The producer, if the export names one.")
    ] = None,
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Confirm or correct the genre of a production; later deliveries keep it."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse:
        rows = confirm(warehouse, institution, title, genre, producer)
    out.print(_say(f"Genre vastgelegd; {_n(rows)} rijen bijgewerkt.",
                   f"Genre recorded; {_n(rows)} rows updated."))  # fmt: skip


@app.command()
def withdraw(
    delivery_id: Annotated[int, typer.Argument(help="The delivery to withdraw.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Withdraw a delivery: its rows leave the warehouse, the record of it stays."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse, warehouse.transaction():
        known = {d.delivery_id: d for d in warehouse.deliveries()}
        if delivery_id not in known or known[delivery_id].status != "loaded":
            raise PubliekError(
                "withdraw-unknown",
                f"Er is geen geladen levering {delivery_id}. Zie 'publieksdata deliveries'.",
                f"There is no loaded delivery {delivery_id}. See 'publieksdata deliveries'.",
            )
        removed = warehouse.withdraw(delivery_id)
        warehouse.log("delivery-withdrawn", known[delivery_id].institution_id,
                      {"delivery": delivery_id, "rows": removed})  # fmt: skip
    out.print(
        _say(
            f"Levering {delivery_id} ingetrokken: {_n(removed)} rijen verwijderd.",
            f"Delivery {delivery_id} withdrawn: {_n(removed)} rows removed.",
        )
    )


PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help=f"{SETTINGS['policy'].help} [env {SETTINGS['policy'].env}]"),
]
_INSTITUTION_HELP = "Your institution's code, e.g. I0001."
InstitutionOption = Annotated[str, typer.Option("--institution", help=_INSTITUTION_HELP)]
MaybeInstitutionOption = Annotated[
    str | None, typer.Option("--institution", help=_INSTITUTION_HELP)
]
SeasonOption = Annotated[
    list[str] | None, typer.Option("--season", help="Only this season, e.g. 2024-2025.")
]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Also write a CSV.")]
XlsxOption = Annotated[Path | None, typer.Option("--xlsx", help="Also write an XLSX.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
SectorOption = Annotated[bool, typer.Option("--sector", help="All institutions together instead.")]
GroupOption = Annotated[
    str,
    typer.Option(
        "--by",
        help="discipline, region_discipline (province and discipline) or institution (those "
        "that agreed to be named, the others together).",
    ),
]


def _insights(settings: Settings) -> Insights:
    key = load_key(settings.key_file)
    with Warehouse(settings.warehouse, key.fingerprint, read_only=True):
        pass  # refuses a missing warehouse or another key before any query runs
    return Insights(Source.duckdb(settings.warehouse), key, settings.release_policy(),
                    Ledger(settings.ledger))  # fmt: skip


def _show(release: Release, csv_path: Path | None, xlsx_path: Path | None, as_json: bool) -> None:
    language = _language()
    if csv_path is not None:
        write_csv(release, csv_path, language)
    if xlsx_path is not None:
        write_xlsx_release(release, xlsx_path, language)
    if as_json:
        rows = release.table.to_pylist()
        out.print_json(json.dumps({"metric": release.metric, "by": release.by,
                                   "scope": release.scope, "cells": rows,
                                   "notes": release.notes(language)}))  # fmt: skip
        return
    header, *rows = release.rows(language)
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    for note in release.notes(language):
        out.print(escape(note), highlight=False)


@app.command("refdata")
def refdata(
    file: Annotated[Path, typer.Argument(help="CBS figures per PC4 (CSV), see the guide.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Load public reference data per postcode area: inhabitants, municipality, province."""
    if not file.is_file():
        raise PubliekError("refdata-no-file", f"Het bestand {file} bestaat niet.",
                           f"The file {file} does not exist.")  # fmt: skip
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse:
        name, count = load_areas(warehouse, file)
    out.print(_say(f"{_n(count)} postcodegebieden geladen ({name}).",
                   f"{_n(count)} postcode areas loaded ({name})."))  # fmt: skip


@app.command("export-parquet")
def export_parquet_command(
    folder: Annotated[Path, typer.Argument(help="Folder for the Parquet files.")],
    data: DataOption = None,
    key_file: KeyOption = None,
) -> None:
    """Write the warehouse as Parquet for Apache Spark (no customer pseudonyms or order
    numbers leave)."""
    warehouse, _ = _warehouse(Settings.load(data=data, key_file=key_file))
    with warehouse:
        written = export_parquet(warehouse, folder)
    for table, rows in written.items():
        out.print(f"{folder / (table + '.parquet')}: {_n(rows)} {_say('rijen', 'rows')}")


@insights_app.command("reach")
def insights_reach(
    institution: MaybeInstitutionOption = None,
    sector: SectorOption = False,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Breakdown (at most two), e.g. pc4, season, age_band."),
    ] = None,
    season: SeasonOption = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """Reach, visits, tickets, revenue and average spend, by up to two breakdowns."""
    view = _view(Settings.load(data=data, key_file=key_file, policy=policy), institution, sector)
    _show(view.reach(by=by, season=season), csv_path, xlsx_path, as_json)


@insights_app.command("crossover")
def insights_crossover(
    institution: InstitutionOption,
    by: GroupOption = "discipline",
    season: SeasonOption = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """Where else your audience goes: other disciplines, groups of institutions, named ones."""
    view = _view(Settings.load(data=data, key_file=key_file, policy=policy), institution, False)
    _show(view.crossover(by=by, season=season), csv_path, xlsx_path, as_json)


@insights_app.command("overlap")
def insights_overlap(
    by: GroupOption = "discipline",
    season: SeasonOption = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """The sector's overlap matrix: persons who visited both of every two groups."""
    view = _view(Settings.load(data=data, key_file=key_file, policy=policy), None, True)
    _show(view.overlap(by=by, season=season), csv_path, xlsx_path, as_json)


@insights_app.command("penetration")
def insights_penetration(
    institution: MaybeInstitutionOption = None,
    sector: SectorOption = False,
    by: Annotated[str, typer.Option("--by", help="pc4, municipality or province.")] = "pc4",
    season: SeasonOption = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """Market penetration: visitors per 1,000 inhabitants per area (needs 'refdata')."""
    view = _view(Settings.load(data=data, key_file=key_file, policy=policy), institution, sector)
    _show(view.penetration(by=by, season=season), csv_path, xlsx_path, as_json)


@insights_app.command("benchmark")
def insights_benchmark(
    institution: InstitutionOption,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Breakdown (at most two), e.g. season.")
    ] = None,
    peers: Annotated[
        str,
        typer.Option(
            "--peers",
            help="discipline_size (same main discipline and size) or region (same province).",
        ),
    ] = "discipline_size",
    season: SeasonOption = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """Your figures beside your peer group's (at least 3 other institutions)."""
    view = _view(Settings.load(data=data, key_file=key_file, policy=policy), institution, False)
    _show(view.benchmark(by=by, season=season, peers=peers), csv_path, xlsx_path, as_json)


@insights_app.command("pacing")
def insights_pacing(
    institution: InstitutionOption,
    today: Annotated[
        str | None, typer.Option("--today", help="Pace as on this day (YYYY-MM-DD).")
    ] = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """Pre-sales of upcoming performances against comparable past ones, with a projection."""
    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise PubliekError("insights-bad-date", f"'{today}' is geen datum; schrijf JJJJ-MM-DD.",
                           f"'{today}' is not a date; write YYYY-MM-DD.") from None  # fmt: skip
    view = _view(Settings.load(data=data, key_file=key_file, policy=policy), institution, False)
    _show(view.pacing(today=day), csv_path, xlsx_path, as_json)


@insights_app.command("tour")
def insights_tour(
    title: Annotated[str, typer.Option("--title", help="The production's title.")],
    producer: Annotated[
        str | None, typer.Option("--producer", help="Its producer, where venues deliver it.")
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="venue (default), region_discipline or any breakdown."),
    ] = None,
    season: SeasonOption = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    as_json: JsonOption = False,
    data: DataOption = None,
    key_file: KeyOption = None,
    policy: PolicyOption = None,
) -> None:
    """A touring production's audience at every venue that played it (for its producer)."""
    insights = _insights(Settings.load(data=data, key_file=key_file, policy=policy))
    released = insights.tour(title, producer, by=by or "venue", season=season)
    _show(released, csv_path, xlsx_path, as_json)


def _view(settings: Settings, institution: str | None, sector: bool) -> View:
    if (institution is None) == (not sector):
        raise PubliekError(
            "insights-scope",
            "Kies --institution CODE (uw eigen publiek) of --sector (alle instellingen samen).",
            "Choose --institution CODE (your own audience) or --sector (all institutions).",
        )
    insights = _insights(settings)
    return insights.sector() if sector else insights.for_institution(str(institution))


def _n(value: int) -> str:
    """A whole number written the way the user's language writes it (1.204 or 1,204)."""
    return number(int(value), _language())


def _language() -> Language:
    return "en" if _state["language"] == "en" else "nl"


def safe_traceback(error: BaseException) -> str:
    """A traceback without the messages of other libraries' exceptions: where it went
    wrong (files, lines, functions, code) and which exceptions, but not what they say, for
    a library may quote the data it choked on (a CSV line, a value). Our own errors never
    name an identifying value, so their message stays."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        said = current.message("en") if isinstance(current, PubliekError) else "(message left out)"
        parts.append(f"Traceback (most recent call last):\n{frames}"
                     f"{type(current).__module__}.{type(current).__name__}: {said}\n")  # fmt: skip
        current = current.__cause__ or current.__context__
    return "\nwhich was raised while handling:\n".join(reversed(parts))


def main() -> None:
    """Entry point: run the app, turning errors meant for people into one line."""
    try:
        app()  # standalone: Typer itself reports wrong options and exits with code 2
    except PubliekError as error:
        if _state["debug"]:
            sys.stderr.write(safe_traceback(error))
        console.print(f"[red]{escape(error.message(_language()))}[/red]", highlight=False)
        sys.exit(2)
    except Exception as error:
        if _state["debug"]:
            sys.stderr.write(safe_traceback(error))
        console.print(
            _say(
                f"[red]Onverwachte fout ({type(error).__name__}). Draai opnieuw met --debug en "
                "meld het aan het datateam.[/red]",
                f"[red]Unexpected error ({type(error).__name__}). Run again with --debug "
                "and report it to the data team.[/red]",
            ),
            highlight=False,
        )
        sys.exit(1)
