"""Sensitivity of event-study conclusions to parallel-trend violations (Rambachan & Roth 2023).

The event-study coefficients are ``beta = tau + delta``: the effect plus a bias ``delta``
(the difference in trends). Pre-treatment coefficients estimate ``delta_pre`` (tau = 0
there). The target is ``theta = l' tau_post`` (default: the average post-period effect).
Restrictions on how far ``delta_post`` may depart from what the pre-period shows:

* relative magnitudes ``Delta^RM(Mbar)``: each post-period change in the bias,
  ``|delta_{t+1} - delta_t|``, is at most ``Mbar`` times the largest pre-period change;
* smoothness ``Delta^SD(M)``: the slope of the bias changes by at most ``M`` per period
  (``|delta_{t+1} - 2 delta_t + delta_{t-1}| <= M``; ``M = 0`` is a linear extrapolation of
  the pre-trend).

For each M the identified set of ``theta`` is computed at the estimates (closed form for
RM, linear programming with ``scipy.optimize.linprog`` for SD), and the reported interval
is a parametric-bootstrap band for the set: the ``alpha/2`` quantile of the lower bound and
the ``1 - alpha/2`` quantile of the upper bound over draws ``beta* ~ N(beta_hat, Sigma)``.
This covers the identified set with probability at least ``1 - alpha`` asymptotically; it
is simpler and more conservative than the paper's FLCI / conditional (ARP) intervals.
Constraints that involve only pre-periods are not imposed (they do not restrict
``delta_post``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats


@dataclass(frozen=True)
class HonestResult:
    """``table``: one row per M with the identified set and the robust interval."""

    table: pd.DataFrame
    kind: str
    target: str
    original: tuple[float, float, float]  # estimate, lower, upper (M = none)
    level: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        est, lo, up = self.original
        head = (
            f"Rambachan & Roth sensitivity ({self.kind}), target: {self.target}\n"
            f"original estimate {est:.4f} [{lo:.4f}, {up:.4f}]"
        )
        return head + "\n" + self.table.to_string(float_format=lambda v: f"{v:.4f}")

    def __str__(self) -> str:
        return self.summary()

    def breakdown(self) -> float:
        """Smallest M at which the robust interval includes 0 (NaN if never)."""
        inc = self.table[(self.table["lower"] <= 0) & (self.table["upper"] >= 0)]
        return float(inc["M"].min()) if len(inc) else float("nan")

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.table
        est, lo, up = self.original
        ax.errorbar(
            [-0.1 * (t["M"].max() or 1)],
            [est],
            yerr=[[est - lo], [up - est]],
            fmt="o",
            color="grey",
            capsize=3,
            label="original",
        )
        ax.vlines(t["M"], t["lower"], t["upper"], color="#00468b", lw=3, label="robust interval")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("M̄" if self.kind == "relative_magnitude" else "M")
        ax.set_ylabel(self.target)
        ax.legend(fontsize=8)
        return ax


def _rm_bounds(beta: np.ndarray, pre_pos: np.ndarray, post_pos: np.ndarray, lvec, mbar):
    """Closed-form identified set under relative magnitudes."""
    bpre = beta[..., pre_pos]  # event times ..., -2 (reference -1 is 0)
    seq = np.concatenate([bpre, np.zeros(bpre.shape[:-1] + (1,))], axis=-1)
    c = np.max(np.abs(np.diff(seq, axis=-1)), axis=-1)
    tails = np.abs(np.cumsum(lvec[::-1])[::-1]).sum()
    centre = beta[..., post_pos] @ lvec
    half = mbar * c * tails
    return centre - half, centre + half


def _sd_bounds(beta: np.ndarray, pre_pos, post_pos, lvec, m):
    """Identified set under smoothness by linear programming (one pair of LPs)."""
    n_pre = len(pre_pos)
    n_post = len(post_pos)
    pre_vals = list(beta[pre_pos]) + [0.0]  # ..., delta_-2, delta_-1 = 0
    # sequence: known pre values then unknown post deltas (variables)
    rows, rhs = [], []
    full_len = n_pre + 1 + n_post
    for k in range(1, full_len - 1):
        idx = (k - 1, k, k + 1)
        if max(idx) <= n_pre:  # pre-only constraint
            continue
        coef = np.zeros(n_post)
        const = 0.0
        for pos, w in zip(idx, (1.0, -2.0, 1.0), strict=True):
            if pos <= n_pre:
                const += w * pre_vals[pos]
            else:
                coef[pos - n_pre - 1] += w
        rows += [coef, -coef]
        rhs += [m - const, m + const]
    a_ub, b_ub = np.array(rows), np.array(rhs)
    bounds = [(None, None)] * n_post
    hi = optimize.linprog(-lvec, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    lo = optimize.linprog(lvec, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if not (hi.success and lo.success):
        return np.nan, np.nan
    centre = beta[post_pos] @ lvec
    return centre - (-hi.fun), centre - lo.fun


def honest_bounds(
    result,
    kind: str = "relative_magnitude",
    M: Sequence[float] | None = None,
    *,
    target: str | int = "average",
    level: float = 0.95,
    n_draws: int = 1000,
    seed: int = 0,
) -> HonestResult:
    """Rambachan & Roth bounds for an event study (:class:`EventStudyResult`, Sun & Abraham).

    ``kind``: "relative_magnitude" (M = Mbar values, default 0, 0.5, 1, 1.5, 2) or
    "smoothness" (M in outcome units per period squared; default multiples of the largest
    pre-period standard error). ``target``: "average" (mean of the post-period effects) or
    an event time ``e >= 0``.
    """
    params = result.params
    vcov = result.vcov
    times = [i for i in params.index if isinstance(i, (int, np.integer))]
    pre = sorted(e for e in times if e < -1)
    post = sorted(e for e in times if e >= 0)
    if not pre or not post:
        raise ValueError("need pre-period (e <= -2) and post-period (e >= 0) coefficients")
    if pre != list(range(pre[0], -1)) or post != list(range(0, post[-1] + 1)):
        raise ValueError("event times must be consecutive with reference period -1")
    order = pre + post
    beta = params.loc[order].to_numpy(dtype=float)
    sigma = vcov.loc[order, order].to_numpy(dtype=float)
    pre_pos = np.arange(len(pre))
    post_pos = np.arange(len(pre), len(order))
    if target == "average":
        lvec = np.full(len(post), 1.0 / len(post))
        tname = "average post-period effect"
    else:
        lvec = np.array([1.0 if e == target else 0.0 for e in post])
        if not lvec.any():
            raise ValueError(f"event time {target} not among the post periods {post}")
        tname = f"effect at event time {target}"
    if kind not in ("relative_magnitude", "smoothness"):
        raise ValueError("kind must be 'relative_magnitude' or 'smoothness'")
    if M is None:
        if kind == "relative_magnitude":
            M = [0.0, 0.5, 1.0, 1.5, 2.0]
        else:
            s = float(np.sqrt(np.diag(sigma)[pre_pos]).max())
            M = [0.0, 0.25 * s, 0.5 * s, 1.0 * s, 2.0 * s]
    rng = np.random.default_rng(seed)
    vals, vecs = np.linalg.eigh((sigma + sigma.T) / 2)
    draws = (
        beta
        + rng.standard_normal((n_draws, len(beta))) @ (vecs * np.sqrt(np.clip(vals, 0, None))).T
    )
    alpha = 1 - level
    rows = []
    for m in M:
        if kind == "relative_magnitude":
            lo_id, up_id = _rm_bounds(beta, pre_pos, post_pos, lvec, m)
            lo_b, up_b = _rm_bounds(draws, pre_pos, post_pos, lvec, m)
        else:
            lo_id, up_id = _sd_bounds(beta, pre_pos, post_pos, lvec, m)
            bb = np.array([_sd_bounds(d, pre_pos, post_pos, lvec, m) for d in draws])
            lo_b, up_b = bb[:, 0], bb[:, 1]
        rows.append(
            {
                "M": float(m),
                "lower_set": float(lo_id),
                "upper_set": float(up_id),
                "lower": float(np.nanquantile(lo_b, alpha / 2)),
                "upper": float(np.nanquantile(up_b, 1 - alpha / 2)),
            }
        )
    est = float(beta[post_pos] @ lvec)
    se = float(np.sqrt(lvec @ sigma[np.ix_(post_pos, post_pos)] @ lvec))
    z = stats.norm.ppf(1 - alpha / 2)
    return HonestResult(pd.DataFrame(rows), kind, tname, (est, est - z * se, est + z * se), level)
