"""A whole experiment's analysis: every arm against the control on every metric, corrected for
multiple comparisons, checked for a sample ratio mismatch, and a decision with its reason."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Annotated, Any

from pydantic import Field

from crosspromo.analytics.experiments.analysis import (
    SRM_ALPHA,
    Comparison,
    always_valid_p_value,
    compare,
    cuped_theta,
    holm,
    omnibus,
    sample_ratio_p_value,
)
from crosspromo.analytics.experiments.moments import MetricKind, Moments


@dataclass(frozen=True)
class MetricSpec:
    """A metric: its name in results, its kind, the column holding each unit's value (the
    name when not given), for a ratio the denominator column, an optional pre-period covariate
    column (CUPED), whether it is a guardrail (a metric that must not rise, such as
    unsubscribes), and the words the decision's reason names it by (the name when not given)."""

    name: str
    kind: MetricKind
    denominator: str | None = None
    covariate: str | None = None
    guardrail: bool = False
    column: str = ""
    label: str = ""

    @property
    def words(self) -> str:
        return self.label or self.name

    @property
    def source(self) -> str:
        """The column of the values (of the numerator, for a ratio)."""
        return self.column or self.name


@dataclass(frozen=True)
class MetricResult(Comparison):
    """A metric in one arm: its mean and, in a treatment arm, how it compares with the control
    (p_adjusted is Holm's, over every arm and metric). Values the data cannot give, or that are
    not finite, are None."""

    mean: float | None = None
    treated: Annotated[bool, Field(exclude=True)] = False

    @property
    def comparison(self) -> Comparison | None:
        """The comparison with the control; None in the control itself."""
        return self if self.treated else None

    @classmethod
    def of(cls, mean: float | None, comparison: Comparison | None) -> MetricResult:
        values = {k: _finite(v) for k, v in asdict(comparison or Comparison()).items()}
        return cls(**values, mean=_finite(mean), treated=comparison is not None)


@dataclass(frozen=True)
class ArmResult:
    arm: str
    n: int
    metrics: dict[str, MetricResult]


@dataclass(frozen=True)
class Decision:
    action: str  # ship, keep_control, keep_running, investigate or collecting_data
    arm: str | None
    reason: str


@dataclass(frozen=True)
class ExperimentReport:
    control: str
    alpha: float
    arms: list[ArmResult]
    srm_p_value: float | None
    omnibus_p_value: dict[str, float | None]
    decision: Decision
    warnings: list[str] = field(default_factory=list)
    segments: dict[str, ExperimentReport] = field(default_factory=dict)

    def lifts(
        self, words: Mapping[str, str] | None = None
    ) -> list[tuple[str, float, float, float, bool]]:
        """Each treatment arm's relative lift on each metric (named by ``words``, or by its
        name) with its interval, and whether it is significant after Holm's correction (for
        charts)."""
        named = words or {}
        return [
            (f"{arm.arm} · {named.get(name, name)}", m.lift_rel, m.ci_rel[0], m.ci_rel[1],
             m.p_adjusted is not None and m.p_adjusted < self.alpha)
            for arm in self.arms[1:]
            for name, m in arm.metrics.items()
            if m.lift_rel is not None and m.ci_rel
        ]  # fmt: skip


