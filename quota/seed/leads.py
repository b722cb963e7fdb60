"""Leads: who came in through which source, and which of them became deals (and when).

A converted lead takes the contact and company of the deal it became, as `lead_convert`
would have left it; the others stay open, get qualified, or are disqualified with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.crm.choices import LeadStatus
from quota.seed import profiles
from quota.seed.clock import LEAD_IN_DAYS, Clock
from quota.seed.columns import NULL_ID, NULL_TIME, Batch, Choice, Const, Ints, Texts, Times, one_based
from quota.seed.customers import Companies, Contacts, email_local_part, phone_numbers
from quota.seed.marketing import Campaigns
from quota.seed.people import People
from quota.seed.randomness import stream, weighted_index
from quota.seed.reference import SOURCE_KEYS
from quota.seed.vocabulary import COMPANY_TRADES, COMPANY_WORDS, DISQUALIFY_REASONS, FIRST_NAMES, LAST_NAMES, LEAD_TITLES

STATUSES = (LeadStatus.OPEN.value, LeadStatus.QUALIFIED.value, LeadStatus.CONVERTED.value, LeadStatus.DISQUALIFIED.value)
OPEN, QUALIFIED, CONVERTED, DISQUALIFIED = range(4)
# Which lead titles each source produces (indexes into LEAD_TITLES).
SOURCE_TITLES = {"website": (0, 1, 2, 3, 9), "social": (3, 6), "own_prospecting": (5, 9), "referral": (7, 8), "other": (4, 9)}
STALE_AFTER_DAYS = 30
CHUNK = 100_000


@dataclass
class Leads:
    created: np.ndarray  # ascending; lead id = index + 1
    source: np.ndarray  # index into SOURCE_KEYS
    owner: np.ndarray  # user id or NULL_ID
    status: np.ndarray  # index into STATUSES
    converted: np.ndarray  # NULL_TIME unless converted
    company: np.ndarray  # 0-based company index for converted leads, else -1
    contact: np.ndarray  # 0-based contact index for converted leads, else -1
    campaign: np.ndarray  # 0-based campaign index or -1

    def __len__(self) -> int:
        return len(self.created)

    @property
    def converted_ids(self) -> np.ndarray:
        return np.flatnonzero(self.status == CONVERTED)


def lead_count(deals: int) -> int:
    """Enough leads that, at their sources' conversion rates, they bring LEAD_DEAL_SHARE of the deals."""
    conversion = sum(p.lead_share * p.conversion for p in profiles.SOURCES.values())
    return round(deals * profiles.LEAD_DEAL_SHARE / conversion)


def build_leads(deals: int, people: People, companies: Companies, campaigns: Campaigns, clock: Clock, seed: int) -> Leads:
    rng = stream(seed, "leads")
    n = lead_count(deals)
    created = np.sort(clock.seasonal_instants(rng, n, LEAD_IN_DAYS))
    shares = np.array([profiles.SOURCES[k].lead_share for k in SOURCE_KEYS])
    source = rng.choice(len(SOURCE_KEYS), size=n, p=shares / shares.sum())
    seller = weighted_index(rng, people.seller_share, n)
    owner = people.seller_ids[seller]
    conversion = np.array([profiles.SOURCES[k].conversion for k in SOURCE_KEYS])[source]
    # Better reps qualify better: conversion follows (the square root of) their win-rate multiplier.
    will_convert = rng.random(n) < (conversion * np.sqrt(people.seller_win[seller])).clip(0, 0.95)
    lag = rng.lognormal(np.log(profiles.LEAD_CONVERSION_DAYS * 86_400), 0.9, n).astype(np.int64)
    converted_at = clock.working_instants(rng, created + lag, created + lag + 86_400)
    # A lead converts only once that moment has come; at most 80% of deals start as leads (small sizes).
    converts = will_convert & (converted_at <= clock.as_of)
    converts[np.flatnonzero(converts)[int(deals * 0.8) :]] = False
    age_days = (clock.as_of - created) / 86_400
    roll = rng.random(n)
    status = np.where(roll < 0.6, OPEN, QUALIFIED)
    stale = age_days > STALE_AFTER_DAYS
    status = np.where(stale, np.select([roll < 0.8, roll < 0.92], [DISQUALIFIED, QUALIFIED], OPEN), status)
    status = np.where(will_convert & ~converts, np.where(roll < 0.6, QUALIFIED, OPEN), status)
    status = np.where(converts, CONVERTED, status)
    unassigned = (status == OPEN) & ~stale & (rng.random(n) < profiles.UNASSIGNED_LEAD_SHARE)
    owner = np.where(unassigned, NULL_ID, owner)
    company = np.full(n, -1, dtype=np.int64)
    contact = np.full(n, -1, dtype=np.int64)
    converted = np.flatnonzero(converts)
    company[converted] = companies.pick(rng, converted_at[converted])
    contact[converted] = companies.pick_contact(rng, company[converted])
    campaign = campaigns.running(rng, source, clock.local_day(created))
    return Leads(created, source, owner, status, np.where(converts, converted_at, NULL_TIME), company, contact, campaign)


