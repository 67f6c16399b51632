"""Costs and benefits of a programme, in euros, with their uncertainty.

The council's money question: the programme costs money, every month someone is not on
bijstand saves a benefit payment. Given an estimate of the months of benefit avoided per
participant within a horizon (the difference in restricted mean time on benefit, RMST, between
the participants with and without the programme) this module computes

- months of benefit avoided in total = RMST difference × participants,
- benefit saved = months avoided × monthly benefit cost,
- net benefit = benefit saved − programme cost,
- cost per extra exit to work = programme cost / extra exits (extra exits = ATT on exit to work
  × participants): the gross programme cost of one extra exit,
- net cost per extra exit = (programme cost − benefit saved) / extra exits: what one extra exit
  costs once the benefit it saves is counted (negative: it saves more than it costs),
- the break-even horizon: the first horizon at which the savings per participant reach the
  programme cost per participant.

Intervals come from the estimates' own uncertainty only: the cost parameters are treated as
known (they are assumptions, documented and overridable), so the interval says how precise the
effect is, not how certain the prices are. Transformations that are monotone in the estimate
(everything here) carry its interval over exactly. The net cost per extra exit divides one
estimate (months avoided) by another (exits): both are taken to move with the one programme
effect (perfectly correlated), which gives the widest interval (to first order).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect.results.base import EstimationResult

#: Monthly bijstand cost per recipient by household type, in euros. *Assumption*: the brief
#: gives an order of €1,300–1,900; norms for couples are about 1.43× the single norm.
DEFAULT_MONTHLY_BENEFIT: dict[str, float] = {
    "alleenstaand": 1_300.0,
    "alleenstaande_ouder": 1_300.0,
    "paar": 1_860.0,
    "paar_kinderen": 1_860.0,
}


def _number(name: str, value, minimum: float | None = None) -> float:
    """``value`` as a finite float, or a ValueError naming the argument. Text is refused, not
    parsed: '1.200' could mean 1.2 or 1200."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        hint = " (give a number such as 1200.0, not text)" if isinstance(value, str) else ""
        raise ValueError(f"{name} must be a number, got {value!r}{hint}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {v:g}")
    return v


def _count(name: str, value) -> int:
    """A whole number of at least 1 (100.0 is accepted, 100.7 is not)."""
    v = _number(name, value)
    if v != round(v):
        raise ValueError(f"{name} must be a whole number, got {v:g}")
    if v < 1:
        raise ValueError(f"{name} must be at least 1, got {v:g}")
    return int(v)


@dataclass(frozen=True)
class CostAssumptions:
    """Prices used to turn effects into euros (all *assumptions*, see the brief).

    ``monthly_benefit`` is either one amount or a mapping household type → amount, averaged
    with the participants' household mix. ``programme_cost_per_participant`` covers the
    programme's own cost (jobcoach hours, provider fees) per person who starts it.
    """

    monthly_benefit: float | Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_MONTHLY_BENEFIT)
    )
    programme_cost_per_participant: float = 3_000.0

    def __post_init__(self) -> None:
        # amounts are numbers, never text: CostAssumptions(monthly_benefit="1.200") would
        # otherwise be €1.20
        mb = self.monthly_benefit
        if isinstance(mb, Mapping):
            if not mb:
                raise ValueError("monthly_benefit has no household types")
            for k, v in mb.items():
                _number(f"monthly_benefit[{k!r}]", v, minimum=0)
        else:
            _number("monthly_benefit", mb, minimum=0)
        _number("programme_cost_per_participant", self.programme_cost_per_participant, minimum=0)

    def benefit_per_month(self, household_mix: Mapping[str, float] | None = None) -> float:
        """Average monthly benefit cost, weighted by the household mix (shares or counts:
        numbers of at least 0, summing to more than 0)."""
        for k, v in (household_mix or {}).items():
            _number(f"household_mix[{k!r}]", v, minimum=0)
        mb = self.monthly_benefit
        if not isinstance(mb, Mapping):
            return float(mb)
        if not household_mix:
            return float(np.mean(list(mb.values())))
        unknown = sorted(set(household_mix) - set(mb))
        if unknown:
            raise ValueError(
                f"No monthly benefit amount for household type(s) {unknown}; known: {sorted(mb)}"
            )
        w = np.array([household_mix[k] for k in household_mix], dtype=float)
        if w.sum() <= 0:
            raise ValueError("household_mix has no positive weight (all weights are 0)")
        amounts = np.array([mb[k] for k in household_mix], dtype=float)
        return float(np.dot(w, amounts) / w.sum())

    def to_dict(self) -> dict:
        d = asdict(self)
        if isinstance(self.monthly_benefit, Mapping):
            d["monthly_benefit"] = dict(sorted(self.monthly_benefit.items()))
        return d


