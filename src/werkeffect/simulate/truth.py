"""True effects from potential outcomes (common random numbers, uncensored).

Every treated spell is simulated again without the programme (and, for the Sianesi
estimand, with the programme start postponed by the normal entry process) using the very same
random numbers; the difference of the two outcomes is the individual effect. Outcomes are
followed beyond the extract date (up to ``horizon_months`` after it), so no estimand is
censored. Definitions: ``docs/simulator.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from werkeffect.simulate.engine import exit_times, start_times
from werkeffect.simulate.jobs import employed_at, jobs_of, ladder_of
from werkeffect.simulate.params import DAYS_PER_MONTH
from werkeffect.simulate.spells import Context


@dataclass
class Truth:
    """True values of the estimands (``values``) and the parameters that produced them."""

    values: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def to_json(self, include_params: bool = False) -> str:
        """JSON with sorted keys and shortest round-trip floats (NaN → null)."""
        obj: Any = _clean(self.values)
        if include_params:
            obj = {"values": obj, "params": _clean(self.params)}
        return json.dumps(obj, sort_keys=True, indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Truth:
        obj = json.loads(text)
        if "values" in obj and isinstance(obj["values"], dict):
            return cls({k: _nan(v) for k, v in obj["values"].items()}, obj.get("params", {}))
        return cls({k: _nan(v) for k, v in obj.items()})


def _nan(v):
    return float("nan") if v is None else float(v)


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def jobcoaching_truth(ctx: Context, sp: dict) -> tuple[dict[str, float], dict[str, int]]:
    p, st = ctx.p, ctx.streams
    U = sp["U"]
    start_cal = sp["t0"] + U
    tr = np.isfinite(U) & (start_cal >= ctx.month_window) & (start_cal < ctx.month_extract)
    tr &= ctx.pop.municipality[sp["pos"]] == 0
    out: dict[str, float] = {}
    counts: dict[str, int] = {"jobcoaching.n_treated_spells": int(tr.sum())}
    brk, val = p.effect_schedule()
    # exposure-weighted log hazard ratio over treated time at risk before the extract date
    Ti, Ui = sp["T"][tr], U[tr]
    stop = np.minimum(Ti, ctx.month_extract - sp["t0"][tr]) - Ui
    ends = np.append(brk[1:], np.inf)
    w = np.array([np.clip(stop - b, 0, e - b).sum() for b, e in zip(brk, ends, strict=True)])
    lhr = float(np.sum(w * val) / w.sum()) if w.sum() > 0 else float(val[0])
    if len(val) == 1:
        lhr = float(val[0])
    out["jobcoaching.log_hazard_ratio"] = lhr
    out["jobcoaching.hazard_ratio"] = math.exp(lhr)
    if not tr.any():
        return out, counts
    pos, rnd, t0 = sp["pos"][tr], sp["rnd"][tr], sp["t0"][tr]
    P = sp["P"][tr]
    pid = pos.astype(np.int64)
    s = ctx.spell_setup(pos, t0)
    E = st.exponential("exit_E", pid, rnd)
    uc = st.uniform("exit_cause", pid, rnd)
    n = pos.shape[0]
    T1, c1 = sp["T"][tr], sp["cause"][tr]
    T0, c0 = exit_times(ctx.exit_model, t0, s["tmax"], s["aow"], s["a"], np.full(n, np.inf), P,
                        E, uc)  # fmt: skip
    u = Ui
    for h in (6, 12, 24):
        y1 = (c1 == 1) & (T1 <= u + h)
        y0 = (c0 == 1) & (T0 <= u + h)
        out[f"jobcoaching.att_exit_work_{h}m"] = float(np.mean(y1.astype(float) - y0))
    y1_12 = (c1 == 1) & (T1 <= u + 12)
    y0_12 = (c0 == 1) & (T0 <= u + 12)
    # Sianesi: not treated in month floor(U); the normal entry process continues afterwards
    Es = st.exponential("sianesi_E", pid, rnd)
    Us = start_times(ctx.base_jobcoaching, ctx.cal_jobcoaching, t0, np.floor(u) + 1,
                     np.minimum(T0, s["tmax"]), s["aj"], Es)  # fmt: skip
    Ts, cs = exit_times(ctx.exit_model, t0, s["tmax"], s["aow"], s["a"], Us, P, E, uc)
    ys_12 = (cs == 1) & (Ts <= u + 12)
    obs_any = np.zeros(n, dtype=bool)
    for uu in p.truth_u:
        sel = (u >= uu) & (u < uu + 1)
        counts[f"jobcoaching.n_treated_u{uu}"] = int(sel.sum())
        out[f"jobcoaching.att_u12.u{uu}"] = (
            float(np.mean(y1_12[sel].astype(float) - y0_12[sel])) if sel.any() else float("nan")
        )
        out[f"jobcoaching.att_u12_sianesi.u{uu}"] = (
            float(np.mean(y1_12[sel].astype(float) - ys_12[sel])) if sel.any() else float("nan")
        )
        # the starters an analysis with complete follow-up can see: month u of the spell lies
        # in the window and month u + 1 + 12 before the extract date
        obs = sel & (t0 + uu >= ctx.month_window) & (t0 + uu + 1 + 12 <= ctx.month_extract)
        counts[f"jobcoaching.n_treated_u{uu}_observed"] = int(obs.sum())
        out[f"jobcoaching.att_u12_sianesi_observed.u{uu}"] = (
            float(np.mean(y1_12[obs].astype(float) - ys_12[obs])) if obs.any() else float("nan")
        )
        obs_any |= obs
    # the same over all starters in those months: the treated-weighted mean over u
    out["jobcoaching.att_u12_sianesi_observed.pooled"] = (
        float(np.mean(y1_12[obs_any].astype(float) - ys_12[obs_any]))
        if obs_any.any()
        else float("nan")
    )
    # durable exit: exit to work within 12 months and no return within 12 months after it
    R1 = sp["R"][tr]
    exit0 = t0 + T0
    w0 = c0 == 1
    R0 = np.full(n, np.inf)
    if w0.any():
        nz0 = st.uniform("nazorg_draw", pid[w0], rnd[w0]) < ctx.nazorg_prob(
            pos[w0], exit0[w0], np.zeros(int(w0.sum()), bool)
        )
        R0[w0] = ctx.return_times(pid[w0], rnd[w0], exit0[w0], s["ar"][w0], nz0)
    d1 = y1_12 & (R1 > 12)
    d0 = y0_12 & (R0 > 12)
    out["jobcoaching.att_durable_12m"] = float(np.mean(d1.astype(float) - d0))
    return out, counts


def pilot_truth(ctx: Context, pilot) -> tuple[dict[str, float], dict[str, int]]:
    if pilot is None:
        return {}, {}
    j1 = jobs_of(ctx, pilot.treated_spells)
    j0 = jobs_of(ctx, pilot.untreated_spells)
    l1 = ladder_of(ctx, pilot.treated_spells)
    l0 = ladder_of(ctx, pilot.untreated_spells)
    out = {}
    for h in (12, 24):
        when = pilot.date + h
        e1 = employed_at(j1, pilot.pos, when)
        e0 = employed_at(j0, pilot.pos, when)
        out[f"pilot.att_employed_{h}m"] = float(np.mean(e1.astype(float) - e0))
        out[f"pilot.employed_{h}m_treated"] = float(np.mean(e1))
        out[f"pilot.employed_{h}m_untreated"] = float(np.mean(e0))
        b1 = _on_benefit_at(pilot.treated_spells, pilot.pos, when)
        b0 = _on_benefit_at(pilot.untreated_spells, pilot.pos, when)
        out[f"pilot.att_benefit_exit_{h}m"] = float(np.mean(b0.astype(float) - b1))
        out[f"pilot.off_benefit_{h}m_treated"] = float(np.mean(~b1))
        s1 = _ladder_at(l1, pilot.pos, when)
        s0 = _ladder_at(l0, pilot.pos, when)
        out[f"pilot.att_ladder_step_{h}m"] = float(np.mean(s1 - s0))
    return out, {"pilot.n_participants": int(pilot.pos.shape[0])}


def _on_benefit_at(sp: dict, pos: np.ndarray, when: np.ndarray) -> np.ndarray:
    out = np.zeros(pos.shape[0], dtype=bool)
    for i in range(pos.shape[0]):  # a few dozen participants
        sel = sp["pos"] == pos[i]
        t0 = sp["t0"][sel]
        out[i] = bool(np.any((t0 <= when[i]) & (t0 + sp["T"][sel] > when[i])))
    return out


def _ladder_at(lad: dict, pos: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Last ladder step recorded at or before ``when`` (a move is recorded on the first day
    of the next calendar month, as in the ``ladder`` table)."""
    origin = np.datetime64("2000-01-01", "D")
    days = np.floor(lad["month"] * DAYS_PER_MONTH + 1e-7).astype(np.int64)
    nxt = ((origin + days.astype("timedelta64[D]")).astype("datetime64[M]") + 1).astype(
        "datetime64[D]"
    )
    rec = np.where(lad["first_of_month"], ((nxt - origin).astype(np.int64) + 0.5) / DAYS_PER_MONTH,
                   lad["month"])  # fmt: skip
    out = np.zeros(pos.shape[0])
    for i in range(pos.shape[0]):
        sel = (lad["pos"] == pos[i]) & (rec <= when[i])
        if sel.any():
            j = np.flatnonzero(sel)
            out[i] = lad["step"][j[np.argmax(rec[j], axis=0)]]
    return out
