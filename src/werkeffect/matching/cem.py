"""Coarsened exact matching (Iacus, King & Porro 2012)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.formatting import nl_int
from werkeffect.matching._utils import (
    MIN_GROUP,
    _is_categorical,
    check_columns,
    outcome_array,
    treatment_array,
    weighted_effect_regression,
)
from werkeffect.matching.effects import WeightingResult

__all__ = ["CEM"]


class CEM:
    """Coarsened exact matching for the ATT (or ATE).

    Numeric covariates are coarsened into bins (``cutpoints[col]``: a number of equal-width
    bins or explicit cut points; default Sturges' rule, as R's ``cem``); text/categorical
    columns (and numeric columns listed in ``exact``) are matched exactly. Strata without
    both treated and controls are dropped (the number of treated dropped is reported).
    Weights as MatchIt/cem: treated 1; controls (n_t,s / n_c,s) * (N_c,matched / N_t,matched)
    for the ATT. The effect is the weighted-regression coefficient of treatment with
    robust standard errors (or clustered with ``cluster``).

    Estimand: ATT among treated units in matched strata. Assumes no unmeasured confounding and
    that the coarsening is fine enough for units in a stratum to be comparable.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        treatment: str,
        covariates: Sequence[str],
        cutpoints: Mapping[str, int | Sequence[float]] | None = None,
        exact: Sequence[str] | None = None,
        estimand: str = "ATT",
        cluster: str | None = None,
    ) -> None:
        check_columns(df, [treatment, *covariates, *([cluster] if cluster else [])])
        if estimand not in ("ATT", "ATE"):
            raise ValueError("estimand must be 'ATT' or 'ATE'")
        self.df = df
        self.treatment = treatment
        self.covariates = list(covariates)
        self.cutpoints = dict(cutpoints or {})
        self.exact = set(exact or [])
        self.estimand = estimand
        self.cluster = cluster

    def strata(self) -> pd.Series:
        """Stratum id per row (the coarsened covariate profile)."""
        codes = []
        n = len(self.df)
        for c in self.covariates:
            s = self.df[c]
            if s.isna().any():
                raise EstimationError(f"covariate '{c}' has missing values")
            if _is_categorical(s) or c in self.exact or s.nunique() <= 2:
                codes.append(pd.factorize(s, sort=True)[0])
                continue
            x = s.astype(float).to_numpy()
            spec = self.cutpoints.get(c, int(np.ceil(np.log2(n) + 1)))
            if np.isscalar(spec):
                edges = np.linspace(x.min(), x.max(), int(spec) + 1)[1:-1]
            else:
                edges = np.asarray(spec, dtype=float)
            codes.append(np.searchsorted(edges, x, side="right"))
        key = pd.DataFrame(np.column_stack(codes)) if codes else pd.DataFrame(index=range(n))
        g = key.groupby(list(key.columns), sort=True).ngroup().to_numpy()
        return pd.Series(g, index=self.df.index, name="stratum")

    def weights(self) -> tuple[pd.Series, pd.Series, dict[str, int]]:
        d = treatment_array(self.df, self.treatment, MIN_GROUP)
        g = self.strata().to_numpy()
        n_g = g.max() + 1
        nt = np.bincount(g, weights=d, minlength=n_g)
        nc = np.bincount(g, weights=1 - d, minlength=n_g)
        matched = (nt > 0) & (nc > 0)
        m = matched[g]
        if not m.any():
            raise EstimationError(
                "coarsened exact matching found no stratum with both treated and controls; "
                "coarsen further (fewer bins) or use fewer covariates"
            )
        Nt, Nc = (d[m] == 1).sum(), (d[m] == 0).sum()
        w = np.zeros(len(d))
        if self.estimand == "ATT":
            w[m & (d == 1)] = 1.0
            cm = m & (d == 0)
            w[cm] = (nt[g[cm]] / nc[g[cm]]) * (Nc / Nt)
        else:
            n_s = nt + nc
            tm = m & (d == 1)
            cm = m & (d == 0)
            w[tm] = n_s[g[tm]] / nt[g[tm]] * Nt / m.sum()
            w[cm] = n_s[g[cm]] / nc[g[cm]] * Nc / m.sum()
        info = {
            "n_strata": int(matched.sum()),
            "n_treated_dropped": int(((~m) & (d == 1)).sum()),
            "n_control_dropped": int(((~m) & (d == 0)).sum()),
        }
        if info["n_treated_dropped"]:
            warn_estimation(
                f"CEM: {info['n_treated_dropped']:,} of {int(d.sum()):,} treated unit(s) are in "
                "strata without controls and are dropped; the estimand is the effect on the "
                "matched treated",
                f"CEM: {nl_int(info['n_treated_dropped'])} van {nl_int(d.sum())} deelnemer(s) "
                "zitten in groepen zonder vergelijkingspersonen en vallen af; de schatting gaat "
                "over de gematchte deelnemers",
                stacklevel=2,
            )
        return (
            pd.Series(w, index=self.df.index, name="weights"),
            pd.Series(np.where(m, g, -1), index=self.df.index, name="stratum"),
            info,
        )

    def fit(self, outcome: str) -> WeightingResult:
        y = outcome_array(self.df, outcome)
        d = treatment_array(self.df, self.treatment)
        w, strata, info = self.weights()
        cl = self.df[self.cluster].to_numpy() if self.cluster else None
        est, se, _ = weighted_effect_regression(y, d, w.to_numpy(), cluster=cl)
        wn = w.to_numpy()
        return WeightingResult(
            params=pd.Series({self.estimand: est}),
            std_errors=pd.Series({self.estimand: se}),
            method="Coarsened exact matching, weighted regression",
            estimand=f"{self.estimand} on '{outcome}' among units in matched strata",
            n={
                "n_treated": int(((wn > 0) & (d == 1)).sum()),
                "n_control": int(((wn > 0) & (d == 0)).sum()),
            },
            assumptions=(
                "no unmeasured confounding given the covariates",
                "units in the same coarsened stratum are comparable",
            ),
            notes=(
                f"{info['n_strata']} matched strata; {info['n_treated_dropped']} treated and "
                f"{info['n_control_dropped']} controls outside matched strata",
            ),
            extra={
                "weights": w,
                "strata": strata,
                "data": self.df,
                "treatment": self.treatment,
                "covariates": self.covariates,
                "estimand": self.estimand,
                **info,
            },
        )
