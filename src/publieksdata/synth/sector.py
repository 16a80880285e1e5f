"""Synthetic institutions and their programmes: venues, productions (some touring) and
performances or museum time slots, sized to the demand the persons create."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from publieksdata.standard.codelists import CodeList, codelist
from publieksdata.standard.definitions import Season
from publieksdata.synth import names
from publieksdata.synth.config import SynthConfig
from publieksdata.synth.geography import Geography

DISCIPLINES = codelist("discipline").values
# Share of institutions per main discipline, roughly as in the Dutch sector.
DISCIPLINE_SHARE = {
    "theatre": 0.17,
    "music_classical": 0.06,
    "music_popular": 0.08,
    "opera": 0.01,
    "musical": 0.02,
    "dance": 0.02,
    "cabaret": 0.02,
    "youth": 0.02,
    "film": 0.08,
    "museum_art": 0.12,
    "museum_history": 0.18,
    "museum_science": 0.04,
    "visual_arts": 0.06,
    "festival": 0.06,
    "literature": 0.02,
    "multidisciplinary": 0.04,
}
# Audience categories: persons have an affinity for one of them (omnivores for all).
CATEGORIES = ("performing", "museum", "film")
MUSEUM_LIKE = {"museum_art", "museum_history", "museum_science", "visual_arts"}
SIZE_CLASSES = codelist("size_class").values
SIZE_SHARE = (0.35, 0.35, 0.22, 0.08)
SIZE_ATTRACTION = np.array([1.0, 4.0, 15.0, 50.0])
SECONDARY = {
    "theatre": ("cabaret", "youth", "dance", "musical", "music_popular"),
    "multidisciplinary": ("theatre", "film", "music_popular", "literature"),
    "music_classical": ("opera",),
    "festival": ("music_popular", "theatre", "film"),
}
# Base price per ticket in cents, by discipline (low, high).
PRICE_RANGE = {
    "theatre": (1500, 4200),
    "music_classical": (1800, 6500),
    "music_popular": (1200, 4500),
    "opera": (3500, 11000),
    "musical": (3500, 9500),
    "dance": (1800, 4800),
    "cabaret": (1600, 3600),
    "youth": (900, 1800),
    "film": (850, 1250),
    "museum_art": (1250, 2500),
    "museum_history": (900, 1900),
    "museum_science": (1100, 2200),
    "visual_arts": (500, 1200),
    "festival": (2500, 9000),
    "literature": (700, 1800),
    "multidisciplinary": (1000, 3500),
}
HALLS = ("Grote Zaal", "Kleine Zaal", "Studio")
HALL_COUNT = (1, 1, 2, 3)  # by size class
TARGET_VISITS_PER_PERFORMANCE = {"performing": 40, "museum": 25, "film": 15}


def category_of(discipline: str) -> int:
    """The audience category (index into CATEGORIES) of a discipline."""
    if discipline == "film":
        return 2
    return 1 if discipline in MUSEUM_LIKE else 0


@dataclass
class Institutions:
    """The participating institutions as parallel arrays and lists."""

    ids: list[str]
    names: list[str]
    disciplines: list[tuple[str, ...]]
    size_class: np.ndarray
    municipality: np.ndarray
    province: np.ndarray
    category: np.ndarray
    attraction: np.ndarray
    named_in_overlap: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def generate_institutions(config: SynthConfig, geo: Geography) -> Institutions:
    """Draw institutions of many disciplines and sizes across the provinces."""
    rng = config.rng("institutions")
    m = config.institutions
    keys = list(DISCIPLINE_SHARE)
    share = np.array([DISCIPLINE_SHARE[k] for k in keys])
    main = rng.choice(len(keys), size=m, p=share / share.sum())
    # Every province gets at least one institution, the rest follow the population.
    weights = geo.municipality_population / geo.municipality_population.sum()
    muni = rng.choice(len(weights), size=m, p=weights)
    provinces = geo.province_index()
    if m >= len(geo.provinces):
        for p in range(len(geo.provinces)):
            candidates = np.flatnonzero(provinces == p)
            muni[p] = candidates[np.argmax(geo.municipality_population[candidates])]
    size = rng.choice(len(SIZE_CLASSES), size=m, p=SIZE_SHARE)
    disciplines, inst_names, taken = [], [], set()
    for i in range(m):
        d = keys[main[i]]
        extra = tuple(x for x in SECONDARY.get(d, ()) if rng.random() < 0.35)
        disciplines.append((d, *extra))
        kinds = names.INSTITUTION_KINDS[d]
        base = f"{kinds[int(rng.integers(len(kinds)))]} {geo.municipality_name[muni[i]]}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base} {n}", n + 1
        taken.add(name)
        inst_names.append(name)
    return Institutions(
        ids=[f"I{i + 1:04d}" for i in range(m)],
        names=inst_names,
        disciplines=disciplines,
        size_class=size.astype(np.int8),
        municipality=muni.astype(np.int32),
        province=provinces[muni],
        category=np.array([category_of(d[0]) for d in disciplines], dtype=np.int8),
        attraction=SIZE_ATTRACTION[size] * rng.uniform(0.6, 1.4, m),
        named_in_overlap=rng.random(m) < 0.3,
    )


@dataclass
class Programme:
    """Venues, productions and performances of all institutions over all seasons."""

    venue_inst: list[int] = field(default_factory=list)
    venue_name: list[str] = field(default_factory=list)
    venue_capacity: list[int] = field(default_factory=list)
    prod_inst: list[int] = field(default_factory=list)
    prod_season: list[int] = field(default_factory=list)
    prod_title: list[str] = field(default_factory=list)
    prod_discipline: list[str] = field(default_factory=list)
    prod_genre: list[str] = field(default_factory=list)
    prod_producer: list[str] = field(default_factory=list)
    prod_tour: list[int] = field(default_factory=list)  # the tour's first production; -1: none
    prod_price: list[int] = field(default_factory=list)  # base price in cents
    perf_prod: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    perf_venue: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    perf_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # minutes
    perf_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    perf_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Performances are stored per (institution, season); these locate each block.
    block_offset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    block_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


EPOCH = dt.datetime(1970, 1, 1)


def _minutes(day: dt.date) -> int:
    return int((dt.datetime.combine(day, dt.time()) - EPOCH).total_seconds() // 60)


class _TitleMaker:
    """Production titles and producers per discipline; touring titles are shared."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def pick(self, words: tuple[str, ...]) -> str:
        return words[int(self.rng.integers(len(words)))]

    def title(self, discipline: str) -> str:
        r = self.rng.random()
        if discipline in MUSEUM_LIKE:
            return self.pick(names.EXHIBITION_TOPICS)
        if discipline in {"music_classical", "opera"}:
            return f"{self.pick(names.COMPOSERS)}: {self.pick(names.WORKS)}"
        if discipline == "theatre" and r < 0.3:
            return self.pick(names.CLASSIC_TITLES)
        return f"{self.pick(names.TITLE_WORDS_A)} {self.pick(names.TITLE_WORDS_B)}"

    def producer(self, discipline: str, city: str) -> str:
        kinds = {
            "music_classical": "Orkest",
            "music_popular": "Band",
            "dance": "Dansgroep",
            "opera": "Opera",
            "youth": "Jeugdtheater",
            "cabaret": "Producties",
        }
        return f"{kinds.get(discipline, 'Toneelgroep')} {city}"


