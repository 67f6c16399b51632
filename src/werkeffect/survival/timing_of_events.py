"""The timing-of-events model (Abbring & Van den Berg 2003).

Two (or more) hazards in continuous monthly time share unobserved heterogeneity:

* exit from benefit, optionally split into competing causes k (work, education, other):
  ``theta_k(t | x, V) = lambda_k(t) exp(x'beta_k + delta_k(t - t_p) 1{t > t_p}) V_k``;
* entry into the programme: ``theta_p(t | x, V) = lambda_p(t) exp(x'beta_p) V_p`` until the
  programme starts (at ``t_p``) or the spell ends.

``lambda`` are piecewise constant on user-chosen intervals; ``delta_k`` (the programme
effect, a log hazard ratio) may be piecewise constant in time since programme start. The
joint distribution of ``(V_1..V_K, V_p)`` is discrete with an unknown number of points
(NPMLE): points are added one at a time (Gaure, Roed & Zhang 2007) until the likelihood stops
improving, and the number is chosen by AIC or BIC. All spells of a person share V.

Identification (Abbring & Van den Berg 2003) rests on: (i) **no anticipation** — the exit
hazard does not react to a programme start before it happens; (ii) the **mixed proportional
hazard** structure (baseline x covariates x V, with the effect multiplicative); (iii)
**variation in the timing** of programme starts and in covariates; (iv) V independent of x.
Selection on unobservables (caseworkers picking "the people who want") is allowed: it is
what V_p and V_k absorb through their joint distribution.

Data: one row per spell (duration, exit cause, programme start or NaN, entry time) or the
start–stop rows of :func:`werkeffect.episodes` (collapsed per spell); both processes come
from the same rows — programme entry is observed until min(exit, censoring).

Left truncation (stock spells entering at their elapsed duration): the likelihood of a person
is conditional on their history up to the entry time — survival in benefit and the programme
history before entry —, integrating over the distribution of V at the start of the spell:
``sum_m p_m L_m(all data) / sum_m p_m L_m(data up to entry)`` (a ratio of integrals: the
stock is dynamically selected from the distribution at spell start; not the integral of the
ratios). Equivalently, V is integrated with weights proportional to ``p_m x`` the probability
of surviving to entry. Initial conditions (``stock_heterogeneity``): by default the persons
whose first observed spell is left-truncated (the stock) have their own mass-point
probabilities ``p^stock`` (same locations): their spells began before observation, under
other conditions and often after earlier spells that are not in the data, so the distribution
of V at the start of their spell need not equal the inflow's. ``"inflow"`` uses one
distribution for everybody (correct when the stock's spells started under the same
conditions as the inflow's, e.g. first spells only). Either way the likelihood assumes that
the hazards before the entry time follow the model (baseline, covariates, the first calendar
period).

Repeated spells of a person share V. By default the model does not describe the time between
spells (the return to benefit); the likelihood is then right only when that return does not
depend on V (it may depend on covariates and the programme). When it does — the unobserved
traits that speed up the exit to work also make the job last —, the later spells are selected
on V in a way the likelihood ignores, which biases the effect: use each person's first spell,
or model the return (``return_spells``).

The return to benefit (``return_spells``, optional): the job spell that follows an exit to
work is a further mixed proportional hazard sharing V,
``theta_r(u | z, V) = lambda_r(u) exp(z'gamma) V_r`` in months u since the exit to work, with
a piecewise-constant baseline (``return_cuts``), covariates of the job spell
(``return_covariates``; e.g. nazorg after the programme, a column like any other) and its own
coordinate of each mass point (``v:return``). The likelihood of a person is then
``sum_m p_m prod_{benefit spells} L_s(V_m) prod_{job spells} L_j(V_m)``: a later benefit
spell exists because of a return, and that selection on V is part of the model. Added
assumptions: the return hazard is mixed proportional with the same V (the discrete joint
distribution of all hazards' factors), z and V independent, no anticipation of the return (the
job-spell hazard does not depend on when the next benefit spell will start), and job spells
start at the exit to work that ends a benefit spell in the data. Job spells in progress at the
start of the observation window (their exit to work is not in the data) are left out: they are
not conditioned on, so give only job spells that follow an observed exit.

Computation: exposure per spell is aggregated once into piecewise cells (baseline interval x
time since programme start x calendar period; sparse), so a likelihood evaluation is a few
sparse products; the gradient is analytic (vectorised over persons x mass points); L-BFGS-B
with a logistic parametrisation of the mass probabilities, starting values from the model
without heterogeneity, Newton polishing with a numerical Hessian of the analytic gradient;
standard errors from that Hessian or a person-clustered sandwich. The fits with mass points
are preconditioned: the structural parameters with the Cholesky factor of the information of
the model without heterogeneity, the heterogeneity parameters with the Schur complement of
their Hessian columns (two gradients each) at the start of each fit, renewed every 250
iterations — several times fewer iterations, same optimum. Fits in the search over the
number of mass points stop at a relative tolerance of 1e-11; the chosen one is finished to
machine precision. Mass-point locations the likelihood does not depend on (a group that
never enters or exits, run off towards -inf) are held fixed like parameters at a bound.

Parameter names: ``treatment`` (effect on the exit of interest), ``treatment:<cause>``,
``treatment[a,b)`` (later pieces of time since programme start), ``exit:<cause>:baseline[a,b)``
(log hazard per month), ``exit:<cause>:<covariate>``, ``exit:<cause>:calendar[<date>]``,
``programme:...`` likewise, ``return:baseline[a,b)`` and ``return:<covariate>`` (the return
to benefit), ``het:v<m>:<process>`` and ``het:logit_p<m>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from werkeffect._inputs import cluster_codes, example_rows, example_values, numbers
from werkeffect.exceptions import (
    DataValidationError,
    EstimationError,
    warn_estimation,
)
from werkeffect.results.base import EstimationResult
from werkeffect.survival._toe_data import ToEData, build_data, build_layout
from werkeffect.survival._toe_fit import (
    add_point_start,
    candidate_points,
    exit_geometry,
    exit_probabilities,
    newton_polish,
    numerical_hessian,
    optimise,
    optimise_restarted,
    start_values,
    structural_preconditioner,
)
from werkeffect.survival._toe_lik import Likelihood, unpack_het

DEFAULT_CAUSE_LABELS = {1: "work", 2: "education", 3: "other"}
#: relative tolerance of the fits in the search over the number of mass points (the chosen
#: fit is finished to machine precision and polished by Newton steps)
SEARCH_FTOL = 1e-11
#: a progress bar for the ATT when (treated spells x passes) reaches this (minutes of work)
PROGRESS_ROW_PASSES = 5_000_000
#: the fit shows a progress bar from this many benefit spells on (a national extract)
PROGRESS_FIT_SPELLS = 200_000
#: step of the forward differences in the delta method (square root of machine epsilon)
FORWARD_STEP = float(np.sqrt(np.finfo(float).eps))

ASSUMPTIONS = (
    "No anticipation: the exit hazard does not change before the programme actually starts.",
    "Mixed proportional hazards: exit and programme-entry hazards are baseline x exp(x'b) x V, "
    "and the programme multiplies the exit hazard by exp(delta) from its start.",
    "Unobserved heterogeneity V is independent of the covariates and shared by all spells of a "
    "person; its distribution is discrete (estimated with a finite number of mass points).",
    "Variation in the timing of programme starts identifies the effect separately from "
    "selection on V (selection on unobserved motivation is allowed).",
    "Left-truncated spells: the likelihood conditions on survival in benefit (and the "
    "programme history) up to the entry time, integrating over the distribution of V at spell "
    "start (by default a separate one for the stock); hazards before the entry time follow "
    "the model.",
    "Spells of a person share V; the time between spells (return to benefit) is not modelled "
    "and must not depend on V, otherwise use first spells only.",
)
#: replaces the last assumption when the return to benefit is modelled (``return_spells``)
RETURN_ASSUMPTION = (
    "Spells of a person share V; the return to benefit after an exit to work is a further "
    "mixed proportional hazard (baseline x exp(z'g) x V_return, z the job spell's covariates) "
    "with its own coordinate of the same discrete V, and it is not anticipated; job spells in "
    "progress at the start of observation are left out."
)


# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TimingOfEventsResult(EstimationResult):
    """Result of :class:`TimingOfEvents`.

    Extra attributes
    ----------------
    mass_points
        The selected discrete distribution of V: probability (with standard error) and, per
        process, the location ``v`` (log scale, relative to mass point 1) and ``exp(v)``.
    path
        One row per number of mass points tried: log-likelihood, parameters, AIC, BIC,
        whether accepted, and the stopping reason.
    exit_probabilities
        :class:`EstimationResult` with, per horizon h, the treated's probability of exit to
        the cause of interest within h months after programme start with the programme
        (``p_programme_{h}m``), without it (``p_no_programme_{h}m``) and the difference
        (``att_exit_{cause}_{h}m``), integrating over their posterior heterogeneity.
    no_heterogeneity
        :class:`EstimationResult` of the same model with one mass point (the naive model).
    diagnostics
        Convergence: optimiser message, iterations, max |gradient|, Newton decrement,
        Hessian eigenvalues, parameters at bounds, ``converged``.
    cov
        Covariance matrix of ``params`` (NaN rows for parameters fixed at a bound).
    """

    mass_points: pd.DataFrame | None = None
    path: pd.DataFrame | None = None
    exit_probabilities: EstimationResult | None = None
    no_heterogeneity: EstimationResult | None = None
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    cov: pd.DataFrame | None = None
    loglik: float = np.nan
    n_mass_points: int = 1
    _state: Any = field(default=None, repr=False)

    @property
    def converged(self) -> bool:
        return bool(self.diagnostics.get("converged", False))

    def att(
        self,
        horizons: Sequence[float] = (6, 12, 24),
        method: str = "delta",
        n_boot: int = 500,
        seed: int = 0,
        level: float = 0.95,
        target: str = "sample",
        progress: bool | None = None,
    ) -> EstimationResult:
        """Exit probabilities after programme start for other horizons, another target or
        with a parametric bootstrap (``method="bootstrap"``); see ``exit_probabilities``
        and :meth:`TimingOfEvents.fit` for ``target``. ``progress``: a progress bar over the
        passes through the participants (default: when there are many, as at national
        scale)."""
        return self._state.exit_result(
            horizons=horizons, method=method, n_boot=n_boot, seed=seed, level=level,
            target=target, progress=progress,
        )  # fmt: skip

    def summary(self, level: float = 0.95) -> str:
        ci = self.conf_int(level)
        pct = f"{level * 100:g}%"
        rule = "=" * 78
        lines = [rule, self.method, f"Estimand: {self.estimand}"]
        lines.append("  ".join(f"{k}={v:,}" for k, v in self.n.items()))
        lines.append(
            f"log-likelihood {self.loglik:.3f}   mass points {self.n_mass_points}   "
            f"converged {self.converged}"
        )
        lines.append("-" * 78)
        lines.append(
            f"{'':<34}{'estimate':>10}{'std.err':>10}{'lower ' + pct:>12}{'upper ' + pct:>12}"
        )
        for name in self.params.index:
            lines.append(
                f"{name[:34]:<34}{self.params[name]:>10.4f}{self.std_errors[name]:>10.4f}"
                f"{ci.loc[name, 'lower']:>12.4f}{ci.loc[name, 'upper']:>12.4f}"
            )
        if self.no_heterogeneity is not None:
            eff = [i for i in self.params.index if str(i).startswith("treatment")]
            nh = self.no_heterogeneity
            nci = nh.conf_int(level)
            lines.append("-" * 78)
            lines.append("Programme effect (log hazard ratio): with vs without heterogeneity")
            for name in eff:
                lines.append(
                    f"  {name[:30]:<30} ToE {self.params[name]:>8.4f} "
                    f"[{ci.loc[name, 'lower']:.3f}, {ci.loc[name, 'upper']:.3f}]   "
                    f"no V {nh.params[name]:>8.4f} "
                    f"[{nci.loc[name, 'lower']:.3f}, {nci.loc[name, 'upper']:.3f}]"
                )
        if self.mass_points is not None:
            lines.append("-" * 78)
            lines.append("Mass points of V (v relative to point 1, log scale):")
            lines.append(self.mass_points.to_string(float_format=lambda v: f"{v:.4f}"))
        if self.path is not None:
            lines.append("-" * 78)
            lines.append("Search path (mass points added one at a time):")
            cols = ["mass_points", "loglik", "n_params", "aic", "bic", "accepted", "note"]
            lines.append(self.path[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if self.exit_probabilities is not None:
            ep = self.exit_probabilities
            eci = ep.conf_int(level)
            lines.append("-" * 78)
            lines.append("Treated: probability of exit after programme start (posterior V):")
            for name in ep.params.index:
                lines.append(
                    f"  {name:<30}{ep.params[name]:>10.4f}{ep.std_errors[name]:>10.4f}"
                    f"{eci.loc[name, 'lower']:>12.4f}{eci.loc[name, 'upper']:>12.4f}"
                )
        lines.append(rule)
        if self.assumptions:
            lines.append("Assumptions:")
            lines += [f"  - {a}" for a in self.assumptions]
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {a}" for a in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, level: float = 0.95, horizon: float = 24.0):
        """Treated's cumulative probability of exit to the cause of interest after programme
        start, with and without the programme (posterior heterogeneity)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        hs = np.linspace(0.5, horizon, 48)
        p1, p0 = self._state.mean_probabilities(hs)
        ax.plot(hs, p1, color="#00468b", label="with programme")
        ax.plot(hs, p0, color="#ed0000", ls="--", label="without programme")
        ax.set_xlabel("months since programme start")
        ax.set_ylabel(f"P(exit to {self._state.interest_label})")
        ax.set_title(self.method)
        ax.legend()
        return ax


