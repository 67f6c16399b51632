"""Kaplan–Meier, Nelson–Aalen and Aalen–Johansen curves, log-rank tests and risk tables.

All curves allow delayed entry (left truncation: a stock sample enters at its elapsed
duration) and right censoring; risk sets are ``entry < t <= duration``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.results.base import EstimationResult
from werkeffect.survival._checks import (
    cause_column,
    check_immortal_time,
    event_column,
    numeric_column,
    require_columns,
    time_columns,
)

DEFAULT_TIMES = (6.0, 12.0, 24.0)


# ----------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------
def _km_fast(stop: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, ...]:
    """KM without entry or weights: a single float sort of a packed key.

    The censoring flag is stored in the last mantissa bit of the (non-negative) duration, so
    one ``np.sort`` of float64 orders rows by time with events before censorings at ties.
    Durations that differ only in that last bit (a relative difference of 2e-16) count as
    tied; the reported times have that bit cleared.
    """
    one = np.uint64(1)
    key = stop.astype(np.float64)  # copy
    bits = key.view(np.uint64)
    bits &= ~one
    np.bitwise_or(bits, np.logical_not(event).view(np.uint8), out=bits)
    key.sort()
    is_event = np.bitwise_and(bits, one) == 0
    bits &= ~one  # key now holds the times
    n = key.shape[0]
    ev_pos = np.flatnonzero(is_event)
    if ev_pos.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    te = key[ev_pos]
    new = np.empty(te.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(te[1:], te[:-1], out=new[1:])
    g = np.flatnonzero(new)  # first event of each distinct event time
    times = te[g]
    # events sort before censorings at a tie, so the first event of a time is the first row
    # with that time: the number at risk is everything from there on
    y = (n - ev_pos[g]).astype(float)
    d = np.diff(g, append=te.shape[0]).astype(float)
    return times, y, d


def _event_tables(
    stop: np.ndarray,
    status: np.ndarray,
    entry: np.ndarray | None,
    weights: np.ndarray | None,
    n_causes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct event times, (weighted) number at risk and events per cause (K, n_causes)."""
    ev = status > 0
    times = np.unique(stop[ev])
    w = np.ones(stop.shape[0]) if weights is None else weights
    j = np.searchsorted(times, stop[ev])
    D = np.zeros((times.shape[0], n_causes))
    for k in range(1, n_causes + 1):
        sel = status[ev] == k
        D[:, k - 1] = np.bincount(j[sel], weights=w[ev][sel], minlength=times.shape[0])
    Y = _at_risk(stop, entry, w, times)
    return times, Y, D


def _at_risk(
    stop: np.ndarray, entry: np.ndarray | None, w: np.ndarray | None, at: np.ndarray
) -> np.ndarray:
    """Weighted number with ``entry < t <= stop`` at each ``t`` in ``at``."""
    if w is None:
        w = np.ones(stop.shape[0])
    o = np.argsort(stop, kind="stable")
    s_sorted, cw = stop[o], np.concatenate(([0.0], np.cumsum(w[o])))
    tot = cw[-1]
    Y = tot - cw[np.searchsorted(s_sorted, at, side="left")]  # stop >= t
    if entry is not None:
        o2 = np.argsort(entry, kind="stable")
        e_sorted, cw2 = entry[o2], np.concatenate(([0.0], np.cumsum(w[o2])))
        Y -= cw2[-1] - cw2[np.searchsorted(e_sorted, at, side="left")]  # entry >= t
    return Y


