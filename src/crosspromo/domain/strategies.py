"""Cross-promotion strategies as data: how each compares (implementation complexity, cost, time
to results, audience reach, relationship depth), which goals it serves, and its typical steps,
channels and metrics.

The comparison of content collaboration, bundles, e-mail swaps, co-hosted events, social
partnerships and referral programs follows the published strategy comparison in our source
documents; cross-platform promotion, content syndication and co-selling are rated here the same
way from what those documents say of them (``assessed``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Strategy(StrEnum):
    CONTENT = "content_collaboration"
    EMAIL_SWAP = "email_swap"
    BUNDLE = "bundle"
    EVENT = "co_hosted_event"
    SOCIAL = "social"
    REFERRAL = "referral_program"
    CROSS_PLATFORM = "cross_platform"
    SYNDICATION = "content_syndication"
    CO_SELLING = "co_selling"


class Goal(StrEnum):
    LEADS = "leads"
    SALES = "sales"
    AWARENESS = "awareness"
    RETENTION = "retention"


class Level(IntEnum):
    """A rating on the comparison's five-step scale."""

    LOW = 1
    LOW_MEDIUM = 2
    MEDIUM = 3
    MEDIUM_HIGH = 4
    HIGH = 5

    @property
    def words(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a strategy's checklist: done ``day`` days from the campaign's start
    (negative: before it) by the brand, the partner or both."""

    title: str
    day: int
    owner: str  # "brand", "partner" or "both"


@dataclass(frozen=True, slots=True)
class StrategyProfile:
    strategy: Strategy
    title: str
    summary: str
    complexity: Level
    cost: Level
    weeks_to_results: tuple[int, int]  # the usual range
    reach: Level
    depth: Level  # how deep a relationship it builds
    goals: dict[Goal, float]  # how well it serves each goal, 0-1
    channels: tuple[str, ...]
    metrics: tuple[str, ...]
    steps: tuple[Step, ...]
    assessed: bool = False  # rated here, not in the published comparison

    @property
    def weeks_words(self) -> str:
        low, high = self.weeks_to_results
        return f"{low} week" if low == high == 1 else f"{low}-{high} weeks"


L, LM, M, MH, H = Level.LOW, Level.LOW_MEDIUM, Level.MEDIUM, Level.MEDIUM_HIGH, Level.HIGH


def _goals(leads: float, sales: float, awareness: float, retention: float) -> dict[Goal, float]:
    return {Goal.LEADS: leads, Goal.SALES: sales, Goal.AWARENESS: awareness,
            Goal.RETENTION: retention}  # fmt: skip


PROFILES: dict[Strategy, StrategyProfile] = {
    p.strategy: p
    for p in (
        StrategyProfile(
            Strategy.CONTENT, "Content collaboration",
            "Guides, articles or videos made together and published by both.",
            M, LM, (2, 4), MH, M, _goals(0.8, 0.4, 0.8, 0.4),
            ("blog", "newsletter", "social", "video"),
            ("qualified leads", "content downloads", "cost per lead", "assisted sales"),
            (Step("Agree the topic, angle and each side's part", -21, "both"),
             Step("Draft the piece", -14, "brand"),
             Step("Review and approve the draft", -7, "partner"),
             Step("Publish on both sites and announce", 0, "both"),
             Step("Share the first results", 14, "both")),
        ),
        StrategyProfile(
            Strategy.BUNDLE, "Product bundle",
            "Complementary products sold together at a special price.",
            H, M, (1, 2), H, LM, _goals(0.3, 1.0, 0.5, 0.6),
            ("shop", "landing page", "newsletter"),
            ("bundle sales", "average order value", "revenue per partner", "refund rate"),
            (Step("Agree the items, price and revenue shares", -28, "both"),
             Step("Set up stock, fulfilment and the redemption code", -14, "brand"),
             Step("Approve the co-branded offer page", -7, "both"),
             Step("Launch the bundle", 0, "both"), Step("Review sales and stock", 14, "both")),
        ),
        StrategyProfile(
            Strategy.EMAIL_SWAP, "E-mail swap",
            "Each side features the other in a mailing to its own consenting subscribers.",
            L, L, (1, 1), M, L, _goals(0.9, 0.6, 0.5, 0.2),
            ("newsletter",),
            ("opens", "clicks", "leads", "cost per lead", "unsubscribes"),
            (Step("Agree the send dates and audience segments", -14, "both"),
             Step("Exchange the copy and tracked links", -7, "both"),
             Step("Send to consenting subscribers", 0, "both"),
             Step("Compare clicks and leads", 7, "both")),
        ),
        StrategyProfile(
            Strategy.EVENT, "Co-hosted event",
            "A webinar, workshop or fair organised and promoted by both.",
            H, H, (6, 12), H, H, _goals(0.9, 0.5, 0.9, 0.6),
            ("event", "webinar", "newsletter", "social"),
            ("registrations", "attendance rate", "leads", "cost per lead", "pipeline"),
            (Step("Agree the format, date, speakers and budget split", -56, "both"),
             Step("Book the venue or platform", -42, "brand"),
             Step("Open registration and announce", -28, "both"),
             Step("Send reminders to registrants", -2, "both"), Step("Hold the event", 0, "both"),
             Step("Share recordings and split the leads", 3, "both")),
        ),
        StrategyProfile(
            Strategy.SOCIAL, "Social media partnership",
            "Posts, takeovers or giveaways across both sides' social accounts.",
            LM, L, (1, 2), M, LM, _goals(0.5, 0.3, 0.9, 0.3),
            ("social",),
            ("reach", "engagement rate", "followers gained", "clicks"),
            (Step("Agree the posts, hashtags and dates", -10, "both"),
             Step("Approve each other's posts", -3, "both"),
             Step("Post on both accounts", 0, "both"),
             Step("Compare reach and clicks", 7, "both")),
        ),
        StrategyProfile(
            Strategy.REFERRAL, "Referral program",
            "Partners refer customers with codes or links and earn a commission.",
            MH, M, (4, 8), MH, H, _goals(0.7, 0.9, 0.3, 0.7),
            ("referral code", "partner link", "newsletter"),
            ("referred customers", "referral conversion rate", "commission per sale", "CPA"),
            (Step("Agree the commission rules", -21, "both"),
             Step("Issue referral codes and tracked links", -14, "brand"),
             Step("Brief the partner's team or community", -7, "partner"),
             Step("Open the program", 0, "both"), Step("First commission run", 30, "brand")),
        ),
        StrategyProfile(
            Strategy.CROSS_PLATFORM, "Cross-platform promotion",
            "One message carried by each side's different channels at the same time.",
            M, LM, (2, 4), H, LM, _goals(0.6, 0.5, 0.9, 0.3),
            ("social", "newsletter", "blog", "in-app", "podcast"),
            ("reach", "clicks by channel", "leads", "cost per lead"),
            (Step("Agree the message and each channel's part", -14, "both"),
             Step("Prepare each channel's version", -7, "both"),
             Step("Launch on every channel together", 0, "both"),
             Step("Compare results by channel", 14, "both")),
            assessed=True,
        ),
        StrategyProfile(
            Strategy.SYNDICATION, "Content syndication",
            "Each side republishes the other's existing content, credited and linked.",
            L, L, (2, 6), M, LM, _goals(0.6, 0.2, 0.7, 0.4),
            ("blog", "newsletter"),
            ("views", "referral traffic", "leads"),
            (Step("Pick the pieces to exchange", -7, "both"),
             Step("Agree credits, canonical links and tracked links", -3, "both"),
             Step("Republish", 0, "both"), Step("Compare traffic and leads", 21, "both")),
            assessed=True,
        ),
        StrategyProfile(
            Strategy.CO_SELLING, "Co-selling",
            "Both sales teams work chosen accounts together with a joint offer.",
            H, M, (8, 16), M, H, _goals(0.6, 1.0, 0.2, 0.8),
            ("sales team", "event", "e-mail"),
            ("joint pipeline", "win rate", "deal size", "sales cycle"),
            (Step("Agree target accounts and the joint offer", -28, "both"),
             Step("Train each other's sales team", -14, "both"),
             Step("Start joint outreach", 0, "both"),
             Step("Review the pipeline together", 30, "both")),
            assessed=True,
        ),
    )
}  # fmt: skip
