"""Companies and their contacts. Ids follow creation time; a company's contacts have consecutive ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.seed.clock import Clock
from quota.seed.columns import Batch, Choice, Const, Fixed, Ints, Texts, Times
from quota.seed.custom import COMPANY_TIER, custom_json
from quota.seed.people import People, ascii_lower
from quota.seed.randomness import stream, weighted_index
from quota.seed.vocabulary import (
    COMPANY_TRADES,
    COMPANY_WORDS,
    FIRST_NAMES,
    INDUSTRIES,
    JOB_TITLES,
    LAST_NAMES,
    LEGAL_FORMS,
    PHONE_PREFIXES,
    PLACES,
)

# Share of companies already in the CRM before the history starts (the existing book of business).
EXISTING_BOOK_SHARE = 0.4
LOSS_MAKING_SHARE = 0.02
CHUNK = 50_000


@dataclass
class Companies:
    created: np.ndarray  # sorted ascending; company id = index + 1
    owner: np.ndarray  # user ids (each account has an account manager)
    weight: np.ndarray  # how much business the account brings (heavy-tailed)
    cost_ratio: np.ndarray  # our cost as a share of what they pay
    loss_making: np.ndarray  # bool: what we sell them costs us more than they pay
    names: list[str]
    domains: list[str]
    contact_start: np.ndarray  # 0-based index of the company's first contact
    contact_count: np.ndarray

    def __len__(self) -> int:
        return len(self.created)

    def pick(self, rng: np.random.Generator, instants: np.ndarray) -> np.ndarray:
        """A company (0-based index) for business at each instant, among those created at least a day before.

        Big accounts are picked more often, so they come back with deal after deal.
        """
        cumulative = np.cumsum(self.weight)
        eligible = np.searchsorted(self.created + 86_400, instants, side="right").clip(1, len(self))
        return np.searchsorted(cumulative, rng.random(len(instants)) * cumulative[eligible - 1], side="right").clip(
            0, eligible - 1
        )

    def pick_contact(self, rng: np.random.Generator, companies: np.ndarray) -> np.ndarray:
        """One of each company's contacts (0-based index)."""
        return self.contact_start[companies] + (rng.random(len(companies)) * self.contact_count[companies]).astype(np.int64)


@dataclass
class Contacts:
    company: np.ndarray  # 0-based company index
    created: np.ndarray
    first_names: list[str]
    last_names: list[str]
    emails: list[str]

    def __len__(self) -> int:
        return len(self.company)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def email_local_part(first: str, last: str) -> str:
    return f"{ascii_lower(first)}.{ascii_lower(last)}"


def build_companies(n: int, people: People, clock: Clock, seed: int) -> Companies:
    rng = stream(seed, "companies")
    book = int(n * EXISTING_BOOK_SHARE)
    before = clock.history_start - rng.integers(1, 5 * 365 * 86_400, book)
    created = np.sort(np.concatenate([before, clock.seasonal_instants(rng, n - book)]))
    words = rng.integers(0, len(COMPANY_WORDS), n)
    trades = rng.integers(0, len(COMPANY_TRADES), n)
    forms = rng.integers(0, len(LEGAL_FORMS), n)
    names, domains, seen = [], [], dict[str, int]()
    for w, t, f in zip(words.tolist(), trades.tolist(), forms.tolist(), strict=True):
        base = f"{COMPANY_WORDS[w]} {COMPANY_TRADES[t]}"
        count = seen[base] = seen.get(base, 0) + 1
        # Same-named companies exist (in different towns); their domains must still differ.
        names.append(f"{base} {LEGAL_FORMS[f]}" if count == 1 else f"{base} {count} {LEGAL_FORMS[f]}")
        domains.append(f"{_slug(base)}{'' if count == 1 else count}.example")
    contact_count = 1 + rng.poisson(1.5, n)
    contact_start = np.concatenate([[0], np.cumsum(contact_count)[:-1]])
    sellers = people.seller_ids[weighted_index(rng, people.seller_share, n)]
    return Companies(
        created=created,
        owner=sellers,
        weight=np.exp(rng.normal(0, 1.1, n)),
        cost_ratio=rng.uniform(0.55, 0.78, n),
        loss_making=rng.random(n) < LOSS_MAKING_SHARE,
        names=names,
        domains=domains,
        contact_start=contact_start,
        contact_count=contact_count,
    )


