"""The canonical 2x2 difference-in-differences with covariates.

Estimand: ATT = E[Y_post(1) - Y_post(0) | treated]. Identifying assumptions: (conditional)
parallel trends, no anticipation, overlap (with covariates), and for repeated cross
sections a stable composition of the groups over time.

Estimators (Sant'Anna & Zhao 2020): ``method="dr"`` doubly robust (panel: the traditional
DR estimator; repeated cross sections: the locally efficient DR estimator), ``"reg"``
outcome regression, ``"ipw"`` normalised inverse probability weighting. With ``unit`` the
data are a panel (each unit observed before and after); without it, repeated cross sections.

Inference: analytic influence-function errors (clustered if ``cluster`` is given). With
fewer than 30 clusters a warning is raised; with fewer than 12 the wild cluster bootstrap
is used by default: restricted (WCR) on the regression form of the 2x2 when there are no
covariates (where every method equals that regression), otherwise a wild (score)
bootstrap of the cluster sums of the influence function, both with Webb weights by default.
With few treated clusters the wild bootstrap over-rejects somewhat: with 7 clusters, 3
treated, its size at nominal 5 % is about 8 % (see ``werkeffect.did.wild_bootstrap``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.did import _kernels
from werkeffect.did._checks import (
    FEW_CLUSTERS_WARN,
    FEW_CLUSTERS_WILD,
    cluster_column,
    numeric_column,
    require_columns,
    warn_few_clusters,
)
from werkeffect.did._influence import multipliers
from werkeffect.did.wild_bootstrap import wild_cluster_bootstrap
from werkeffect.exceptions import DataValidationError, EstimationError
from werkeffect.results.base import EstimationResult


def _require_both_groups(d: np.ndarray, column: str, what: str) -> None:
    """A 2x2 DiD compares treated with untreated: both must be present."""
    n1 = int((d == 1).sum())
    if n1 == 0 or n1 == len(d):
        missing = "treated" if n1 == 0 else "untreated"
        raise EstimationError(
            f"DiD: no {missing} {what}: column '{column}' is {0 if n1 == 0 else 1} for all "
            f"{len(d):,} {what}; a difference-in-differences compares the change of treated "
            "with that of untreated units, so both groups are needed"
        )


@dataclass(frozen=True, eq=False)
class DiDResult(EstimationResult):
    """2x2 DiD result: ``params["ATT"]``; ``influence`` the per-unit influence function."""

    influence: np.ndarray | None = None
    wild: object | None = None


class DiD:
    """2x2 difference-in-differences (panel or repeated cross sections)."""

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        treated: str,
        post: str,
        covariates: Sequence[str] | None = None,
        method: str = "dr",
        unit: str | None = None,
        *,
        cluster: str | None = None,
    ) -> None:
        if method not in ("dr", "reg", "ipw"):
            raise ValueError(f"method must be 'dr', 'reg' or 'ipw', got {method!r}")
        covariates = list(covariates or [])
        require_columns(df, [outcome, treated, post, unit, cluster, *covariates])
        for c in (treated, post):
            v = numeric_column(df, c)
            if not np.isin(v, (0.0, 1.0)).all():
                raise DataValidationError(f"column '{c}' must be 0/1")
        self.df, self.outcome, self.treated, self.post = df, outcome, treated, post
        self.covariates, self.method, self.unit, self.cluster = covariates, method, unit, cluster

    def _panel_arrays(self):
        df = self.df
        uid, uniq = pd.factorize(df[self.unit], sort=False)
        n = len(uniq)
        post = numeric_column(df, self.post)
        d = numeric_column(df, self.treated)
        y = numeric_column(df, self.outcome)
        cnt = np.zeros((n, 2))
        np.add.at(cnt, (uid, post.astype(int)), 1.0)
        if (cnt == 0).any():
            bad = np.asarray(uniq)[(cnt == 0).any(axis=1)]
            raise DataValidationError(
                f"panel 2x2: {len(bad)} unit(s) lack a pre or a post observation "
                f"(e.g. {list(bad[:5])}); drop them or leave unit=None (repeated cross sections)"
            )
        sums = np.zeros((n, 2))
        np.add.at(sums, (uid, post.astype(int)), y)
        ybar = sums / cnt
        dlo = np.full(n, np.inf)
        dhi = np.full(n, -np.inf)
        np.minimum.at(dlo, uid, d)
        np.maximum.at(dhi, uid, d)
        if (dlo != dhi).any():
            raise EstimationError(
                f"'{self.treated}' changes within unit for {int((dlo != dhi).sum())} unit(s): "
                "in a 2x2 design 'treated' marks the treatment group (constant per unit); a "
                "unit switching out of treatment cannot be used"
            )
        first = np.zeros(n, dtype=np.int64)
        first[uid[::-1]] = np.arange(len(uid))[::-1]
        x = np.column_stack([np.ones(n)] + [numeric_column(df, c)[first] for c in self.covariates])
        cl = None
        if self.cluster is not None:
            cl = cluster_column(df, self.cluster, "DiD")[first]
        return ybar[:, 1] - ybar[:, 0], dlo, x, cl, (cnt > 1).any()

    def fit(
        self,
        *,
        inference: str = "auto",
        n_boot: int = 9999,
        weights: str | None = None,
        seed: int | None = 0,
        level: float = 0.95,
    ) -> DiDResult:
        """Estimate the ATT; ``inference`` "auto", "analytic" or "wild"."""
        notes = []
        if self.unit is not None:
            dy, d, x, cl, averaged = self._panel_arrays()
            _require_both_groups(d, self.treated, "units")
            if averaged:
                notes.append("Several rows per unit and period: outcomes averaged within unit.")
            try:
                att, inf = _kernels.panel_2x2(dy, d, x, self.method)
            except _kernels.SingularDesign as err:
                raise _kernels.SingularDesign(
                    f"2x2 DiD (panel): {err}; covariates {self.covariates}"
                ) from None
            n = len(dy)
            design = "panel"
        else:
            df = self.df
            y = numeric_column(df, self.outcome)
            d = numeric_column(df, self.treated)
            post = numeric_column(df, self.post)
            _require_both_groups(d, self.treated, "rows")
            x = np.column_stack(
                [np.ones(len(y))] + [numeric_column(df, c) for c in self.covariates]
            )
            try:
                att, inf = _kernels.rc_2x2(y, post, d, x, self.method)
            except _kernels.SingularDesign as err:
                raise _kernels.SingularDesign(
                    f"2x2 DiD (repeated cross sections): {err}; covariates {self.covariates}"
                ) from None
            cl = None if self.cluster is None else cluster_column(df, self.cluster, "DiD")
            n = len(y)
            design = "repeated cross sections"
        if cl is None:
            se = float(np.sqrt(np.mean(inf**2) / n))
            n_cl = n
        else:
            n_cl = int(cl.max()) + 1
            s = np.bincount(cl, weights=inf, minlength=n_cl)
            se = float(np.sqrt(np.sum(s**2)) / n * np.sqrt(n_cl / (n_cl - 1)))
        intervals, wild = None, None
        dist, df_resid = "normal", None
        if cl is not None and n_cl < FEW_CLUSTERS_WARN:
            warn_few_clusters(n_cl, "wild" if n_cl < FEW_CLUSTERS_WILD else "")
            dist, df_resid = "t", n_cl - 1
        if inference == "wild" and cl is None:
            raise ValueError("inference='wild' needs cluster=")
        if cl is not None and (
            inference == "wild" or (inference == "auto" and n_cl < FEW_CLUSTERS_WILD)
        ):
            if not self.covariates:
                if self.unit is not None:
                    xr = np.column_stack([np.ones(len(dy)), d])
                    yr = dy
                else:
                    xr = np.column_stack([np.ones(len(y)), d, post, d * post])
                    yr = y
                j = xr.shape[1] - 1
                wild = wild_cluster_bootstrap(
                    xr, yr, cl, j, weights=weights, n_boot=n_boot, level=level, seed=seed
                )
                notes.append(
                    f"Wild cluster bootstrap (restricted, {wild.weights} weights, {n_cl} "
                    f"clusters): p = {wild.p_value:.4f}; interval by test inversion."
                )
                intervals = pd.DataFrame(
                    {"lower": [wild.lower], "upper": [wild.upper]}, index=["ATT"]
                )
            else:
                wild = _score_bootstrap(att, se, inf, cl, n, n_boot, weights, seed, level)
                intervals = pd.DataFrame(
                    {"lower": [wild["lower"]], "upper": [wild["upper"]]}, index=["ATT"]
                )
                notes.append(
                    f"Wild score bootstrap of the influence function ({wild['weights']} weights, "
                    f"{n_cl} clusters): p = {wild['p_value']:.4f}."
                )
        name = {
            "dr": "doubly robust (Sant'Anna & Zhao 2020)",
            "reg": "outcome regression",
            "ipw": "IPW (normalised)",
        }[self.method]
        n_treat = int((d == 1).sum())
        return DiDResult(
            params=pd.Series({"ATT": att}),
            std_errors=pd.Series({"ATT": se}),
            method=f"2x2 DiD, {name}, {design}",
            estimand="ATT: average effect on the treated in the post period",
            n={"n": int(n), "n_treated": n_treat, "n_control": int(n - n_treat)},
            assumptions=(
                "Parallel trends (conditional on covariates where given).",
                "No anticipation; overlap of the covariate distributions.",
            ),
            notes=tuple(notes),
            dist=dist,
            df_resid=df_resid,
            intervals=intervals,
            interval_level=level,
            p_values=_wild_p_value(wild),
            influence=inf,
            wild=wild,
        )


def _wild_p_value(wild) -> pd.Series | None:
    """The wild bootstrap's p-value of the ATT (a result object or the score bootstrap's
    dict), so the p-value goes with the bootstrap interval."""
    if wild is None:
        return None
    p = wild["p_value"] if isinstance(wild, dict) else wild.p_value
    return pd.Series({"ATT": float(p)})


def _score_bootstrap(att, se, inf, cl, n, n_boot, weights, seed, level):
    n_cl = int(cl.max()) + 1
    weights = weights or ("webb" if n_cl < 12 else "rademacher")
    s = np.bincount(cl, weights=inf, minlength=n_cl) / n
    rng = np.random.default_rng(seed)
    w = multipliers(rng, (n_boot, n_cl), weights)
    num = w @ s
    den = np.sqrt(((w * s[None, :]) ** 2).sum(axis=1) * n_cl / (n_cl - 1))
    t_b = num / den
    t = att / se
    crit = float(np.quantile(np.abs(t_b), level))
    return {
        "p_value": float(np.mean(np.abs(t_b) >= abs(t))),
        "lower": att - crit * se,
        "upper": att + crit * se,
        "weights": weights,
        "critical_value": crit,
    }
