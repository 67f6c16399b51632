"""Callaway & Sant'Anna (2021) staggered-adoption difference-in-differences.

Estimand: ATT(g,t) = E[Y_t(g) - Y_t(0) | G = g], the average effect in period t for the
cohort first treated in period g, and aggregates of it (simple, dynamic / event time,
group, calendar). Identifying assumptions: (conditional) parallel trends of the untreated
outcome between cohort g and the comparison group (never treated, or not yet treated by
t + anticipation), no anticipation beyond ``anticipation`` periods, absorbing treatment, and
(with covariates) overlap.

Implementation: every ATT(g,t) is estimated once together with its influence function
(stored compactly, see :mod:`werkeffect.did._influence`); aggregations and their standard
errors (analytic or multiplier bootstrap with uniform bands) are linear functions of those
building blocks, following R's ``did`` (``att_gt`` then ``aggte``, including the influence
function of the estimated aggregation weights). Base period "varying" as in R: pre-treatment
cells compare t with t-1, post-treatment cells compare t with g - 1 - anticipation.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect.did import _kernels
from werkeffect.did._checks import (
    FEW_CLUSTERS_WARN,
    build_panel,
    cluster_column,
    group_codes,
    group_from_treatment,
    is_balanced,
    numeric_column,
    require_columns,
    require_unique,
    unique_sorted,
    warn_few_clusters,
)
from werkeffect.did._influence import CompactInfluence, DenseInfluence, bootstrap_inference
from werkeffect.did.aggregate import plan
from werkeffect.exceptions import EstimationError, SingleTreatedClusterWarning, warn_estimation
from werkeffect.results.base import EstimationResult

ASSUMPTIONS = (
    "Parallel trends: without treatment, each cohort's average outcome would have moved like "
    "the comparison group's (conditional on covariates where given).",
    "No anticipation beyond the stated number of periods before first treatment.",
    "Treatment is absorbing: once treated, a unit stays treated.",
)


@dataclass(frozen=True, eq=False)
class AggregateResult(EstimationResult):
    """An aggregation of ATT(g,t): ``params`` indexed by "ATT", event time, group or period.

    ``overall_att`` / ``overall_se`` hold the overall summary of the aggregation (for
    "simple" the same as ``params["ATT"]``). With a bootstrap, ``intervals`` are uniform
    (simultaneous) bands at ``interval_level`` and ``critical_value`` is the sup-t value.
    """

    kind: str = ""
    overall_att: float | None = None
    overall_se: float | None = None
    critical_value: float | None = None
    vcov: pd.DataFrame | None = None

    def plot(self, ax=None, level: float = 0.95):
        """Event-study plot (dynamic) or forest plot (other aggregations)."""
        if self.kind == "dynamic":
            from werkeffect.did.plot import event_study_plot

            return event_study_plot(self, ax=ax, level=level)
        return super().plot(ax=ax, level=level)


@dataclass(frozen=True, eq=False)
class CallawaySantAnnaResult(EstimationResult):
    """ATT(g,t) estimates; ``att_gt`` is the tidy table, ``aggregate()`` the summaries."""

    att_gt: pd.DataFrame | None = None
    pretest: dict | None = None

    def aggregate(
        self,
        kind: str = "group",
        *,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        balance_e: int | None = None,
        bootstrap: bool | None = None,
        n_boot: int | None = None,
        seed: int | None = None,
        level: float = 0.95,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t): ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.

        Standard errors come from the cell influence functions plus the influence function of
        the estimated weights (R ``aggte``). ``bootstrap`` (default: as in ``fit``) adds
        multiplier-bootstrap uniform bands across the aggregate's components.
        """
        ex = self.extra
        tab = self.att_gt
        att = tab["att"].to_numpy()
        p = plan(
            kind,
            groups=tab["group"].to_numpy(dtype=float),
            times=tab["time"].to_numpy(dtype=float),
            att=att,
            cell_cohort=ex["cell_cohort"],
            cohort_share=ex["cohort_share"],
            min_e=min_e,
            max_e=max_e,
            balance_e=balance_e,
        )
        inf = ex["influence"]
        cov = inf.cov(p.a, p.b)
        se = _clean_se(np.sqrt(np.clip(np.diag(cov), 0, None)))
        labels = [_label(v) for v in p.labels]
        params = pd.Series(p.estimates, index=labels)
        overall_se = None
        if p.overall_a is not None:
            ov = inf.cov(p.overall_a[:, None], p.overall_b[:, None])
            overall_se = float(_clean_se(np.sqrt(max(ov[0, 0], 0.0))))
        bootstrap = ex["bootstrap"] if bootstrap is None else bootstrap
        intervals, crit = None, None
        notes = [n for n in self.notes if not n.startswith("Multiplier bootstrap")]
        if bootstrap and len(labels):
            rng = np.random.default_rng(seed if seed is not None else ex["seed"])
            draws = inf.draws(p.a, p.b, n_boot or ex["n_boot"], rng, ex["multiplier"])
            bse, crit = bootstrap_inference(draws, level)
            se = _clean_se(bse)
            intervals = pd.DataFrame(
                {"lower": p.estimates - crit * se, "upper": p.estimates + crit * se}, index=labels
            )
            notes.append(
                f"Multiplier bootstrap ({ex['multiplier']} weights); intervals are uniform "
                f"{level:.0%} bands (sup-t critical value {crit:.3f})."
            )
        titles = {
            "simple": "overall ATT (weighted by cohort size)",
            "dynamic": "ATT by event time (periods since first treatment)",
            "group": "ATT by cohort (first treated period)",
            "calendar": "ATT by calendar period",
        }
        return AggregateResult(
            params=params,
            std_errors=pd.Series(se, index=labels),
            method=f"Callaway & Sant'Anna, {kind} aggregation ({ex['method_name']})",
            estimand=titles.get(kind, kind),
            n=self.n,
            assumptions=self.assumptions,
            notes=tuple(notes),
            intervals=intervals,
            interval_level=level,
            kind=kind,
            overall_att=p.overall,
            overall_se=overall_se,
            critical_value=crit,
            vcov=pd.DataFrame(cov, index=labels, columns=labels),
            extra={"plan": p},
        )

    def plot(self, ax=None, level: float = 0.95):
        """Event-study plot of the dynamic aggregation."""
        return self.aggregate("dynamic").plot(ax=ax, level=level)