def _interval(est: float, se: float, level: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    return est - z * se, est + z * se


def _per_exit_interval(
    euros: float, euros_se: float, extra: float, extra_se: float, level: float
) -> tuple[float, float]:
    """Interval of euros / extra exits, where both move with the one programme effect: at
    the effect's bound z standard errors up, the euros are ``euros - z * euros_se`` (a larger
    effect saves more) and the exits ``extra + z * extra_se``. The ratio is monotone in z
    wherever the exits are positive (its derivative has the sign of the constant
    ``-(euros_se * extra + extra_se * euros)``), so the interval's ends are the ratio at the
    bounds; where the exits reach 0 inside the interval the ratio is unbounded on that side.
    ``euros_se = 0`` gives the programme cost per extra exit: cost / (exits interval).
    Taking both as driven by one effect (perfect correlation) gives the widest interval."""
    z = stats.norm.ppf(0.5 + level / 2)
    at_upper = (euros - z * euros_se) / (extra + z * extra_se)
    low_exits = extra - z * extra_se
    if low_exits > 0:
        at_lower = (euros + z * euros_se) / low_exits
    else:  # the exits reach 0 at z0 = -extra / extra_se: the euros there give the sign
        at_lower = np.inf if euros + extra * euros_se / extra_se >= 0 else -np.inf
    return (min(at_upper, at_lower), max(at_upper, at_lower))


@dataclass(frozen=True, eq=False)
class CostBenefitResult(EstimationResult):
    """Euros and months, with intervals carried over from the effect estimates."""

    break_even: pd.DataFrame | None = None

    def plot(self, ax=None, level: float = 0.95, lang: str = "en"):
        """Savings per participant by horizon against the programme cost (if a curve is
        given); ``lang`` (``en``/``nl``) for the words."""
        import matplotlib.pyplot as plt

        if self.break_even is None:
            return super().plot(ax=ax, level=level)
        saved, cost, xlabel, ylabel = BREAK_EVEN_WORDS[lang]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        be = self.break_even
        ax.plot(be["horizon"], be["savings"], color="#00468b", label=saved)
        ax.fill_between(be["horizon"], be["savings_lower"], be["savings_upper"], alpha=0.2)
        ax.axhline(be["cost"].iloc[0], color="#c0392b", ls="--", label=cost)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False)
        return ax


#: the break-even plot's words: savings, cost, x axis, y axis
BREAK_EVEN_WORDS = {
    "en": ("benefit saved", "programme cost", "horizon (months after programme start)",
           "euros per participant"),
    "nl": ("bespaarde uitkering", "kosten van het programma",
           "maanden na de start van het programma", "euro per deelnemer"),
}  # fmt: skip


