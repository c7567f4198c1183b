"""Which strategy suits a campaign: every strategy scored for a goal, a budget and a time
horizon, and, when the partner is named, for how the two fit (Discover's complementarity and
measured audience overlap), with the reasons in words.

The score is a weighted sum of four fits, each 0-1: the goal (0.4), the time to results against
the horizon (0.2), the usual cost against the budget (0.2) and the partner fit (0.2; without a
partner the other three share its weight). Complementary offerings favour joint offers
(bundles, co-selling); a small overlap of audiences favours strategies that reach the partner's
customers (e-mail swaps, social, syndication)."""

from __future__ import annotations

from dataclasses import dataclass

from crosspromo.domain.money import check_currency, minor_per_major
from crosspromo.domain.strategies import PROFILES, Goal, Level, Strategy, StrategyProfile
from crosspromo.errors import InvalidInputError
from crosspromo.store.database import Database

WEIGHTS = {"goal": 0.4, "time": 0.2, "budget": 0.2, "partner": 0.2}
# The budget from which a cost level is usually covered, in major units of these currencies
# (taken at face value: close enough for a ranking, and said so in the reasons).
USUAL_BUDGET = {Level.LOW: 0, Level.LOW_MEDIUM: 500, Level.MEDIUM: 2_000,
                Level.MEDIUM_HIGH: 5_000, Level.HIGH: 10_000}  # fmt: skip
BUDGET_CURRENCIES = ("EUR", "USD", "GBP", "CHF")
# How much of a strategy's partner fit comes from complementary offerings; the rest comes from
# reaching customers the brand does not share with the partner.
COMPLEMENT_SHARE = {
    Strategy.CONTENT: 0.5, Strategy.BUNDLE: 1.0, Strategy.EMAIL_SWAP: 0.2, Strategy.EVENT: 0.5,
    Strategy.SOCIAL: 0.2, Strategy.REFERRAL: 0.6, Strategy.CROSS_PLATFORM: 0.3,
    Strategy.SYNDICATION: 0.3, Strategy.CO_SELLING: 0.8,
}  # fmt: skip
MAX_WEEKS = 520


@dataclass(frozen=True, slots=True)
class PartnerFit:
    """What Discover knows of the pair: complementarity 0-1, the share of our customers the
    partner also has (None: not measured), and whether it sells the same kind of product."""

    partner: str
    complementarity: float
    overlap: float | None
    competitor: bool


@dataclass(frozen=True, slots=True)
class Recommendation:
    strategy: str
    title: str
    score: float
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class Recommendations:
    goal: str
    budget_minor: int
    currency: str
    weeks: int
    partner: str | None
    strategies: list[Recommendation]


def recommend(
    goal: str, budget_minor: int, currency: str, weeks: int, fit: PartnerFit | None = None
) -> Recommendations:
    """Every strategy, best first, for ``goal`` with ``budget_minor`` over ``weeks``."""
    try:
        wanted = Goal(goal)
    except ValueError:
        raise InvalidInputError(
            f"goal {goal!r} is not one of {', '.join(g.value for g in Goal)}", field="goal"
        ) from None
    currency = check_currency(currency)
    if currency not in BUDGET_CURRENCIES:
        raise InvalidInputError(
            f"budgets are compared in {', '.join(BUDGET_CURRENCIES)}, not {currency}",
            field="currency",
        )
    if isinstance(budget_minor, bool) or not 0 <= budget_minor <= 10**13:
        raise InvalidInputError("budget_minor is a whole number >= 0", field="budget_minor")
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInputError(f"weeks must be 1-{MAX_WEEKS}", field="weeks")
    budget = budget_minor / minor_per_major(currency)
    found = [_score(p, wanted, budget, currency, weeks, fit) for p in PROFILES.values()]
    found.sort(key=lambda r: -r.score)  # stable: ties keep the strategies' order
    return Recommendations(str(wanted), budget_minor, currency, weeks,
                           fit.partner if fit else None, found)  # fmt: skip


