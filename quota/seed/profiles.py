"""How the generated business behaves: the knobs that make the data plausible, in one place.

Figures are typical of a small B2B seller of office interiors: a few weeks from first
contact to a signed order, about a third of qualified deals won, referrals converting
best and social media worst, December busy and August quiet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceProfile:
    lead_share: float  # share of incoming leads
    conversion: float  # chance a lead becomes a deal
    direct_share: float  # share of deals without a lead (reps' own prospecting, introductions)
    size: float  # deal size multiplier
    win: float  # win-rate multiplier


# Keyed like reference.SOURCE_KEYS.
SOURCES = {
    "website": SourceProfile(lead_share=0.36, conversion=0.22, direct_share=0.08, size=1.0, win=1.0),
    "social": SourceProfile(lead_share=0.26, conversion=0.07, direct_share=0.0, size=0.7, win=0.75),
    "own_prospecting": SourceProfile(lead_share=0.12, conversion=0.32, direct_share=0.55, size=1.1, win=0.9),
    "referral": SourceProfile(lead_share=0.10, conversion=0.48, direct_share=0.25, size=1.3, win=1.45),
    "other": SourceProfile(lead_share=0.16, conversion=0.15, direct_share=0.12, size=0.9, win=0.9),
}
LEAD_DEAL_SHARE = 0.4  # share of deals that started as a lead
LEAD_CONVERSION_DAYS = 5.0  # median days from lead to deal
UNASSIGNED_LEAD_SHARE = 0.06  # recent leads nobody has picked up yet
WIN_BACK_SHARE = 0.01  # deals that reopen business lost earlier (won_back_from)

# Deals
MEDIAN_DEAL = 6_000  # in the company currency
DEAL_SIZE_SPREAD = 0.8  # sigma of the log-normal deal size
BASE_WIN_RATE = 0.33
STALLED_SHARE = 0.04  # deals nobody closes: they stay open, long past their expected date
WON_CYCLE_DAYS = 28.0  # median days from creation to a win
LOST_CYCLE_DAYS = 19.0
# Win-rate factor by the month a deal would close in: the year-end push, the summer lull.
CLOSE_MONTH_WIN = {1: 0.95, 2: 1.0, 3: 1.05, 4: 1.0, 5: 1.0, 6: 1.05, 7: 0.85, 8: 0.82, 9: 1.0, 10: 1.0, 11: 1.1, 12: 1.3}
# Where lost deals die, from the first stage on (stretched over the pipeline's length).
LOST_AT_STAGE = (0.34, 0.3, 0.22, 0.14)
WON_SKIPPING_A_STAGE = 0.15
WON_BEFORE_LAST_STAGE = 0.15
# Reps are optimistic: the planned close is this fraction of the real cycle (log-normal median).
PLANNED_CYCLE_FACTOR = 0.95
# Close dates pushed out (seed.revisions): how often a deal was pushed 0, 1, 2 or 3 times before the date it was
# planned to close (where its life leaves room for it), each push by about this share of the time from its first
# possible date to the planned one; the chance that an open deal is pushed again each time its date comes (after a
# time it is not, never), by about this many days; how near its date a rep pushes it (days either side; an overdue
# open deal, until this many days after it), and how soon after its creation a deal's first date could be.
SLIP_COUNTS = (0.6, 0.25, 0.1, 0.05)
SLIP_OF_PLAN = 0.35
SLIP_AGAIN = (0.75, 0.7, 0.65, 0.6, 0.55, 0.5)
SLIP_DAYS = 21
SLIP_REVIEW_DAYS = 7
OVERDUE_REVIEW_DAYS = 21
FIRST_PLAN_DAYS = 5
# Amounts revised while the deal was open (seed.revisions), and of those, revised twice.
AMOUNT_REVISED_SHARE = 0.2
AMOUNT_REVISED_TWICE = 0.25
FOREIGN_CURRENCY_SHARES = (0.1, 0.05)
# Loss reasons by name (crm migration 0003); others weigh 1.
LOSS_REASON_WEIGHTS = {
    "Price too high": 28,
    "Competitor chosen": 22,
    "No decision": 18,
    "No budget": 12,
    "Timing": 10,
    "Product fit": 6,
    "Other": 4,
}

# Activities
DEAL_ACTIVITY_SHARE = 0.85  # the rest is prospecting not tied to a deal
DEAL_ACTIVITY_KINDS = {"call": 0.42, "email": 0.30, "meeting": 0.12, "task": 0.16}
PROSPECTING_KINDS = {"call": 0.6, "email": 0.3, "meeting": 0.0, "task": 0.1}
PLANNED_SHARE = 0.25  # of an open deal's meetings and tasks: still ahead
PLANNED_DAYS = 21
OUTBOUND_CALLS = 0.7
ANSWERED = {"out": 0.55, "in": 0.95}
CALL_SECONDS = 240  # median talk time
OUTBOUND_EMAILS = 0.6
EMAIL_OPENED = 0.45
MEETING_HELD = 0.85
MEETING_MINUTES = (30, 45, 60, 90)
TASK_DONE = 0.85

# Sales documents
QUOTE_VALID_DAYS = 30
LINES_PER_QUOTE = (0.35, 0.35, 0.2, 0.1)  # 1, 2, 3 or 4 lines
DISCOUNTS = {0: 0.6, 5: 0.2, 10: 0.14, 15: 0.06}  # percent: share of lines
ORDER_CANCELLED = 0.02
SPLIT_INVOICE = 0.15  # orders billed in two instalments
PAYMENT_DAYS = (14, 30)
INVOICE_PAID_ON_TIME = 0.8
INVOICE_PAID_LATE = 0.12
LOSS_MAKING_MARKUP = (1.05, 1.35)  # cost / amount for loss-making customers

# Service
CASES_PER_DEAL = 0.2
CASE_PRIORITIES = {"low": 0.25, "normal": 0.5, "high": 0.18, "urgent": 0.07}
# Median first response as a share of the SLA, and its spread: about one case in eight breaches.
FIRST_RESPONSE_OF_SLA = 0.35
FIRST_RESPONSE_SPREAD = 0.9
RESOLUTION_HOURS = 40.0  # median; some wait days for the customer
CASE_CHANNEL_SHARES = (0.45, 0.3, 0.15, 0.1)  # vocabulary.CASE_CHANNELS
CSAT_RESPONSE = 0.35
CSAT_SCORES = (0.03, 0.05, 0.12, 0.35, 0.45)  # 1..5 within the SLA
CSAT_SCORES_BREACHED = (0.12, 0.15, 0.25, 0.3, 0.18)
NPS_PER_WON_DEAL = 0.3
NPS_SCORES = (0.02, 0.01, 0.02, 0.03, 0.03, 0.04, 0.05, 0.12, 0.2, 0.26, 0.22)  # 0..10

# Marketing
CAMPAIGN_CHANNELS = {"email": 0.35, "social": 0.25, "ads": 0.2, "event": 0.12, "other": 0.08}
# The lead source each channel's leads arrive through.
CHANNEL_SOURCE = {"email": "website", "social": "social", "ads": "website", "event": "other", "other": "referral"}
CHANNEL_DAYS = {"email": (1, 3), "social": (14, 45), "ads": (30, 60), "event": (1, 3), "other": (60, 120)}
CHANNEL_SPEND = {"email": (200, 1500), "social": (1000, 8000), "ads": (3000, 20000), "event": (5000, 30000), "other": (500, 3000)}
CAMPAIGN_LEAD_SHARE = 0.7  # leads arriving while a campaign of their source runs, that it brought
RECIPIENTS_PER_DEAL = 1.5
OPENED = 0.35
CLICKED = 0.25  # of the opened