def lead_batches(
    leads: Leads, companies: Companies, contacts: Contacts, campaigns: Campaigns, source_ids: tuple[int, ...], seed: int
) -> Iterator[Batch]:
    utm = campaigns.utm_json()
    for start in range(0, len(leads), CHUNK):
        stop = min(start + CHUNK, len(leads))
        rng = stream(seed, "lead-rows", start // CHUNK)
        n = stop - start
        status = leads.status[start:stop]
        contact = leads.contact[start:stop]
        company = leads.company[start:stop]
        source = leads.source[start:stop]
        # Prospects that never became customers get names of their own.
        words, trades = rng.integers(0, len(COMPANY_WORDS), n).tolist(), rng.integers(0, len(COMPANY_TRADES), n).tolist()
        firsts, lasts = rng.integers(0, len(FIRST_NAMES), n).tolist(), rng.integers(0, len(LAST_NAMES), n).tolist()
        company_names, first_names, last_names, emails = [], [], [], []
        for i, (c, k) in enumerate(zip(contact.tolist(), company.tolist(), strict=True)):
            if c >= 0:
                company_names.append(companies.names[k])
                first_names.append(contacts.first_names[c])
                last_names.append(contacts.last_names[c])
                emails.append(contacts.emails[c])
            else:
                prospect = f"{COMPANY_WORDS[words[i]]} {COMPANY_TRADES[trades[i]]}"
                first, last = FIRST_NAMES[firsts[i]], LAST_NAMES[lasts[i]]
                company_names.append(prospect)
                first_names.append(first)
                last_names.append(last)
                emails.append(f"{email_local_part(first, last)}@{prospect.lower().replace(' ', '-')}.example")
        title = np.zeros(n, dtype=np.int64)
        for code, key in enumerate(SOURCE_KEYS):
            mine = source == code
            title[mine] = np.array(SOURCE_TITLES[key])[rng.integers(0, len(SOURCE_TITLES[key]), int(mine.sum()))]
        titles = [f"{LEAD_TITLES[t]}: {name}" for t, name in zip(title.tolist(), company_names, strict=True)]
        disqualified = status == DISQUALIFIED
        reason = np.where(disqualified, 1 + rng.integers(0, len(DISQUALIFY_REASONS), n), 0)
        yield Batch(
            n,
            {
                "id": Ints(np.arange(start + 1, stop + 1)),
                "title": Texts(titles),
                "first_name": Texts(first_names),
                "last_name": Texts(last_names),
                "company_name": Texts(company_names),
                "email": Texts(emails),
                "phone": Texts(phone_numbers(rng, n, 0.3)),
                "source_id": Ints(np.array(source_ids)[source]),
                "status": Choice(status, STATUSES),
                "owner_id": Ints(leads.owner[start:stop], nullable=True),
                "campaign_id": Ints(one_based(leads.campaign[start:stop]), nullable=True),
                "utm": Choice(leads.campaign[start:stop] + 1, utm),
                "disqualified_reason": Choice(reason, ("", *DISQUALIFY_REASONS)),
                "created_at": Times(leads.created[start:stop]),
                "converted_at": Times(leads.converted[start:stop]),
                "contact_id": Ints(one_based(contact), nullable=True),
                "company_id": Ints(one_based(company), nullable=True),
                "external_id": Const(""),
                "custom": Const("{}"),
            },
        )
