"""The team tree and its people: who sells, manages, markets and serves, and how good each seller is."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password

from quota.seed.clock import Clock
from quota.seed.columns import NULL_TIME, Batch, Bools, Const, Ints, Texts, Times
from quota.seed.randomness import stream
from quota.seed.sizes import Scale
from quota.seed.vocabulary import FIRST_NAMES, LAST_NAMES

COMPANY_NAME = "Ridgeway Interiors"
EMAIL_DOMAIN = "ridgeway.example"
REGIONS = ("North", "South", "East", "West", "Central", "Nordics", "Benelux", "DACH", "Iberia", "Baltics", "Alps", "Adriatic")
DEMO_PASSWORD = "demo"
# The logins the README and `make demo` announce, one per role; all other people get unusable passwords.
DEMO_LOGINS = ("director", "manager", "rep", "marketing", "service", "viewer", "admin")
REPS_PER_MANAGER = 17


@dataclass
class Person:
    id: int
    username: str
    first_name: str
    last_name: str
    role: str
    team_id: int | None


@dataclass
class People:
    teams: list[tuple[int, str, int | None]] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    # Sellers (managers and reps), aligned arrays: who owns deals, and how well they sell.
    seller_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seller_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # relative volume of deals
    seller_win: np.ndarray = field(default_factory=lambda: np.zeros(0))  # win-rate multiplier
    seller_size: np.ndarray = field(default_factory=lambda: np.zeros(0))  # deal-size multiplier
    seller_activity: np.ndarray = field(default_factory=lambda: np.zeros(0))  # activities-per-deal multiplier
    marketing_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    service_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # The seller (index into seller_ids) having a slow month: no win is arranged for them this month (see deals).
    slow_seller: int = -1

    def by_username(self, username: str) -> Person:
        return next(p for p in self.persons if p.username == username)


def ascii_lower(text: str) -> str:
    """Lower-case ASCII for usernames and e-mail addresses (Paweł -> pawel)."""
    text = text.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def build_people(scale: Scale, seed: int) -> People:
    """Admin, director, marketing, service, regional sales teams of one manager and several reps, and a viewer."""
    rng = stream(seed, "people")
    people = People()
    usernames: set[str] = set()

    def add_team(name: str, parent: int | None) -> int:
        people.teams.append((len(people.teams) + 1, name, parent))
        return len(people.teams)

    def add_person(role: str, team: int | None, username: str | None = None) -> Person:
        first, last = str(rng.choice(FIRST_NAMES)), str(rng.choice(LAST_NAMES))
        if username is None:
            base = f"{ascii_lower(first)}.{ascii_lower(last)}"
            username, n = base, 1
            while username in usernames or username in DEMO_LOGINS:
                n += 1
                username = f"{base}{n}"
        usernames.add(username)
        person = Person(len(people.persons) + 1, username, first, last, role, team)
        people.persons.append(person)
        return person

    root = add_team(COMPANY_NAME, None)
    marketing_team = add_team("Marketing", root)
    service_team = add_team("Customer service", root)
    add_person("admin", None, "admin")
    add_person("director", root, "director")
    n_marketing = max(1, round(scale.users / 25))
    n_service = max(1, round(scale.users / 16))
    marketing = [add_person("marketing", marketing_team, "marketing" if i == 0 else None) for i in range(n_marketing)]
    service = [add_person("service", service_team, "service" if i == 0 else None) for i in range(n_service)]

    n_sellers = scale.users - len(people.persons)
    n_regions = min(len(REGIONS), max(2, round(n_sellers / (REPS_PER_MANAGER + 1))))
    reps_per_region = np.full(n_regions, (n_sellers - n_regions) // n_regions)
    reps_per_region[: (n_sellers - n_regions) % n_regions] += 1
    sellers: list[Person] = []
    for region, n_reps in zip(REGIONS, reps_per_region.tolist(), strict=False):
        team = add_team(region, root)
        first_region = len(sellers) == 0
        sellers.append(add_person("manager", team, "manager" if first_region else None))
        sellers.extend(add_person("rep", team, "rep" if first_region and i == 0 else None) for i in range(n_reps))

    n = len(sellers)
    is_manager = np.array([p.role == "manager" for p in sellers])
    people.seller_ids = np.array([p.id for p in sellers], dtype=np.int64)
    # Managers sell too, but less; reps differ in volume, win rate, deal size and diligence.
    people.seller_share = np.exp(rng.normal(0, 0.35, n)) * np.where(is_manager, 0.3, 1.0)
    people.seller_win = np.exp(rng.normal(0, 0.3, n))
    people.seller_size = np.exp(rng.normal(0, 0.25, n))
    people.seller_activity = np.exp(rng.normal(0, 0.25, n))
    # The demo `rep` is a solid performer, so their own dashboard is lively every month.
    demo_rep = next(i for i, p in enumerate(sellers) if p.username == "rep")
    people.seller_share[demo_rep], people.seller_win[demo_rep], people.seller_activity[demo_rep] = 1.2, 1.15, 1.1
    people.seller_size[demo_rep] = 1.0
    # A colleague of the demo rep (so the demo manager sees it) is off to a slow start this month.
    first_team = sellers[demo_rep].team_id
    colleagues = [i for i, p in enumerate(sellers) if p.team_id == first_team and p.role == "rep" and i != demo_rep]
    people.slow_seller = colleagues[-1] if colleagues else -1
    people.marketing_ids = np.array([p.id for p in marketing], dtype=np.int64)
    people.service_ids = np.array([p.id for p in service], dtype=np.int64)
    # Someone who reads everything and changes nothing; added last, so that no one else's draws change.
    add_person("viewer", root, "viewer")
    return people


def team_batch(people: People) -> Batch:
    ids, names, parents = zip(*people.teams, strict=True)
    return Batch(
        len(ids),
        {
            "id": Ints(np.array(ids)),
            "name": Texts(list(names)),
            "parent_id": Ints(np.array([-1 if p is None else p for p in parents]), nullable=True),
        },
    )


def user_batch(people: People, clock: Clock, seed: int) -> Batch:
    rng = stream(seed, "user-rows")
    persons = people.persons
    n = len(persons)
    demo_hash = {name: make_password(DEMO_PASSWORD) for name in DEMO_LOGINS}
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    passwords = [
        demo_hash.get(p.username) or UNUSABLE_PASSWORD_PREFIX + "".join(rng.choice(alphabet, 40).tolist()) for p in persons
    ]
    # Everyone joined before the history starts (up to three years earlier).
    joined = clock.history_start - rng.integers(1, 3 * 365, n) * 86_400
    admin = np.array([p.role == "admin" for p in persons], dtype=np.int8)
    return Batch(
        n,
        {
            "id": Ints(np.array([p.id for p in persons])),
            "password": Texts(passwords),
            "last_login": Times(np.full(n, NULL_TIME)),
            "is_superuser": Bools(admin),
            "username": Texts([p.username for p in persons]),
            "first_name": Texts([p.first_name for p in persons]),
            "last_name": Texts([p.last_name for p in persons]),
            "email": Texts([f"{p.username}@{EMAIL_DOMAIN}" for p in persons]),
            "is_staff": Bools(admin),
            "is_active": Const(True),
            "date_joined": Times(joined),
            "role": Texts([p.role for p in persons]),
            "team_id": Ints(np.array([-1 if p.team_id is None else p.team_id for p in persons]), nullable=True),
            "language": Const(""),
        },
    )
