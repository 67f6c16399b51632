"""Covariate balance (MatchIt/cobalt conventions), love plot, overlap plot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from werkeffect.matching._utils import covariate_matrix, treatment_array

__all__ = ["balance", "love_plot", "overlap_plot"]

_EPS = np.sqrt(np.finfo(float).eps)


def _wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """MatchIt's weighted variance: p(1-p) for binary, else the unbiased weighted variance
    sum w (x - m)^2 / (1 - sum w^2) with weights normalised to sum to one."""
    w = w / w.sum()
    m = float(np.sum(w * x))
    if binary:
        return m * (1 - m)
    denom = 1 - np.sum(w**2)
    return float(np.sum(w * (x - m) ** 2) / denom) if denom > 0 else np.nan


#: relative distance below which two values count as tied in the eCDF statistics
TIE_TOLERANCE = 1e-10


def _ecdf_stats(x: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Mean and maximum absolute difference of the weighted eCDFs (MatchIt, standardised).

    Values closer than ``TIE_TOLERANCE`` times their scale are one value: rounding in a
    computed score (a propensity score of two persons with the same covariates can differ
    in the last bit, depending on where the rows sit in a vectorised product) must not
    split a tie, which would add a step to the eCDFs.
    """
    w = w.astype(float).copy()
    for g in (0, 1):
        s = w[d == g].sum()
        if s > 0:
            w[d == g] /= s
    order = np.argsort(x, kind="stable")
    xs, ws, ds = x[order], w[order], d[order]
    signed = np.where(ds == ds[0], -ws, ws)
    cs = np.abs(np.cumsum(signed))
    tol = TIE_TOLERANCE * max(1.0, float(np.max(np.abs(xs)))) if len(xs) else 0.0
    last = np.r_[np.diff(xs) > tol, True]
    e = cs[last]
    return float(e.mean()), float(e.max())


def _one(
    x: np.ndarray, d: np.ndarray, w: np.ndarray, denom_sd: float
) -> tuple[float, float, float, float, float, float]:
    binary = bool(np.all((x == 0) | (x == 1)))
    t, c = d == 1, d == 0
    mt = float(np.average(x[t], weights=w[t]))
    mc = float(np.average(x[c], weights=w[c]))
    diff = mt - mc
    if abs(diff) > _EPS and denom_sd > _EPS:
        smd = diff / denom_sd
    elif abs(diff) > _EPS:
        smd = np.nan
    else:
        smd = diff
    if binary:
        vr = np.nan
        em = ex = abs(diff)
    else:
        wt, wc = w[t][w[t] > 0], w[c][w[c] > 0]
        vr = _wvar(x[t][w[t] > 0], wt, False) / _wvar(x[c][w[c] > 0], wc, False)
        em, ex = _ecdf_stats(x, d, w)
    return mt, mc, smd, vr, em, ex