def _label(v: Any):
    if isinstance(v, str):
        return v
    f = float(v)
    return int(f) if f.is_integer() else f


def _clean_se(se: np.ndarray) -> np.ndarray:
    se = np.asarray(se, dtype=float).copy()
    se[se <= np.sqrt(np.finfo(float).eps) * 10] = np.nan
    return se


class CallawaySantAnna:
    """Callaway & Sant'Anna (2021) group-time ATTs for staggered adoption.

    Parameters
    ----------
    df
        Long data: one row per unit and period (panel) or per observation (repeated cross
        sections, ``panel=False``).
    outcome, unit, time
        Column names. ``time`` must be numeric (periods; need not be equally spaced).
    group
        Column with the first treated period of the unit; never-treated units hold 0 or NaN.
        Instead of ``group`` an absorbing 0/1 ``treatment`` column may be given.
    covariates
        Pre-treatment covariates for conditional parallel trends (taken at the base period).
    control
        ``"never"`` (never-treated units) or ``"notyet"`` (never and not-yet-treated units).
    method
        ``"dr"`` doubly robust (Sant'Anna & Zhao 2020), ``"ipw"`` or ``"reg"``.
    panel
        True for panel data (balanced, or unbalanced: then the repeated-cross-section
        estimators are used with unit-level influence functions, as R's
        ``allow_unbalanced_panel``); False for repeated cross sections.
    anticipation
        Number of periods before ``g`` in which units may already react.
    cluster
        Optional column for cluster-robust (analytic and bootstrap) errors.
    drop_always_treated
        Groups treated in the first period (no pre-period) raise an error unless True (then
        they are dropped, with a note).
    base_period
        ``"varying"`` (R did's default: a pre-period cell compares t with t - 1, so each is a
        short-gap check) or ``"universal"`` (every cell compares t with g - 1 - anticipation,
        the reference cell itself is left out; pre-period cells then show the cumulated drift
        — the Wald pre-test is the same either way, being invariant to this re-basing).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        group: str | None = None,
        covariates: Sequence[str] | None = None,
        control: str = "never",
        method: str = "dr",
        panel: bool = True,
        anticipation: int = 0,
        *,
        treatment: str | None = None,
        cluster: str | None = None,
        drop_always_treated: bool = False,
        base_period: str = "varying",
    ) -> None:
        control = {"nevertreated": "never", "notyettreated": "notyet"}.get(control, control)
        if base_period not in ("varying", "universal"):
            raise ValueError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
        if control not in ("never", "notyet"):
            raise ValueError(f"control must be 'never' or 'notyet', got {control!r}")
        if method not in ("dr", "ipw", "reg"):
            raise ValueError(f"method must be 'dr', 'ipw' or 'reg', got {method!r}")
        if group is None and treatment is None:
            raise ValueError("give either group= (first treated period) or treatment= (0/1)")
        if anticipation < 0:
            raise ValueError("anticipation must be >= 0")
        covariates = list(covariates or [])
        require_columns(df, [outcome, unit, time, group, treatment, cluster, *covariates])
        self.df = df
        self.outcome, self.unit, self.time = outcome, unit, time
        self.group, self.treatment = group, treatment
        self.covariates = covariates
        self.control, self.method = control, method
        self.panel, self.anticipation = panel, anticipation
        self.cluster = cluster
        self.drop_always_treated = drop_always_treated
        self.base_period = base_period

    # ------------------------------------------------------------------------------------
    def fit(
        self,
        *,
        bootstrap: bool = False,
        n_boot: int = 999,
        multiplier: str | None = None,
        seed: int | None = 0,
        level: float = 0.95,
    ) -> CallawaySantAnnaResult:
        """Estimate every ATT(g,t) with its influence function.

        ``bootstrap=True`` adds multiplier-bootstrap standard errors and uniform bands
        (``multiplier``: "mammen" (default with stored influence functions) or "gaussian",
        used automatically for the compact no-covariate representation, where the bootstrap
        distribution is exactly normal with the analytic covariance).
        """
        df = self.df
        notes: list[str] = []
        what = "CallawaySantAnna"
        if self.panel:
            require_unique(df, [self.unit, self.time], what)
        if self.cluster is not None:
            n_cl = int(cluster_column(df, self.cluster, what).max()) + 1
            if n_cl < FEW_CLUSTERS_WARN:
                warn_few_clusters(n_cl)
        if self.group is not None:
            g_row = group_codes(df, self.group)
        else:
            g_row = group_from_treatment(df, self.unit, self.time, self.treatment).to_numpy()
        t_row = numeric_column(df, self.time)
        tlist = unique_sorted(t_row)
        if len(tlist) < 2:
            raise EstimationError(f"need at least two periods in '{self.time}'")
        late = g_row > tlist.max()
        if late.any():
            g_row = np.where(late, 0.0, g_row)
            notes.append("Units first treated after the last period are treated as never treated.")
        delta = self.anticipation
        early = (g_row > 0) & (g_row <= tlist[0] + delta)
        if early.any():
            bad = np.unique(g_row[early])
            msg = (
                f"group(s) {[_label(b) for b in bad]} are treated in the first period "
                f"({self.time}={_label(tlist[0])}"
                + (f" with anticipation {delta}" if delta else "")
                + ") and have no pre-treatment period, so their ATT(g,t) is not identified"
            )
            if not self.drop_always_treated:
                raise EstimationError(msg + "; drop them or pass drop_always_treated=True.")
            keep = ~early
            df = df.loc[keep]
            g_row, t_row = g_row[keep], t_row[keep]
            notes.append(msg + "; dropped.")
        glist = unique_sorted(g_row[g_row > 0])
        if not len(glist):
            raise EstimationError(f"no treated units: '{self.group or self.treatment}' is all 0")
        self._warn_single_treated_cluster(df, g_row)
        has_never = (g_row == 0).any()
        if not has_never:
            if self.control == "never":
                raise EstimationError(
                    "there are no never-treated units, so control='never' has no comparison "
                    "group for any cohort; use control='notyet'"
                )
            gmax = glist.max()
            keep = t_row < gmax - delta
            df = df.loc[keep]
            g_row, t_row = g_row[keep], t_row[keep]
            tlist = unique_sorted(t_row)
            glist = glist[glist < gmax]
            notes.append(
                f"No never-treated units: periods from {_label(gmax - delta)} on are dropped and "
                f"cohort {_label(gmax)} serves only as not-yet-treated comparison group."
            )
            if not len(glist):
                raise EstimationError(
                    "no never-treated units and a single cohort: no comparison group exists"
                )

        balanced = self.panel and is_balanced(df, self.unit, self.time)
        if self.panel and not balanced:
            warn_estimation(
                "unbalanced panel: using the repeated-cross-section estimators with "
                "unit-level influence functions (as R did's allow_unbalanced_panel)",
                "ongebalanceerd panel: de schatters voor herhaalde doorsneden worden gebruikt, "
                "met influence functions per eenheid (zoals allow_unbalanced_panel in R's did)",
            )
            notes.append("Unbalanced panel: repeated-cross-section estimators per cell.")

        cells = self._cells(glist, tlist)
        if balanced:
            pan = build_panel(
                df,
                outcome=self.outcome,
                unit=self.unit,
                time=self.time,
                g=g_row,
                covariates=None,
                cluster=self.cluster,
            )
            self._tl = pan.periods
            cohorts = unique_sorted(pan.g)
            coh_idx = np.searchsorted(cohorts, pan.g)
            if not self.covariates and self.cluster is None:
                att, influence, n_t, n_c = self._compact(pan.y, coh_idx, cohorts, cells)
            else:
                xper = self._covariates_by_period(df, pan, tlist) if self.covariates else None
                att, influence, n_t, n_c = self._dense_panel(
                    pan.y, coh_idx, cohorts, cells, xper, pan.cluster
                )
            n_units = pan.y.shape[0]
            unit_cohort = coh_idx
        else:
            att, influence, n_t, n_c, unit_cohort, cohorts = self._dense_rc(df, g_row, t_row, cells)
            n_units = influence.n
        counts = np.bincount(unit_cohort, minlength=len(cohorts))
        cohort_share = counts / counts.sum()

        cell_cohort = np.searchsorted(cohorts, cells["group"])
        k = len(cells["group"])
        cov = influence.cov(np.eye(k))
        se = _clean_se(np.sqrt(np.clip(np.diag(cov), 0, None)))
        tab = pd.DataFrame(
            {
                "group": [_label(v) for v in cells["group"]],
                "time": [_label(v) for v in cells["time"]],
                "att": att,
                "std_error": se,
                "base_period": [_label(v) for v in cells["base"]],
                "post": cells["group"] <= cells["time"],
                "n_treated": n_t,
                "n_control": n_c,
            }
        )
        multiplier = multiplier or (
            "gaussian" if isinstance(influence, CompactInfluence) else "mammen"
        )
        intervals = None
        if bootstrap:
            rng = np.random.default_rng(seed)
            draws = influence.draws(np.eye(k), None, n_boot, rng, multiplier)
            bse, crit = bootstrap_inference(draws, level)
            se = _clean_se(bse)
            tab["std_error"] = se
            tab["lower"] = att - crit * se
            tab["upper"] = att + crit * se
            intervals = tab[["lower", "upper"]].copy()
            notes.append(
                f"Multiplier bootstrap ({multiplier}, {n_boot} draws): uniform {level:.0%} band, "
                f"critical value {crit:.3f}."
            )
        # Wald pre-test of parallel trends on the pre-treatment cells (as R did's W).
        pre = ~tab["post"].to_numpy() & np.isfinite(se)
        pretest = None
        if pre.any():
            vpre = cov[np.ix_(pre, pre)]
            stat = float(att[pre] @ np.linalg.pinv(vpre) @ att[pre])
            dfree = int(np.linalg.matrix_rank(vpre))
            pretest = {"statistic": stat, "df": dfree, "p_value": float(stats.chi2.sf(stat, dfree))}
        index = pd.MultiIndex.from_arrays([tab["group"], tab["time"]], names=["group", "time"])
        method_name = {"dr": "doubly robust", "ipw": "IPW", "reg": "outcome regression"}[
            self.method
        ]
        return CallawaySantAnnaResult(
            params=pd.Series(att, index=index),
            std_errors=pd.Series(se, index=index),
            method=f"Callaway & Sant'Anna ATT(g,t), {method_name}, "
            f"{'never' if self.control == 'never' else 'not-yet'}-treated controls",
            estimand="ATT(g,t): effect in period t for the cohort first treated in g",
            n={
                "n": int(n_units),
                "n_treated": int(counts[cohorts > 0].sum()),
                "n_control": int(counts[cohorts == 0].sum()),
            },
            assumptions=ASSUMPTIONS,
            notes=tuple(notes),
            intervals=intervals,
            interval_level=level,
            att_gt=tab,
            pretest=pretest,
            extra={
                "influence": influence,
                "cell_cohort": cell_cohort,
                "cohort_share": cohort_share,
                "cohorts": cohorts,
                "bootstrap": bootstrap,
                "n_boot": n_boot,
                "multiplier": multiplier,
                "seed": seed,
                "method_name": method_name,
                "vcov": cov,
            },
        )

    # ------------------------------------------------------------------------------------
    def _cells(self, glist: np.ndarray, tlist: np.ndarray) -> dict[str, np.ndarray]:
        """The (g, t, base) cells in R's order: by group, then period."""
        delta = self.anticipation
        gs, ts, bs = [], [], []
        for g in glist:
            pre_idx = np.flatnonzero(tlist + delta < g)
            if not len(pre_idx):
                continue
            last_pre = pre_idx[-1]
            if self.base_period == "universal":
                for tn in tlist:
                    if tn != tlist[last_pre]:
                        gs.append(g)
                        ts.append(tn)
                        bs.append(tlist[last_pre])
                continue
            for ti in range(len(tlist) - 1):
                tn = tlist[ti + 1]
                base = tlist[last_pre] if g <= tn else tlist[ti]
                gs.append(g)
                ts.append(tn)
                bs.append(base)
        return {"group": np.array(gs), "time": np.array(ts), "base": np.array(bs)}

    def _control_cohorts(self, cohorts: np.ndarray, g: float, tn: float, base: float) -> np.ndarray:
        if self.control == "never":
            return cohorts == 0
        thresh = max(tn, base) + self.anticipation
        return (cohorts == 0) | ((cohorts > thresh) & (cohorts != g))

    def _no_controls(self, g, tn):
        what = "never-treated" if self.control == "never" else "never- or not-yet-treated"
        return EstimationError(
            f"no {what} comparison units for cohort g={_label(g)} in period t={_label(tn)}"
        )

    def _compact(self, y, coh_idx, cohorts, cells):
        n, n_t = y.shape
        n_coh = len(cohorts)
        counts = np.bincount(coh_idx, minlength=n_coh)
        order = np.argsort(coh_idx, kind="stable")
        bounds = np.r_[0, np.cumsum(counts)]
        means = np.zeros((n_coh, n_t))
        grams = np.zeros((n_coh, n_t, n_t))
        for c in range(n_coh):
            block = y[order[bounds[c] : bounds[c + 1]]]
            if len(block):
                mu = block.mean(axis=0)
                centred = block - mu
                means[c] = mu
                grams[c] = centred.T @ centred
        periods = self._tl
        k = len(cells["group"])
        scale = np.zeros((k, n_coh))
        kappa = np.zeros((k, n_coh))
        diff = np.zeros((k, n_t))
        att = np.zeros(k)
        n_tr = np.zeros(k, dtype=int)
        n_ct = np.zeros(k, dtype=int)
        for j, (g, tn, b) in enumerate(
            zip(cells["group"], cells["time"], cells["base"], strict=True)
        ):
            ti, bi = np.searchsorted(periods, tn), np.searchsorted(periods, b)
            gi = np.searchsorted(cohorts, g)
            ctrl = self._control_cohorts(cohorts, g, tn, b)
            nc = counts[ctrl].sum()
            if nc == 0:
                raise self._no_controls(g, tn)
            dmu = means[:, ti] - means[:, bi]
            m_t = dmu[gi]
            m_c = (counts[ctrl] * dmu[ctrl]).sum() / nc
            att[j] = m_t - m_c
            diff[j, ti] += 1.0
            diff[j, bi] -= 1.0
            scale[j, gi] = n / counts[gi]
            scale[j, ctrl] = -n / nc
            kappa[j, ctrl] = -n / nc * (dmu[ctrl] - m_c)
            n_tr[j], n_ct[j] = counts[gi], nc
        inf = CompactInfluence(
            n=n,
            counts=counts,
            centred_gram=grams,
            scale=scale,
            kappa=kappa,
            diff=diff,
            means=means,
        )
        return att, inf, n_tr, n_ct

    def _covariates_by_period(self, df, pan, tlist):
        """(T, n, k) covariates per period, aligned with the panel's unit order."""
        uid = pd.Index(pan.unit_ids).get_indexer(df[self.unit])
        tid = np.searchsorted(tlist, numeric_column(df, self.time))
        x = np.column_stack([numeric_column(df, c) for c in self.covariates])
        out = np.empty((len(tlist), len(pan.unit_ids), x.shape[1]))
        out[tid, uid] = x
        return out

    def _estimate_cell(self, fn, g, tn, b, n_t, n_c, *args):
        try:
            return fn(*args, self.method)
        except _kernels.SingularDesign as err:
            raise _kernels.SingularDesign(
                f"cell ATT(g={_label(g)}, t={_label(tn)}) with base period {_label(b)} "
                f"({n_t} treated, {n_c} comparison units): {err}; covariates "
                f"{self.covariates}"
            ) from None

    def _warn_single_treated_cluster(self, df: pd.DataFrame, g_row: np.ndarray) -> None:
        """Warn for cohorts whose treated units all lie in one cluster (one unit without
        cluster=): their ATT(g,t) compares one treated cluster with the controls, and a
        cluster-robust standard error cannot measure the variation between treated clusters
        from a single one. The warning (:class:`SingleTreatedClusterWarning`) names those
        cohorts in ``cohorts``, for a caller that leaves their intervals out."""
        col = self.cluster if self.cluster is not None else self.unit
        treated = g_row > 0
        if col is None or not treated.any():
            return
        codes = pd.factorize(df[col].to_numpy()[treated])[0].astype(np.int64)
        coh, coh_vals = pd.factorize(g_row[treated], sort=True)
        pairs = pd.unique(coh.astype(np.int64) * (int(codes.max()) + 1) + codes)
        n_per = np.bincount(pairs // (int(codes.max()) + 1), minlength=len(coh_vals))
        single = np.asarray(coh_vals)[n_per == 1]
        if not len(single):
            return
        cohorts = ", ".join(str(_label(v)) for v in single)
        if self.cluster is not None:
            en_what = f"lie in a single cluster of '{self.cluster}'"
            nl_what = f"liggen in één cluster van '{self.cluster}'"
        else:
            en_what = "are a single unit"
            nl_what = "zijn één eenheid"
        warning = SingleTreatedClusterWarning(
            f"the treated of cohort(s) {cohorts} {en_what}: their ATT(g,t) rests on one treated "
            "cluster, and a cluster-robust standard error cannot be estimated from one treated "
            "cluster (it is not usable, usually far too small); report these estimates "
            "without a confidence interval, or use a design-based method (e.g. synthetic "
            "control or permutation inference)",
            f"de behandelden van cohort(en) {cohorts} {nl_what}: hun ATT(g,t) rust op één "
            "behandeld cluster, en een clustergecorrigeerde standaardfout is met één "
            "behandeld cluster niet te schatten (onbruikbaar, meestal veel te klein); "
            "rapporteer deze schattingen zonder betrouwbaarheidsinterval, of gebruik een "
            "methode als synthetische controle of een permutatietoets",
            cohorts=tuple(_label(v) for v in single),
        )
        warnings.warn(warning, stacklevel=3)

    def _dense_panel(self, y, coh_idx, cohorts, cells, xper, cluster):
        n = y.shape[0]
        periods = self._tl
        k = len(cells["group"])
        mat = np.zeros((n, k))
        att = np.zeros(k)
        n_tr = np.zeros(k, dtype=int)
        n_ct = np.zeros(k, dtype=int)
        ones = np.ones((n, 1))
        for j, (g, tn, b) in enumerate(
            zip(cells["group"], cells["time"], cells["base"], strict=True)
        ):
            ti, bi = np.searchsorted(periods, tn), np.searchsorted(periods, b)
            gi = np.searchsorted(cohorts, g)
            ctrl_c = self._control_cohorts(cohorts, g, tn, b)
            is_t = coh_idx == gi
            is_c = ctrl_c[coh_idx]
            if not is_c.any():
                raise self._no_controls(g, tn)
            mask = is_t | is_c
            dy = y[mask, ti] - y[mask, bi]
            d = is_t[mask].astype(float)
            x = ones[mask] if xper is None else np.column_stack([ones[mask], xper[bi][mask]])
            a, inf = self._estimate_cell(
                _kernels.panel_2x2, g, tn, b, int(d.sum()), int((1 - d).sum()), dy, d, x
            )
            att[j] = a
            mat[mask, j] = n / mask.sum() * inf
            n_tr[j], n_ct[j] = int(d.sum()), int((1 - d).sum())
        return (
            att,
            DenseInfluence(n=n, matrix=mat, cohort_of_unit=coh_idx, cluster=cluster),
            n_tr,
            n_ct,
        )

    def _dense_rc(self, df, g_row, t_row, cells):
        y = numeric_column(df, self.outcome)
        cohorts = unique_sorted(g_row)
        coh_row = np.searchsorted(cohorts, g_row)
        xs = (
            np.column_stack([np.ones(len(y))] + [numeric_column(df, c) for c in self.covariates])
            if self.covariates
            else np.ones((len(y), 1))
        )
        if self.panel:  # unbalanced panel: unit-level influence functions
            uid, _ = pd.factorize(df[self.unit], sort=False)
            n = int(uid.max()) + 1
            lo = np.full(n, np.inf)
            hi = np.full(n, -np.inf)
            np.minimum.at(lo, uid, g_row)
            np.maximum.at(hi, uid, g_row)
            if (lo != hi).any():
                raise EstimationError("the group (first treated period) varies within units")
            unit_coh = np.zeros(n, dtype=int)
            unit_coh[uid] = coh_row
        else:
            uid = np.arange(len(y))
            n = len(y)
            unit_coh = coh_row
        cl = None
        if self.cluster is not None:
            codes = cluster_column(df, self.cluster, "CallawaySantAnna")
            cl = np.zeros(n, dtype=int)
            cl[uid] = codes
        k = len(cells["group"])
        mat = np.zeros((n, k))
        att = np.zeros(k)
        n_tr = np.zeros(k, dtype=int)
        n_ct = np.zeros(k, dtype=int)
        for j, (g, tn, b) in enumerate(
            zip(cells["group"], cells["time"], cells["base"], strict=True)
        ):
            ctrl_c = self._control_cohorts(cohorts, g, tn, b)
            gi = np.searchsorted(cohorts, g)
            in_t = (t_row == tn) | (t_row == b)
            is_t = coh_row == gi
            sel = in_t & (is_t | ctrl_c[coh_row])
            d = is_t[sel].astype(float)
            post = (t_row[sel] == tn).astype(float)
            if not ((d * post).any() and (d * (1 - post)).any()):
                raise EstimationError(
                    f"cohort g={_label(g)} has no observations in period {_label(tn)} or "
                    f"{_label(b)}"
                )
            if not (((1 - d) * post).any() and ((1 - d) * (1 - post)).any()):
                raise self._no_controls(g, tn)
            a, inf = self._estimate_cell(
                _kernels.rc_2x2,
                g,
                tn,
                b,
                int(d.sum()),
                int((1 - d).sum()),
                y[sel],
                post,
                d,
                xs[sel],
            )
            att[j] = a
            col = np.zeros(n)
            np.add.at(col, uid[sel], n / sel.sum() * inf)
            mat[:, j] = col
            n_tr[j], n_ct[j] = int(d.sum()), int((1 - d).sum())
        infl = DenseInfluence(n=n, matrix=mat, cohort_of_unit=unit_coh, cluster=cl)
        return att, infl, n_tr, n_ct, unit_coh, cohorts