# ----------------------------------------------------------------------------------------
class _State:
    """What the result needs to recompute exit probabilities (internal parametrisation)."""

    def __init__(self, model, lik, lay, theta, cov_int, free, interest, interest_label):
        self.model = model
        self.lik = lik
        self.lay = lay
        self.theta = theta
        self.cov_int = cov_int  # covariance of theta[free]
        self.free = free
        self.interest = interest
        self.interest_label = interest_label

    def mean_probabilities(self, horizons):
        p1, p0, _ = exit_probabilities(
            self.theta, self.lay, self.lik.data, np.asarray(horizons, float), self.interest
        )
        return p1.mean(axis=0), p0.mean(axis=0)

    def _stats(self, theta, horizons, geom=None, index_shift=None):
        return exit_probabilities(
            theta, self.lay, self.lik.data, horizons, self.interest, geom=geom,
            index_shift=index_shift,
        )  # fmt: skip

    def _delta_plan(self) -> tuple[list[int], np.ndarray]:
        """Which derivatives need no pass of their own in :meth:`_delta_jacobian`.

        Returns the processes whose coefficients go through the linear predictor (one pass
        each) and the mask of the parameters that covers, together with the return
        process's parameters (zero derivatives).
        """
        lay = self.lay
        covered = np.zeros(len(self.theta), bool)
        processes = []
        for q in range(lay.K + 1):
            sl = lay.beta_slice[q]
            if sl.stop > sl.start and self.free[sl].any():
                covered[sl] = True
                processes.append(q)
        if lay.n_return:
            r = lay.Q - 1
            vs, _ = lay.het_slices()
            covered[lay.cell_slice[r]] = covered[lay.beta_slice[r]] = True
            covered[np.arange(vs.start, vs.stop)[r :: lay.Q]] = True
        return processes, covered

    def _delta_passes(self) -> int:
        """Passes over the participants that :meth:`_delta_jacobian` makes."""
        processes, covered = self._delta_plan()
        return len(processes) + int((self.free & ~covered).sum())

    def _delta_jacobian(self, h, geom, p1, p0, est, fun, tick):
        """d(mean P1, mean P0, ATT)/d(free parameters) by forward differences.

        Coefficients of x act through each spell's linear predictor: one pass per process
        with the predictor shifted (chain rule through x) replaces one pass per
        coefficient. The return to benefit plays no part in the exit probabilities (zero
        columns). Every other parameter takes one pass with that parameter moved
        (``fun``, the statistics at given free parameters). ``tick`` marks a pass done.
        """
        lay, data = self.lay, self.lik.data
        rows = geom["rows"]
        processes, covered = self._delta_plan()
        J = np.zeros((len(est), len(self.theta)))
        for q in processes:
            X = (data.X if q < lay.K else data.Xp)[rows]
            a, b, _ = self._stats(self.theta, h, geom, index_shift=(q, FORWARD_STEP))
            tick()
            d1, d0 = (a - p1) / FORWARD_STEP, (b - p0) / FORWARD_STEP
            J[:, lay.beta_slice[q]] = np.vstack([d1.T @ X, d0.T @ X, (d1 - d0).T @ X]) / len(rows)
        free = np.flatnonzero(self.free)
        base = self.theta[free]
        for j, i in enumerate(free):
            if covered[i]:
                continue
            step = FORWARD_STEP * max(1.0, abs(base[j]))
            e = np.zeros(len(base))
            e[j] = step
            J[:, i] = (fun(base + e) - est) / step
        return J[:, free]

    def exit_result(
        self, horizons=(6, 12, 24), method="delta", n_boot=500, seed=0, level=0.95,
        target="sample", progress=None,
    ):  # fmt: skip
        h = np.asarray(horizons, dtype=float)
        if np.any(h <= 0):
            raise ValueError("horizons must be positive (months)")
        if target not in ("sample", "population"):
            raise ValueError("target must be 'sample' or 'population'")
        geom = exit_geometry(self.lik.data, h)
        p1, p0, rows = self._stats(self.theta, h, geom)
        tau = p1 - p0
        est = np.concatenate([p1.mean(0), p0.mean(0), tau.mean(0)])
        n_t = len(rows)
        if target == "population":
            # the treated as a sample from a population of treated spells (clustered by
            # person): variance of the average of their expected outcomes
            person = self.lik.data.person[rows]
            dev = np.column_stack([p1 - p1.mean(0), p0 - p0.mean(0), tau - tau.mean(0)])
            dev_p = pd.DataFrame(dev).groupby(person).sum().to_numpy()
            var_sample = (dev_p**2).sum(axis=0) / n_t**2
        else:
            # the realised outcomes of these treated: the average of the 0/1 outcomes
            # scatters around the average of their probabilities (for the ATT: no one exits
            # to work later because of the programme, so Var(Y1 - Y0) = tau (1 - tau))
            var_sample = (
                np.concatenate(
                    [(p1 * (1 - p1)).sum(0), (p0 * (1 - p0)).sum(0), (tau * (1 - tau)).sum(0)]
                )
                / n_t**2
            )

        if method not in ("delta", "bootstrap"):
            raise ValueError("method must be 'delta' or 'bootstrap'")
        base = self.theta[self.free]
        intervals = None
        passes = self._delta_passes() if method == "delta" else n_boot
        show = (n_t * passes >= PROGRESS_ROW_PASSES) if progress is None else bool(progress)
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=passes, desc="ATT: passes over the participants", leave=False)

        def tick() -> None:
            """One pass over the participants done."""
            if bar is not None:
                bar.update(1)

        def fun(th_free):
            th = self.theta.copy()
            th[self.free] = th_free
            a, b, _ = self._stats(th, h, geom)
            tick()
            return np.concatenate([a.mean(0), b.mean(0), (a - b).mean(0)])

        if method == "delta":
            # forward differences from the estimate (each evaluation runs over every treated
            # spell); with a step of sqrt(machine epsilon) the derivatives are good to 1e-8
            J = self._delta_jacobian(h, geom, p1, p0, est, fun, tick)
            var = np.einsum("ij,jk,ik->i", J, self.cov_int, J) + var_sample
            se = np.sqrt(np.maximum(var, 0))
        elif method == "bootstrap":
            rng = np.random.default_rng(seed)
            chol = np.linalg.cholesky(self.cov_int + 1e-12 * np.eye(len(base)))
            draws = np.array(
                [fun(base + chol @ rng.standard_normal(len(base))) for _ in range(n_boot)]
            )
            draws = draws + rng.standard_normal(draws.shape) * np.sqrt(var_sample)[None, :]
            se = draws.std(axis=0, ddof=1)
            alpha = (1 - level) / 2
            intervals = pd.DataFrame(
                {
                    "lower": np.quantile(draws, alpha, axis=0),
                    "upper": np.quantile(draws, 1 - alpha, axis=0),
                }
            )
        if bar is not None:
            bar.close()
        lab = self.interest_label
        hs = [f"{x:g}" for x in h]
        names = (
            [f"p_programme_{x}m" for x in hs]
            + [f"p_no_programme_{x}m" for x in hs]
            + [f"att_exit_{lab}_{x}m" for x in hs]
        )
        if intervals is not None:
            intervals.index = names
        return EstimationResult(
            params=pd.Series(est, index=names),
            std_errors=pd.Series(se, index=names),
            method=f"Timing-of-events: exit probabilities after programme start ({method})",
            estimand=(
                f"treated's probability of exit to {lab} within h months after programme "
                "start with and without the programme (ATT), integrating over the posterior "
                "distribution of V given survival to and entry at programme start"
            ),
            n={"n_treated": int(n_t)},
            intervals=intervals,
            interval_level=level,
            notes=(
                "Interval includes the estimation uncertainty of the model parameters and "
                + (
                    "the scatter of the treated's realised outcomes around their expected "
                    "values (target: the ATT of these participants)."
                    if target == "sample"
                    else "the sampling variation of the average over the treated, clustered "
                    "by person (target: the population of participants)."
                ),
            ),
        )