def balance(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    weights: str | np.ndarray | pd.Series | None = None,
    estimand: str = "ATT",
    distance: np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Balance table per covariate, before and (with ``weights``) after adjustment.

    Conventions follow MatchIt's ``summary.matchit`` (and cobalt's defaults for the ATT):

    * ``smd``: (weighted mean treated - weighted mean control) divided by the standard
      deviation of the treated group in the full, unweighted sample for the ATT (the control
      group for the ATC; the square root of the average of both group variances for the ATE).
      For binary covariates the variance is p(1-p). The same denominator is used before and
      after weighting, so the two columns are comparable.
    * ``variance_ratio``: weighted variance treated / control (continuous covariates only).
    * ``ecdf_mean``, ``ecdf_max``: mean and maximum distance between the weighted empirical
      CDFs of both groups (for binary covariates: the absolute difference in proportions).

    Categorical columns are expanded into one dummy per level (``"{column}_{level}"``).
    ``distance`` adds a row ``"distance"`` (e.g. the propensity score used for matching).
    Columns ending in ``_un`` are the unadjusted values; without ``weights`` only those are
    computed and also given without suffix.
    """
    d = treatment_array(df, treatment)
    X, names = covariate_matrix(df, covariates, drop_first=False, check_constant=False)
    if distance is not None:
        X = np.column_stack([np.asarray(distance, dtype=float), X])
        names = ["distance", *names]
    if weights is None:
        w = None
    else:
        w = (
            df[weights].to_numpy(dtype=float)
            if isinstance(weights, str)
            else np.asarray(weights, dtype=float)
        )
        if len(w) != len(d) or np.any(w < 0) or np.isnan(w).any():
            raise ValueError("weights must be one non-negative number per row")
    ones = np.ones(len(d))
    rows = []
    for j, name in enumerate(names):
        x = X[:, j]
        binary = bool(np.all((x == 0) | (x == 1)))
        v1 = _wvar(x[d == 1], ones[d == 1], binary)
        v0 = _wvar(x[d == 0], ones[d == 0], binary)
        if estimand == "ATT":
            sd = np.sqrt(v1)
        elif estimand == "ATC":
            sd = np.sqrt(v0)
        elif estimand == "ATE":
            sd = np.sqrt((v1 + v0) / 2)
        else:
            raise ValueError("estimand must be 'ATT', 'ATC' or 'ATE'")
        if not np.isfinite(sd) or sd < _EPS:  # MatchIt falls back on the pooled SD
            sd = np.sqrt((v1 + v0) / 2)
        un = _one(x, d, ones, sd)
        row = {
            "covariate": name,
            "type": "binary" if binary else "continuous",
            "mean_treated_un": un[0],
            "mean_control_un": un[1],
            "smd_un": un[2],
            "variance_ratio_un": un[3],
            "ecdf_mean_un": un[4],
            "ecdf_max_un": un[5],
        }
        adj = _one(x, d, w, sd) if w is not None else un
        row.update(
            {
                "mean_treated": adj[0],
                "mean_control": adj[1],
                "smd": adj[2],
                "variance_ratio": adj[3],
                "ecdf_mean": adj[4],
                "ecdf_max": adj[5],
            }
        )
        rows.append(row)
    out = pd.DataFrame(rows).set_index("covariate")
    out.attrs["estimand"] = estimand
    out.attrs["adjusted"] = w is not None
    return out


#: the love plot's words: axis (absolute, signed), legend (before, after), title
LOVE_PLOT_WORDS = {
    "en": ("absolute standardised mean difference", "standardised mean difference", "before",
           "after", "Covariate balance"),
    "nl": ("absoluut gestandaardiseerd verschil", "gestandaardiseerd verschil", "vóór",
           "na", "Balans van kenmerken"),
}  # fmt: skip


def love_plot(
    table: pd.DataFrame,
    ax=None,
    threshold: float = 0.1,
    absolute: bool = True,
    labels: Mapping[str, str] | Callable[[str], str] | None = None,
    lang: str = "en",
):
    """Love plot: (absolute) SMD per covariate before and after adjustment.

    ``labels`` names the covariates in words (a mapping or a function of the column name;
    names it does not cover stay as they are); ``lang`` (``en``/``nl``) the axis, legend and
    title.
    """
    import matplotlib.pyplot as plt

    axis_abs, axis_signed, before_word, after_word, title = LOVE_PLOT_WORDS[lang]
    tab = table.drop(index="distance", errors="ignore")
    before = tab["smd_un"].abs() if absolute else tab["smd_un"]
    after = tab["smd"].abs() if absolute else tab["smd"]
    order = np.argsort(before.to_numpy())
    y = np.arange(len(tab))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.3 * len(tab) + 1.5))
    ax.scatter(
        before.to_numpy()[order],
        y,
        marker="o",
        facecolors="none",
        edgecolors="#b2182b",
        label=before_word,
    )
    if table.attrs.get("adjusted", True):
        ax.scatter(after.to_numpy()[order], y, marker="o", color="#00468b", label=after_word)
    ax.axvline(threshold, color="grey", ls="--", lw=0.8)
    if not absolute:
        ax.axvline(-threshold, color="grey", ls="--", lw=0.8)
    ax.axvline(0, color="black", lw=0.5)
    names = [str(c) for c in tab.index[order]]
    if callable(labels):
        names = [labels(c) for c in names]
    elif labels is not None:
        names = [labels.get(c, c) for c in names]
    ax.set_yticks(y, names)
    ax.set_xlabel(axis_abs if absolute else axis_signed)
    ax.legend(loc="lower right")
    ax.set_title(title)
    return ax


#: the overlap plot's words: treated, control, weighted control, x axis, y axis, title
OVERLAP_PLOT_WORDS = {
    "en": ("treated", "control", "control (weighted)", "propensity score",
           "density (controls below the axis)", "Overlap of propensity scores"),
    "nl": ("deelnemers", "vergelijkingsgroep", "vergelijkingsgroep (gewogen)",
           "propensity score (kans op deelname)", "dichtheid (vergelijkingsgroep onder de as)",
           "Overlap van de propensity scores"),
}  # fmt: skip


def overlap_plot(ps, treatment, ax=None, bins: int = 30, weights=None, lang: str = "en"):
    """Histograms of the propensity score by group (mirrored), optionally weighted;
    ``lang`` (``en``/``nl``) for the words."""
    import matplotlib.pyplot as plt

    treated_w, control_w, weighted_w, xlabel, ylabel, title = OVERLAP_PLOT_WORDS[lang]

    p = np.asarray(ps, dtype=float)
    d = np.asarray(treatment).astype(int)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    edges = np.linspace(0, 1, bins + 1)
    h1, _ = np.histogram(p[d == 1], bins=edges, density=True)
    h0, _ = np.histogram(p[d == 0], bins=edges, density=True)
    mids = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    ax.bar(mids, h1, width=width, color="#00468b", alpha=0.7, label=treated_w)
    ax.bar(mids, -h0, width=width, color="#b2182b", alpha=0.7, label=control_w)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        h0w, _ = np.histogram(p[d == 0], bins=edges, weights=w[d == 0], density=True)
        ax.step(mids, -h0w, where="mid", color="black", lw=1, label=weighted_w)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.set_title(title)
    return ax