def generate_programme(
    config: SynthConfig,
    geo: Geography,
    inst: Institutions,
    demand: np.ndarray,
) -> Programme:
    """Venues, productions and performances per institution and season.

    ``demand[i, s]`` is the number of visits planned for institution i in season s; the
    number of performances follows from it so that halls are realistically filled.
    """
    rng = config.rng("programme")
    titles = _TitleMaker(rng)
    genres = codelist("genre")
    seasons = config.season_list
    prog = Programme()
    venues_of: list[list[int]] = []
    for i in range(len(inst)):
        category = CATEGORIES[inst.category[i]]
        halls = ("Museum",) if category == "museum" else HALLS[: HALL_COUNT[inst.size_class[i]]]
        venues_of.append([])
        for h, hall in enumerate(halls):
            venues_of[-1].append(len(prog.venue_name))
            prog.venue_inst.append(i)
            prog.venue_name.append(hall)
            capacity = int(rng.integers(80, 300) * (1 + inst.size_class[i]) / (1 + h))
            prog.venue_capacity.append(capacity)
    # A national pool of touring productions per season and discipline.
    tours: dict[tuple[int, str], list[int]] = {}
    perf_blocks = []
    offsets, counts = [], []
    total = 0
    for i in range(len(inst)):
        category = CATEGORIES[inst.category[i]]
        for s, season in enumerate(seasons):
            n_perf = int(
                np.clip(round(demand[i, s] / TARGET_VISITS_PER_PERFORMANCE[category]), 1, 5000)
            )
            offsets.append(total)
            counts.append(n_perf)
            total += n_perf
            perf_blocks.append(
                _season_block(
                    config,
                    rng,
                    titles,
                    genres,
                    geo,
                    inst,
                    prog,
                    tours,
                    venues_of[i],
                    i,
                    s,
                    season,
                    category,
                    n_perf,
                )
            )
    columns = list(zip(*perf_blocks, strict=True))
    prog.perf_prod = np.concatenate(columns[0]).astype(np.int32)
    prog.perf_venue = np.concatenate(columns[1]).astype(np.int32)
    prog.perf_start = np.concatenate(columns[2]).astype(np.int64)
    prog.perf_kind = np.concatenate(columns[3]).astype(np.int8)
    prog.perf_capacity = np.asarray(prog.venue_capacity, dtype=np.int32)[prog.perf_venue]
    prog.block_offset = np.array(offsets, dtype=np.int64)
    prog.block_count = np.array(counts, dtype=np.int64)
    return prog


