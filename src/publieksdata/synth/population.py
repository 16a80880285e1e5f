"""Synthetic persons: where they live, how old they are, how to reach them, how they behave.

Everything is a column of integers (indices into word lists); strings are only made when
an export is written, so ten million persons fit in a few hundred megabytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from publieksdata.synth import names
from publieksdata.synth.config import SynthConfig
from publieksdata.synth.geography import Geography

# Planted behaviour groups: the ground truth that segment and loyalty metrics must find.
GROUPS = ("single_venue", "occasional", "omnivore", "loyal_subscriber", "lapser", "newcomer")
GROUP_SHARE = (0.33, 0.26, 0.08, 0.06, 0.14, 0.13)
GENDERS = ("female", "male", "other", "unknown")

# Letters as in most real postcodes; the pairs SA, SD and SS are never used in Dutch postcodes.
_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
LETTER_PAIRS = tuple(a + b for a in _LETTERS for b in _LETTERS if a + b not in {"SA", "SD", "SS"})
EPOCH = dt.date(1970, 1, 1)


@dataclass
class Population:
    """Persons as parallel numpy arrays, index = person number."""

    group: np.ndarray
    pc4_index: np.ndarray
    municipality: np.ndarray
    province: np.ndarray
    letters: np.ndarray
    street: np.ndarray
    house_number: np.ndarray
    addition: np.ndarray  # -1 = none
    birth_day: np.ndarray  # days since 1970-01-01
    gender: np.ndarray
    first_name: np.ndarray  # index into FIRST_NAMES
    infix: np.ndarray  # -1 = none
    last_name: np.ndarray
    has_email: np.ndarray
    email_style: np.ndarray
    email_domain: np.ndarray
    email_owner: np.ndarray  # the person whose e-mail address this person uses
    phone_country: np.ndarray  # 31, 32 or 49
    phone_number: np.ndarray  # national significant number
    has_phone: np.ndarray
    household: np.ndarray  # person number of the household's first member

    def __len__(self) -> int:
        return len(self.group)

    def birth_year(self) -> np.ndarray:
        days = self.birth_day.astype("datetime64[D]")
        return days.astype("datetime64[Y]").astype(np.int32) + 1970


FIRST_NAMES = names.FEMALE_FIRST + names.MALE_FIRST


def generate_population(config: SynthConfig, geo: Geography) -> Population:
    """Draw ``config.persons`` persons; households share an address and sometimes an e-mail."""
    rng = config.rng("population")
    n = config.persons
    group = rng.choice(len(GROUPS), size=n, p=GROUP_SHARE).astype(np.int8)
    weights = geo.pc4_population / geo.pc4_population.sum()
    pc4_index = rng.choice(len(geo.pc4), size=n, p=weights).astype(np.int32)
    gender = rng.choice(4, size=n, p=(0.56, 0.40, 0.01, 0.03)).astype(np.int8)
    female = (gender == 0) | ((gender >= 2) & (rng.random(n) < 0.5))
    first = np.where(
        female,
        rng.integers(0, len(names.FEMALE_FIRST), n),
        len(names.FEMALE_FIRST) + rng.integers(0, len(names.MALE_FIRST), n),
    ).astype(np.int16)
    # Cultural audiences are older than the population: a mix of three age groups.
    age = np.select(
        [rng.random(n) < 0.2, rng.random(n) < 0.45],
        [rng.integers(16, 30, n), rng.integers(30, 55, n)],
        rng.integers(55, 90, n),
    )
    export_day = (config.export_date - EPOCH).days
    birth_day = (export_day - age * 365.25 - rng.integers(0, 365, n)).astype(np.int32)
    phone_kind = rng.choice(3, size=n, p=(0.82, 0.14, 0.04))
    # Dutch mobile numbers are 06-1 to 06-5 and 06-8; the other ranges are not in use.
    mobile = (
        600_000_000 + rng.choice([1, 2, 3, 4, 5, 8], n) * 10_000_000 + rng.integers(0, 9_999_999, n)
    )
    landline = rng.choice([10, 20, 30, 40, 50, 70, 71, 72, 73, 76], n) * 10_000_000 + rng.integers(
        1_000_000, 9_999_999, n
    )
    foreign_be = rng.random(n) < 0.5
    foreign = np.where(
        foreign_be,
        470_000_000 + rng.integers(0, 9_999_999, n),
        15_100_000_000 + rng.integers(0, 99_999_999, n),
    )
    pop = Population(
        group=group,
        pc4_index=pc4_index,
        municipality=geo.pc4_municipality[pc4_index],
        province=geo.province_index()[geo.pc4_municipality[pc4_index]],
        letters=rng.integers(0, len(LETTER_PAIRS), n).astype(np.int16),
        street=rng.integers(0, len(names.STREETS), n).astype(np.int16),
        house_number=np.minimum(1 + rng.geometric(0.03, n), 999).astype(np.int16),
        addition=np.where(
            rng.random(n) < 0.12, rng.integers(0, len(names.ADDITIONS), n), -1
        ).astype(np.int8),
        birth_day=birth_day,
        gender=gender,
        first_name=first,
        infix=np.where(rng.random(n) < 0.3, rng.integers(0, len(names.INFIXES), n), -1).astype(
            np.int8
        ),
        last_name=rng.integers(0, len(names.LAST_NAMES), n).astype(np.int16),
        has_email=rng.random(n) < 0.9,
        email_style=rng.integers(0, 4, n).astype(np.int8),
        email_domain=rng.integers(0, len(names.EMAIL_DOMAINS), n).astype(np.int8),
        email_owner=np.arange(n, dtype=np.int32),
        phone_country=np.choose(phone_kind, [31, 31, np.where(foreign_be, 32, 49)]).astype(
            np.int16
        ),
        phone_number=np.choose(phone_kind, [mobile, landline, foreign]).astype(np.int64),
        has_phone=rng.random(n) < 0.75,
        household=np.arange(n, dtype=np.int32),
    )
    _plant_households(pop, rng)
    return pop


def _plant_households(pop: Population, rng: np.random.Generator) -> None:
    """Make some persons the partner of the person before them: one address, often one name,
    and for a share of them one e-mail address (the household e-mail that linkage must not
    use to chain people together)."""
    n = len(pop)
    partner = rng.random(n) < 0.2
    partner[0] = False
    partner[1:] &= ~partner[:-1]  # the person before a partner is a household head
    idx = np.flatnonzero(partner)
    head = idx - 1
    pop.household[idx] = head
    for column in (
        pop.pc4_index,
        pop.municipality,
        pop.province,
        pop.letters,
        pop.street,
        pop.house_number,
        pop.addition,
    ):
        column[idx] = column[head]
    same_name = rng.random(len(idx)) < 0.6
    pop.last_name[idx[same_name]] = pop.last_name[head[same_name]]
    pop.infix[idx[same_name]] = pop.infix[head[same_name]]
    shares = (rng.random(len(idx)) < 0.35) & pop.has_email[head]
    pop.email_owner[idx[shares]] = head[shares]
    pop.has_email[idx[shares]] = True
    landline = (rng.random(len(idx)) < 0.3) & (pop.phone_number[head] < 600_000_000)
    pop.phone_number[idx[landline]] = pop.phone_number[head[landline]]
    pop.phone_country[idx[landline]] = pop.phone_country[head[landline]]
