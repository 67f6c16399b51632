"""Event-study plot: estimates by event time with pointwise intervals and uniform bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def sup_t_critical(
    vcov: np.ndarray, level: float = 0.95, n_draws: int = 20000, seed: int = 0
) -> float:
    """Sup-t critical value for simultaneous bands from a covariance matrix (Gaussian)."""
    vcov = np.asarray(vcov, dtype=float)
    sd = np.sqrt(np.diag(vcov))
    ok = sd > 0
    corr = vcov[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    z = np.random.default_rng(seed).standard_normal((n_draws, ok.sum())) @ root.T
    return float(np.quantile(np.abs(z).max(axis=1), level))


def event_study_plot(
    result, ax=None, level: float = 0.95, uniform: bool = True, title: str | None = None
):
    """Plot event-time estimates with pointwise intervals (bars) and a uniform band (shade).

    Works for :class:`EventStudyResult`, the dynamic aggregation of
    :class:`CallawaySantAnna` and :class:`SunAbraham` results. The uniform band uses the
    bootstrap sup-t value when the result has one, else the Gaussian sup-t value from the
    covariance matrix.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    params = result.params
    idx = [i for i in params.index if isinstance(i, (int, np.integer, float))]
    est = params.loc[idx].astype(float)
    se = result.std_errors.loc[idx].astype(float)
    ref = getattr(result, "reference", None)
    z = stats.norm.ppf(0.5 + level / 2)
    if result.dist == "t" and result.df_resid:
        z = stats.t.ppf(0.5 + level / 2, result.df_resid)
    ci = result.conf_int(level).loc[idx]
    x = np.array(idx, dtype=float)
    pre = x < 0
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(-0.5, color="grey", lw=0.8, ls=":")
    for mask, colour, lab in (
        (pre, "#b2182b", "before treatment"),
        (~pre, "#00468b", "after treatment"),
    ):
        if mask.any():
            ax.errorbar(
                x[mask],
                est.to_numpy()[mask],
                yerr=[(est - ci["lower"]).to_numpy()[mask], (ci["upper"] - est).to_numpy()[mask]],
                fmt="o",
                color=colour,
                capsize=3,
                label=f"{lab} ({level:.0%} interval)",
            )
    if uniform:
        crit = getattr(result, "critical_value", None)
        vcov = getattr(result, "vcov", None)
        if crit is None and vcov is not None:
            v = vcov.loc[idx, idx].to_numpy() if isinstance(vcov, pd.DataFrame) else vcov
            crit = sup_t_critical(v, level)
            crit = max(crit, z)
        if crit is not None:
            ax.fill_between(
                x,
                est - crit * se,
                est + crit * se,
                color="#00468b",
                alpha=0.12,
                step=None,
                label=f"uniform {level:.0%} band",
            )
    if ref is not None:
        ax.plot([ref], [0.0], marker="o", mfc="white", color="grey", label="reference period")
    ax.set_xlabel("periods relative to first treatment")
    ax.set_ylabel("effect estimate")
    ax.set_title(title or result.method)
    ax.legend(fontsize=8)
    return ax