def _season_block(
    config: SynthConfig,
    rng: np.random.Generator,
    titles: _TitleMaker,
    genres: CodeList,
    geo: Geography,
    inst: Institutions,
    prog: Programme,
    tours: dict[tuple[int, str], list[int]],
    venues: list[int],
    i: int,
    s: int,
    season: Season,
    category: str,
    n_perf: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Productions and performances of one institution in one season."""
    disciplines = inst.disciplines[i]
    city = geo.municipality_name[inst.municipality[i]]
    if category == "museum":
        n_prod = min(n_perf, int(rng.integers(2, 6)))
    elif category == "film":
        n_prod = max(1, n_perf // 6)
    else:
        n_prod = max(1, int(n_perf / rng.uniform(1.0, 2.5)))
    first_prod = len(prog.prod_title)
    for _ in range(n_prod):
        d = (
            disciplines[0]
            if rng.random() < 0.7
            else disciplines[int(rng.integers(len(disciplines)))]
        )
        options = genres.children(d)
        genre = options[int(rng.integers(len(options)))]
        me, tour, new_tour = len(prog.prod_title), -1, False
        if category == "performing" and d not in {"literature", "festival"} and rng.random() < 0.6:
            pool = tours.setdefault((s, d), [])
            # Reuse an existing tour most of the time, so a tour visits several venues.
            if pool and rng.random() < 0.8:
                tour = pool[int(rng.integers(len(pool)))]
            else:
                pool.append(me)
                new_tour = True
        if tour >= 0:
            title, genre, producer = (
                prog.prod_title[tour],
                prog.prod_genre[tour],
                prog.prod_producer[tour],
            )
            price = prog.prod_price[tour]
        else:
            title, producer = titles.title(d), titles.producer(d, city)
            low, high = PRICE_RANGE[d]
            price = int(rng.integers(low, high) // 50 * 50)
        prog.prod_inst.append(i)
        prog.prod_season.append(s)
        prog.prod_title.append(title)
        prog.prod_discipline.append(d)
        prog.prod_genre.append(genre)
        prog.prod_producer.append(producer)
        prog.prod_tour.append(me if new_tour else tour)
        prog.prod_price.append(price)
    prod = first_prod + rng.integers(0, n_prod, n_perf)
    start_day = _minutes(season.start) // 1440
    if category == "museum":
        day = start_day + rng.integers(0, 365, n_perf)
        minute = (10 + rng.integers(0, 7, n_perf)) * 60
        kind = np.full(n_perf, 1 if inst.size_class[i] > 0 else 2)
    else:
        # Performances mostly from September to June, evenings, matinees at weekends.
        day = start_day + 31 + rng.integers(0, 300, n_perf)
        weekend = ((day + 3) % 7) >= 5
        evening = rng.choice([19 * 60 + 30, 20 * 60, 20 * 60 + 15, 20 * 60 + 30], n_perf)
        matinee = rng.choice([14 * 60, 15 * 60], n_perf)
        minute = np.where(weekend & (rng.random(n_perf) < 0.4), matinee, evening)
        if category == "film":
            minute = rng.choice([13 * 60 + 30, 16 * 60, 19 * 60, 21 * 60 + 30], n_perf)
        kind = np.zeros(n_perf)
    venue = np.asarray(venues)[rng.integers(0, len(venues), n_perf)]
    return prod, venue, day * 1440 + minute, kind
