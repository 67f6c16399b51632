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


#: the event-study plot's words: before, after, interval, band, reference, x axis, y axis
EVENT_STUDY_WORDS = {
    "en": ("before treatment", "after treatment", "{level} interval", "uniform {level} band",
           "reference period", "periods relative to first treatment", "effect estimate"),
    "nl": ("vóór de start", "na de start", "{level}-interval", "simultane {level}-band",
           "referentieperiode", "perioden ten opzichte van de start", "geschat effect"),
}  # fmt: skip


def event_study_plot(
    result,
    ax=None,
    level: float = 0.95,
    uniform: bool = True,
    title: str | None = None,
    lang: str = "en",
):
    """Plot event-time estimates with pointwise intervals (bars) and a uniform band (shade).

    Works for :class:`EventStudyResult`, the dynamic aggregation of
    :class:`CallawaySantAnna` and :class:`SunAbraham` results. The uniform band uses the
    bootstrap sup-t value when the result has one, else the Gaussian sup-t value from the
    covariance matrix. When the pointwise intervals come from a wild cluster bootstrap (few
    clusters) the covariance is not trusted, so no band is drawn: one from it would be
    narrower than the intervals it should contain. ``lang`` (``en``/``nl``) for the words;
    ``title`` replaces the method's name ("" for none).
    """
    import matplotlib.pyplot as plt

    w_pre, w_post, w_interval, w_band, w_ref, w_x, w_y = EVENT_STUDY_WORDS[lang]
    pct = f"{level:.0%}"

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
        (pre, "#b2182b", w_pre),
        (~pre, "#00468b", w_post),
    ):
        if mask.any():
            ax.errorbar(
                x[mask],
                est.to_numpy()[mask],
                yerr=[(est - ci["lower"]).to_numpy()[mask], (ci["upper"] - est).to_numpy()[mask]],
                fmt="o",
                color=colour,
                capsize=3,
                label=f"{lab} ({w_interval.format(level=pct)})",
            )
    if (
        uniform
        and getattr(result, "wild", None)
        and getattr(result, "critical_value", None) is None
    ):
        uniform = False  # intervals from the wild bootstrap: no trustworthy joint band
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
                label=w_band.format(level=pct),
            )
    if ref is not None:
        ax.plot([ref], [0.0], marker="o", mfc="white", color="grey", label=w_ref)
    ax.set_xlabel(w_x)
    ax.set_ylabel(w_y)
    ax.set_title(result.method if title is None else title)
    ax.legend(fontsize=8)
    return ax
