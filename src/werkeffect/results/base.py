"""The common result object every estimator returns.

Modelled on linearmodels and lifelines: a result never changes after ``fit``; it exposes
``params``, ``std_errors``, ``pvalues``, ``conf_int(level)``, ``summary()``, ``to_frame()`` and
``plot()``, and it carries what a report needs to say what was estimated on what: the
estimand, the method, its assumptions, sample sizes and the data-flow record.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect.data.flow import DataFlow


def _as_series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        out = values.astype(float).copy()
    elif isinstance(values, Mapping):
        out = pd.Series(dict(values), dtype=float)
    else:
        raise TypeError(f"{name} must be a pandas Series or a mapping, got {type(values)!r}")
    out.name = name
    return out


@dataclass(frozen=True, eq=False)
class EstimationResult:
    """Estimates with their uncertainty.

    Parameters
    ----------
    params, std_errors
        Estimates and standard errors, indexed by term or estimand name.
    method
        Short name of the estimator, e.g. ``"Cox PH (Efron)"``.
    estimand
        What is estimated, in words (e.g. "log hazard ratio of exit to work, jobcoaching").
    n
        Sample sizes, e.g. ``{"n_treated": 120, "n_control": 4000, "n_events": 900}``.
    assumptions
        The identifying assumptions in plain words.
    dist
        ``"normal"`` (default) or ``"t"`` with ``df_resid`` for intervals and p-values.
    intervals
        Optional precomputed intervals (DataFrame with ``lower``/``upper`` at ``interval_level``),
        e.g. from a bootstrap or a randomisation test; used by ``conf_int`` at that level.
    p_values
        Optional precomputed p-values that belong with those intervals (e.g. the wild cluster
        bootstrap's); ``pvalues`` uses them where given, so an interval and its p-value never
        disagree about significance. Terms without one get the Wald p-value.
    """

    params: pd.Series
    std_errors: pd.Series
    method: str = ""
    estimand: str = ""
    n: Mapping[str, int] = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dist: str = "normal"
    df_resid: float | None = None
    intervals: pd.DataFrame | None = None
    interval_level: float = 0.95
    p_values: pd.Series | None = None
    flow: DataFlow | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        params = _as_series(self.params, "estimate")
        se = _as_series(self.std_errors, "std_error").reindex(params.index)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "std_errors", se)
        object.__setattr__(self, "n", dict(self.n))
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        object.__setattr__(self, "notes", tuple(self.notes))
        if self.dist not in ("normal", "t"):
            raise ValueError("dist must be 'normal' or 't'")
        if self.dist == "t" and not self.df_resid:
            raise ValueError("dist='t' needs df_resid")

    # -- inference -----------------------------------------------------------------------
    def _critical(self, level: float) -> float:
        if not 0 < level < 1:
            raise ValueError(f"level must lie between 0 and 1, got {level}")
        q = 0.5 + level / 2
        if self.dist == "t":
            return float(stats.t.ppf(q, self.df_resid))
        return float(stats.norm.ppf(q))

    @property
    def tstats(self) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.params / self.std_errors).rename("statistic")

    @property
    def pvalues(self) -> pd.Series:
        z = self.tstats.abs()
        if self.dist == "t":
            p = 2 * stats.t.sf(z, self.df_resid)
        else:
            p = 2 * stats.norm.sf(z)
        wald = pd.Series(p, index=self.params.index, name="p_value")
        if self.p_values is None:
            return wald
        given = pd.Series(self.p_values, dtype=float).reindex(self.params.index)
        return given.fillna(wald).rename("p_value")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals, columns ``lower`` and ``upper``.

        Precomputed intervals (bootstrap, randomisation inference) are used where they were
        computed at the requested level; otherwise Wald intervals.
        """
        if self.intervals is not None and np.isclose(level, self.interval_level):
            return self.intervals.reindex(self.params.index)[["lower", "upper"]].copy()
        c = self._critical(level)
        return pd.DataFrame(
            {
                "lower": self.params - c * self.std_errors,
                "upper": self.params + c * self.std_errors,
            },
            index=self.params.index,
        )

    # -- presentation ----------------------------------------------------------------------
    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table: term, estimate, std_error, lower, upper, p_value, n."""
        ci = self.conf_int(level)
        n_total = self.n.get(
            "n", sum(v for k, v in self.n.items() if k in ("n_treated", "n_control"))
        )
        out = pd.DataFrame(
            {
                "term": [str(i) if not isinstance(i, tuple) else i for i in self.params.index],
                "estimate": self.params.to_numpy(),
                "std_error": self.std_errors.to_numpy(),
                "lower": ci["lower"].to_numpy(),
                "upper": ci["upper"].to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "n": n_total if n_total else np.nan,
            }
        )
        return out

    def summary(self, level: float = 0.95) -> str:
        ci = self.conf_int(level)
        pct = f"{level * 100:g}%"
        head = [self.method or type(self).__name__]
        if self.estimand:
            head.append(f"Estimand: {self.estimand}")
        if self.n:
            head.append("  ".join(f"{k}={v:,}" for k, v in self.n.items()))
        names = [str(i) for i in self.params.index]
        w = max([len(s) for s in names] + [8])
        lines = [
            f"{'':<{w}} {'estimate':>11} {'std.err':>10} {'lower ' + pct:>12} "
            f"{'upper ' + pct:>12} {'p':>8}"
        ]
        for name, est, se, lo, up, p in zip(
            names, self.params, self.std_errors, ci["lower"], ci["upper"], self.pvalues, strict=True
        ):
            lines.append(f"{name:<{w}} {est:>11.4f} {se:>10.4f} {lo:>12.4f} {up:>12.4f} {p:>8.4f}")
        rule = "=" * max(len(s) for s in lines)
        parts = [rule, *head, "-" * len(rule), *lines, rule]
        if self.assumptions:
            parts.append("Assumptions:")
            parts += [f"  - {a}" for a in self.assumptions]
        if self.notes:
            parts.append("Notes:")
            parts += [f"  - {a}" for a in self.notes]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.method}, {len(self.params)} estimate(s)>"

    def _repr_html_(self) -> str:
        frame = self.to_frame().set_index("term")
        caption = html.escape(self.method + (f" — {self.estimand}" if self.estimand else ""))
        table = frame.to_html(float_format=lambda v: f"{v:.4f}")
        return f"<div><p><b>{caption}</b></p>{table}</div>"

    def plot(self, ax=None, level: float = 0.95):
        """Forest plot of the estimates with their intervals."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(self.params) + 1.2))
        ci = self.conf_int(level)
        y = np.arange(len(self.params))[::-1]
        ax.errorbar(
            self.params.to_numpy(),
            y,
            xerr=np.vstack([self.params - ci["lower"], ci["upper"] - self.params]),
            fmt="o",
            color="#00468b",
            capsize=3,
        )
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, [str(i) for i in self.params.index])
        ax.set_xlabel(f"estimate ({level * 100:g}% interval)")
        ax.set_title(self.method)
        return ax