#: Report labels of the cost_benefit terms (Dutch, English).
TERM_LABELS: dict[str, tuple[str, str]] = {
    "months_avoided_per_participant": (
        "Maanden bijstand vermeden per deelnemer",
        "Months of benefit avoided per participant",
    ),
    "extra_exits_work": ("Extra uitstromers naar werk", "Extra exits to work"),
    "benefit_saved_eur": ("Bespaarde uitkeringen", "Benefit payments saved"),
    "programme_cost_eur": ("Kosten van het programma", "Programme cost"),
    "net_benefit_eur": (
        "Netto opbrengst (besparing min kosten)",
        "Net benefit (savings minus cost)",
    ),
    "cost_per_extra_exit_eur": (
        "Programmakosten per extra uitstromer (bruto)",
        "Programme cost per extra exit (gross)",
    ),
    "net_cost_per_extra_exit_eur": (
        "Nettokosten per extra uitstromer (kosten min bespaarde uitkeringen)",
        "Net cost per extra exit (cost minus benefit saved)",
    ),
    "break_even_horizon_months": ("Terugverdientijd (maanden)", "Break-even horizon (months)"),
}


def cost_benefit(
    rmst_difference: float,
    rmst_se: float,
    participants: int,
    *,
    att_exit_work: float | None = None,
    att_exit_work_se: float | None = None,
    horizon: float | None = None,
    rmst_curve: pd.DataFrame | None = None,
    assumptions: CostAssumptions | None = None,
    household_mix: Mapping[str, float] | None = None,
    level: float = 0.95,
) -> CostBenefitResult:
    """Turn an effect on time on benefit into euros.

    Parameters
    ----------
    rmst_difference, rmst_se
        Months of benefit avoided per participant within ``horizon`` (RMST without minus with
        the programme; positive = fewer months on benefit) and its standard error.
    participants
        Number of participants the programme served (or will serve): a whole number, at least 1.
    att_exit_work, att_exit_work_se
        ATT on the probability of exit to work within the horizon, for extra exits and the
        cost per extra exit.
    rmst_curve
        Optional DataFrame with columns ``horizon``, ``rmst_difference``, ``std_error`` for the
        break-even horizon: the first horizon at which savings reach the programme cost.
    """
    # a NaN effect would flow into every euro figure; a NaN exit effect would read as "no
    # positive effect": refuse them, naming the argument
    rmst_difference = _number("rmst_difference", rmst_difference)
    rmst_se = _number("rmst_se", rmst_se, minimum=0)
    participants = _count("participants", participants)
    if att_exit_work is not None:
        if att_exit_work_se is None:
            raise ValueError("att_exit_work needs att_exit_work_se")
        att_exit_work = _number("att_exit_work", att_exit_work)
        att_exit_work_se = _number("att_exit_work_se", att_exit_work_se, minimum=0)
    if not 0 < _number("level", level) < 1:
        raise ValueError(f"level must lie between 0 and 1, got {level:g}")
    a = assumptions or CostAssumptions()
    per_month = a.benefit_per_month(household_mix)
    cost_pp = float(a.programme_cost_per_participant)
    total_cost = cost_pp * participants

    params: dict[str, float] = {}
    ses: dict[str, float] = {}
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}

    def add(name: str, est: float, se: float, interval: tuple[float, float]) -> None:
        params[name], ses[name] = float(est), float(se)
        lo[name], hi[name] = interval

    m_lo, m_hi = _interval(rmst_difference, rmst_se, level)
    add("months_avoided_per_participant", rmst_difference, rmst_se, (m_lo, m_hi))
    scale = participants
    add(
        "months_avoided_total",
        rmst_difference * scale,
        rmst_se * scale,
        (m_lo * scale, m_hi * scale),
    )
    scale = participants * per_month
    saved = rmst_difference * scale
    add("benefit_saved_eur", saved, rmst_se * scale, (m_lo * scale, m_hi * scale))
    add("programme_cost_eur", total_cost, 0.0, (total_cost, total_cost))
    add(
        "net_benefit_eur",
        saved - total_cost,
        rmst_se * scale,
        (m_lo * scale - total_cost, m_hi * scale - total_cost),
    )

    notes = [
        f"monthly benefit cost €{per_month:,.0f}; programme cost €{cost_pp:,.0f} per participant "
        "(assumptions, see CostAssumptions)",
        "intervals reflect the uncertainty of the effect estimates only, not of the prices",
    ]
    if att_exit_work is not None:
        e_lo, e_hi = _interval(att_exit_work, att_exit_work_se, level)
        add(
            "extra_exits_work",
            att_exit_work * participants,
            att_exit_work_se * participants,
            (e_lo * participants, e_hi * participants),
        )
        extra = att_exit_work * participants
        extra_se = att_exit_work_se * participants
        if extra > 0:
            add(
                "cost_per_extra_exit_eur",
                total_cost / extra,
                np.nan,
                _per_exit_interval(total_cost, 0.0, extra, extra_se, level),
            )
            # net of the benefit saved: savings and exits both grow with the one effect
            net_cost = total_cost - saved
            add(
                "net_cost_per_extra_exit_eur",
                net_cost / extra,
                np.nan,
                _per_exit_interval(net_cost, rmst_se * scale, extra, extra_se, level),
            )
        else:
            notes.append("no positive effect on exits to work: cost per extra exit undefined")

    break_even = None
    if rmst_curve is not None:
        break_even = _break_even_curve(rmst_curve, per_month, cost_pp, level)

        def first_reached(column: str) -> float:
            reached = break_even.loc[break_even[column] >= cost_pp, "horizon"]
            return float(reached.iloc[0]) if len(reached) else np.inf

        # the upper savings curve reaches the cost first: it gives the lower bound
        add(
            "break_even_horizon_months",
            first_reached("savings"),
            np.nan,
            (first_reached("savings_upper"), first_reached("savings_lower")),
        )
        if not np.isfinite(params["break_even_horizon_months"]):
            notes.append("the savings do not reach the programme cost within the horizons given")

    index = list(params)
    return CostBenefitResult(
        params=pd.Series(params)[index],
        std_errors=pd.Series(ses)[index],
        intervals=pd.DataFrame({"lower": lo, "upper": hi}).loc[index],
        interval_level=level,
        method="Costs and benefits",
        estimand=(
            "euros saved and spent per participant group"
            + (f" within {horizon:g} months" if horizon else "")
        ),
        n={"n_treated": int(participants)},
        assumptions=(
            "the effect estimates are unbiased for the participants",
            "benefit saved equals months off bijstand times the average monthly benefit",
        ),
        notes=tuple(notes),
        extra={"assumptions": a.to_dict(), "monthly_benefit_used": per_month},
        break_even=break_even,
    )


