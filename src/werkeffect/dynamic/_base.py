"""Common machinery of the dynamic estimators (configuration, fit, bootstrap, result)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect._inputs import require_clusters
from werkeffect.dynamic._engine import Prepared, Spec, estimate_once
from werkeffect.dynamic.bootstrap import bootstrap
from werkeffect.dynamic.fixed_match import FixedMatchReplicate
from werkeffect.dynamic.hazard import OneStep, one_step
from werkeffect.dynamic.results import DynamicResult
from werkeffect.dynamic.risk_sets import (
    SpellArrays,
    default_u_values,
    prepare_spells,
    time_varying_arrays,
)
from werkeffect.exceptions import EstimationError, EstimationWarning, warn_estimation
from werkeffect.formatting import fmt_num, nl_int

OUTCOMES = ("work", "durable")
#: warn when a comparison spell's inverse probability of censoring weight exceeds this
#: (probability below 10% of staying untreated from u to the end of the horizon)
MAX_IPC_WEIGHT = 10.0


@dataclass(frozen=True)
class _Replicate:
    """Picklable ``weights -> statistics`` for the bootstrap.

    In each resample the start model is updated by one Newton step from the full-sample
    estimate with the full-sample information (:class:`~werkeffect.dynamic.hazard.OneStep`;
    first-order equivalent to re-estimating it, Andrews 2002); the matching or weighting
    within each u and the Aalen–Johansen curves are redone on the resample.
    """

    arr: SpellArrays
    spec: Spec
    prep: Prepared
    step: OneStep

    def __call__(self, w: np.ndarray) -> np.ndarray:
        one = estimate_once(
            self.arr, self.spec, w, prep=self.prep, hazard=self.step.hazard_for(w), warn=False
        )
        return np.r_[one.att.ravel(), one.att_avg]


class DynamicEstimator:
    """Base of :class:`DynamicMatch`, :class:`DynamicIPW` and :class:`SurvivalMatch`.

    Data: one row per benefit spell (see :func:`werkeffect.dynamic.spells_from_dataset`).
    """

    _weighting_options: ClassVar[tuple[str, ...]] = ("nn", "ipw")
    _censor_later: ClassVar[bool] = False
    _ipcw: ClassVar[bool] = False
    _method: ClassVar[str] = ""
    _truth_prefix: ClassVar[str] = ""
    _estimand: ClassVar[str] = ""
    _assumptions: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        id: str = "person_id",
        spell: str | None = None,
        duration: str = "duration",
        cause: str = "cause",
        treatment_start: str = "programme_start",
        covariates: Sequence[str] = (),
        history: Sequence[str] = (),
        entry: str | None = None,
        followup: str | None = None,
        return_time: str | None = None,
        cluster: str | None = None,
        calendar_start: str | None = None,
        horizons: Sequence[int] = (6, 12, 24),
        u_values: Sequence[int] | None = None,
        outcome: str = "work",
        work_cause: int = 1,
        weighting: str = "nn",
        n_neighbors: int = 5,
        caliper: float | None = 0.2,
        min_treated: int = 10,
        min_events: int = 10,
        time_varying: pd.DataFrame | None = None,
        time_varying_covariates: Sequence[str] | None = None,
    ) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        if weighting not in self._weighting_options:
            raise ValueError(
                f"weighting must be one of {self._weighting_options}, got {weighting!r}"
            )
        hs = tuple(sorted({int(h) for h in horizons}))
        if not hs or hs[0] < 1:
            raise ValueError("horizons must be positive whole months")
        if caliper is not None and caliper <= 0:
            raise ValueError("caliper must be positive (in SDs of the logit propensity score)")
        self.data = data
        self.columns = {
            "id": id,
            "spell": spell,
            "duration": duration,
            "cause": cause,
            "treatment_start": treatment_start,
            "entry": entry,
            "followup": followup,
            "return_time": return_time,
            "cluster": cluster,
            "calendar_start": calendar_start,
        }
        self.covariates = list(dict.fromkeys([*covariates, *history]))
        self.horizons = hs
        self.outcome = outcome
        self.weighting = weighting
        self.n_neighbors = int(n_neighbors)
        self.caliper = caliper
        self.min_treated = int(min_treated)
        self.min_events = int(min_events)
        self.arrays_ = prepare_spells(
            data,
            id=id,
            duration=duration,
            cause=cause,
            treatment_start=treatment_start,
            covariates=self.covariates,
            spell=spell,
            entry=entry,
            followup=followup,
            return_time=return_time,
            cluster=cluster,
            work_cause=work_cause,
            calendar_start=calendar_start,
        )
        if outcome == "durable":
            self.arrays_.outcome_arrays("durable")  # raises when the columns are missing
        n_work = int(np.sum(self.arrays_.cause == int(work_cause)))
        if n_work == 0:
            present = sorted(int(x) for x in np.unique(self.arrays_.cause) if x > 0)
            raise EstimationError(
                f"no exits to work: column '{cause}' never has the work code {int(work_cause)} "
                f"(exit codes present: {present or 'none'}), so every ATT would be 0 with "
                "standard error 0. Check the exit coding (work_cause=) or the selection"
            )
        if u_values is None:
            uv = default_u_values(self.arrays_, self.min_treated)
            if len(uv) == 0:
                raise EstimationError(
                    f"no elapsed month has at least {self.min_treated} programme starts; "
                    "give u_values or lower min_treated"
                )
        else:
            uv = np.unique(np.asarray(list(u_values), dtype=np.int64))
            if len(uv) == 0 or uv[0] < 0:
                raise ValueError("u_values must be non-negative whole months")
        self.u_values = uv
        self.time_varying_covariates: tuple[str, ...] = ()
        if time_varying is not None:
            if spell is None:
                raise ValueError("time_varying needs the spell id column: give spell=...")
            months = int(uv.max()) + max(hs) + 2
            Z, names = time_varying_arrays(
                time_varying, self.arrays_.spell_ids, spell, months, time_varying_covariates
            )
            self.arrays_ = replace(self.arrays_, Z=Z, z_names=names)
            self.time_varying_covariates = names
        self.spec_ = Spec(
            u_values=uv,
            horizons=hs,
            outcome=outcome,
            weighting=weighting,
            censor_later=self._censor_later,
            ipcw=self._ipcw,
            n_neighbors=self.n_neighbors,
            caliper=caliper,
            min_events=self.min_events,
        )

    # -- construction from a Dataset -----------------------------------------------------
    @classmethod
    def from_dataset(
        cls,
        dataset: Any,
        programme: str = "jobcoaching",
        covariates: Sequence[str] | None = None,
        window_start: Any = None,
        history_at_u: bool = False,
        **kwargs: Any,
    ) -> DynamicEstimator:
        """Build the spell frame from a :class:`~werkeffect.Dataset` and configure.

        Uses :func:`werkeffect.dynamic.spells_from_dataset`; default covariates are the
        person characteristics and history recorded at spell start
        (:data:`werkeffect.dynamic.data.DEFAULT_COVARIATES` that are present).

        ``history_at_u=True`` adds the history at the start of each elapsed month as
        time-varying covariates of the start model (:func:`history_from_dataset`: a job in
        the month before, the last ladder step assessed before the month), so starters at u
        are compared with people with the same recent work and ladder step at u.
        """
        from werkeffect.dynamic.data import (
            DEFAULT_COVARIATES,
            history_from_dataset,
            spells_from_dataset,
        )

        frame = spells_from_dataset(dataset, programme=programme, window_start=window_start)
        if covariates is None:
            covariates = [c for c in DEFAULT_COVARIATES if c in frame.columns]
        if history_at_u and "time_varying" not in kwargs:
            hs = kwargs.get("horizons", (6, 12, 24))
            if kwargs.get("u_values") is not None:
                last_u = int(max(kwargs["u_values"]))
            else:  # the default u are months with starts
                ps = frame["programme_start"].to_numpy(float)
                last_u = int(np.nanmax(np.floor(ps))) if np.isfinite(ps).any() else 0
            n_months = last_u + int(max(hs)) + 2
            kwargs["time_varying"] = history_from_dataset(dataset, frame, n_months)
        kwargs.setdefault("spell", "spell_id")
        kwargs.setdefault("entry", "entry")
        kwargs.setdefault("followup", "followup")
        kwargs.setdefault("return_time", "return_time")
        kwargs.setdefault("calendar_start", "spell_start_date")
        model = cls(frame, covariates=covariates, **kwargs)
        model.flow_ = getattr(frame, "attrs", {}).get("flow")
        return model

    # -- estimation -------------------------------------------------------------------------
    def fit(
        self,
        n_boot: int = 199,
        *,
        seed: int | np.random.SeedSequence | None = 0,
        n_jobs: int = 1,
        progress: bool | None = None,
        ci: str = "normal",
        level: float = 0.95,
        resampling: str | None = None,
    ) -> DynamicResult:
        """Estimate ATT(u, h) for all u and h, with a cluster bootstrap over persons.

        Parameters
        ----------
        n_boot
            Bootstrap replications (0: point estimates only, standard errors NaN).
        seed
            Seed of the bootstrap (``numpy.random.SeedSequence``); results do not depend on
            ``n_jobs``.
        n_jobs
            Parallel workers (joblib; -1 for all cores).
        progress
            Show a progress bar (default: when ``n_boot >= 50``).
        ci
            ``"normal"`` (estimate ± z·bootstrap SE) or ``"percentile"`` intervals.
        resampling
            ``"fixed"`` (default for nearest-neighbour matching): persons drawn with
            replacement, the full-sample matches held fixed — the bootstrap of the matching
            estimator's linear form with the comparison arm's conditional mean removed
            (Otsu & Rai 2017; :mod:`werkeffect.dynamic.fixed_match`). Fast (no re-matching)
            and, unlike half-sampling, not conservative.
            ``"bootstrap"`` (default for weighting): persons drawn with replacement and the
            whole estimator redone (for nearest-neighbour matching this re-matching bootstrap
            is not valid — Abadie & Imbens 2008).
            ``"half"``: half-sampling, half of the persons drawn without replacement and
            everything redone; valid for matching but conservative (with half of the
            controls the neighbours change, which adds variance the full-sample estimator
            does not have: standard errors 5–30% too large on the simulator).
        """
        if resampling is None:
            resampling = "fixed" if self.weighting == "nn" else "bootstrap"
        if resampling not in ("fixed", "bootstrap", "half"):
            raise ValueError("resampling must be 'fixed', 'bootstrap' or 'half'")
        if resampling == "fixed" and self.weighting != "nn":
            raise ValueError(
                "resampling='fixed' holds nearest-neighbour matches fixed: it needs "
                "weighting='nn'; use 'bootstrap' for weighting"
            )
        if ci not in ("normal", "percentile"):
            raise ValueError("ci must be 'normal' or 'percentile'")
        arr, spec = self.arrays_, self.spec_
        with warnings.catch_warnings():
            warnings.simplefilter("always", EstimationWarning)
            prep = Prepared.build(arr, spec)
            one = estimate_once(arr, spec, prep=prep, full=True)
        uv, hs = spec.u_values, spec.horizons
        index = pd.MultiIndex.from_tuples(
            [(int(u), h) for u in uv for h in hs] + [("ATT", h) for h in hs],
            names=["u", "horizon"],
        )
        est = np.r_[one.att.ravel(), one.att_avg]
        if np.all(np.isnan(one.att)):
            raise EstimationError(
                "no ATT(u, h) could be estimated: no matched programme starters with follow-up"
            )
        bad_u = uv[np.isnan(one.att).any(axis=1)]
        if len(bad_u):
            warn_estimation(
                f"ATT(u, h) is not identified for u in {bad_u.tolist()} at some horizons (no "
                "one left at risk within the horizon: follow-up ends at the extract date); "
                "the averages use the other u",
                f"ATT(u, h) is voor u = {', '.join(str(int(x)) for x in bad_u)} bij sommige "
                "horizonten niet te schatten (niemand meer in de risicoset binnen de horizon: "
                "de follow-up eindigt op de peildatum); de gemiddelden gebruiken de andere u",
                stacklevel=2,
            )
        n_un = one.counts["n_treated_all"] - one.counts["n_treated"]
        if n_un.sum() > 0:
            warn_estimation(
                f"{int(n_un.sum())} programme starter(s) found no comparison spell within the "
                f"caliper and are left out (ATT on the matched starters)",
                f"{nl_int(n_un.sum())} deelnemer(s) vonden geen vergelijkingsuitkering binnen de "
                "caliper en vallen af (ATT op de gematchte deelnemers)",
                stacklevel=2,
            )
        small = uv[(one.counts["n_treated"] > 0) & (one.counts["n_treated"] < 10)]
        if len(small):
            warn_estimation(
                f"fewer than 10 programme starters at u in {small.tolist()}: do not publish "
                "these cells (disclosure control) and read them with care",
                f"minder dan 10 deelnemers starten bij u = {', '.join(str(int(x)) for x in small)}"
                ": publiceer deze cellen niet (onthullingscontrole) en lees ze met zorg",
                stacklevel=2,
            )
        ipc = one.counts["max_ipc_weight"]
        heavy = np.isfinite(ipc) & (ipc > MAX_IPC_WEIGHT)
        if heavy.any():
            k = int(np.nanargmax(np.where(heavy, ipc, np.nan)))
            warn_estimation(
                f"inverse probability of censoring weights reach {ipc[k]:.0f} (u = {uv[k]}; "
                f"above {MAX_IPC_WEIGHT:g} at u in {uv[heavy].tolist()}): some comparison "
                "spells are unlikely to stay untreated over the horizon, so the comparison "
                "curve at long horizons rests on the few that do; read those horizons with "
                "care or shorten them (res.cohorts['max_ipc_weight'])",
                f"de censoreringsgewichten (IPCW) lopen op tot {fmt_num(ipc[k], 0)} (u = "
                f"{uv[k]}; boven {fmt_num(MAX_IPC_WEIGHT, 0)} bij u = "
                f"{', '.join(str(int(x)) for x in uv[heavy])}): weinig vergelijkingsuitkeringen "
                "blijven over de hele horizon zonder traject, dus de vergelijkingscurve rust bij "
                "lange horizonten op die enkelen; lees die horizonten met zorg of kort ze in "
                "(res.cohorts['max_ipc_weight'])",
                stacklevel=2,
            )
        if n_boot > 0:
            require_clusters(
                arr.n_clusters, self.columns["cluster"] or self.columns["id"], "spells"
            )
        if resampling == "fixed":
            replicate: Any = FixedMatchReplicate.build(one.matched, len(uv), hs)
        else:
            replicate = _Replicate(arr, spec, prep, one_step(arr, one.hazard, prep.cells))
        reps = bootstrap(
            replicate,
            arr.cluster,
            arr.n_clusters,
            len(est),
            n_boot,
            seed=seed,
            n_jobs=n_jobs,
            progress=progress,
            scheme="half" if resampling == "half" else "bootstrap",
        )
        if len(reps) and resampling == "half":
            # deviations from the full-sample estimate, scaled by sqrt(m / (n - m))
            m = arr.n_clusters // 2
            scale = np.sqrt(m / (arr.n_clusters - m))
            reps = est + scale * (reps - est)
            se = np.sqrt(np.nanmean((reps - est) ** 2, axis=0))
        elif len(reps):
            se = np.nanstd(reps, axis=0, ddof=1)
        else:
            se = np.full(len(est), np.nan)
        intervals = None
        if ci == "percentile" and len(reps):
            a = (1 - level) / 2
            intervals = pd.DataFrame(
                {
                    "lower": np.nanquantile(reps, a, axis=0),
                    "upper": np.nanquantile(reps, 1 - a, axis=0),
                },
                index=index,
            )
        cohorts = pd.DataFrame(
            {
                "u": uv,
                "n_treated": one.counts["n_treated_all"],
                "n_treated_matched": one.counts["n_treated"],
                "n_not_yet_treated": one.counts["n_controls"],
                "n_controls_used": one.counts["n_controls_used"],
                "ess_controls": one.counts["ess_controls"],
                "max_ipc_weight": one.counts["max_ipc_weight"],
            }
        )
        H = spec.horizon
        curves = []
        for group, s_key, f_key in (
            ("treated", "surv_t", "cif_t"),
            ("control", "surv_c", "cif_c"),
        ):
            curves.append(
                pd.DataFrame(
                    {
                        "u": np.repeat(uv, H),
                        "month": np.tile(np.arange(1, H + 1), len(uv)),
                        "group": group,
                        "survival": one.curves[s_key].ravel(),
                        "cif": one.curves[f_key].ravel(),
                    }
                )
            )
        start_model = pd.Series(
            np.r_[one.hazard.beta, one.hazard.gamma],
            index=list(arr.covariate_names) + [f"{z} (at u)" for z in arr.z_names],
            name="log_odds",
        )
        n_t = float(one.counts["n_treated"].sum())
        notes = [
            "ATT(u, h): difference in the cumulative share exiting "
            + ("durably (no return within 12 months) " if self.outcome == "durable" else "")
            + "to work within h months after elapsed month u (Aalen–Johansen curves, "
            "right-censoring at the extract date as in Kaplan–Meier, other exits competing).",
            "'ATT' rows average ATT(u, h) over the distribution of u among the starters used.",
            {
                "half": "Half-sampling",
                "bootstrap": "Bootstrap",
                "fixed": "Bootstrap with the full-sample matches held fixed (Otsu & Rai 2017)",
            }[resampling]
            + f" over {arr.n_clusters:,} clusters, {len(reps)} replications"
            + (
                f", seed {seed}"
                if seed is not None and not isinstance(seed, np.random.SeedSequence)
                else ""
            )
            + f"; {ci} intervals.",
        ]
        if self.weighting == "nn":
            notes.append(
                f"Nearest-neighbour matching within u on the logit propensity score, "
                f"{self.n_neighbors} neighbour(s) with replacement, caliper "
                f"{self.caliper} SD."
            )
        return DynamicResult(
            params=pd.Series(est, index=index),
            std_errors=pd.Series(se, index=index),
            method=self._method
            + ("" if self._weighting_options == ("ipw",) else f" ({self.weighting})"),
            estimand=self._estimand,
            n={
                "n_spells": int(arr.n),
                "n_treated": int(round(n_t)),
                "n_control": int(np.sum(one.counts["n_controls_used"])),
            },
            assumptions=self._assumptions,
            notes=tuple(notes),
            intervals=intervals,
            interval_level=level,
            flow=getattr(self, "flow_", None),
            horizons=hs,
            u_values=tuple(int(u) for u in uv),
            outcome=self.outcome,
            cohorts=cohorts,
            curves=pd.concat(curves, ignore_index=True),
            start_model=start_model,
            bootstrap_estimates=pd.DataFrame(reps, columns=index) if len(reps) else None,
            truth_prefix=self._truth_prefix,
            settings={
                "weighting": self.weighting,
                "n_neighbors": self.n_neighbors,
                "caliper": self.caliper,
                "n_boot": n_boot,
                "seed": seed if not isinstance(seed, np.random.SeedSequence) else None,
                "ci": ci,
                "resampling": resampling,
                "start_model_converged": bool(one.hazard.converged),
            },
        )


def normal_interval(est: float, se: float, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    return est - z * se, est + z * se
