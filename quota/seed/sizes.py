"""How big the generated company is: `demo`, `large`, or N deals with everything else in proportion."""

from __future__ import annotations

import math
from dataclasses import dataclass

DEMO_DEALS = 3_000
LARGE_DEALS = 1_000_000
MIN_DEALS = 50
MAX_DEALS = 20_000_000
# Per deal: the ratios of the `large` target (100,000 companies, 10,000,000 activities per 1,000,000 deals).
COMPANIES_PER_DEAL = 0.1
ACTIVITIES_PER_DEAL = 10.0


class BadArgument(ValueError):
    """A size or seed the generator cannot use (the message names the option)."""


@dataclass(frozen=True)
class Scale:
    deals: int
    users: int
    companies: int
    activities: int
    campaigns: int

    @property
    def label(self) -> str:
        named = {DEMO_DEALS: "the demo company", LARGE_DEALS: "the large company"}
        return named.get(self.deals, f"a company with {self.deals:,} deals")


def scale_for(size: str) -> Scale:
    """The scale for `demo`, `large` or a number of deals; BadArgument with a readable reason otherwise."""
    if size == "demo":
        deals = DEMO_DEALS
    elif size == "large":
        deals = LARGE_DEALS
    else:
        try:
            deals = int(size.replace("_", ""))
        except ValueError:
            raise BadArgument(f"--size must be demo, large or a number of deals, not {size!r}") from None
        if not MIN_DEALS <= deals <= MAX_DEALS:
            raise BadArgument(f"--size must be between {MIN_DEALS:,} and {MAX_DEALS:,} deals, not {deals:,}")
    return Scale(
        deals=deals,
        # 12 people for the demo, 200 for the large company: a team grows with the square root of its business.
        users=max(12, min(200, round(math.sqrt(deals) / 5))),
        companies=max(20, round(deals * COMPANIES_PER_DEAL)),
        activities=round(deals * ACTIVITIES_PER_DEAL),
        campaigns=max(12, min(240, round(24 * (deals / DEMO_DEALS) ** 0.4))),
    )