def _finite(value: Any) -> Any:
    """``value`` with numbers that are not finite (alone or in a pair) made None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return tuple(_finite(v) for v in value)
    return value


def analyze(
    moments: Mapping[str, Mapping[str, Moments]],
    metrics: Sequence[MetricSpec],
    control: str,
    *,
    shares: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    planned_per_arm: int | None = None,
    looks: Mapping[str, Sequence[Mapping[str, Moments]]] | None = None,
    mixture: float = 0.1,
    min_units_per_arm: int = 0,
) -> ExperimentReport:
    """``moments[arm][metric]`` for every arm (the control among them). ``shares`` are the
    designed arm shares (equal when not given), for the sample-ratio check. With ``looks``
    (per arm, the cumulative moments at each day, days aligned across arms) every comparison
    also gets an always-valid p-value, tuned for effects of about ``mixture`` times the
    control's mean. While an arm has fewer than ``min_units_per_arm`` units the decision is
    ``collecting_data`` (the figures are shown, nothing is concluded from them)."""
    if control not in moments:
        raise ValueError(f"the control arm {control!r} has no units")
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1")
    arms = [control, *sorted(a for a in moments if a != control)]
    if len(arms) < 2:
        raise ValueError("an experiment needs at least one arm besides the control")
    warnings: list[str] = []
    counts = [_units(moments[a]) for a in arms]
    expected = [shares.get(a, 0.0) if shares else 1.0 for a in arms]
    srm = sample_ratio_p_value(counts, expected)
    if srm is not None and srm < SRM_ALPHA:
        warnings.append(
            f"sample ratio mismatch: units per arm {dict(zip(arms, counts, strict=True))} are "
            f"unlikely under the design (p = {srm:.2g}); assignment or logging is broken"
        )
    comparisons: list[tuple[str, str, Comparison]] = []
    omnibus_p: dict[str, float | None] = {}
    for spec in metrics:
        per_arm = [moments[a][spec.name] for a in arms]
        theta: float | None = None
        pooled_x = 0.0
        if spec.covariate is not None and spec.kind is not MetricKind.RATIO:
            theta, pooled_x = cuped_theta(per_arm)
        for arm, m in zip(arms[1:], per_arm[1:], strict=True):
            result = compare(
                per_arm[0], m, spec.kind, alpha=alpha, theta=theta, pooled_x_mean=pooled_x
            )
            if looks is not None and result.p_value is not None:
                tau = mixture * abs(per_arm[0].mean(spec.kind)) or mixture
                pairs = [
                    (c[spec.name], t[spec.name])
                    for c, t in zip(looks[control], looks[arm], strict=True)
                ]
                sequential = always_valid_p_value(pairs, spec.kind, tau)
                result = replace(result, sequential_p_value=sequential)
            comparisons.append((arm, spec.name, result))
        omnibus_p[spec.name], why = omnibus(per_arm, spec.kind)
        if why:
            warnings.append(f"{spec.name}: no omnibus test ({why})")
    adjusted = holm([c for _, _, c in comparisons])
    by_key = {(arm, name): c for (arm, name, _), c in zip(comparisons, adjusted, strict=True)}
    results = [
        ArmResult(
            arm,
            count,
            {
                spec.name: MetricResult.of(
                    moments[arm][spec.name].mean(spec.kind) if count else None,
                    by_key.get((arm, spec.name)),
                )
                for spec in metrics
            },
        )
        for arm, count in zip(arms, counts, strict=True)
    ]
    for arm, name, c in comparisons:
        if c.note:
            warnings.append(f"{arm} / {name}: {c.note}")
    smallest = min(counts)
    if smallest < min_units_per_arm:
        decision = Decision(
            "collecting_data", None,
            f"{smallest:,} units in the smallest arm; {min_units_per_arm:,} per arm are needed "
            "before deciding",
        )  # fmt: skip
    else:
        decision = _decide(results, metrics, alpha, srm, planned_per_arm)
    return ExperimentReport(control, alpha, results, srm, omnibus_p, decision, warnings)


def _units(per_metric: Mapping[str, Moments]) -> int:
    return max((m.n for m in per_metric.values()), default=0)


def _decide(
    arms: list[ArmResult],
    metrics: Sequence[MetricSpec],
    alpha: float,
    srm: float | None,
    planned_per_arm: int | None,
) -> Decision:
    if srm is not None and srm < SRM_ALPHA:
        return Decision("investigate", None, f"sample ratio mismatch (p = {srm:.2g})")
    primary = next((m for m in metrics if not m.guardrail), None)
    if primary is None:
        return Decision("keep_running", None, "no primary metric: every metric is a guardrail")
    guardrails = [m for m in metrics if m.guardrail]
    winners, breaches = [], []
    for arm in arms[1:]:
        breached = [
            g.words
            for g in guardrails
            if _significant(arm.metrics[g.name].comparison, alpha, better_if_higher=False) is False
        ]
        if breached:
            breaches.append(f"{arm.arm} raises {', '.join(breached)}")
            continue
        if _significant(arm.metrics[primary.name].comparison, alpha, better_if_higher=True):
            winners.append(arm)
    if winners:
        best = max(winners, key=lambda a: _lift(a, primary.name))
        c = best.metrics[primary.name].comparison
        assert c is not None
        return Decision(
            "ship",
            best.arm,
            f"{best.arm} lifts {primary.words} by {_percent(c.lift_rel)} "
            f"(Holm-adjusted p = {c.p_adjusted:.3g} < {alpha})",
        )
    if planned_per_arm is not None and min(a.n for a in arms) < planned_per_arm:
        smallest = min(a.n for a in arms)
        return Decision(
            "keep_running", None, f"{smallest:,} of {planned_per_arm:,} planned units per arm"
        )
    reason = f"no arm beats {arms[0].arm} on {primary.words} at {alpha}"
    if breaches:
        reason += "; " + "; ".join(breaches)
    return Decision("keep_control", None, reason)


def _significant(c: Comparison | None, alpha: float, *, better_if_higher: bool) -> bool | None:
    """True: significantly better; False: significantly worse; None: neither."""
    if c is None or c.p_adjusted is None or c.lift_abs is None or c.p_adjusted >= alpha:
        return None
    return (c.lift_abs > 0) == better_if_higher


def _lift(arm: ArmResult, metric: str) -> float:
    c = arm.metrics[metric].comparison
    return c.lift_abs if c is not None and c.lift_abs is not None else -math.inf


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"