def _break_even_curve(
    rmst_curve: pd.DataFrame, per_month: float, cost_pp: float, level: float
) -> pd.DataFrame:
    missing = {"horizon", "rmst_difference", "std_error"} - set(rmst_curve.columns)
    if missing:
        raise ValueError(f"rmst_curve lacks column(s) {sorted(missing)}")
    for col in ("horizon", "rmst_difference", "std_error"):
        v = pd.to_numeric(rmst_curve[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | ((v < 0) if col == "std_error" else False)
        if bad.any():
            rows = ", ".join(map(str, np.flatnonzero(bad)[:5] + 1))
            raise ValueError(
                f"rmst_curve.{col} must hold finite numbers"
                + (" of at least 0" if col == "std_error" else "")
                + f"; {int(bad.sum())} row(s) do not (rows {rows})"
            )
    c = rmst_curve.sort_values("horizon").reset_index(drop=True)
    lo, hi = _interval(c["rmst_difference"].to_numpy(), c["std_error"].to_numpy(), level)
    return pd.DataFrame(
        {
            "horizon": c["horizon"].to_numpy(dtype=float),
            "savings": c["rmst_difference"].to_numpy() * per_month,
            "savings_lower": lo * per_month,
            "savings_upper": hi * per_month,
            "cost": cost_pp,
        }
    )