def _score(
    p: StrategyProfile, goal: Goal, budget: float, currency: str, weeks: int,
    fit: PartnerFit | None,
) -> Recommendation:  # fmt: skip
    fits: dict[str, float] = {}
    reasons = []
    g = p.goals[goal]
    fits["goal"] = g
    strength = "strong" if g >= 0.8 else "fair" if g >= 0.5 else "weak"
    reasons.append(f"{strength} for {goal.value} ({p.summary[0].lower()}{p.summary[1:-1]})")
    low, high = p.weeks_to_results
    if weeks >= high:
        fits["time"] = 1.0
        reasons.append(f"results usually come in {p.weeks_words}, within your {weeks} weeks")
    elif weeks >= low:
        fits["time"] = 0.5 + 0.5 * (weeks - low) / (high - low)
        reasons.append(f"results usually come in {p.weeks_words}: {weeks} weeks is tight")
    else:
        fits["time"] = 0.0
        reasons.append(f"results usually take {p.weeks_words}, longer than your {weeks} weeks")
    usual = USUAL_BUDGET[p.cost]
    fits["budget"] = 1.0 if usual == 0 else min(1.0, budget / usual)
    money = f"{currency} {budget:,.0f}"
    if budget >= usual:
        reasons.append(f"{money} covers its {p.cost.words} cost")
    else:
        reasons.append(f"its {p.cost.words} cost usually needs {currency} {usual:,} or more; "
                       f"{money} is short")  # fmt: skip
    if fit is not None:
        fits["partner"] = _partner_fit(p, fit, reasons)
    weights = WEIGHTS if fit is not None else {k: v for k, v in WEIGHTS.items() if k != "partner"}
    total = sum(weights.values())
    score = sum(weights[k] * fits[k] for k in weights) / total
    if fit is not None and fit.competitor:
        score *= 0.5
        reasons.append(f"Discover flags {fit.partner} as a competitor: any joint campaign is a "
                       "risk")  # fmt: skip
    reasons.append(f"complexity {p.complexity.words}, reach {p.reach.words}, relationship "
                   f"depth {p.depth.words}" + (" (our rating)" if p.assessed else ""))  # fmt: skip
    return Recommendation(str(p.strategy), p.title, round(score, 3), reasons)


def _partner_fit(p: StrategyProfile, fit: PartnerFit, reasons: list[str]) -> float:
    share = COMPLEMENT_SHARE[p.strategy]
    new_audience = 0.5 if fit.overlap is None else 1.0 - fit.overlap
    value = share * fit.complementarity + (1 - share) * new_audience
    if share >= 0.6:
        level = "complement" if fit.complementarity >= 0.5 else "hardly complement"
        reasons.append(f"works best with complementary offerings: yours and {fit.partner}'s "
                       f"{level} each other ({fit.complementarity:.2f})")  # fmt: skip
    elif fit.overlap is None:
        reasons.append(f"reaches {fit.partner}'s customers; your audience overlap is not "
                       "measured yet")  # fmt: skip
    else:
        reasons.append(f"reaches {fit.partner}'s customers: {fit.overlap:.0%} of yours are "
                       "already theirs")  # fmt: skip
    return value


def partner_fit(db: Database, org_id: int, partner: str) -> PartnerFit:
    """Discover's view of ``partner`` from ``org_id``'s side."""
    from crosspromo.services.discover.ranking import score_candidates  # its models load here

    ranking = score_candidates(db, org_id, top=None)
    found = next((c for c in ranking.candidates if c.profile.slug == partner), None)
    if found is None:
        raise InvalidInputError(
            f"{partner!r} has no Discover profile to judge the fit by", field="partner"
        )
    overlap = found.overlap.ours if found.overlap is not None else None
    return PartnerFit(partner, found.pair.strength, overlap, found.competitor)


def strategy_of(name: str) -> Strategy:
    try:
        return Strategy(name)
    except ValueError:
        raise InvalidInputError(
            f"strategy {name!r} is not one of {', '.join(s.value for s in Strategy)}",
            field="strategy",
        ) from None
