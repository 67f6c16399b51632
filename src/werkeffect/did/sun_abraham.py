"""Sun & Abraham (2021) interaction-weighted (IW) event study.

Step 1: TWFE regression with a full set of cohort x relative-period interactions
(reference: the period before treatment), using never-treated units — or, if there are
none, the last-treated cohort (periods from its treatment on dropped) — as controls. Its
coefficients are the cohort-specific effects CATT(e, l). Step 2: the IW estimate for
relative period l averages CATT(e, l) over cohorts with weights equal to each cohort's
share of the observations at l. Standard errors treat the weights as fixed (as fixest's
``sunab`` aggregation does) and use the cluster-robust covariance of step 1: CR1,
G/(G-1) * (N-1)/(N-K) with K the interaction coefficients only (fixed effects not
counted; fixest's default ``ssc`` also counts the time effects, which gives slightly larger
errors — 0.1 % with 5 periods and 2,250 rows in ``tests/test_did_extensions.py``).

With never-treated controls, no covariates and a balanced panel, the post-period IW
estimates equal the Callaway-Sant'Anna dynamic aggregation (a useful cross-check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from werkeffect.did._checks import (
    FEW_CLUSTERS_WARN,
    group_codes,
    numeric_column,
    require_columns,
    warn_few_clusters,
)
from werkeffect.did.twfe import EventStudyResult, within_ols
from werkeffect.exceptions import EstimationError


class SunAbraham:
    """Interaction-weighted event study (Sun & Abraham 2021).

    ``leads`` / ``lags`` select which relative periods are reported (all are estimated).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        group: str,
        leads: int | None = None,
        lags: int | None = None,
        cluster: str | None = None,
    ) -> None:
        require_columns(df, [outcome, unit, time, group, cluster])
        self.df, self.outcome, self.unit, self.time, self.group = df, outcome, unit, time, group
        self.leads, self.lags, self.cluster = leads, lags, cluster

    def fit(self, level: float = 0.95) -> EventStudyResult:
        df = self.df
        y = numeric_column(df, self.outcome)
        t = numeric_column(df, self.time)
        g = group_codes(df, self.group)
        periods = np.unique(t)
        notes = []
        keep = np.ones(len(y), dtype=bool)
        if not (g == 0).any():
            last = g.max()
            keep = t < last
            notes.append(
                f"No never-treated units: cohort {last:g} is the control group; "
                f"periods from {last:g} on are dropped."
            )
            control = g == last
        else:
            control = g == 0
        always = (g > 0) & (g <= periods[0])
        if always.any():
            raise EstimationError(
                f"{int(always.sum())} rows belong to units treated in the first period; they "
                "have no pre-treatment period (drop them)"
            )
        y, t, g, control = y[keep], t[keep], g[keep], control[keep]
        sub = df.loc[keep]
        uid = pd.factorize(sub[self.unit], sort=False)[0]
        tpos = np.searchsorted(periods, t)
        gpos = np.searchsorted(periods, g)
        rel = tpos - gpos
        treated = ~control
        pairs = pd.DataFrame({"e": g[treated], "l": rel[treated]})
        pairs = pairs[pairs["l"] != -1].drop_duplicates().sort_values(["e", "l"])
        cols = {(e, l_): i for i, (e, l_) in enumerate(zip(pairs["e"], pairs["l"], strict=True))}
        x = np.zeros((len(y), len(cols)), order="F")
        key_e = np.where(treated, g, np.nan)
        for (e, l_), i in cols.items():
            x[(key_e == e) & (rel == l_), i] = 1.0
        cl = uid if self.cluster is None else pd.factorize(sub[self.cluster], sort=True)[0]
        fit = within_ols(y, x, uid, tpos.astype(np.int64), cl, overwrite=True)
        if fit.n_clusters < FEW_CLUSTERS_WARN:
            warn_few_clusters(fit.n_clusters)
        cnt = pd.Series(1, index=pd.MultiIndex.from_arrays([key_e[treated], rel[treated]]))
        cnt = cnt.groupby(level=[0, 1]).sum()
        ls = sorted({l_ for (_, l_) in cols})
        if self.leads is not None:
            ls = [l_ for l_ in ls if l_ >= -self.leads]
        if self.lags is not None:
            ls = [l_ for l_ in ls if l_ <= self.lags]
        w_mat = np.zeros((len(cols), len(ls)))
        for j, l_ in enumerate(ls):
            idx = [(i, cnt[(e, ll)]) for (e, ll), i in cols.items() if ll == l_]
            tot = sum(c for _, c in idx)
            for i, c in idx:
                w_mat[i, j] = c / tot
        est = w_mat.T @ fit.beta
        vcov = w_mat.T @ fit.vcov @ w_mat
        catt = pd.Series(fit.beta, index=pd.MultiIndex.from_tuples(list(cols), names=["e", "l"]))
        return EventStudyResult(
            params=pd.Series(est, index=ls),
            std_errors=pd.Series(np.sqrt(np.diag(vcov)), index=ls),
            method="Sun & Abraham interaction-weighted event study",
            estimand="IW average of cohort-specific effects CATT(e, l) by relative period l",
            n={"n": fit.n_obs, "n_clusters": fit.n_clusters},
            assumptions=(
                "Parallel trends between each cohort and the control cohort.",
                "No anticipation before the reference period.",
            ),
            notes=tuple(notes),
            dist="t" if fit.n_clusters < FEW_CLUSTERS_WARN else "normal",
            df_resid=fit.n_clusters - 1 if fit.n_clusters < FEW_CLUSTERS_WARN else None,
            interval_level=level,
            vcov=pd.DataFrame(vcov, index=ls, columns=ls),
            reference=-1,
            extra={"catt": catt, "weights": w_mat},
        )
