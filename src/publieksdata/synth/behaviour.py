"""Cultural behaviour: who visits which institution, when, with how many, and how they buy.

Each planted group has its own pattern, so metrics can later be checked against a known
truth: single-venue visitors, occasional visitors, omnivores, loyal subscribers, lapsers
and newcomers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from publieksdata.standard.codelists import codelist
from publieksdata.synth.config import SynthConfig
from publieksdata.synth.population import GROUPS, Population
from publieksdata.synth.sector import CATEGORIES, Institutions, Programme

CHANNELS = codelist("channel").values
TICKET_TYPES = codelist("ticket_type").values
STATUSES = codelist("order_status").values

# (visits: fixed + Poisson mean, share at the home institution, share of draws near home)
_PATTERN = {
    "single_venue": (1, 1.0, 1.0, 1.0),
    "occasional": (1, 2.5, 0.3, 0.75),
    "omnivore": (6, 12.0, 0.1, 0.5),
    "loyal_subscriber": (1, 1.5, 0.0, 0.8),  # plus subscriptions, see below
    "lapser": (2, 2.0, 0.5, 0.85),
    "newcomer": (1, 2.0, 0.5, 0.85),
}
_GROUP_SIZE = {  # tickets per order line, by audience category
    "performing": (0.30, 0.50, 0.07, 0.10, 0.02, 0.01),
    "museum": (0.35, 0.35, 0.10, 0.15, 0.04, 0.01),
    "film": (0.45, 0.45, 0.05, 0.05, 0.0, 0.0),
}
_CHANNEL_SHARE = {
    "performing": (0.68, 0.12, 0.05, 0.08, 0.02, 0.05),
    "museum": (0.45, 0.0, 0.0, 0.05, 0.02, 0.48),
    "film": (0.60, 0.35, 0.0, 0.02, 0.0, 0.03),
}
_TYPE_SHARE = {  # in the order of the ticket_type code list
    "performing": (0.62, 0.08, 0.0, 0.03, 0.05, 0.06, 0.0, 0.0, 0.05, 0.02, 0.03, 0.02, 0.04),
    "museum": (0.30, 0.04, 0.06, 0.02, 0.02, 0.04, 0.45, 0.0, 0.02, 0.02, 0.0, 0.0, 0.03),
    "film": (0.70, 0.10, 0.0, 0.05, 0.05, 0.05, 0.0, 0.0, 0.03, 0.0, 0.0, 0.0, 0.02),
}
_DISCOUNT = np.array([1.0, 0.85, 0.5, 0.8, 0.9, 0.75, 0.0, 0.85, 0.9, 0.5, 0.85, 0.6, 0.0])


def _empty() -> np.ndarray:
    return np.zeros(0, np.int64)


@dataclass
class Visits:
    """One row per visit (one buyer at one performance), as parallel arrays."""

    person: np.ndarray
    institution: np.ndarray
    season: np.ndarray
    subscription: np.ndarray
    # Filled in by complete_visits; empty while visits are only planned.
    performance: np.ndarray = field(default_factory=_empty)
    ordered_at: np.ndarray = field(default_factory=_empty)  # minutes since 1970
    tickets: np.ndarray = field(default_factory=_empty)
    channel: np.ndarray = field(default_factory=_empty)
    ticket_type: np.ndarray = field(default_factory=_empty)
    price_rank: np.ndarray = field(default_factory=_empty)
    price_cents: np.ndarray = field(default_factory=_empty)  # per ticket
    status: np.ndarray = field(default_factory=_empty)
    order_key: np.ndarray = field(default_factory=_empty)

    def __len__(self) -> int:
        return len(self.person)

    def take(self, keep: np.ndarray) -> Visits:
        """The visits selected by a mask or index array."""
        return Visits(**{k: v[keep] if len(v) else v for k, v in vars(self).items()})


class _InstitutionSampler:
    """Weighted draws of institutions within (category, province), with fallbacks."""

    def __init__(self, inst: Institutions, n_provinces: int) -> None:
        self.order = np.lexsort((inst.province, inst.category))
        weights = inst.attraction[self.order]
        self.cum = np.concatenate([[0.0], np.cumsum(weights)])
        cat, prov = inst.category[self.order], inst.province[self.order]
        n_cat = len(CATEGORIES)
        key = cat.astype(np.int64) * n_provinces + prov
        segments = np.arange(n_cat * n_provinces)
        self.local_lo = np.searchsorted(key, segments, "left")
        self.local_hi = np.searchsorted(key, segments, "right")
        self.cat_lo = np.searchsorted(cat, np.arange(n_cat), "left")
        self.cat_hi = np.searchsorted(cat, np.arange(n_cat), "right")
        self.n_provinces = n_provinces

    def draw(
        self,
        rng: np.random.Generator,
        category: np.ndarray,
        province: np.ndarray,
        local: np.ndarray,
    ) -> np.ndarray:
        seg = category.astype(np.int64) * self.n_provinces + province
        lo = np.where(local, self.local_lo[seg], self.cat_lo[category])
        hi = np.where(local, self.local_hi[seg], self.cat_hi[category])
        empty = lo == hi  # no such institution nearby: go further
        lo = np.where(empty, self.cat_lo[category], lo)
        hi = np.where(empty, self.cat_hi[category], hi)
        empty = lo == hi  # no institution of this kind at all: anything goes
        lo = np.where(empty, 0, lo)
        hi = np.where(empty, len(self.order), hi)
        target = self.cum[lo] + rng.random(len(lo)) * (self.cum[hi] - self.cum[lo])
        pos = np.searchsorted(self.cum, target, "right") - 1
        chosen: np.ndarray = self.order[np.clip(pos, lo, hi - 1)]
        return chosen


def plan_visits(
    config: SynthConfig, pop: Population, inst: Institutions, n_provinces: int
) -> Visits:
    """Which person visits which institution in which season."""
    rng = config.rng("visits")
    n = len(pop)
    n_seasons = config.seasons
    sampler = _InstitutionSampler(inst, n_provinces)
    affinity = rng.choice(len(CATEGORIES), size=n, p=(0.5, 0.35, 0.15)).astype(np.int8)
    home = sampler.draw(rng, affinity, pop.province, rng.random(n) < 0.85)
    fixed = np.array([_PATTERN[g][0] for g in GROUPS])[pop.group]
    mean = np.array([_PATTERN[g][1] for g in GROUPS])[pop.group]
    count = fixed + rng.poisson(mean)
    person = np.repeat(np.arange(n, dtype=np.int32), count)
    group = pop.group[person]
    at_home = rng.random(len(person)) < np.array([_PATTERN[g][2] for g in GROUPS])[group]
    near = rng.random(len(person)) < np.array([_PATTERN[g][3] for g in GROUPS])[group]
    omnivore = group == GROUPS.index("omnivore")
    category = np.where(
        omnivore, rng.integers(0, len(CATEGORIES), len(person)), affinity[person]
    ).astype(np.int8)
    drawn = sampler.draw(rng, category, pop.province[person], near)
    institution = np.where(at_home, home[person], drawn).astype(np.int32)
    season = rng.integers(0, n_seasons, len(person))
    lapser = group == GROUPS.index("lapser")
    season[lapser] = rng.integers(0, 2, int(lapser.sum()))
    newcomer = group == GROUPS.index("newcomer")
    season[newcomer] = n_seasons - 2 + rng.integers(0, 2, int(newcomer.sum()))
    # Loyal subscribers: a series at their home institution every season.
    loyal = np.flatnonzero(pop.group == GROUPS.index("loyal_subscriber"))
    per_season = 3 + rng.poisson(2.0, (len(loyal), n_seasons))
    sub_person = np.repeat(np.repeat(loyal, n_seasons), per_season.ravel())
    sub_season = np.repeat(np.tile(np.arange(n_seasons), len(loyal)), per_season.ravel())
    visits = Visits(
        person=np.concatenate([person, sub_person]).astype(np.int32),
        institution=np.concatenate([institution, home[sub_person]]).astype(np.int32),
        season=np.concatenate([season, sub_season]).astype(np.int8),
        subscription=np.concatenate([np.zeros(len(person), bool), np.ones(len(sub_person), bool)]),
    )
    return visits


def demand(visits: Visits, n_institutions: int, n_seasons: int) -> np.ndarray:
    """Planned visits per (institution, season)."""
    flat = visits.institution.astype(np.int64) * n_seasons + visits.season
    return np.bincount(flat, minlength=n_institutions * n_seasons).reshape(
        n_institutions, n_seasons
    )


def complete_visits(
    config: SynthConfig,
    visits: Visits,
    pop: Population,
    inst: Institutions,
    prog: Programme,
) -> Visits:
    """Choose the performance, the moment of purchase, tickets, prices, channel and status;
    drop the sales that have not happened yet on the export date and repeated visits."""
    rng = config.rng("purchases")
    v = len(visits)
    block = visits.institution.astype(np.int64) * config.seasons + visits.season
    perf = prog.block_offset[block] + (rng.random(v) * prog.block_count[block]).astype(np.int64)
    start = prog.perf_start[perf]
    category = inst.category[visits.institution]
    lead_days = np.select(
        [category == 0, category == 1],
        [
            rng.exponential(30, v),
            np.where(rng.random(v) < 0.7, rng.random(v) * 0.2, rng.exponential(5, v)),
        ],
        rng.exponential(2, v),
    )
    ordered = start - (np.minimum(lead_days, 300) * 1440).astype(np.int64) - rng.integers(0, 600, v)
    # A subscription is one order before the season for the whole series.
    season_start = np.array([s.start.toordinal() - 719163 for s in config.season_list]) * 1440
    key_hash = (
        visits.person.astype(np.int64) * 7919 + visits.institution * 104729 + visits.season
    ) % 80
    sub_ordered = season_start[visits.season] - (20 + key_hash) * 1440 + 10 * 60
    ordered = np.where(visits.subscription, sub_ordered, ordered)
    cutoff = (config.export_date.toordinal() - 719163 + 1) * 1440
    tickets = np.empty(v, np.int16)
    channel = np.empty(v, np.int8)
    ticket_type = np.empty(v, np.int8)
    for c, name in enumerate(CATEGORIES):
        mask = category == c
        k = int(mask.sum())
        tickets[mask] = 1 + rng.choice(6, k, p=_GROUP_SIZE[name])
        channel[mask] = rng.choice(len(CHANNELS), k, p=_CHANNEL_SHARE[name])
        share = np.array(_TYPE_SHARE[name])
        ticket_type[mask] = rng.choice(len(TICKET_TYPES), k, p=share / share.sum())
    age = (start // 1440 - pop.birth_day[visits.person]) / 365.25
    older = (age >= 70) & (channel == CHANNELS.index("online")) & (rng.random(v) < 0.4)
    channel[older] = CHANNELS.index("box_office")
    young_only = ticket_type == TICKET_TYPES.index("cjp")
    ticket_type[young_only & (age >= 30)] = TICKET_TYPES.index("full_price")
    ticket_type[visits.subscription] = TICKET_TYPES.index("subscription")
    # One subscription is one order, bought through one channel.
    channel[visits.subscription] = np.where(
        key_hash[visits.subscription] % 3 == 0,
        CHANNELS.index("box_office"),
        CHANNELS.index("online"),
    )
    tickets[visits.subscription] = np.minimum(tickets[visits.subscription], 2)
    rank = rng.choice(3, v, p=(0.5, 0.3, 0.2)).astype(np.int8)
    base = np.asarray(prog.prod_price)[prog.perf_prod[perf]]
    price = (base * (1.0 - 0.15 * rank) * _DISCOUNT[ticket_type] // 50 * 50).astype(np.int32)
    status = rng.choice(len(STATUSES), v, p=(0.95, 0.03, 0.02)).astype(np.int8)
    key = np.where(
        visits.subscription,
        -(visits.person.astype(np.int64) * 64 + visits.season) - 1,
        np.arange(v, dtype=np.int64),
    )
    done = Visits(
        person=visits.person,
        institution=visits.institution,
        season=visits.season,
        subscription=visits.subscription,
        performance=perf,
        ordered_at=ordered,
        tickets=tickets,
        channel=channel,
        ticket_type=ticket_type,
        price_rank=rank,
        price_cents=price,
        status=status,
        order_key=key,
    )
    # A visit is a distinct (buyer, performance) pair: a second draw of the same pair goes.
    # Subscription visits come last, so keeping the last draw keeps every series whole.
    pair = visits.person.astype(np.int64) << 32 | perf
    _, last = np.unique(pair[::-1], return_index=True)
    once = np.zeros(v, bool)
    once[v - 1 - last] = True
    return done.take(once & (ordered < cutoff))