# ----------------------------------------------------------------------------------------
class TimingOfEvents:
    """Timing-of-events model with NPMLE heterogeneity (Abbring & Van den Berg 2003).

    Parameters
    ----------
    data
        One row per benefit spell, or start–stop rows (as from :func:`werkeffect.episodes`)
        when ``start`` and ``spell`` are given — rows are then collapsed per spell (entry =
        first ``start``, duration = last ``stop``, exit cause of the last row); covariates must
        be constant within a spell.
    duration
        Column with the elapsed duration (months) at exit or censoring (``stop``).
    programme_start
        Column with the elapsed duration (months) at the first programme start in the spell,
        NaN if none. Starts at or after the end of the spell are ignored (the programme process
        is observed up to min(exit, censoring)).
    event, cause
        Either ``event`` (0/1, one exit) or ``cause`` (0 = censored, 1, 2, ... competing exits;
        werkeffect's episodes use 1 work, 2 education, 3 other).
    id
        Person column: spells of one person share V. ``None``: every spell is its own person.
    spell, start
        For start–stop data: spell identifier and episode start column.
    entry
        One-row-per-spell data: elapsed duration at which observation of the spell starts
        (left truncation, stock sample); default 0.
    covariates
        Time-constant covariates of the exit hazards; non-numeric columns are dummy-coded.
    programme_covariates
        Covariates of the programme-entry hazard (default: ``covariates``).
    baseline_cuts
        Left ends of the piecewise-constant baseline intervals of the exit hazards (months,
        starting at 0; the last interval is open).
    programme_cuts
        The same for the programme-entry hazard (default: ``baseline_cuts``).
    effect_cuts
        Left ends of the pieces of time since programme start on which the effect may differ
        (default: one constant effect). ``params["treatment"]`` is the effect in the first
        piece, ``params["treatment[a,b)"]`` in the later ones.
    cause_of_interest
        The exit cause whose effect is ``params["treatment"]`` and for which exit
        probabilities are computed (default 1, work). Effects on the other causes are
        ``treatment:<label>``.
    cause_labels
        Mapping code -> label (default 1 work, 2 education, 3 other for ``cause``; "exit" for
        ``event``).
    max_mass_points
        Largest number of mass points tried (1: no unobserved heterogeneity).
    criterion
        ``"aic"`` or ``"bic"``: chooses the number of mass points among the accepted fits;
        ``"loglik"``: the fit with the highest log-likelihood, i.e. points are added until the
        likelihood stops improving by more than ``tol`` (the NPMLE of Gaure, Roed & Zhang
        2007; use with ``fit(patience=None)``).
    programme_from_entry
        ``False`` (default): the programme could start from the beginning of the spell, and
        for left-truncated spells the programme history before entry is part of the
        conditioning event. ``True``: the programme process is at risk only from the entry
        time (the programme did not exist, or was not recorded, before the observation
        window — e.g. jobcoaching from 2015 with a 2015 window).
    stock_heterogeneity
        ``"separate"`` (default): persons whose first observed spell is left-truncated have
        their own mass-point probabilities (``het:stock:logit_p<m>``; initial conditions);
        ``"inflow"``: one distribution of V for everybody, the stock conditioned on survival
        to entry. Without left-truncated spells both are the same model.
    calendar, calendar_cuts
        Calendar-period effects on every hazard (exits and programme entry; not the return
        to benefit): ``calendar`` is
        the column with the calendar time at which the spell started (datetime, or a number
        in months), ``calendar_cuts`` the starts of the calendar periods after the first
        (dates, or numbers on the same scale). Each process gets a log hazard ratio per
        period (first period = reference); exposure is split where a spell crosses a cut.
        Use it when programme intensity and exit chances both move with calendar time (the
        labour market, a programme scaled up in some years): otherwise calendar time
        confounds the effect.
    return_spells
        Optional: one row per job spell that follows an exit to work from a benefit spell in
        ``data`` — the person (column ``id``, required), the months from the exit to work to
        the return to benefit or censoring (``return_duration``), whether the return was
        observed (``return_event``, 0/1) and the covariates of the job spell. The return is
        then a further hazard sharing V (see the module notes: mixed proportional return
        hazard with its own coordinate ``v:return`` of each mass point, no anticipation);
        its parameters are ``return:baseline[a,b)`` and ``return:<covariate>``. Give it when
        ``data`` holds later spells of a person (after a return) and the return may depend on
        the unobserved factors. Job spells in progress at the start of observation are to be
        left out. ``None`` (default): the return is not modelled.
    return_duration, return_event
        Columns of ``return_spells`` (defaults ``"duration"`` and ``"event"``).
    return_covariates
        Time-constant covariates of the return hazard (columns of ``return_spells``;
        non-numeric columns are dummy-coded), e.g. nazorg after the programme.
    return_cuts
        Left ends of the piecewise-constant baseline intervals of the return hazard (months
        since the exit to work, starting at 0).

    Notes
    -----
    Estimand: ``delta`` (``params["treatment"]``), the log of the factor by which the
    programme multiplies the exit hazard (to the cause of interest) of a participant from
    the moment the programme starts, holding V and x fixed; and the ATT on the probability of
    exit within 6/12/24 months after programme start (``result.exit_probabilities``).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        duration: str,
        programme_start: str,
        event: str | None = None,
        cause: str | None = None,
        id: str | None = None,
        spell: str | None = None,
        start: str | None = None,
        entry: str | None = None,
        covariates: Sequence[str] = (),
        programme_covariates: Sequence[str] | None = None,
        baseline_cuts: Sequence[float] = (0, 3, 6, 12, 24, 48),
        programme_cuts: Sequence[float] | None = None,
        effect_cuts: Sequence[float] | None = None,
        cause_of_interest: int = 1,
        cause_labels: Mapping[int, str] | None = None,
        max_mass_points: int = 6,
        criterion: str = "aic",
        programme_from_entry: bool = False,
        calendar: str | None = None,
        calendar_cuts: Sequence[Any] | None = None,
        stock_heterogeneity: str = "separate",
        return_spells: pd.DataFrame | None = None,
        return_duration: str = "duration",
        return_event: str = "event",
        return_covariates: Sequence[str] = (),
        return_cuts: Sequence[float] = (0, 3, 6, 12, 24),
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError("data must be a pandas DataFrame")
        if (event is None) == (cause is None):
            raise ValueError("give exactly one of event= (0/1) or cause= (0 censored, 1, 2, ...)")
        if criterion not in ("aic", "bic", "loglik"):
            raise ValueError("criterion must be 'aic', 'bic' or 'loglik'")
        if stock_heterogeneity not in ("separate", "inflow"):
            raise ValueError("stock_heterogeneity must be 'separate' or 'inflow'")
        if int(max_mass_points) < 1:
            raise ValueError("max_mass_points must be at least 1")
        covariates = list(covariates)
        programme_covariates = (
            list(covariates) if programme_covariates is None else list(programme_covariates)
        )
        outcome = cause if cause is not None else event
        needed = [duration, programme_start, outcome]
        needed += [c for c in (id, spell, start, entry, calendar) if c is not None]
        needed += covariates + programme_covariates
        missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
        if missing:
            raise DataValidationError(f"TimingOfEvents: data lack column(s) {missing}")
        if start is not None and entry is not None:
            raise ValueError("give entry= for one row per spell, or start= for start–stop rows")
        if start is not None or spell is not None:
            if spell is None:
                spell_df = data.copy()
                spell_df["_entry"] = data[start]
            else:
                spell_df = self._collapse(
                    data, spell, start, duration, outcome, programme_start, id,
                    covariates + programme_covariates + ([calendar] if calendar else []),
                )  # fmt: skip
            entry_col = "_entry"
        else:
            spell_df = data
            entry_col = entry
        self.spells = spell_df
        self.n_rows_input = len(data)

        what = "TimingOfEvents"
        rows = spell_df.index
        T = numbers(spell_df, duration, what)
        bad = ~np.isfinite(T) | (T <= 0)
        if bad.any():
            raise DataValidationError(
                f"{what}: column '{duration}' has missing or non-positive durations in "
                f"{example_rows(rows, bad)}"
            )
        ent = np.zeros(len(T)) if entry_col is None else numbers(spell_df, entry_col, what)
        bad = ~np.isfinite(ent) | (ent < 0) | (ent >= T)
        if bad.any():
            name = f"column '{entry_col}'" if entry_col != "_entry" else f"column '{start}'"
            raise DataValidationError(
                f"{what}: entry times ({name}) missing, negative or not before "
                f"'{duration}' in {example_rows(rows, bad)}"
            )
        # a missing programme start means no programme; a value that is present but is not a
        # number must not silently count as "never treated"
        ps = numbers(spell_df, programme_start, what)
        bad = np.isfinite(ps) & (ps < 0)
        if bad.any():
            raise DataValidationError(
                f"{what}: column '{programme_start}' has negative programme starts in "
                f"{example_rows(rows, bad)}"
            )
        bad = np.isinf(ps)
        if bad.any():
            raise DataValidationError(
                f"{what}: column '{programme_start}' has infinite values in "
                f"{example_rows(rows, bad)}; leave the cell empty (NaN) for no programme"
            )
        raw = spell_df[outcome]
        code_f = numbers(spell_df, outcome, what)
        bad = np.isnan(code_f)
        if bad.any():
            raise DataValidationError(
                f"{what}: column '{outcome}' is missing in {example_rows(rows, bad)}"
            )
        bad = (code_f != np.round(code_f)) | (code_f < 0)
        if bad.any():
            raise DataValidationError(
                f"{what}: column '{outcome}' must hold "
                + ("0 or 1" if event is not None else "0 (censored) or a positive cause code")
                + f"; other values (such as {example_values(raw.to_numpy()[bad])}) in "
                f"{example_rows(rows, bad)}"
            )
        codes = code_f.astype(np.int64)
        if event is not None:
            bad = ~np.isin(codes, (0, 1))
            if bad.any():
                raise DataValidationError(
                    f"{what}: column '{event}' must be 0/1; {example_rows(rows, bad)} have "
                    "other values"
                )
            labels = {1: "exit"} if cause_labels is None else dict(cause_labels)
        else:
            labels = dict(DEFAULT_CAUSE_LABELS)
            labels.update(cause_labels or {})
        kinds = sorted(int(c) for c in np.unique(codes) if c > 0)
        if not kinds:
            raise EstimationError("no exits in the data: nothing to estimate")
        if cause_of_interest not in kinds:
            raise EstimationError(
                f"cause_of_interest={cause_of_interest} does not occur in column '{outcome}' "
                f"(codes present: {kinds})"
            )
        self.kinds = kinds
        self.labels = [labels.get(k, str(k)) for k in kinds]
        self.interest = kinds.index(int(cause_of_interest))
        cause_idx = np.zeros(len(codes), dtype=int)
        for i, k in enumerate(kinds):
            cause_idx[codes == k] = i + 1

        observed = np.isfinite(ps) & (ps < T)
        if programme_from_entry:
            observed &= ps >= ent
        if not observed.any():
            raise EstimationError(
                f"no programme entries: column '{programme_start}' has no programme start "
                "before the end of a spell; the timing-of-events model needs participants"
            )
        if np.unique(ps[observed]).size == 1:
            raise EstimationError(
                f"all {int(observed.sum())} programme entries happen at the same duration "
                f"({ps[observed][0]:g} months): the timing-of-events model is identified from "
                "variation in the timing of programme starts"
            )
        n_after = int((observed & (ps >= ent)).sum())
        if n_after < 20:
            warn_estimation(
                f"only {n_after} programme entries after the start of observation: the "
                "programme-entry hazard and the effect rest on very few events",
                f"slechts {n_after} trajectstarts na het begin van de waarneming: de kans op "
                "instroom in het traject en het effect rusten op heel weinig gebeurtenissen",
                stacklevel=2,
            )

        X, xnames, xm, xs = self._design(spell_df, covariates, "covariates")
        Xp, pnames, pm, pss = self._design(spell_df, programme_covariates, "programme_covariates")
        cuts = self._cuts(baseline_cuts, "baseline_cuts")
        pcuts = cuts if programme_cuts is None else self._cuts(programme_cuts, "programme_cuts")
        ecuts = np.array([0.0]) if effect_cuts is None else self._cuts(effect_cuts, "effect_cuts")
        calpos, cal_labels = self._calendar(spell_df, calendar, calendar_cuts)
        person = (
            np.arange(len(T))
            if id is None
            else cluster_codes(spell_df, id, what, what="person (id)", sort=False)
        )
        returns, self._rinfo = self._returns(
            return_spells, spell_df, id, return_duration, return_event,
            list(return_covariates), return_cuts,
            np.bincount(person, weights=cause_idx > 0, minlength=int(person.max()) + 1),
        )  # fmt: skip
        self._arrays = dict(
            person=person, T=T, entry=ent, cause=cause_idx, ps=ps, X=X, Xp=Xp,
            K=len(kinds), cuts=cuts, pcuts=pcuts, ecuts=ecuts,
            programme_from_entry=bool(programme_from_entry),
            calpos=calpos, calendar_labels=cal_labels,
            stock_group=stock_heterogeneity == "separate", returns=returns,
        )  # fmt: skip
        self._xinfo = (xnames, xm, xs, pnames, pm, pss)
        self.max_mass_points = int(max_mass_points)
        self.criterion = criterion
        self.spec = dict(
            duration=duration, programme_start=programme_start, event=event, cause=cause,
            id=id, spell=spell, start=start, entry=entry, covariates=covariates,
            programme_covariates=programme_covariates, baseline_cuts=list(cuts),
            programme_cuts=list(pcuts), effect_cuts=list(ecuts),
            cause_of_interest=cause_of_interest, programme_from_entry=bool(programme_from_entry),
            max_mass_points=int(max_mass_points), criterion=criterion, calendar=calendar,
            calendar_cuts=None if calendar_cuts is None else [str(c) for c in calendar_cuts],
            stock_heterogeneity=stock_heterogeneity,
            return_spells=return_spells is not None,
            return_duration=return_duration if return_spells is not None else None,
            return_event=return_event if return_spells is not None else None,
            return_covariates=list(return_covariates),
            return_cuts=list(returns["cuts"]) if returns is not None else None,
        )  # fmt: skip

    def _returns(self, rs, spell_df, id_, dur, ev, covs, cuts, exits):
        """Arrays of the job spells (the return to benefit), or ``(None, empty info)``."""
        empty = ([], np.zeros(0), np.ones(0))
        if rs is None:
            if covs:
                raise ValueError("return_covariates needs return_spells=")
            return None, empty
        if not isinstance(rs, pd.DataFrame):
            raise TypeError("return_spells must be a pandas DataFrame (one row per job spell)")
        if id_ is None:
            raise ValueError(
                "return_spells needs id= (the person column shared by data and return_spells)"
            )
        missing = [c for c in dict.fromkeys([id_, dur, ev] + covs) if c not in rs.columns]
        if missing:
            raise DataValidationError(f"TimingOfEvents: return_spells lack column(s) {missing}")
        U = pd.to_numeric(rs[dur], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(U) | (U <= 0)
        if bad.any():
            raise DataValidationError(
                f"return_spells column '{dur}': {int(bad.sum())} job spell(s) with missing or "
                "non-positive duration"
            )
        e = rs[ev]
        if e.isna().any() or not set(np.unique(e.to_numpy())) <= {0, 1}:
            raise DataValidationError(f"return_spells column '{ev}' must be 0/1 without gaps")
        ids = pd.Index(pd.unique(spell_df[id_].to_numpy()))
        code = ids.get_indexer(rs[id_].to_numpy())
        if (code < 0).any():
            raise DataValidationError(
                f"return_spells: {int((code < 0).sum())} job spell(s) of persons without a "
                f"benefit spell in data (column '{id_}'); job spells follow an exit to work "
                "from a benefit spell in the data"
            )
        too_many = np.bincount(code, minlength=len(exits)) > exits
        if too_many.any():
            raise DataValidationError(
                f"return_spells: {int(too_many.sum())} person(s) with more job spells than "
                "exits from benefit in data (e.g. "
                f"{id_}={ids[np.flatnonzero(too_many)[0]]!r}); each job spell follows an "
                "observed exit (leave out job spells in progress at the start of observation)"
            )
        Z, znames, zm, zs = self._design(rs, covs, "return_covariates")
        rcuts = self._cuts(cuts, "return_cuts")
        arrays = dict(person=code, U=U, event=e.to_numpy().astype(float), Z=Z, cuts=rcuts)
        return arrays, (znames, zm, zs)

    # ------------------------------------------------------------------------------------
    @classmethod
    def from_episodes(
        cls,
        episodes: pd.DataFrame,
        *,
        covariates: Sequence[str] = (),
        cause: str | None = "cause",
        **kwargs: Any,
    ) -> TimingOfEvents:
        """Build from :func:`werkeffect.episodes` output (start–stop rows, months).

        Uses ``person_id``, ``spell_id``, ``start``, ``stop``, ``cause`` (or ``event`` with
        ``cause=None``) and ``programme_start``.
        """
        kw: dict[str, Any] = dict(
            duration="stop", programme_start="programme_start", id="person_id",
            spell="spell_id", start="start",
        )  # fmt: skip
        if cause is None:
            kw["event"] = "event"
        else:
            kw["cause"] = cause
        kw.update(kwargs)
        return cls(episodes, covariates=covariates, **kw)

    @staticmethod
    def _collapse(data, spell, start, stop, outcome, ps, id_, covs):
        df = data.sort_values([spell, stop], kind="stable")
        g = df.groupby(spell, sort=False)
        out = g[[stop, outcome]].last()
        out["_entry"] = g[start].min()
        out[ps] = g[ps].min()
        keep = list(dict.fromkeys(([id_] if id_ else []) + covs))
        if keep:
            first = g[keep].first()
            if covs:
                varying = [c for c in dict.fromkeys(covs) if (g[c].nunique(dropna=False) > 1).any()]
                if varying:
                    raise DataValidationError(
                        f"covariates {varying} vary within spells: the timing-of-events model "
                        "takes time-constant covariates per spell"
                    )
            out = out.join(first)
        return out.reset_index()

    @staticmethod
    def _calendar(df, calendar, cuts):
        """Elapsed duration at which each calendar cut falls, per spell (n, C-1)."""
        if calendar is None:
            if cuts is not None:
                raise ValueError("calendar_cuts needs calendar= (the spell-start column)")
            return np.zeros((len(df), 0)), []
        if cuts is None or len(cuts) == 0:
            raise ValueError("calendar= needs calendar_cuts= (starts of the later periods)")
        col = df[calendar]
        if col.isna().any():
            raise DataValidationError(f"column '{calendar}': {int(col.isna().sum())} missing")
        if pd.api.types.is_datetime64_any_dtype(col):
            c = pd.to_datetime(pd.Series(list(cuts)))
            if (c.diff().dropna() <= pd.Timedelta(0)).any():
                raise ValueError("calendar_cuts must increase strictly")
            start = col.to_numpy("datetime64[ns]")
            days = (c.to_numpy("datetime64[ns]")[None, :] - start[:, None]) / np.timedelta64(1, "D")
            return days / (365.25 / 12), [f"{x:%Y-%m-%d}" for x in c]
        c = np.asarray(list(cuts), dtype=float)
        if np.any(np.diff(c) <= 0):
            raise ValueError("calendar_cuts must increase strictly")
        v = pd.to_numeric(col, errors="coerce").to_numpy(float)
        return c[None, :] - v[:, None], [f"{x:g}" for x in c]

    @staticmethod
    def _cuts(cuts, name) -> np.ndarray:
        c = np.asarray(list(cuts), dtype=float)
        if c.size == 0 or c[0] != 0 or np.any(np.diff(c) <= 0):
            raise ValueError(f"{name} must start at 0 and increase strictly, got {list(cuts)}")
        return c

    @staticmethod
    def _design(df, cols, what):
        if not cols:
            n = len(df)
            return np.zeros((n, 0)), [], np.zeros(0), np.ones(0)
        frame = df[list(cols)]
        na = frame.isna().sum()
        if na.any():
            bad = {c: int(v) for c, v in na.items() if v}
            raise DataValidationError(f"{what}: missing values in {bad} (rows must be complete)")
        non_num = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
        if non_num:
            frame = pd.get_dummies(frame, columns=non_num, drop_first=True, prefix_sep="=")
        X = frame.to_numpy(dtype=float)
        names = [str(c) for c in frame.columns]
        m = X.mean(axis=0)
        s = X.std(axis=0)
        const = [n for n, v in zip(names, s, strict=True) if v == 0]
        if const:
            raise DataValidationError(f"{what}: {const} do not vary (drop them)")
        return (X - m) / s, names, m, s

    # ------------------------------------------------------------------------------------
    def fit(
        self,
        *,
        cov_type: str = "hessian",
        horizons: Sequence[float] = (6, 12, 24),
        att_method: str = "delta",
        att_target: str = "sample",
        n_boot: int = 500,
        seed: int = 0,
        maxiter: int = 3000,
        tol: float = 0.01,
        patience: int | None = 2,
        level: float = 0.95,
        progress: bool | None = None,
    ) -> TimingOfEventsResult:
        """Estimate by maximum likelihood with NPMLE heterogeneity.

        Parameters
        ----------
        cov_type
            ``"hessian"`` (inverse of the observed information) or ``"robust"`` (sandwich,
            clustered by person).
        horizons
            Months after programme start for the exit probabilities / ATT.
        att_method
            ``"delta"`` or ``"bootstrap"`` (parametric bootstrap of the parameters).
        att_target
            ``"sample"``: the ATT of the participants in the data (their realised outcomes
            with and without the programme); ``"population"``: the mean effect in a
            population of participants like them.
        maxiter
            Iteration limit of the optimiser (per number of mass points).
        tol
            A new mass point is kept if it raises the log-likelihood by more than ``tol``.
        patience
            Also stop adding points once the criterion (AIC/BIC) has worsened ``patience``
            times in a row (the points added afterwards could not be chosen anyway unless
            the likelihood jumps); ``None``: add points until the likelihood stops improving
            (Gaure, Roed & Zhang 2007) or ``max_mass_points`` is reached.
        progress
            A progress bar over the steps of the fit (one per number of mass points, then
            the standard errors and the exit probabilities); default: when the data are
            large (national scale, where a fit runs for an hour).
        """
        if cov_type not in ("hessian", "robust"):
            raise ValueError("cov_type must be 'hessian' or 'robust'")
        xnames, xm, xs, pnames, pm, pss = self._xinfo
        data: ToEData = build_data(**self._arrays)
        lay1 = build_layout(
            data,
            exit_labels=self.labels,
            exit_cov_names=xnames,
            prog_cov_names=pnames,
            interest=self.interest,
            return_cov_names=self._rinfo[0],
        )
        lik = Likelihood(data)
        rng = np.random.default_rng(seed)
        n_p = data.n_persons
        fits: list[dict[str, Any]] = []
        show = data.n_spells >= PROGRESS_FIT_SPELLS if progress is None else bool(progress)
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.max_mass_points + 1, desc="timing-of-events: 1 mass point",
                       leave=False)  # fmt: skip

        def step(text: str) -> None:
            if bar is not None:
                bar.set_description(f"timing-of-events: {text}")
                bar.update(1)

        theta, ll, opt = optimise(lik, lay1, start_values(lik, lay1), maxiter)
        fits.append(dict(M=1, theta=theta, ll=ll, opt=opt, lay=lay1, accepted=True, note="start"))
        step("2 mass points" if self.max_mass_points > 1 else "standard errors")
        current = fits[0]
        # Hessian of the model without heterogeneity: its standard errors, and a
        # preconditioner for the fits with more mass points
        H1 = numerical_hessian(lik, lay1, theta)
        fits[0]["H"] = H1
        precond = structural_preconditioner(H1, lay1, n_p) if self.max_mass_points > 1 else None
        while current["M"] < self.max_mass_points:
            lay = current["lay"]
            V, logp = unpack_het(current["theta"], lay)
            centre = np.exp(logp[0]) @ V
            cands = candidate_points(lay.Q, centre, rng)
            # candidates away from the existing points (a copy of a point is a saddle point)
            near = np.min(np.max(np.abs(cands[:, None, :] - V[None, :, :]), axis=2), axis=1)
            cands = cands[near >= 0.5]
            starts = []
            eps_grid = (0.01, 0.05, 0.2, 0.5)
            gains = lik.candidate_gain(current["theta"], lay, cands, eps_grid)
            for e, eps in enumerate(eps_grid):
                i = int(np.argmax(gains[e]))
                starts.append((gains[e, i], eps, cands[i]))
            big = lay.with_mass_points(lay.M + 1)
            # a short optimisation from each start, then the best one to convergence
            # (the likelihood of a mixture has local optima)
            short = []
            for _, eps, point in starts:
                th0 = add_point_start(current["theta"], lay, point, eps)
                th_s, ll_s, _ = optimise(lik, big, th0, min(maxiter, 40), precond)
                short.append((ll_s, th_s))
            th_best = max(short, key=lambda x: x[0])[1]
            th, llb, optb = optimise_restarted(
                lik, big, th_best, maxiter, precond, ftol=SEARCH_FTOL
            )
            Vb, logpb = unpack_het(th, big)
            gain = llb - current["ll"]
            dist = np.min([np.max(np.abs(Vb[i] - Vb[j])) for i in range(big.M) for j in range(i)])
            note = ""
            ok = True
            if gain <= tol:
                ok, note = False, f"log-likelihood gain {gain:.4f} <= tol"
            elif np.exp(logpb).max(axis=0).min() < 1e-5:
                ok, note = False, "a mass point got probability ~0 (collapsed)"
            elif dist < 0.02:
                ok, note = False, "two mass points coincide (collapsed)"
            fits.append(dict(M=big.M, theta=th, ll=llb, opt=optb, lay=big, accepted=ok, note=note))
            step(f"{big.M + 1} mass points" if ok and big.M < self.max_mass_points
                 else "standard errors")  # fmt: skip
            if not ok:
                break
            current = fits[-1]
            if patience is not None:
                crit = [self._criterion(f, n_p) for f in fits]
                best_so_far = int(np.argmin(crit))
                if len(crit) - 1 - best_so_far >= patience:
                    current["note"] = (
                        f"{self.criterion.upper()} worse than with {fits[best_so_far]['M']} "
                        f"point(s) {patience} times in a row: search stopped"
                    )
                    break

        accepted = [f for f in fits if f["accepted"]]
        for f in fits:
            k = f["lay"].n_params
            f["aic"] = -2 * f["ll"] + 2 * k
            f["bic"] = -2 * f["ll"] + np.log(n_p) * k
            f["loglik"] = -f["ll"]  # minimised like the criteria
        chosen = min(accepted, key=lambda f: f[self.criterion])
        if self.max_mass_points > 1 and chosen["M"] == 1:
            warn_estimation(
                "the mass points collapsed to one: the data show no unobserved heterogeneity "
                f"({fits[-1]['note'] or self.criterion + ' prefers one point'}); the estimate "
                "equals the proportional hazards model without heterogeneity",
                "de massapunten vallen samen tot één: de gegevens tonen geen niet-waargenomen "
                "heterogeniteit; de schatting is gelijk aan die van het proportionele-"
                "hazardsmodel zonder heterogeniteit",
                stacklevel=2,
            )

        if chosen["M"] > 1:
            # the search stops each fit a little early (SEARCH_FTOL): finish the chosen one
            th, llc, optc = optimise_restarted(
                lik, chosen["lay"], chosen["theta"], maxiter, precond
            )
            chosen.update(theta=th, ll=llc, opt=optc)
        final = self._finish(lik, chosen, cov_type, maxiter)
        naive = final if chosen["M"] == 1 else self._finish(lik, fits[0], cov_type, maxiter)
        if bar is not None:
            bar.close()
        if not final["converged"]:
            dg = final["diagnostics"]
            if not dg["optimiser_success"] and dg["iterations"] >= maxiter:
                why = f"the optimiser hit maxiter={maxiter} and Newton steps were not tried"
            elif dg["hessian_min_eigenvalue"] <= 0:
                why = (
                    f"the Hessian is not negative definite (smallest eigenvalue of the "
                    f"information {dg['hessian_min_eigenvalue']:.2e}): not a maximum, or a "
                    "parameter is not identified (two mass points alike, a probability near 0)"
                )
            else:
                why = (
                    f"Newton decrement {dg['newton_decrement']:.2e} > 1e-6 after the Newton "
                    "steps: the log-likelihood can still rise"
                )
            warn_estimation(
                f"the timing-of-events model did not converge: {why} (optimiser: "
                f"{dg['message']}); estimates are unreliable — raise maxiter, simplify the "
                "baseline or reduce max_mass_points",
                f"het timing-of-events-model convergeerde niet ({why}; optimalisatie: "
                f"{dg['message']}); de schattingen zijn onbetrouwbaar: verhoog maxiter, "
                "vereenvoudig de basishazard of verlaag max_mass_points",
                stacklevel=2,
            )

        # back to the original covariate scale
        params, cov = self._to_original(final, xm, xs, pm, pss, self._rinfo)
        se = pd.Series(np.sqrt(np.diag(cov)), index=params.index)
        nparams, ncov = self._to_original(naive, xm, xs, pm, pss, self._rinfo)
        nse = pd.Series(np.sqrt(np.diag(ncov)), index=nparams.index)

        state = _State(
            self,
            lik,
            chosen["lay"],
            final["theta"],
            final["cov_free"],
            final["free"],
            self.interest,
            self.labels[self.interest],
        )
        exitp = state.exit_result(
            horizons=horizons, method=att_method, n_boot=n_boot, seed=seed, level=level,
            target=att_target, progress=progress,
        )  # fmt: skip
        lay = chosen["lay"]
        V, logp = unpack_het(final["theta"], lay)
        pse = self._prob_se(final, lay)
        mp = pd.DataFrame({"probability": np.exp(logp[0])}, index=pd.RangeIndex(1, lay.M + 1))
        mp["prob_std_error"] = pse[0]
        if lay.n_groups > 1:  # the stock's own distribution (initial conditions)
            mp["probability:stock"] = np.exp(logp[1])
            mp["prob_std_error:stock"] = pse[1]
        for q, lab in enumerate(lay.labels):
            mp[f"v:{lab}"] = V[:, q]
        for q, lab in enumerate(lay.labels):
            mp[f"exp_v:{lab}"] = np.exp(V[:, q])
        mp.index.name = "mass_point"
        path = pd.DataFrame(
            {
                "mass_points": [f["M"] for f in fits],
                "loglik": [f["ll"] for f in fits],
                "n_params": [f["lay"].n_params for f in fits],
                "aic": [f["aic"] for f in fits],
                "bic": [f["bic"] for f in fits],
                "accepted": [f["accepted"] for f in fits],
                "chosen": [f is chosen for f in fits],
                "treatment": [f["theta"][f["lay"].names.index("treatment")] for f in fits],
                "optimiser_iterations": [int(f["opt"].nit) for f in fits],
                "note": [f["note"] for f in fits],
            }
        )
        n_info = {
            "n_spells": int(data.n_spells),
            "n_persons": int(n_p),
            "n_treated": int(data.has_programme.sum()),
            "n_control": int(data.n_spells - data.has_programme.sum()),
            "n_events": int(data.d.sum()),
            "n_left_truncated": int(len(data.trunc)),
        }
        if data.n_return:
            n_info["n_job_spells"] = int(len(data.U))
            n_info["n_returns"] = int(data.dr.sum())
        notes = [
            f"{lay.M} mass point(s) chosen by "
            + ("the likelihood" if self.criterion == "loglik" else self.criterion.upper())
            + f" out of "
            f"{len(fits)} fit(s); standard errors: {cov_type}"
            + (" (clustered by person)" if cov_type == "robust" else "")
            + ".",
        ]
        fixed = [n for n, f in zip(lay.names, final["free"], strict=True) if not f]
        if fixed:
            notes.append(
                f"parameters held fixed (no standard error): {fixed} — at their bound, or "
                "mass-point locations the likelihood does not depend on; a location at the "
                "bound or without information means a group that (almost) never exits / "
                "enters"
            )
        nh = EstimationResult(
            params=nparams,
            std_errors=nse,
            method="Piecewise-constant proportional hazards without heterogeneity",
            estimand="log hazard ratio of the programme, no unobserved heterogeneity",
            n=n_info,
        )
        return TimingOfEventsResult(
            params=params,
            std_errors=se,
            method=f"Timing-of-events model (NPMLE, {lay.M} mass points)",
            estimand=(
                f"delta = log hazard ratio of exit to {self.labels[self.interest]} from "
                "programme start (params['treatment']); ATT on exit within 6/12/24 months in "
                "exit_probabilities"
            ),
            n=n_info,
            assumptions=ASSUMPTIONS[:-1] + (RETURN_ASSUMPTION,) if data.n_return else ASSUMPTIONS,
            notes=tuple(notes),
            mass_points=mp,
            path=path,
            exit_probabilities=exitp,
            no_heterogeneity=nh,
            diagnostics=final["diagnostics"],
            cov=cov,
            loglik=float(final["ll"]),
            n_mass_points=int(lay.M),
            extra={"specification": self.spec},
            _state=state,
        )

    # ------------------------------------------------------------------------------------
    def _criterion(self, fit, n_p):
        k = fit["lay"].n_params
        pen = {"aic": 2.0, "bic": np.log(n_p), "loglik": 0.0}[self.criterion]
        return -2 * fit["ll"] + pen * k

    def _finish(self, lik, fit, cov_type, maxiter):
        lay = fit["lay"]
        opt = fit["opt"]
        theta = fit["theta"]
        ll = fit["ll"]
        # Newton steps finish the job unless the optimiser ran out of iterations (then the
        # fit is reported as not converged rather than silently repaired)
        if opt.success or opt.nit < maxiter:
            theta, ll, g, H, free, dec = newton_polish(lik, lay, theta, H=fit.get("H"))
        else:
            theta, ll, g, H, free, dec = newton_polish(lik, lay, theta, max_steps=0, H=fit.get("H"))
        Hf = -H[np.ix_(free, free)]
        eig = np.linalg.eigvalsh(Hf)
        P = len(theta)
        cov_full = np.full((P, P), np.nan)
        if eig.min() > 0:
            cov_f = np.linalg.inv(Hf)
            if cov_type == "robust":
                S = lik.scores(theta, lay)[:, free]
                cov_f = cov_f @ (S.T @ S) @ cov_f
        else:
            cov_f = np.linalg.pinv(Hf)
        cov_full[np.ix_(free, free)] = cov_f
        converged = bool(np.isfinite(dec) and dec < 1e-6 and eig.min() > 0)
        diagnostics = {
            "converged": converged,
            "message": str(opt.message),
            "optimiser_success": bool(opt.success),
            "iterations": int(opt.nit),
            "max_abs_gradient": float(np.max(np.abs(g[free]))) if free.any() else 0.0,
            "newton_decrement": float(dec),
            "hessian_min_eigenvalue": float(eig.min()),
            "hessian_condition": float(eig.max() / eig.min()) if eig.min() > 0 else np.inf,
            "at_bounds": [n for n, f in zip(lay.names, free, strict=True) if not f],
            "loglik": float(ll),
        }
        return dict(
            theta=theta,
            ll=ll,
            cov=cov_full,
            cov_free=cov_f,
            free=free,
            lay=lay,
            diagnostics=diagnostics,
            converged=converged,
        )

    @staticmethod
    def _to_original(fin, xm, xs, pm, pss, rinfo=None):
        """Parameters and covariance on the original covariate scale (linear map)."""
        lay = fin["lay"]
        P = lay.n_params
        A = np.eye(P)
        for q in range(lay.Q):
            if q < lay.K:
                m, s = xm, xs
            elif q == lay.K:
                m, s = pm, pss
            else:  # the return to benefit
                m, s = rinfo[1], rinfo[2]
            b = np.arange(P)[lay.beta_slice[q]]
            if len(b) == 0:
                continue
            A[b, b] = 1.0 / s
            for g in lay.baseline_index[q]:
                A[g, b] = -m / s
        theta = A @ fin["theta"]
        cov = fin["cov"]
        free = fin["free"]
        cov0 = np.where(np.isnan(cov), 0.0, cov)
        covo = A @ cov0 @ A.T
        # parameters fixed at a bound have no standard error
        fixed = ~free
        covo[fixed, :] = np.nan
        covo[:, fixed] = np.nan
        names = lay.names
        return pd.Series(theta, index=names), pd.DataFrame(covo, index=names, columns=names)

    @staticmethod
    def _prob_se(fin, lay):
        """Standard errors of the mass-point probabilities per group -> (n_groups, M)."""
        if lay.M == 1:
            return np.zeros((lay.n_groups, 1))
        _, ws = lay.het_slices()
        _, logp = unpack_het(fin["theta"], lay)
        out = np.full((lay.n_groups, lay.M), np.nan)
        idx = np.arange(lay.n_params)[ws].reshape(lay.n_groups, lay.M - 1)
        for k in range(lay.n_groups):
            p = np.exp(logp[k])
            J = (np.diag(p) - np.outer(p, p))[:, 1:]  # d p / d omega_2..M
            C = fin["cov"][np.ix_(idx[k], idx[k])]
            if not np.isnan(C).any():
                out[k] = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, C, J), 0))
        return out


__all__ = ["TimingOfEvents", "TimingOfEventsResult"]
