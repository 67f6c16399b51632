"""The programme-start hazard: a pooled discrete-time logit over elapsed months.

For every spell and every month ``m`` in which it is on benefit and not yet treated, the
probability that the programme starts in month ``m`` is

    h_m(x) = expit(alpha_{b(m)} + x' beta),

with a piecewise-constant baseline ``alpha`` over bins of months (each bin holds at least
``min_events`` starts, so late months with few starts share one level) and covariates ``x``.

This one model serves both dynamic estimators: within month ``u`` it is the propensity score
of starting at ``u`` among the not-yet-treated (Sianesi; matching on ``x' beta`` is matching
on the logit of the propensity score within ``u``), and over later months it is the
treatment hazard that gives the inverse-probability-of-censoring weights of Van den Berg &
Vikström. Fitting uses Newton's method on dense (spell x month) arrays, so the cost is
linear in the number of spells and months — no person-month frame is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import expit

from werkeffect.dynamic.risk_sets import SpellArrays
from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.formatting import fmt_num


def month_bins(counts: np.ndarray, min_events: int) -> np.ndarray:
    """Greedy bins of consecutive months with at least ``min_events`` starts each."""
    bins = np.zeros(len(counts), dtype=np.int64)
    b, acc = 0, 0.0
    for m, c in enumerate(counts):  # loop over months (tens), not people
        bins[m] = b
        acc += c
        if acc >= min_events and m < len(counts) - 1:
            b, acc = b + 1, 0.0
    if acc < min_events and b > 0:  # trailing bin too thin: merge into the previous one
        bins[bins == b] = b - 1
    return bins


@dataclass(frozen=True)
class TreatmentHazard:
    """A fitted programme-start hazard (internal).

    ``logit h(i, m) = alpha[bins[m]] + delta[year_bin(i, m)] + x_i' beta`` where the calendar
    year of spell i in month m is ``floor(cal0_i + m / 12)`` (``delta`` is empty without
    calendar times).
    """

    bins: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    converged: bool
    n_iter: int
    loglik: float
    delta: np.ndarray = field(default_factory=lambda: np.zeros(1))
    year_bins: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    year0: int = 0
    gamma: np.ndarray = field(default_factory=lambda: np.zeros(0))  # time-varying covariates

    @property
    def n_months(self) -> int:
        return len(self.bins)

    def index(self, X: np.ndarray) -> np.ndarray:
        """Linear index ``x' beta`` (without month and calendar effects)."""
        return X @ self.beta

    def calendar(self, arr: SpellArrays, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Calendar-year effect ``delta`` of spells ``rows`` in ``months`` (broadcasting)."""
        if arr.cal0 is None or len(self.delta) <= 1:
            return np.zeros(np.broadcast_shapes(np.shape(rows), np.shape(months)))
        y = np.floor(arr.cal0[rows] + np.asarray(months) / 12.0).astype(np.int64) - self.year0
        y = np.clip(y, 0, len(self.year_bins) - 1)
        return self.delta[self.year_bins[y]]

    def score(self, arr: SpellArrays, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Logit propensity score up to the month level: ``delta + x' beta + z_m' gamma``."""
        out = self.calendar(arr, rows, months) + (arr.X @ self.beta)[rows]
        if len(self.gamma) and arr.Z is not None:
            out = out + arr.z_at(rows, months) @ self.gamma
        return out

    def logit(self, arr: SpellArrays, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
        return self.alpha[self.bins[months]] + self.score(arr, rows, months)

    def log_untreated(self, arr: SpellArrays, rows: np.ndarray) -> np.ndarray:
        """``log prod_{k<=m} (1 - h_k)`` for months ``m = 0..n_months-1``, shape (rows, M)."""
        months = np.arange(self.n_months)
        eta = self.alpha[self.bins][None, :] + (arr.X @ self.beta)[rows][:, None]
        eta = eta + self.calendar(arr, rows[:, None], months[None, :])
        if len(self.gamma) and arr.Z is not None:
            eta = eta + arr.z_at(rows[:, None], months[None, :]) @ self.gamma
        # log(1 - expit(eta)) = -log1p(exp(eta)), computed stably
        return np.cumsum(-np.logaddexp(0.0, eta), axis=1)


@dataclass(frozen=True)
class HazardCells:
    """The (spell, month) cells at risk of a programme start, as flat arrays (internal).

    A cell is a month ``m < n_months`` in which the spell is on benefit and not yet treated
    (including the month of the start, where ``y = 1``). ``year`` is the calendar year of the
    cell minus ``year0`` (zeros without calendar times).
    """

    spell: np.ndarray
    month: np.ndarray
    y: np.ndarray
    n_months: int
    year: np.ndarray
    year0: int

    @classmethod
    def build(cls, arr: SpellArrays, n_months: int) -> HazardCells:
        from werkeffect.dynamic.risk_sets import interval_rows

        hi = np.minimum(np.minimum(arr.exit_m, arr.treat_m), n_months - 1)
        spell, m_idx = interval_rows(arr.entry_m, hi, np.arange(n_months))
        y = arr.treat_m[spell] == m_idx
        if arr.cal0 is None:
            return cls(spell, m_idx, y, n_months, np.zeros(len(spell), np.int64), 0)
        yr = np.floor(arr.cal0[spell] + m_idx / 12.0).astype(np.int64)
        year0 = int(yr.min()) if len(yr) else 0
        return cls(spell, m_idx, y, n_months, yr - year0, year0)


def fit_treatment_hazard(
    arr: SpellArrays,
    n_months: int,
    weights: np.ndarray | None = None,
    *,
    cells: HazardCells | None = None,
    min_events: int = 10,
    bins: np.ndarray | None = None,
    year_bins: np.ndarray | None = None,
    start: TreatmentHazard | None = None,
    max_iter: int = 50,
    tol: float = 1e-8,
    warn: bool = True,
) -> TreatmentHazard:
    """Fit the pooled logit of programme start on months ``0..n_months-1``.

    ``weights`` are frequency weights per spell (bootstrap multiplicities). Newton's method
    with step halving on the flat (spell, month) cells; the Hessian is assembled from
    per-spell, per-bin and per-year sums, so each step costs a few passes over the cells.
    """
    if cells is None or cells.n_months != n_months:
        cells = HazardCells.build(arr, n_months)
    if start is not None:
        bins = start.bins if bins is None else bins
        year_bins = start.year_bins if year_bins is None else year_bins
    w_sp = np.ones(arr.n) if weights is None else np.asarray(weights, float)
    wc = w_sp[cells.spell]
    keep = wc > 0
    sp, mo, y, wc = cells.spell[keep], cells.month[keep], cells.y[keep], wc[keep]
    yr = cells.year[keep]
    X = arr.X
    counts = np.bincount(mo[y], weights=wc[y], minlength=n_months)
    if counts.sum() == 0:
        raise EstimationError(
            "no programme starts among spells on benefit: the start hazard cannot be estimated"
        )
    if bins is None:
        bins = month_bins(counts, min_events)
    n_years = int(cells.year.max()) + 1 if len(cells.year) else 1
    if year_bins is None:
        yc = np.bincount(yr[y], weights=wc[y], minlength=n_years)
        year_bins = month_bins(yc, min_events) if n_years > 1 else np.zeros(1, np.int64)
    n_bins = int(bins.max()) + 1
    n_yb = int(year_bins.max()) + 1
    b_cell = bins[mo]
    c_cell = year_bins[np.minimum(yr, len(year_bins) - 1)]
    events_bin = np.bincount(b_cell[y], weights=wc[y], minlength=n_bins)
    events_yr = np.bincount(c_cell[y], weights=wc[y], minlength=n_yb)[1:]
    if (events_bin == 0).any() and warn:
        warn_estimation(
            "some months have no programme starts at all; their start hazard is set near zero",
            "in sommige maanden start niemand met het traject; de startkans is daar vrijwel "
            "nul gezet",
            stacklevel=2,
        )
    n, k = arr.n, X.shape[1]
    ny = n_yb - 1  # calendar effects relative to the first year bin
    ysum_x = X.T @ np.bincount(sp[y], weights=wc[y], minlength=n)
    Zc = arr.Z[sp, mo] if arr.Z is not None else np.zeros((len(sp), 0))
    kz = Zc.shape[1]
    ysum_z = Zc[y].T @ wc[y]

    if start is not None:
        alpha, beta = start.alpha.copy(), start.beta.copy()
        delta = start.delta[1:].copy() if len(start.delta) == n_yb else np.zeros(ny)
        gamma = start.gamma.copy() if len(start.gamma) == kz else np.zeros(kz)
    else:
        exposure = np.bincount(b_cell, weights=wc, minlength=n_bins)
        rate = np.clip(events_bin / np.maximum(exposure, 1e-12), 1e-6, 1 - 1e-6)
        alpha, beta, delta = np.log(rate / (1 - rate)), np.zeros(k), np.zeros(ny)
        gamma = np.zeros(kz)

    def unpack(theta: np.ndarray):
        nb = n_bins + ny
        return theta[:n_bins], theta[n_bins:nb], theta[nb : nb + k], theta[nb + k :]

    theta = np.r_[alpha, delta, beta, gamma]
    converged = False
    ll_prev = -np.inf
    step = np.zeros(len(theta))
    t = 1.0
    it = 0
    ll = -np.inf
    for it in range(1, max_iter + 1):
        alpha, delta, beta, gamma = unpack(theta)
        d_full = np.r_[0.0, delta]
        eta = alpha[b_cell] + d_full[c_cell] + (X @ beta)[sp]
        if kz:
            eta = eta + Zc @ gamma
        ll = float(
            (events_bin * alpha).sum()
            + (events_yr * delta).sum()
            + ysum_x @ beta
            + ysum_z @ gamma
            - (wc * np.logaddexp(0.0, eta)).sum()
        )
        if ll < ll_prev - 1e-9 * abs(ll_prev) and t > 1e-6:
            # the last step overshot: go back half of it
            t /= 2
            theta = theta - t * step
            continue
        if t * np.max(np.abs(step), initial=0.0) < tol and it > 1:
            converged = True
            break
        p = expit(eta)
        r = wc * p
        g_alpha = events_bin - np.bincount(b_cell, weights=r, minlength=n_bins)
        g_delta = events_yr - np.bincount(c_cell, weights=r, minlength=n_yb)[1:]
        g_beta = ysum_x - X.T @ np.bincount(sp, weights=r, minlength=n)
        g_gamma = ysum_z - Zc.T @ r
        hess = _information(X, Zc, sp, b_cell, c_cell, r * (1.0 - p), n, n_bins, n_yb)
        grad = np.r_[g_alpha, g_delta, g_beta, g_gamma]
        try:
            step = np.linalg.solve(hess + 1e-10 * np.eye(len(grad)), grad)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - singular design
            raise EstimationError(
                "the programme-start model is singular (collinear covariates?)"
            ) from exc
        t = 1.0
        ll_prev = ll
        theta = theta + step
    alpha, delta, beta, gamma = unpack(theta)
    if not converged and warn:
        warn_estimation(
            f"the programme-start model did not converge in {max_iter} Newton steps "
            "(separation? a covariate that predicts start perfectly?)",
            f"het model voor de trajectstart convergeerde niet in {max_iter} Newton-stappen "
            "(separatie? een kenmerk dat de start perfect voorspelt?)",
            stacklevel=2,
        )
    if warn:
        p_cells = expit(alpha[b_cell] + np.r_[0.0, delta][c_cell] + (X @ beta)[sp] + Zc @ gamma)
        if p_cells.size and (p_cells.max() > 0.9):
            warn_estimation(
                f"some start probabilities within a month exceed 0.9 (max "
                f"{p_cells.max():.2f}); check for a covariate that (nearly) determines "
                "programme start",
                f"sommige startkansen binnen een maand zijn hoger dan 0,9 (hoogste "
                f"{fmt_num(p_cells.max(), 2)}); controleer op een kenmerk dat de trajectstart "
                "(bijna) bepaalt",
                stacklevel=2,
            )
    return TreatmentHazard(
        bins=bins,
        alpha=alpha,
        beta=beta,
        converged=converged,
        n_iter=it,
        loglik=ll,
        delta=np.r_[0.0, delta],
        year_bins=year_bins,
        year0=cells.year0,
        gamma=gamma,
    )


def _information(
    X: np.ndarray,
    Zc: np.ndarray,
    sp: np.ndarray,
    b_cell: np.ndarray,
    c_cell: np.ndarray,
    wm: np.ndarray,
    n: int,
    n_bins: int,
    n_yb: int,
) -> np.ndarray:
    """Information matrix of (alpha, delta, beta, gamma) from the cell weights ``wm``
    (``w p (1 - p)``), assembled from per-spell, per-bin and per-year sums."""
    k, kz = X.shape[1], Zc.shape[1]
    w_sp_sum = np.bincount(sp, weights=wm, minlength=n)
    wb = np.bincount(sp * n_bins + b_cell, weights=wm, minlength=n * n_bins).reshape(n, n_bins)
    wy = np.bincount(sp * n_yb + c_cell, weights=wm, minlength=n * n_yb).reshape(n, n_yb)[:, 1:]
    h_ad = np.bincount(b_cell * n_yb + c_cell, weights=wm, minlength=n_bins * n_yb).reshape(
        n_bins, n_yb
    )[:, 1:]
    wz = Zc * wm[:, None]
    h_az = np.zeros((n_bins, kz))
    h_dz = np.zeros((n_yb, kz))
    z_sp = np.zeros((n, kz))
    for j in range(kz):  # a few time-varying covariates
        h_az[:, j] = np.bincount(b_cell, weights=wz[:, j], minlength=n_bins)
        h_dz[:, j] = np.bincount(c_cell, weights=wz[:, j], minlength=n_yb)
        z_sp[:, j] = np.bincount(sp, weights=wz[:, j], minlength=n)
    h_ab, h_db, h_bz = wb.T @ X, wy.T @ X, X.T @ z_sp
    return np.block(
        [
            [np.diag(wb.sum(0)), h_ad, h_ab, h_az],
            [h_ad.T, np.diag(wy.sum(0)), h_db, h_dz[1:]],
            [h_ab.T, h_db.T, X.T @ (X * w_sp_sum[:, None]), h_bz],
            [h_az.T, h_dz[1:].T, h_bz.T, Zc.T @ wz],
        ]
    ).reshape(n_bins + n_yb - 1 + k + kz, -1)


@dataclass(frozen=True)
class OneStep:
    """The start model's per-spell scores and inverse information at its estimate (internal).

    A resample with spell frequency weights ``w`` gets the one-step estimate
    ``theta_w = theta + (c I)^{-1} sum_i w_i s_i`` where ``s_i`` is spell i's score at the
    full-sample estimate ``theta`` (its sum is zero there), ``I`` the full-sample information
    and ``c`` the share of the information carried by the resample. This is a Newton step
    from the full-sample estimate with the full-sample Hessian (Davidson & MacKinnon 1999;
    first-order equivalent to re-estimating the model in every resample, Andrews 2002), and
    costs one (spells x parameters) product instead of passes over all (spell, month) cells.
    """

    hazard: TreatmentHazard
    scores: np.ndarray  # (n spells, n parameters)
    inv_info: np.ndarray  # (n parameters, n parameters)
    info_mass: np.ndarray  # (n spells,) each spell's share of the diagonal information
    n_bins: int
    n_years: int

    def hazard_for(self, weights: np.ndarray) -> TreatmentHazard:
        w = np.asarray(weights, float)
        c = float(w @ self.info_mass) / max(float(self.info_mass.sum()), 1e-300)
        if c <= 0:
            raise EstimationError("the resample holds no spell at risk of a programme start")
        hz = self.hazard
        theta = np.r_[hz.alpha, hz.delta[1:], hz.beta, hz.gamma]
        theta = theta + self.inv_info @ (self.scores.T @ w) / c
        nb, ny, k = self.n_bins, self.n_years, len(hz.beta)
        return replace(
            hz,
            alpha=theta[:nb],
            delta=np.r_[0.0, theta[nb : nb + ny]],
            beta=theta[nb + ny : nb + ny + k],
            gamma=theta[nb + ny + k :],
            converged=True,
            n_iter=1,
        )


def one_step(arr: SpellArrays, hz: TreatmentHazard, cells: HazardCells) -> OneStep:
    """Scores and information of the fitted start model ``hz`` on ``cells`` (weights 1)."""
    sp, mo, y, yr = cells.spell, cells.month, cells.y, cells.year
    n, X = arr.n, arr.X
    n_bins = int(hz.bins.max()) + 1
    n_yb = int(hz.year_bins.max()) + 1
    ny = n_yb - 1
    b_cell = hz.bins[mo]
    c_cell = hz.year_bins[np.minimum(yr, len(hz.year_bins) - 1)]
    Zc = arr.Z[sp, mo] if arr.Z is not None and len(hz.gamma) else np.zeros((len(sp), 0))
    eta = hz.alpha[b_cell] + hz.delta[c_cell] + (X @ hz.beta)[sp] + Zc @ hz.gamma
    p = expit(eta)
    r = y - p
    wm = p * (1.0 - p)
    s_a = np.bincount(sp * n_bins + b_cell, weights=r, minlength=n * n_bins).reshape(n, n_bins)
    s_d = np.bincount(sp * n_yb + c_cell, weights=r, minlength=n * n_yb).reshape(n, n_yb)[:, 1:]
    s_b = X * np.bincount(sp, weights=r, minlength=n)[:, None]
    s_z = np.zeros((n, Zc.shape[1]))
    for j in range(Zc.shape[1]):  # a few time-varying covariates
        s_z[:, j] = np.bincount(sp, weights=r * Zc[:, j], minlength=n)
    scores = np.hstack([s_a, s_d, s_b, s_z])
    w_sp_sum = np.bincount(sp, weights=wm, minlength=n)
    info = _information(X, Zc, sp, b_cell, c_cell, wm, n, n_bins, n_yb)
    inv = np.linalg.pinv(info + 1e-10 * np.eye(len(info)), hermitian=True)
    return OneStep(hz, scores, inv, w_sp_sum, n_bins, ny)


__all__ = [
    "HazardCells",
    "OneStep",
    "TreatmentHazard",
    "fit_treatment_hazard",
    "month_bins",
    "one_step",
]
