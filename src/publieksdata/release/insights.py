"""The one query API for audience insight, used by the CLI, the service and the web app.

    insights = Insights(Source.duckdb(settings.warehouse), key, settings.release_policy())
    insights.for_institution("I0001").reach(by="pc4", season="2024-2025")

An institution sees its own audience; the sector view combines all institutions and obeys
the institution rules as well. Every answer is a :class:`Release`: it has passed the
disclosure-control layer, and nothing else leaves.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pyarrow as pa

from publieksdata.deliver.coding import production_key
from publieksdata.errors import PubliekError
from publieksdata.insights.crossover import CROSSOVER, TOUR, elsewhere, on_tour
from publieksdata.insights.dimensions import DIMENSIONS, UNKNOWN, dimensions
from publieksdata.insights.overlap import ALSO, GROUP, matrix_dimensions, pairs
from publieksdata.insights.pacing import PERFORMANCE, curves, performance, upcoming
from publieksdata.insights.source import Source
from publieksdata.insights.tabulate import COUNTED, RecordKeys, bounded, tabulate
from publieksdata.insights.visits import visits
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.release.budget import Ledger
from publieksdata.release.policy import ReleasePolicy
from publieksdata.release.private import domain, private_table
from publieksdata.release.tables import Release, Scope, ordered, release
from publieksdata.standard.definitions import Season, season_of
from publieksdata.standard.text import Text
from publieksdata.warehouse import cubes

AREAS = ("pc4", "municipality", "province")
SECTOR_WIDE = {"sector_newcomer", "sector_retention"}  # an own question reading everyone's
PEER_GROUPS = ("discipline_size", "region")

Breakdown = str | Sequence[str] | None
SeasonChoice = str | Season | Sequence[str | Season] | None


def seasons(choice: SeasonChoice) -> list[Season] | None:
    """The checked seasons asked for (None: every season)."""
    if choice is None:
        return None
    items = [choice] if isinstance(choice, str | Season) else list(choice)
    out = []
    for item in items:
        if isinstance(item, Season):
            out.append(item)
            continue
        try:
            out.append(Season.parse(item))
        except ValueError:
            raise PubliekError(
                "insights-bad-season",
                f"'{item}' is geen seizoen; schrijf het als 2025-2026.",
                f"'{item}' is not a season; write it as 2025-2026.",
            ) from None
    return out


@dataclass
class View:
    """The questions one audience can be asked: an institution's own, or the sector's."""

    insights: Insights
    institutions: list[str] | None
    scope: Scope

    def reach(self, by: Breakdown = None, season: SeasonChoice = None) -> Release:
        """Reach, visits, tickets, revenue and average spend, cut by up to two breakdowns."""
        names = dimensions(by)
        if self.scope == "sector" and self.insights.policy.private:
            return self.insights.private_reach(names, seasons(season))
        table = self.insights.tabulation("reach", self.institutions, seasons(season), names)
        return release("reach", table, names, self.scope, self.insights.policy)

    def penetration(self, by: str = "pc4", season: SeasonChoice = None) -> Release:
        """Visitors per 1,000 inhabitants per postcode area, municipality or province, from
        released reach and the public population figures loaded as reference data."""
        names = dimensions(by, {d: DIMENSIONS[d] for d in AREAS}, most=1)
        population, labels = self.insights.population(names[0])
        released = self.reach(by=names, season=season)
        if labels:
            area = replace(DIMENSIONS[names[0]], labels=labels)
            released = replace(released, breakdowns={**released.breakdowns, names[0]: area})
        return released.with_penetration(population)

    def benchmark(self, by: Breakdown = None, season: SeasonChoice = None,
                  peers: str = "discipline_size") -> Release:  # fmt: skip
        """This institution beside its peer group — the same main discipline and size class
        (``discipline_size``) or the same province (``region``) — per cell: reach, visits per
        visitor and average spend. The peer figures combine at least 3 institutions."""
        institution = self._own("benchmark")
        group = self.insights.peers(institution, peers)
        names = dimensions(by)
        chosen = seasons(season)
        table = self.insights.tabulation("reach", group, chosen, names)
        theirs = release("benchmark", table, names, "sector", self.insights.policy)
        return theirs.beside(self.reach(by=names, season=season))

    def pacing(self, today: dt.date | None = None) -> Release:
        """Upcoming performances: tickets sold so far, the share of final sales comparable
        past performances (same discipline, last two years) had reached as many days before
        the start, and the projected final sales."""
        institution = self._own("pacing")
        today = today or dt.date.today()
        metric = f"pacing@{today.isoformat()}"
        table = self.insights.tabulation(metric, [institution], None, ("performance",))
        released = release("pacing", table, ("performance",), "own", self.insights.policy,
                           PERFORMANCE)  # fmt: skip
        disciplines = self.insights.upcoming_disciplines(institution, today)
        return released.with_pacing(curves(self.insights.source, institution, today),
                                    disciplines, today)  # fmt: skip

    def overlap(self, by: str = "discipline", season: SeasonChoice = None) -> Release:
        """The sector's overlap matrix: for every two groups — disciplines, province and
        main discipline, or institutions that agreed to be named (the others together) —
        the persons who visited both, and their share of the first group's visitors. Each
        cell combines the institutions of both groups, so the institution rules apply."""
        if self.scope != "sector":
            raise PubliekError(
                "insights-overlap-scope",
                "De overlapmatrix is een vraag over de hele sector (--sector); voor uw eigen "
                "publiek is er 'crossover'.",
                "The overlap matrix is a question about the whole sector (--sector); for your "
                "own audience there is 'crossover'.",
            )
        name = dimensions(by, CROSSOVER, most=1)[0]
        table = self.insights.tabulation(f"overlap@{name}", None, seasons(season),
                                         (GROUP, ALSO))  # fmt: skip
        sides = matrix_dimensions(name)
        matrix = release("overlap", table, (GROUP, ALSO), "sector", self.insights.policy,
                         sides).as_matrix()  # fmt: skip
        if matrix.table.num_rows == 0:
            raise PubliekError(
                "insights-no-visits",
                "Er zijn geen bezoeken van herkende personen in deze selectie; kies een ander "
                "seizoen.",
                "There are no visits of recognised persons in this selection; choose another "
                "season.",
            )
        return matrix

    def _own(self, question: str) -> str:
        if self.scope != "own" or not self.institutions:
            raise PubliekError(
                f"insights-{question}-scope",
                "Dit vraagt u voor uw eigen instelling (--institution).",
                "Ask this for your own institution (--institution).",
            )
        return self.institutions[0]

    def crossover(self, by: str = "discipline", season: SeasonChoice = None) -> Release:
        """Where else this audience goes: the persons of it who also visited other
        disciplines, groups of institutions (province and discipline) or institutions that
        agreed to be named — figures about others, so the institution rules apply."""
        self._own("crossover")
        names = dimensions(by, CROSSOVER, most=1)
        chosen = seasons(season)
        table = self.insights.tabulation("crossover", self.institutions, chosen, names)
        released = release("crossover", table, names, "sector", self.insights.policy, CROSSOVER)
        audience = self.reach(season=season).table.column("persons")[0].as_py()
        return released.with_share(audience)


class Insights:
    """Entry point: a source of warehouse data, the key for record keys, the policy."""

    CACHED = 256  # tabulations kept; the read-only source cannot change while it is open

    def __init__(self, source: Source, key: DeploymentKey, policy: ReleasePolicy,
                 ledger: Ledger | None = None) -> None:  # fmt: skip
        self.source = source
        self.record_keys = RecordKeys.from_key(key)
        self.policy = policy
        self.ledger = ledger  # needed for differential privacy: the budget is kept there
        self._institutions: list[str] | None = None
        self._tabulations: OrderedDict[tuple[object, ...], pa.Table] = OrderedDict()
        self._versions: dict[str, int] | None = None
        # what was computed rather than found stored, for dashboard.prepare to keep:
        # (question, stamp, cells), the latest only
        self.computed: deque[tuple[str, str, pa.Table]] = deque(maxlen=self.CACHED)

    def versions(self) -> dict[str, int]:
        """The data versions, read once per open source (it cannot change meanwhile)."""
        if self._versions is None:
            self._versions = self.source.versions()
        return self._versions

    def institutions(self) -> list[str]:
        """Institutions with data in the warehouse."""
        if self._institutions is None:
            made_from = cubes.stamp(self.versions(), {cubes.FACTS}, self.record_keys.fingerprint)
            stored = self.source.cube("institutions", made_from)
            if stored is None:
                t = self.source.table("tickets")
                found = t.select("institution_id").distinct().to_pyarrow().column(0).to_pylist()
                stored = pa.table({"institution_id": sorted(str(i) for i in found)})
                self.computed.append(("institutions", made_from, stored))
            self._institutions = [str(i) for i in stored.column(0).to_pylist()]
        return self._institutions

    def tabulation(self, metric: str, institutions: list[str] | None,
                   chosen: list[Season] | None, by: tuple[str, ...]) -> pa.Table:  # fmt: skip
        """The unreleased tabulation of a question, computed once per open source."""
        key = (metric, tuple(institutions or ()), tuple(chosen or ()), by)
        if key in self._tabulations:
            self._tabulations.move_to_end(key)
            return self._tabulations[key]
        question, made_from = self._stamp(metric, institutions, chosen, by)
        stored = self.source.cube(question, made_from)
        if stored is not None:
            return self._keep(key, stored)
        table = self._compute(metric, institutions, chosen, by)
        self.computed.append((question, made_from, table))
        return self._keep(key, table)

    def _stamp(self, metric: str, institutions: list[str] | None,
               chosen: list[Season] | None, by: tuple[str, ...]) -> tuple[str, str]:  # fmt: skip
        """The question as stored tabulations name it, and the data it reads: an
        institution's own visits, or (about others, or with the sector's history) the
        whole sector's; always the register and the reference data."""
        question = "|".join((metric, ",".join(institutions or ()),
                             ",".join(s.name for s in chosen or ()), ",".join(by)))  # fmt: skip
        own = (metric == "reach" or metric.startswith("pacing@")) and not SECTOR_WIDE & set(by)
        reads = set(institutions or ()) if own and institutions else {cubes.FACTS}
        made_from = cubes.stamp(self.versions(), reads | {cubes.AREAS, cubes.REGISTER},
                                self.record_keys.fingerprint)  # fmt: skip
        # retention and recency count from the current season: a new season, a new answer
        return question, f"{made_from};now={season_of(dt.date.today()).name}"

    def _keep(self, key: tuple[object, ...], table: pa.Table) -> pa.Table:
        self._tabulations[key] = table
        if len(self._tabulations) > self.CACHED:
            self._tabulations.popitem(last=False)
        return table

    def _compute(self, metric: str, institutions: list[str] | None,
                 chosen: list[Season] | None, by: tuple[str, ...]) -> pa.Table:  # fmt: skip
        if metric == "crossover" and institutions:
            base = elsewhere(self.source, institutions[0], chosen)
            return tabulate(base, by, self.record_keys, self.institutions(), CROSSOVER)
        if metric.startswith("overlap@"):
            base = pairs(self.source, metric[8:], chosen)
            sides = matrix_dimensions(metric[8:])  # no margins: they are never released
            return tabulate(base, by, self.record_keys, self.institutions(), sides,
                            margins=False)  # fmt: skip
        if metric.startswith("tour@"):
            base = on_tour(self.source, metric[5:], chosen)
            return tabulate(base, by, self.record_keys, self.institutions(), TOUR)
        if metric.startswith("pacing@") and institutions:
            base = upcoming(self.source, institutions[0], dt.date.fromisoformat(metric[7:]))
            return tabulate(base, by, self.record_keys, self.institutions(), PERFORMANCE)
        needs = {n for d in by if (n := DIMENSIONS[d].needs) is not None}
        base = visits(self.source, institutions=institutions, seasons=chosen, extras=needs)
        return tabulate(base, by, self.record_keys, self.institutions())

    def private_reach(self, by: tuple[str, ...], chosen: list[Season] | None) -> Release:
        """The sector's reach with differential privacy, within the privacy budget: a
        question asked before of the same data gets the same answer and spends nothing."""
        if self.ledger is None:
            raise PubliekError(
                "privacy-no-ledger",
                "Differentiële privacy staat aan, maar er is geen budgetadministratie; open "
                "de inzichten met een Ledger (de CLI doet dat in de datamap).",
                "Differential privacy is on, but there is no budget ledger; open the insights "
                "with a Ledger (the CLI keeps it in the data folder).",
            )
        policy = self.policy
        question, made_from = self._stamp("private-reach", None, chosen, by)
        made_from += (f";dp={policy.dp_epsilon},{policy.dp_max_cells},{policy.dp_max_visits},"
                      f"{policy.dp_max_tickets}")  # fmt: skip
        table = self.ledger.answer(question, made_from)
        if table is None:
            protection = self.tabulation("reach", None, chosen, by)
            domains = [self._domain(d, protection, chosen) for d in by]
            needs = {n for d in by if (n := DIMENSIONS[d].needs) is not None}
            base = visits(self.source, institutions=None, seasons=chosen, extras=needs)
            cells = bounded(base, by, max_cells=policy.dp_max_cells,
                            max_visits=policy.dp_max_visits,
                            max_tickets=policy.dp_max_tickets)  # fmt: skip
            fresh, spent = private_table(cells, protection, by, domains, policy)
            table = self.ledger.spend(question, made_from, spent, policy.dp_budget,
                                      ordered(fresh, by, DIMENSIONS))  # fmt: skip
        return Release("reach", by, "sector", policy, table, figures=COUNTED, private=True)

    def _domain(self, name: str, tabulation: pa.Table,
                chosen: list[Season] | None) -> list[str]:  # fmt: skip
        if name == "season" and chosen:  # the seasons asked for, whoever came
            return domain(DIMENSIONS[name], [s.name for s in chosen], None)
        areas = None
        if name in ("pc4", "municipality"):
            try:
                areas = [a for a in self.population(name)[0] if a is not None]
            except PubliekError:
                areas = None
        observed = [v for v in tabulation.column(name).to_pylist() if v is not None]
        return domain(DIMENSIONS[name], observed, areas)

    def population(self, by: str) -> tuple[dict[str | None, int | None], dict[str, Text]]:
        """Inhabitants per area (None: the whole country) and the areas' names."""
        try:
            areas = self.source.table("areas")
            loaded = int(areas.count().execute()) > 0
        except Exception:  # a warehouse from before reference data existed has no such table
            loaded = False
        if not loaded:
            raise PubliekError(
                "areas-missing",
                "Er zijn geen bevolkingscijfers per PC4 geladen. Laad ze met "
                "'publieksdata refdata BESTAND' (zie de beheerdershandleiding).",
                "No population figures per PC4 are loaded. Load them with "
                "'publieksdata refdata FILE' (see the operator guide).",
            )
        column = {"pc4": "pc4", "municipality": "municipality_code",
                  "province": "province_code"}[by]  # fmt: skip
        rows = areas.to_pyarrow().to_pylist()
        population: dict[str | None, int | None] = {}
        for row in rows:
            key = row[column] or UNKNOWN
            if row["inhabitants"] is not None:
                population[key] = (population.get(key) or 0) + row["inhabitants"]
        population[None] = sum(r["inhabitants"] or 0 for r in rows)
        labels = {r["municipality_code"]: Text(nl=r["municipality"], en=r["municipality"])
                  for r in rows if by == "municipality" and r["municipality_code"]
                  and r["municipality"]}  # fmt: skip
        return population, labels

    def upcoming_disciplines(self, institution_id: str, today: dt.date) -> dict[str, str]:
        """The discipline of each upcoming performance, by its breakdown value."""
        base = upcoming(self.source, institution_id, today)
        rows = (
            base.select(
                performance=performance(base), discipline=base.discipline.fill_null(UNKNOWN)
            )
            .distinct()
            .to_pyarrow()
            .to_pylist()
        )
        return {r["performance"]: r["discipline"] for r in rows}

    def peers(self, institution_id: str, kind: str) -> list[str]:
        """The other institutions with data that share the main discipline and size class
        (``discipline_size``) or the province (``region``) of ``institution_id``."""
        if kind not in PEER_GROUPS:
            raise PubliekError(
                "insights-unknown-peers",
                f"'{kind}' is geen vergelijkingsgroep. Kies uit: {', '.join(PEER_GROUPS)}.",
                f"'{kind}' is not a peer group. Choose from: {', '.join(PEER_GROUPS)}.",
            )
        register = {
            r["institution_id"]: r
            for r in self.source.table("institutions").to_pyarrow().to_pylist()
        }
        if institution_id not in register:
            raise PubliekError(
                "insights-not-registered",
                f"Instelling {institution_id} staat niet in het register; vergelijken kan pas "
                "als discipline, grootte en provincie bekend zijn ('publieksdata institutions').",
                f"Institution {institution_id} is not in the register; comparing needs its "
                "discipline, size and province ('publieksdata institutions').",
            )

        def group(row: dict[str, object]) -> tuple[object, ...]:
            main = str(row["disciplines"] or "").split(";")[0].strip()
            return (main, row["size_class"]) if kind == "discipline_size" else (
                row["province_code"],)  # fmt: skip

        mine = group(register[institution_id])
        found = [i for i in self.institutions() if i != institution_id and i in register
                 and group(register[i]) == mine]  # fmt: skip
        if len(found) < self.policy.min_institutions:
            raise PubliekError(
                "insights-too-few-peers",
                f"Uw vergelijkingsgroep telt {len(found)} andere instellingen met gegevens; er "
                f"zijn er minstens {self.policy.min_institutions} nodig. Kies een andere groep.",
                f"Your peer group has {len(found)} other institutions with data; at least "
                f"{self.policy.min_institutions} are needed. Choose another group.",
            )
        return found

    def tour(self, title: str, producer: str | None = None, by: Breakdown = "venue",
             season: SeasonChoice = None) -> Release:  # fmt: skip
        """One production's audience at every venue that played it and delivers data, for
        its producer. Venues appear by name only where they agreed; other figures combine
        at least 3 venues."""
        key = production_key(title, producer)
        names = dimensions(by, TOUR)
        chosen = seasons(season)
        table = self.tabulation(f"tour@{key}", None, chosen, names)
        if table.num_rows == 0 or table.column("persons").to_pylist()[-1] == 0:
            raise PubliekError(
                "insights-unknown-production",
                f"Geen verkochte kaartjes gevonden voor '{title}'"
                + (f" van {producer}" if producer else "")
                + ". Controleer titel en producent "
                "zoals de speelplekken ze leveren ('publieksdata productions list').",
                f"No sold tickets found for '{title}'"
                + (f" by {producer}" if producer else "")
                + ". Check the title and producer as "
                "the venues deliver them ('publieksdata productions list').",
            )
        return release("tour", table, names, "sector", self.policy, TOUR)

    def for_institution(self, institution_id: str) -> View:
        """The audience of one institution (what its own staff may see)."""
        if institution_id not in self.institutions():
            raise PubliekError(
                "insights-unknown-institution",
                f"Er zijn geen gegevens van instelling {institution_id}. Controleer de code of "
                "lever eerst een bestand aan.",
                f"There is no data of institution {institution_id}. Check the code or deliver "
                "a file first.",
            )
        return View(self, [institution_id], "own")

    def sector(self) -> View:
        """All institutions together: at least k persons and enough institutions per cell."""
        return View(self, None, "sector")
