"""Randomisation (permutation) inference for small groups, with test-inversion intervals."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError
from werkeffect.formatting import fmt_num
from werkeffect.matching._utils import check_columns, treatment_array
from werkeffect.results.base import EstimationResult

__all__ = ["randomization_test", "RandomizationResult"]


@dataclass(frozen=True, eq=False)
class RandomizationResult(EstimationResult):
    """Randomisation-test result: ``pvalues`` are the permutation p-values, ``conf_int`` the
    interval from inverting the test under a constant additive effect; ``std_errors`` hold
    the standard deviation of the permutation distribution under the sharp null."""

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(self.extra["p_value"], index=self.params.index, name="p_value")

    def plot(self, ax=None, level: float | None = None, lang: str = "en", bins: int = 40):
        """The randomisation distribution under the sharp null (histogram) with the observed
        difference; the assignments at least as extreme shaded (they make the p-value).
        ``lang`` (``en``/``nl``) for the words; ``level`` is unused (the p-value speaks)."""
        import matplotlib.pyplot as plt

        words = RI_PLOT_WORDS[lang]
        null = np.asarray(self.extra["null_distribution"], dtype=float)
        obs = float(self.params.iloc[0])
        if ax is None:
            _, ax = plt.subplots(figsize=(6.2, 3.4))
        edges = np.histogram_bin_edges(np.append(null, obs), bins=bins)
        far = _as_extreme(null, obs, self.extra.get("alternative", "two-sided"))
        ax.hist(null[~far], bins=edges, color="#b9c4d0", label=words[0])
        ax.hist(null[far], bins=edges, color="#b2182b", label=words[1])
        ax.axvline(obs, color="#00468b", lw=2, label=words[2])
        ax.set_xlabel(words[3])
        ax.set_ylabel(words[4])
        ax.legend(frameon=False, fontsize=8)

        p_text = fmt_num(self.extra["p_value"], 3, lang)
        ax.set_title(words[5].format(p=p_text, n=fmt_num(self.extra["n_assignments"], 0, lang)))
        return ax


#: words of the randomisation plot: null, as extreme, observed, x axis, y axis, title
RI_PLOT_WORDS = {
    "en": ("assignments under no effect", "at least as extreme", "observed difference",
           "difference (treated minus control)", "number of assignments",
           "Randomisation test: p = {p} over {n} assignments"),
    "nl": ("toewijzingen zonder effect", "minstens zo extreem", "waargenomen verschil",
           "verschil (deelnemers min vergelijking)", "aantal toewijzingen",
           "Randomisatietoets: p = {p} over {n} toewijzingen"),
}  # fmt: skip


def _as_extreme(perm: np.ndarray, obs: float, alternative: str) -> np.ndarray:
    """The assignments whose statistic is at least as extreme as the observed one (they make
    the p-value); a relative tolerance keeps ties from rounding."""
    tol = 1e-10 * max(1.0, abs(obs))
    if alternative == "two-sided":
        return np.abs(perm) >= abs(obs) - tol
    if alternative == "greater":
        return perm >= obs - tol
    if alternative == "less":
        return perm <= obs + tol
    raise ValueError("alternative must be 'two-sided', 'greater' or 'less'")


def _assignments_exact(strata: np.ndarray, n_treat: np.ndarray, n: int) -> np.ndarray:
    """All within-stratum assignments, as a (n_assignments, n) 0/1 matrix."""
    per = []
    for s in range(len(n_treat)):
        members = np.flatnonzero(strata == s)
        combos = np.array(list(itertools.combinations(members, int(n_treat[s]))), dtype=np.int64)
        per.append(combos.reshape(len(combos), int(n_treat[s])))
    sizes = [len(c) for c in per]
    grids = np.indices(sizes).reshape(len(sizes), -1).T  # (total, n_strata)
    Z = np.zeros((len(grids), n), dtype=np.int8)
    rows = np.arange(len(grids))
    for s, combos in enumerate(per):
        chosen = combos[grids[:, s]]  # (total, n_t,s)
        if chosen.shape[1]:
            Z[rows[:, None], chosen] = 1
    return Z


def _assignments_random(
    strata: np.ndarray, n_treat: np.ndarray, n_perm: int, rng: np.random.Generator
) -> np.ndarray:
    """Random within-stratum permutations of the treatment, (n_perm, n) 0/1 matrix."""
    n = len(strata)
    order_strata = np.argsort(strata, kind="stable")
    sorted_strata = strata[order_strata]
    starts = np.searchsorted(sorted_strata, np.arange(len(n_treat)))
    pos_in_stratum = np.arange(n) - starts[sorted_strata]
    first = pos_in_stratum < n_treat[sorted_strata]  # first n_t,s slots of each stratum
    keys = rng.random((n_perm, n)) + strata[None, :]
    order = np.argsort(keys, axis=1)  # units grouped by stratum, random order within
    Z = np.zeros((n_perm, n), dtype=np.int8)
    rows = np.repeat(np.arange(n_perm), first.sum())
    Z[rows, order[:, first].ravel()] = 1
    return Z


def randomization_test(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    strata: str | None = None,
    n_permutations: int = 10_000,
    exact_max: int = 200_000,
    alternative: str = "two-sided",
    level: float = 0.95,
    seed: int | None = 0,
) -> RandomizationResult:
    """Fisher randomisation test of the sharp null of no effect for any unit.

    The statistic is the difference in means, within ``strata`` (e.g. matched sets:
    ``res.matched`` gives ``set_id``) averaged with weights proportional to the number of
    treated units per stratum (for pairs: the mean pair difference; the ATT weighting). The
    treatment is permuted within strata. When the number of possible assignments is at most
    ``exact_max`` all are enumerated and the p-value is exact; otherwise ``n_permutations``
    random permutations give a Monte Carlo p-value (1 + #{T_perm >= T_obs}) / (1 + B).

    The interval collects all constant additive effects tau0 not rejected at 1 - ``level``
    when testing Y - tau0 D (Hodges–Lehmann-type inversion; assumes the effect is the same
    for every unit).
    """
    cols = [outcome, treatment, *([strata] if strata else [])]
    check_columns(df, cols)
    data = df[cols]
    if data[outcome].isna().any():
        raise EstimationError(f"outcome '{outcome}' has missing values")
    if strata is not None and data[strata].isna().any():
        data = data[data[strata].notna()]
    d = treatment_array(data, treatment)
    y = data[outcome].astype(float).to_numpy()
    n = len(d)
    s = (
        pd.factorize(data[strata], sort=True)[0]
        if strata is not None
        else np.zeros(n, dtype=np.int64)
    )
    n_s = np.bincount(s)
    n_t = np.bincount(s, weights=d).astype(int)
    n_c = n_s - n_t
    informative = (n_t > 0) & (n_c > 0)
    if not informative.any():
        raise EstimationError("no stratum has both treated and control units")
    if not informative.all():  # drop strata that cannot contribute
        keep = informative[s]
        d, y, s = d[keep], y[keep], pd.factorize(s[keep], sort=True)[0]
        n = len(d)
        n_s, n_t = np.bincount(s), np.bincount(s, weights=d).astype(int)
        n_c = n_s - n_t
    lam = n_t / n_t.sum()
    a = lam[s] / n_t[s]
    b = lam[s] / n_c[s]
    coef = a + b

    def stat(Z: np.ndarray, v: np.ndarray) -> np.ndarray:
        return Z @ (v * coef) - np.sum(v * b)

    t_obs = float(stat(d[None, :].astype(float), y)[0])
    log_total = sum(
        math.lgamma(ns + 1) - math.lgamma(nt + 1) - math.lgamma(ns - nt + 1)
        for ns, nt in zip(n_s, n_t, strict=True)
    )
    exact = log_total <= math.log(exact_max)
    rng = np.random.default_rng(seed)
    if exact:
        Z = _assignments_exact(s, n_t, n).astype(float)
        n_assign = len(Z)
    else:
        Z = _assignments_random(s, n_t, n_permutations, rng).astype(float)
        n_assign = n_permutations
    A = stat(Z, y)  # statistic of each assignment on the observed outcomes
    C = stat(Z, d.astype(float))  # ... on the observed treatment vector

    def pval(tau0: float) -> float:
        hits = np.sum(_as_extreme(A - tau0 * C, t_obs - tau0, alternative))
        return float(hits / n_assign) if exact else float((hits + 1) / (n_assign + 1))

    p = pval(0.0)
    alpha = 1 - level
    scale = max(np.std(A), np.ptp(y) / max(n, 1), 1e-12)

    def bound(direction: int) -> float:
        lo_step = scale
        inside = t_obs
        outside = t_obs + direction * lo_step
        k = 0
        while pval(outside) > alpha and k < 60:
            inside = outside
            lo_step *= 2
            outside = t_obs + direction * lo_step
            k += 1
        if k == 60:
            return direction * np.inf
        for _ in range(60):
            mid = (inside + outside) / 2
            if pval(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return float(inside)

    lower, upper = bound(-1), bound(+1)
    idx = pd.Index(["effect"])
    notes = (
        f"{'exact' if exact else 'Monte Carlo'} randomisation distribution over "
        f"{n_assign:,} assignments ({alternative})",
        "interval by inverting the test under a constant additive effect",
    )
    return RandomizationResult(
        params=pd.Series([t_obs], index=idx),
        std_errors=pd.Series([float(np.std(A))], index=idx),
        method="Randomisation test (permutation within strata)",
        estimand=f"difference in '{outcome}' (treated minus control, within strata)",
        n={"n_treated": int(d.sum()), "n_control": int((d == 0).sum())},
        assumptions=(
            "treatment as good as randomly assigned within strata",
            "interval: constant additive effect",
        ),
        notes=notes,
        intervals=pd.DataFrame({"lower": [lower], "upper": [upper]}, index=idx),
        interval_level=level,
        extra={
            "p_value": p,
            "exact": exact,
            "n_assignments": n_assign,
            "null_distribution": A,
            "alternative": alternative,
        },
    )