def _km_from_tables(
    times: np.ndarray, Y: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Survival and Greenwood variance of log S at each event time (few in-place passes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = d / Y
        S = np.subtract(1.0, q)
        np.cumprod(S, out=S)
        rest = Y - d  # Greenwood term d / (Y (Y - d)) = q / (Y - d); infinite once S hits 0
        np.divide(q, rest, out=q)
        np.cumsum(q, out=q)
    return S, q


def _km_left_limit(
    stop: np.ndarray, event: np.ndarray, entry: np.ndarray | None, at: np.ndarray
) -> np.ndarray:
    """Kaplan–Meier just before each time in ``at`` (S(t-))."""
    times, Y, D = _event_tables(stop, event.astype(np.int64), entry, None, 1)
    S, _ = _km_from_tables(times, Y, D[:, 0])
    idx = np.searchsorted(times, at, side="left")
    return np.concatenate(([1.0], S))[idx]


def _step_at(times: np.ndarray, values: np.ndarray, at: np.ndarray, start: float) -> np.ndarray:
    """Right-continuous step function evaluated at ``at`` (``start`` before the first time)."""
    idx = np.searchsorted(times, at, side="right")
    return np.concatenate(([start], values))[idx]


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, got {level}")
    return float(stats.norm.ppf(0.5 + level / 2))


def _surv_ci(
    S: np.ndarray, var_log: np.ndarray, level: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    z = _z(level)
    se_log = np.sqrt(var_log)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log-log":
            lS = np.log(S)
            theta = np.log(-lS)
            se_t = se_log / np.abs(lS)
            lower = np.exp(-np.exp(theta + z * se_t))
            upper = np.exp(-np.exp(theta - z * se_t))
            lower = np.where(S >= 1, np.nan, lower)
            upper = np.where(S >= 1, np.nan, upper)
        elif conf_type == "log":
            lower = S * np.exp(-z * se_log)
            upper = np.minimum(S * np.exp(z * se_log), 1.0)
        elif conf_type == "plain":
            lower = np.maximum(S - z * S * se_log, 0.0)
            upper = np.minimum(S + z * S * se_log, 1.0)
        else:
            raise ValueError("conf_type must be 'log-log', 'log' or 'plain'")
    lower = np.where(S <= 0, 0.0, lower)
    return lower, upper


def _group_codes(df: pd.DataFrame, group: str | None, what: str) -> tuple[np.ndarray, list]:
    if group is None:
        return np.zeros(len(df), dtype=np.int64), ["all"]
    s = df[group]
    if s.isna().any():
        raise EstimationError(f"{what}: group column {group!r} has {int(s.isna().sum())} missing")
    if isinstance(s.dtype, pd.CategoricalDtype):
        counts = s.value_counts()
        empty = [c for c in s.cat.categories if counts.get(c, 0) == 0]
        if empty:
            raise EstimationError(
                f"{what}: group(s) {empty} of {group!r} have no one at risk (no rows); drop "
                "unused categories (Series.cat.remove_unused_categories()) or choose other groups"
            )
    codes, uniq = pd.factorize(s, sort=True)
    return codes.astype(np.int64), [v.item() if isinstance(v, np.generic) else v for v in uniq]


def risk_table(
    df: pd.DataFrame,
    duration: str,
    times: Sequence[float],
    entry: str | None = None,
    group: str | None = None,
    event: str | None = None,
) -> pd.DataFrame:
    """Number at risk (``entry < t <= duration``) at each time, per group (rows: groups)."""
    require_columns(df, [duration, entry, group, event], "risk_table")
    stop, start = time_columns(df, duration, entry, "risk_table")
    codes, labels = _group_codes(df, group, "risk_table")
    at = np.asarray(times, dtype=float)
    out = {}
    for g, lab in enumerate(labels):
        m = codes == g
        out[lab] = _at_risk(stop[m], None if start is None else start[m], None, at)
    tab = pd.DataFrame(out, index=at).T.astype(int)
    tab.index.name = group or "group"
    tab.columns.name = "time"
    return tab


def _set_curve_inputs(
    est: Any,
    df: pd.DataFrame,
    duration: str,
    entry: str | None,
    group: str | None,
    weights: str | None,
    treatment_start: str | None | bool,
    what: str,
) -> None:
    """The validated inputs every curve estimator (Kaplan–Meier, Aalen–Johansen) holds:
    times, weights and group codes, and the immortal-time check of a group column."""
    est.df, est.duration, est.entry, est.group = df, duration, entry, group
    est._stop, est._start = time_columns(df, duration, entry, what)
    est._w = None if weights is None else numeric_column(df, weights, what)
    est._codes, est._labels = _group_codes(df, group, what)
    if group is not None:
        check_immortal_time(df, [group], treatment_start, est._start, what)


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SurvivalCurveResult(EstimationResult):
    """Curves (one per group) plus summary points in ``params``.

    ``curves`` (``self.extra["curves"]``) is a tidy DataFrame with ``group, time, n_at_risk,
    n_events, estimate, std_error, lower, upper``.
    """

    @property
    def curves(self) -> pd.DataFrame:
        return self.extra["curves"]

    @property
    def groups(self) -> list:
        return list(self.extra["groups"])

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        fn = self.extra.get("_ci_at_level")
        if fn is None or np.isclose(level, self.interval_level):
            return super().conf_int(level)
        return fn(level)

    def at(self, times: Sequence[float], group: Any = None) -> pd.DataFrame:
        """Curve value, standard error and interval at arbitrary times (step function)."""
        c = self.curves
        if group is not None:
            c = c[c["group"] == group]
        elif len(self.groups) > 1:
            raise ValueError("several groups: pass group=")
        at = np.asarray(times, dtype=float)
        start = self.extra["start_value"]
        t = c["time"].to_numpy()
        out = {"time": at}
        for col, s0 in (
            ("estimate", start),
            ("std_error", 0.0),
            ("lower", start),
            ("upper", start),
        ):
            out[col] = _step_at(t, c[col].to_numpy(), at, s0)
        return pd.DataFrame(out)

    def risk_table(self, times: Sequence[float]) -> pd.DataFrame:
        return self.extra["_risk_table"](times)

    def median(self) -> pd.Series:
        """Median time (first time the survival curve is at or below 0.5), per group."""
        out = {}
        for g in self.groups:
            c = self.curves[self.curves["group"] == g]
            below = c["time"][c["estimate"] <= 0.5]
            out[g] = float(below.iloc[0]) if len(below) else np.nan
        return pd.Series(out, name="median")

    def plot(
        self,
        ax=None,
        level: float = 0.95,
        risk_times: Sequence[float] | None = None,
        xlabel: str = "months on benefit",
        ylabel: str | None = None,
        colors: Sequence[str] | None = None,
        xlim: tuple[float, float] | None = None,
        labels: Mapping | None = None,
        title: str | None = None,
        risk_title: str = "number at risk",
        lang: str = "en",
    ):
        """Step curves with confidence bands and a risk table underneath; ``xlim``,
        ``labels``, ``title``, ``risk_title`` and ``lang`` as in
        :func:`werkeffect.survival.plotting.plot_curves`."""
        from werkeffect.survival.plotting import plot_curves

        return plot_curves(
            self,
            ax=ax,
            level=level,
            risk_times=risk_times,
            xlabel=xlabel,
            ylabel=ylabel or self.extra.get("ylabel", ""),
            colors=colors,
            xlim=xlim,
            labels=labels,
            title=title,
            risk_title=risk_title,
            lang=lang,
        )


def _points_index(times: Sequence[float], groups: list, prefix: str, group: str | None) -> list:
    idx = []
    for g in groups:
        for t in times:
            lab = f"{prefix}({t:g})"
            idx.append(lab if group is None else f"{lab}[{group}={g}]")
    return idx


# ----------------------------------------------------------------------------------------
# Kaplan–Meier and Nelson–Aalen
# ----------------------------------------------------------------------------------------
class KaplanMeier:
    """Kaplan–Meier estimate of the probability of still being on benefit, by group.

    Estimand: ``S(t) = P(T > t)`` (with ``entry``: conditional on being at risk at the entry
    time, i.e. the product-limit estimator with delayed entry). Greenwood standard errors;
    intervals on the log-log scale by default (``conf_type="log"`` as R's survfit default,
    or ``"plain"``). Assumes independent censoring and (with entry) independent truncation.

    ``params`` hold ``S(t)`` at ``times`` (default 6, 12 and 24 months) per group.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        duration: str,
        event: str,
        entry: str | None = None,
        group: str | None = None,
        weights: str | None = None,
        treatment_start: str | None | bool = None,
    ) -> None:
        what = "KaplanMeier"
        require_columns(df, [duration, event, entry, group, weights], what)
        self.event = event
        self._event = event_column(df, event, what)
        _set_curve_inputs(self, df, duration, entry, group, weights, treatment_start, what)

    def fit(
        self,
        times: Sequence[float] = DEFAULT_TIMES,
        level: float = 0.95,
        conf_type: str = "log-log",
    ) -> SurvivalCurveResult:
        what = "KaplanMeier"
        if not self._event.any():
            raise EstimationError(f"{what}: no events in column {self.event!r}")
        frames = []
        pts, pse, plo, pup = [], [], [], []
        for g, lab in enumerate(self._labels):
            m = self._codes == g if len(self._labels) > 1 else slice(None)
            stop, ev = self._stop[m], self._event[m]
            entry = None if self._start is None else self._start[m]
            w = None if self._w is None else self._w[m]
            if entry is None and w is None:
                if not ev.any():
                    t, Y, d = np.zeros(0), np.zeros(0), np.zeros(0)
                else:
                    t, Y, d = _km_fast(stop, ev)
            else:
                t, Y, D = _event_tables(stop, ev.astype(np.int64), entry, w, 1)
                d = D[:, 0]
            if np.any(Y <= 0):
                raise EstimationError(f"{what}: group {lab!r} has event times with no one at risk")
            S, gw = _km_from_tables(t, Y, d)
            lo, up = _surv_ci(S, gw, level, conf_type)
            # Greenwood's variance is infinite once S reaches 0; its error is undefined there
            # (NaN, as in R's survfit), not 0 * inf
            with np.errstate(invalid="ignore"):
                se = np.where(S > 0, S * np.sqrt(gw), np.nan)
            frames.append(
                pd.DataFrame(
                    {
                        "group": lab,
                        "time": t,
                        "n_at_risk": Y,
                        "n_events": d,
                        "estimate": S,
                        "std_error": se,
                        "lower": lo,
                        "upper": up,
                        "_var_log": gw,
                    }
                )
            )
            at = np.asarray(times, float)
            s_at = _step_at(t, S, at, 1.0)
            v_at = _step_at(t, gw, at, 0.0)
            l_at, u_at = _surv_ci(s_at, v_at, level, conf_type)
            l_at = np.where(v_at == 0, np.nan, l_at)
            pts += list(s_at)
            with np.errstate(invalid="ignore"):
                pse += list(np.where(s_at > 0, s_at * np.sqrt(v_at), np.nan))
            plo += list(l_at)
            pup += list(u_at)
        curves = pd.concat(frames, ignore_index=True)
        idx = _points_index(times, self._labels, "S", self.group)
        intervals = pd.DataFrame({"lower": plo, "upper": pup}, index=idx)

        def ci_at(lv: float) -> pd.DataFrame:
            res = self.fit(times=times, level=lv, conf_type=conf_type)
            return res.intervals

        n = {"n": len(self.df), "n_events": int(self._event.sum())}
        return SurvivalCurveResult(
            params=pd.Series(pts, index=idx),
            std_errors=pd.Series(pse, index=idx),
            method="Kaplan–Meier",
            estimand="probability of still being on benefit at t months (S(t))",
            n=n,
            assumptions=(
                "Independent (non-informative) censoring, e.g. at the extract date.",
                "With entry times: independent left truncation.",
            ),
            notes=(f"Greenwood standard errors, {conf_type} intervals.",),
            intervals=intervals,
            interval_level=level,
            extra={
                "curves": curves.drop(columns="_var_log"),
                "groups": self._labels,
                "group_name": self.group,
                "start_value": 1.0,
                "ylabel": "still on benefit",
                "_ci_at_level": ci_at,
                "_risk_table": lambda ts: risk_table(
                    self.df, self.duration, ts, self.entry, self.group
                ),
            },
        )


class NelsonAalen:
    """Nelson–Aalen cumulative hazard ``H(t) = sum d_j / Y_j`` with variance ``sum d_j / Y_j^2``."""

    def __init__(
        self,
        df: pd.DataFrame,
        duration: str,
        event: str,
        entry: str | None = None,
        group: str | None = None,
    ) -> None:
        what = "NelsonAalen"
        require_columns(df, [duration, event, entry, group], what)
        self.df, self.duration, self.entry, self.group = df, duration, entry, group
        self._stop, self._start = time_columns(df, duration, entry, what)
        self._event = event_column(df, event, what)
        self._codes, self._labels = _group_codes(df, group, what)

    def fit(self, times: Sequence[float] = DEFAULT_TIMES, level: float = 0.95):
        if not self._event.any():
            raise EstimationError("NelsonAalen: no events")
        z = _z(level)
        frames, pts, pse = [], [], []
        for g, lab in enumerate(self._labels):
            m = self._codes == g
            t, Y, D = _event_tables(
                self._stop[m],
                self._event[m].astype(np.int64),
                None if self._start is None else self._start[m],
                None,
                1,
            )
            H = np.cumsum(D[:, 0] / Y)
            V = np.cumsum(D[:, 0] / Y**2)
            se = np.sqrt(V)
            with np.errstate(divide="ignore", invalid="ignore"):
                lo = H * np.exp(-z * se / H)
                up = H * np.exp(z * se / H)
            frames.append(
                pd.DataFrame(
                    {
                        "group": lab,
                        "time": t,
                        "n_at_risk": Y,
                        "n_events": D[:, 0],
                        "estimate": H,
                        "std_error": se,
                        "lower": lo,
                        "upper": up,
                    }
                )
            )
            at = np.asarray(times, float)
            pts += list(_step_at(t, H, at, 0.0))
            pse += list(np.sqrt(_step_at(t, V, at, 0.0)))
        idx = _points_index(times, self._labels, "H", self.group)
        return SurvivalCurveResult(
            params=pd.Series(pts, index=idx),
            std_errors=pd.Series(pse, index=idx),
            method="Nelson–Aalen",
            estimand="cumulative hazard of leaving benefit H(t)",
            n={"n": len(self.df), "n_events": int(self._event.sum())},
            extra={
                "curves": pd.concat(frames, ignore_index=True),
                "groups": self._labels,
                "group_name": self.group,
                "start_value": 0.0,
                "ylabel": "cumulative hazard",
                "_risk_table": lambda ts: risk_table(
                    self.df, self.duration, ts, self.entry, self.group
                ),
            },
        )


# ----------------------------------------------------------------------------------------
# Aalen–Johansen
# ----------------------------------------------------------------------------------------
def _aalen_johansen(
    times: np.ndarray, Y: np.ndarray, D: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative incidence per cause and its variance as ``cmprsk::cuminc`` computes it.

    ``F_k(t) = sum_{t_j<=t} S(t_j-) d_kj / Y_j``. The variance is the delta-method (Aalen
    type) estimator with a hypergeometric tie correction, accumulated in three cumulative sums
    ``v1, v2, v3`` so that ``Var F_k(t) = v1 + F_k(t)^2 v3 - 2 F_k(t) v2``.
    """
    d = D.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        S = np.cumprod(1 - d / Y)
    S_minus = np.concatenate(([1.0], S[:-1]))
    F = np.cumsum(S_minus[:, None] * D / Y[:, None], axis=0)
    Yk = Y[:, None]
    Sk = S[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_S = np.where(Sk > 0, 1.0 / Sk, 0.0)

        def t6(nd):
            t5 = np.where(nd > 1, 1 - (nd - 1) / (Yk - 1), 1.0)
            return np.where(nd > 0, S_minus[:, None] ** 2 * t5 * nd / Yk**2, 0.0)

        other = d[:, None] - D
        t6o = np.where(Sk > 0, t6(other), 0.0)
        t6s = t6(D)
    t4 = 1 + inv_S * F
    v1 = np.cumsum((F * inv_S) ** 2 * t6o + t4**2 * t6s, axis=0)
    v2 = np.cumsum(F * inv_S**2 * t6o + inv_S * t4 * t6s, axis=0)
    v3 = np.cumsum(inv_S**2 * (t6o + t6s), axis=0)
    V = v1 + F**2 * v3 - 2 * F * v2
    return F, np.maximum(V, 0.0), S


class AalenJohansen:
    """Aalen–Johansen cumulative incidence of each competing exit (cause 0 = censored).

    Estimand: ``F_k(t) = P(T <= t, cause = k)`` — the probability of having left benefit by
    exit type ``k`` by ``t`` months, accounting for the other exits (1 − KM of one cause
    overstates it). Variance as in ``cmprsk::cuminc``; intervals on the log(−log(1−F)) scale
    (``conf_type="cloglog"``, as cuminc's print) or ``"plain"``.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        duration: str,
        cause: str,
        entry: str | None = None,
        group: str | None = None,
        weights: str | None = None,
        treatment_start: str | None | bool = None,
    ) -> None:
        what = "AalenJohansen"
        require_columns(df, [duration, cause, entry, group, weights], what)
        self.cause = cause
        self._cause = cause_column(df, cause, what)
        _set_curve_inputs(self, df, duration, entry, group, weights, treatment_start, what)
        self.causes = sorted(int(c) for c in np.unique(self._cause) if c > 0)

    def fit(
        self,
        times: Sequence[float] = DEFAULT_TIMES,
        level: float = 0.95,
        conf_type: str = "cloglog",
        cause_of_interest: int | None = None,
    ) -> SurvivalCurveResult:
        what = "AalenJohansen"
        if not self.causes:
            raise EstimationError(f"{what}: no events (all causes are 0 = censored)")
        z = _z(level)
        causes = self.causes
        K = max(causes)
        frames, pts, pse, plo, pup, idx = [], [], [], [], [], []
        for g, lab in enumerate(self._labels):
            m = self._codes == g
            t, Y, D = _event_tables(
                self._stop[m],
                self._cause[m],
                None if self._start is None else self._start[m],
                None if self._w is None else self._w[m],
                K,
            )
            if np.any(Y <= 0):
                raise EstimationError(f"{what}: group {lab!r} has event times with no one at risk")
            F, V, _ = _aalen_johansen(t, Y, D)
            for k in causes:
                f, v = F[:, k - 1], V[:, k - 1]
                lo, up = _cif_ci(f, v, z, conf_type)
                frames.append(
                    pd.DataFrame(
                        {
                            "group": lab,
                            "cause": k,
                            "time": t,
                            "n_at_risk": Y,
                            "n_events": D[:, k - 1],
                            "estimate": f,
                            "std_error": np.sqrt(v),
                            "lower": lo,
                            "upper": up,
                        }
                    )
                )
                at = np.asarray(times, float)
                f_at = _step_at(t, f, at, 0.0)
                v_at = _step_at(t, v, at, 0.0)
                l_at, u_at = _cif_ci(f_at, v_at, z, conf_type)
                pts += list(f_at)
                pse += list(np.sqrt(v_at))
                plo += list(l_at)
                pup += list(u_at)
                for tt in times:
                    name = f"F{k}({tt:g})"
                    idx.append(name if self.group is None else f"{name}[{self.group}={lab}]")
        curves = pd.concat(frames, ignore_index=True)
        intervals = pd.DataFrame({"lower": plo, "upper": pup}, index=idx)
        res = SurvivalCurveResult(
            params=pd.Series(pts, index=idx),
            std_errors=pd.Series(pse, index=idx),
            method="Aalen–Johansen",
            estimand="cumulative incidence of each exit type by t months (F_k(t))",
            n={"n": len(self.df), "n_events": int((self._cause > 0).sum())},
            assumptions=(
                "Independent censoring; competing exits handled as competing, not censored.",
            ),
            intervals=intervals,
            interval_level=level,
            extra={
                "curves": curves,
                "groups": self._labels,
                "group_name": self.group,
                "causes": causes,
                "cause_of_interest": cause_of_interest,
                "start_value": 0.0,
                "ylabel": "cumulative incidence",
                "_risk_table": lambda ts: risk_table(
                    self.df, self.duration, ts, self.entry, self.group
                ),
            },
        )
        return res


def _cif_ci(f: np.ndarray, v: np.ndarray, z: float, conf_type: str):
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "cloglog":
            lf = np.log(-np.log(1 - f))
            se = np.sqrt(v) / ((1 - f) * np.abs(np.log(1 - f)))
            lo = 1 - np.exp(-np.exp(lf - z * se))
            up = 1 - np.exp(-np.exp(lf + z * se))
            lo = np.where(f <= 0, 0.0, lo)
            up = np.where(f <= 0, 0.0, up)
        elif conf_type == "plain":
            lo = np.maximum(f - z * np.sqrt(v), 0)
            up = np.minimum(f + z * np.sqrt(v), 1)
        else:
            raise ValueError("conf_type must be 'cloglog' or 'plain'")
    return lo, up


# ----------------------------------------------------------------------------------------
# log-rank test
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRankResult:
    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame  # per group: n, observed, expected

    def __str__(self) -> str:
        return (
            f"Log-rank test: chi2 = {self.statistic:.4f} on {self.df} df, p = {self.p_value:.4g}\n"
            + self.table.to_string()
        )


def logrank_test(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    entry: str | None = None,
    strata: str | Sequence[str] | None = None,
) -> LogRankResult:
    """(Stratified) log-rank test of equal hazards across groups (R ``survdiff``).

    Observed minus expected events per group, summed over strata, with the hypergeometric
    variance; chi-square on (groups − 1) degrees of freedom. Risk sets ``entry < t <= duration``.
    """
    what = "logrank_test"
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    require_columns(df, [duration, event, group, entry, *strata_cols], what)
    stop, start = time_columns(df, duration, entry, what)
    ev = event_column(df, event, what)
    codes, labels = _group_codes(df, group, what)
    G = len(labels)
    if G < 2:
        raise EstimationError(f"{what}: group column {group!r} has a single value")
    if not ev.any():
        raise EstimationError(f"{what}: no events")
    if strata_cols:
        grouped = df.groupby(strata_cols, sort=True, dropna=False)
        scode = grouped.ngroup().to_numpy()
        slabels = [
            "|".join(map(str, k if isinstance(k, tuple) else (k,))) for k in grouped.size().index
        ]
    else:
        scode, slabels = np.zeros(len(df), dtype=np.int64), ["all"]
    O = np.zeros(G)
    E = np.zeros(G)
    V = np.zeros((G, G))
    for s in range(len(slabels)):
        ms = scode == s
        if not ev[ms].any():
            continue
        times = np.unique(stop[ms & ev])
        Yg = np.empty((times.shape[0], G))
        Dg = np.empty((times.shape[0], G))
        for g in range(G):
            m = ms & (codes == g)
            Yg[:, g] = _at_risk(stop[m], None if start is None else start[m], None, times)
            j = np.searchsorted(times, stop[m & ev])
            Dg[:, g] = np.bincount(j, minlength=times.shape[0])
        never = np.flatnonzero(Yg.sum(axis=0) == 0)
        if never.size:
            groups = [labels[g] for g in never]
            warn_estimation(
                f"{what}: group(s) {groups} have no one at risk in stratum {slabels[s]!r}; that "
                "stratum contributes nothing to the comparison",
                f"{what}: groep(en) {groups} hebben niemand in de risicoset in stratum "
                f"{slabels[s]!r}; dat stratum draagt niets bij aan de vergelijking",
                stacklevel=2,
            )
        Y = Yg.sum(1)
        d = Dg.sum(1)
        O += Dg.sum(0)
        E += (d[:, None] * Yg / Y[:, None]).sum(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(Y > 1, d * (Y - d) / (Y - 1), 0.0) / Y
        P = Yg / Y[:, None]
        V += np.diag((f[:, None] * Yg).sum(0)) - np.einsum("j,jg,jh->gh", f, Yg, P)
    oe = (O - E)[:-1]
    stat = float(oe @ np.linalg.solve(V[:-1, :-1], oe))
    table = pd.DataFrame({"n": np.bincount(codes, minlength=G), "observed": O, "expected": E})
    table.index = pd.Index(labels, name=group)
    return LogRankResult(stat, G - 1, float(stats.chi2.sf(stat, G - 1)), table)
