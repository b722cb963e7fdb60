"""Campaigns tied to lead sources, and the recipients of the e-mail ones (sent, opened, clicked)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.seed import profiles
from quota.seed.clock import Clock
from quota.seed.columns import NULL_DAY, NULL_TIME, Batch, Choice, Const, Dates, Fixed, Ints, Texts, Times
from quota.seed.customers import Companies, Contacts
from quota.seed.people import People
from quota.seed.randomness import stream
from quota.seed.reference import SOURCE_KEYS
from quota.seed.sizes import DEMO_DEALS, Scale
from quota.seed.vocabulary import DEAL_TOPICS, PLACES

CHANNELS = tuple(profiles.CAMPAIGN_CHANNELS)
UTM = {"email": ("newsletter", "email"), "social": ("linkedin", "social"), "ads": ("google", "cpc"), "event": ("fair", "event")}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Campaigns:
    start_day: np.ndarray  # epoch days, ascending; campaign id = index + 1
    end_day: np.ndarray  # NULL_DAY: still running
    channel: np.ndarray  # index into CHANNELS
    source: np.ndarray  # index into reference.SOURCE_KEYS
    owner: np.ndarray
    spend: np.ndarray  # cents
    recipients: np.ndarray  # how many contacts each e-mail campaign reaches (0 for the others)
    names: list[str]

    def __len__(self) -> int:
        return len(self.start_day)

    def utm_json(self) -> list[str]:
        """The UTM parameters a lead from each campaign carries ("{}" first, for leads without one)."""
        texts = ["{}"]
        for i, channel in enumerate(self.channel.tolist()):
            source, medium = UTM.get(CHANNELS[channel], ("referral", "referral"))
            texts.append(json.dumps({"utm_source": source, "utm_medium": medium, "utm_campaign": f"c{i + 1}"}))
        return texts

    def running(self, rng: np.random.Generator, source: np.ndarray, days: np.ndarray) -> np.ndarray:
        """For leads of `source` arriving on `days`: the campaign that brought them (0-based), or -1."""
        out = np.full(len(days), -1, dtype=np.int64)
        end = np.where(self.end_day == NULL_DAY, np.iinfo(np.int32).max, self.end_day)
        for s in np.unique(self.source).tolist():
            ids = np.flatnonzero(self.source == s)
            leads = np.flatnonzero(source == s)
            if not len(leads):
                continue
            # The latest campaign of this source started on or before the day, if it still runs then.
            at = np.searchsorted(self.start_day[ids], days[leads], side="right") - 1
            found = at >= 0
            candidate = ids[at.clip(0)]
            brought = found & (end[candidate] >= days[leads]) & (rng.random(len(leads)) < profiles.CAMPAIGN_LEAD_SHARE)
            out[leads[brought]] = candidate[brought]
        return out


def known_contacts(companies: Companies, instant: int) -> int:
    """How many contacts (the lowest ids) belong to companies in the CRM since at least a day before `instant`."""
    known = int(np.searchsorted(companies.created + 86_400, instant, side="right"))
    return int(companies.contact_start[known - 1] + companies.contact_count[known - 1]) if known else 0


def mailing_start(clock: Clock, day: int) -> int:
    return int(clock.at(day, 9 * 3600))  # mailings go out from 09:00, before history ends at noon


def build_campaigns(scale: Scale, people: People, companies: Companies, euro: float, clock: Clock, seed: int) -> Campaigns:
    rng = stream(seed, "campaigns")
    n = scale.campaigns
    start = np.sort(clock.local_day(clock.seasonal_instants(rng, n)))
    channel = rng.choice(len(CHANNELS), size=n, p=np.array(list(profiles.CAMPAIGN_CHANNELS.values())))
    low, high = (np.array([profiles.CHANNEL_DAYS[c][i] for c in CHANNELS]) for i in (0, 1))
    end = start + rng.integers(low[channel], high[channel] + 1)
    end[(channel == CHANNELS.index("other")) & (rng.random(n) < 0.5)] = NULL_DAY  # always-on referral programmes
    spend_low, spend_high = (np.array([profiles.CHANNEL_SPEND[c][i] for c in CHANNELS]) for i in (0, 1))
    bigger = max(1.0, (scale.deals / DEMO_DEALS) ** 0.35)  # a bigger company runs bigger campaigns
    spend = (rng.uniform(spend_low[channel], spend_high[channel]) * bigger * euro).astype(np.int64) * 100
    source = np.array([SOURCE_KEYS.index(profiles.CHANNEL_SOURCE[CHANNELS[c]]) for c in channel.tolist()], dtype=np.int64)
    is_email = channel == CHANNELS.index("email")
    per_mailing = round(scale.deals * profiles.RECIPIENTS_PER_DEAL / max(1, int(is_email.sum())))
    reachable = np.array([known_contacts(companies, mailing_start(clock, d)) for d in start.tolist()], dtype=np.int64)
    recipients = np.where(is_email, np.minimum(per_mailing, reachable), 0)
    names = []
    for day, c in zip(start.tolist(), channel.tolist(), strict=True):
        date = np.datetime64(day, "D").astype(object)
        topic = DEAL_TOPICS[int(rng.integers(len(DEAL_TOPICS)))]
        city = PLACES[int(rng.integers(len(PLACES)))][1]
        names.append(
            {
                "email": f"Newsletter {MONTHS[date.month - 1]} {date.year}",
                "social": f"Social: {topic}",
                "ads": f"Search ads: {topic}",
                "event": f"Trade fair {city} {date.year}",
                "other": f"Referral programme {date.year} Q{(date.month - 1) // 3 + 1}",
            }[CHANNELS[c]]
        )
    return Campaigns(
        start,
        end,
        channel,
        source,
        people.marketing_ids[rng.integers(0, len(people.marketing_ids), n)],
        spend,
        recipients,
        names,
    )


def campaign_batch(campaigns: Campaigns, source_ids: tuple[int, ...], currency: str) -> Batch:
    n = len(campaigns)
    return Batch(
        n,
        {
            "id": Ints(np.arange(1, n + 1)),
            "name": Texts(campaigns.names),
            "channel": Choice(campaigns.channel, CHANNELS),
            "source_id": Ints(np.array(source_ids)[campaigns.source]),
            "owner_id": Ints(campaigns.owner),
            "starts_on": Dates(campaigns.start_day),
            "ends_on": Dates(campaigns.end_day),
            "spend": Fixed(campaigns.spend),
            "currency": Const(currency),
            "exchange_rate": Const("1"),
        },
    )


def recipient_batches(campaigns: Campaigns, contacts: Contacts, companies: Companies, clock: Clock, seed: int) -> Iterator[Batch]:
    next_id = 1
    for c in np.flatnonzero(campaigns.recipients).tolist():
        rng = stream(seed, "recipients", c)
        start = mailing_start(clock, int(campaigns.start_day[c]))
        size = int(campaigns.recipients[c])
        who = np.sort(rng.choice(known_contacts(companies, start), size=size, replace=False))
        sent = start + rng.integers(0, 2 * 3600, size)
        opened = sent + rng.lognormal(np.log(5 * 3600), 1.2, size).astype(np.int64)
        opened = np.where((rng.random(size) < profiles.OPENED) & (opened <= clock.as_of), opened, NULL_TIME)
        clicked = opened + rng.integers(5, 600, size)
        clicked = np.where(
            (opened != NULL_TIME) & (rng.random(size) < profiles.CLICKED) & (clicked <= clock.as_of), clicked, NULL_TIME
        )
        yield Batch(
            size,
            {
                "id": Ints(np.arange(next_id, next_id + size)),
                "campaign_id": Const(c + 1),
                "contact_id": Ints(who + 1),
                "email": Texts([contacts.emails[i] for i in who.tolist()]),
                "sent_at": Times(sent),
                "opened_at": Times(opened),
                "clicked_at": Times(clicked),
            },
        )
        next_id += size