def build_contacts(companies: Companies, seed: int) -> Contacts:
    rng = stream(seed, "contacts")
    company = np.repeat(np.arange(len(companies)), companies.contact_count)
    n = len(company)
    # The first contact arrives with the company, colleagues within the hour (so every deal finds them in place).
    position = np.arange(n) - companies.contact_start[company]
    created = companies.created[company] + np.where(position == 0, 0, rng.integers(60, 3600, n))
    firsts = rng.integers(0, len(FIRST_NAMES), n).tolist()
    lasts = rng.integers(0, len(LAST_NAMES), n).tolist()
    first_names = [FIRST_NAMES[i] for i in firsts]
    last_names = [LAST_NAMES[i] for i in lasts]
    emails, taken = [], set[str]()
    for first, last, c in zip(first_names, last_names, company.tolist(), strict=True):
        local = email_local_part(first, last)
        email, k = f"{local}@{companies.domains[c]}", 1
        while email in taken:
            k += 1
            email = f"{local}{k}@{companies.domains[c]}"
        taken.add(email)
        emails.append(email)
    return Contacts(company, created, first_names, last_names, emails)


def phone_numbers(rng: np.random.Generator, n: int, share: float) -> list[str]:
    """Reserved drama numbers for `share` of the rows, empty for the rest."""
    prefix = rng.integers(0, len(PHONE_PREFIXES), n).tolist()
    line = rng.integers(0, 1000, n).tolist()
    has = (rng.random(n) < share).tolist()
    return [f"{PHONE_PREFIXES[p]}{x:03d}" if h else "" for p, x, h in zip(prefix, line, has, strict=True)]


def company_batches(companies: Companies, euro: float, seed: int) -> Iterator[Batch]:
    for start in range(0, len(companies), CHUNK):
        stop = min(start + CHUNK, len(companies))
        rng = stream(seed, "company-rows", start // CHUNK)
        n = stop - start
        employees = np.maximum(2, rng.lognormal(np.log(60), 1.1, n)).astype(np.int64)
        revenue = (employees * rng.lognormal(np.log(120_000 * euro), 0.4, n)).astype(np.int64) // 1000 * 1000 * 100
        place = rng.integers(0, len(PLACES), n)
        yield Batch(
            n,
            {
                "id": Ints(np.arange(start + 1, stop + 1)),
                "name": Texts(companies.names[start:stop]),
                "domain": Texts(companies.domains[start:stop]),
                "industry": Choice(rng.integers(0, len(INDUSTRIES), n), INDUSTRIES),
                "country": Choice(place, [country for country, _ in PLACES]),
                "city": Choice(place, [city for _, city in PLACES]),
                "phone": Texts(phone_numbers(rng, n, 0.8)),
                "employees": Ints(employees),
                "annual_revenue": Fixed(revenue),
                "owner_id": Ints(companies.owner[start:stop]),
                "external_id": Const(""),
                "custom": Choice(*custom_json(COMPANY_TIER, np.arange(start, stop), seed)),
                "created_at": Times(companies.created[start:stop]),
            },
        )


def contact_batches(contacts: Contacts, companies: Companies, seed: int) -> Iterator[Batch]:
    for start in range(0, len(contacts), CHUNK):
        stop = min(start + CHUNK, len(contacts))
        rng = stream(seed, "contact-rows", start // CHUNK)
        n = stop - start
        company = contacts.company[start:stop]
        yield Batch(
            n,
            {
                "id": Ints(np.arange(start + 1, stop + 1)),
                "first_name": Texts(contacts.first_names[start:stop]),
                "last_name": Texts(contacts.last_names[start:stop]),
                "email": Texts(contacts.emails[start:stop]),
                "phone": Texts(phone_numbers(rng, n, 0.6)),
                "job_title": Choice(rng.integers(0, len(JOB_TITLES), n), JOB_TITLES),
                "company_id": Ints(company + 1),
                "owner_id": Ints(companies.owner[company]),
                "external_id": Const(""),
                "custom": Const("{}"),
                "created_at": Times(contacts.created[start:stop]),
            },
        )
