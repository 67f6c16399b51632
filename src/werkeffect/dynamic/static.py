"""The static comparison (ever versus never participants) — shown to explain what goes wrong.

Participants are compared with non-participants on exit to work within ``window`` months of
the *spell start*, with the non-participants reweighted to the participants' covariates. The
months a participant spent on benefit before starting count in its favour or against it
depending on timing — *immortal time*: a participant cannot leave benefit before the start,
and non-participants include everyone who left early (before they could have been treated).
On data where the programme has no effect at all this comparison still finds one; the
dynamic estimators do not. Do not use it for evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.dynamic.bootstrap import cluster_weights
from werkeffect.dynamic.cif import aalen_johansen, counts_from_rows
from werkeffect.dynamic.risk_sets import NEVER, prepare_spells
from werkeffect.results.base import EstimationResult


def _logit_odds(X: np.ndarray, y: np.ndarray, w: np.ndarray, iters: int = 25) -> np.ndarray:
    Z = np.column_stack([np.ones(len(X)), X])
    beta = np.zeros(Z.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(Z @ beta)))
        g = Z.T @ (w * (y - p))
        H = (Z * (w * p * (1 - p))[:, None]).T @ Z
        step = np.linalg.solve(H + 1e-10 * np.eye(len(beta)), g)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return np.exp(Z @ beta)


def static_comparison(
    data: pd.DataFrame,
    *,
    id: str = "person_id",
    duration: str = "duration",
    cause: str = "cause",
    treatment_start: str = "programme_start",
    covariates: Sequence[str] = (),
    window: int = 24,
    work_cause: int = 1,
    n_boot: int = 100,
    seed: int | None = 0,
) -> EstimationResult:
    """Naive ATT of *ever* participating on exit to work within ``window`` months of spell start.

    Returns an :class:`EstimationResult` with ``params["ATT_static"]`` (bootstrap SE over
    persons). Biased by construction (immortal time); provided to show the bias.
    """
    arr = prepare_spells(
        data,
        id=id,
        duration=duration,
        cause=cause,
        treatment_start=treatment_start,
        covariates=covariates,
        work_cause=work_cause,
    )
    ever = (arr.treat_m < NEVER) & (arr.treat_m >= 0)
    u0 = np.zeros(1, dtype=np.int64)

    def one(w: np.ndarray) -> float:
        odds = _logit_odds(arr.X, ever.astype(float), w) if arr.X.shape[1] else np.ones(arr.n)
        wt = np.where(ever, w, w * odds)
        grp = ever.astype(np.int64)
        last = arr.exit_m
        ev = arr.cause == arr.work_cause
        ax = arr.cause > 0
        cifs = []
        for g in (1, 0):  # two groups
            s = grp == g
            n_r, e, x = counts_from_rows(
                np.zeros(s.sum(), dtype=np.int64), u0, last[s], ev[s], ax[s], wt[s], 1, window
            )
            cifs.append(aalen_johansen(n_r, e, x)[1][0, -1])
        return cifs[0] - cifs[1]

    est = one(np.ones(arr.n))
    rng = np.random.default_rng(seed)
    reps = np.array([one(cluster_weights(rng, arr.cluster, arr.n_clusters)) for _ in range(n_boot)])
    se = float(np.nanstd(reps, ddof=1)) if n_boot > 1 else np.nan
    return EstimationResult(
        params=pd.Series({"ATT_static": est}),
        std_errors=pd.Series({"ATT_static": se}),
        method="Static comparison, ever vs never participants (biased: immortal time)",
        estimand=f"difference in exit to work within {window} months of spell start",
        n={"n_treated": int(ever.sum()), "n_control": int((~ever).sum())},
        assumptions=("None that hold: participation is defined by the future.",),
    )
