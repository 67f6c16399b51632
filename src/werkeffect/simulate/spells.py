"""Bijstand spells: competing exits, jobcoaching, nazorg and recurrence.

A *round* simulates one spell for each of a set of persons; exits to work can end in a
return to bijstand, which starts the person's next spell (next round). All draws are keyed on
(person, spell number), so re-simulating a person (e.g. with a pilot placement) reuses the
same random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from werkeffect.simulate.engine import (
    CalendarTable,
    ExitModel,
    duration_table,
    exit_times,
    start_times,
)
from werkeffect.simulate.params import SimParams, to_months
from werkeffect.simulate.rng import Streams
from werkeffect.simulate.world import Population, features, linear_index

REASONS = ("werk", "deeltijdwerk", "scholing", "partner", "verhuizing", "overlijden", "overig")
N_MONTHS = 1000


@dataclass
class Context:
    p: SimParams
    streams: Streams
    pop: Population
    exit_model: ExitModel
    base_jobcoaching: np.ndarray
    cal_jobcoaching: CalendarTable
    base_return: np.ndarray
    cal_one: CalendarTable
    month_window: float
    month_extract: float
    month_horizon: float
    month_jobcoaching: float

    @classmethod
    def build(cls, p: SimParams, streams: Streams, pop: Population) -> Context:
        brk, val = p.effect_schedule()
        sc = {"work": 1.0, "education": 1.0, "other": 1.0, "return": 1.0, "jobcoaching": 1.0}
        unknown = set(p.baseline_scale) - set(sc)
        if unknown:
            raise ValueError(f"baseline_scale has unknown keys {sorted(unknown)}")
        sc.update(p.baseline_scale)
        base = np.vstack(
            [
                duration_table(p.base_work, n=N_MONTHS) * sc["work"],
                duration_table(p.base_education, n=N_MONTHS) * sc["education"],
                duration_table(p.base_other, n=N_MONTHS) * sc["other"],
            ]
        )
        first_jc = int(p.jobcoaching_start_year)
        calj = {y: v for y, v in p.jobcoaching_calendar.items() if y >= first_jc}
        calj = calj or {first_jc: 1.0}
        return cls(
            p=p,
            streams=streams,
            pop=pop,
            exit_model=ExitModel(
                base=base,
                cal_work=CalendarTable.from_dict(p.work_calendar),
                effect_breaks=brk,
                effect_values=val,
                pilot_effect=float(p.pilot_effect),
            ),
            base_jobcoaching=duration_table(p.base_jobcoaching, n=N_MONTHS) * sc["jobcoaching"],
            cal_jobcoaching=CalendarTable.from_dict(calj, default_before=0.0),
            base_return=duration_table(p.base_return, breaks=p.return_breaks, n=N_MONTHS)
            * sc["return"],
            cal_one=CalendarTable.from_dict({2000: 1.0}),
            month_window=to_months(p.window_start),
            month_extract=to_months(p.extract_date) + 1.0 / 30.4375,
            month_horizon=to_months(p.extract_date) + p.horizon_months,
            month_jobcoaching=to_months(f"{first_jc}-01-01"),
        )

    # --- pieces used by the rounds and by the truth --------------------------------------
    def spell_setup(self, pos: np.ndarray, t0: np.ndarray) -> dict[str, np.ndarray]:
        p, pop = self.p, self.pop
        age = (t0 - pop.birth[pos]) / 12.0
        f = features(pop, pos, age)
        n = pos.shape[0]
        M = pop.motivation[pos]
        V = pop.frailty[pos].astype(float)
        a = np.exp(
            np.vstack(
                [
                    linear_index(p.beta_work, f, n) + p.motivation_on_work * M
                    + p.frailty_on_work * V,
                    linear_index(p.beta_education, f, n) + p.motivation_on_education * M
                    + p.frailty_on_education * V,
                    linear_index(p.beta_other, f, n) + p.frailty_on_other * V,
                ]
            )
        )  # fmt: skip
        tmax_aow = np.maximum((p.aow_age - age) * 12.0, 0.0)
        tmax_hor = np.maximum(self.month_horizon - t0, 0.0)
        aj = np.exp(
            linear_index(p.beta_jobcoaching, f, n)
            + p.motivation_on_jobcoaching * M
            + p.frailty_on_jobcoaching * V
        )
        aj = np.where(pop.municipality[pos] == 0, aj, 0.0)
        ar = np.exp(
            linear_index(p.beta_return, f, n) + p.motivation_on_return * M
            + p.frailty_on_return * V
        )  # fmt: skip
        return {
            "age": age,
            "a": a,
            "aj": aj,
            "ar": ar,
            "tmax": np.minimum(tmax_aow, tmax_hor),
            "aow": tmax_aow <= tmax_hor,
        }

    def jobcoaching_from(self, t0: np.ndarray) -> np.ndarray:
        return np.maximum(np.ceil(self.month_jobcoaching - t0 - 1e-9), 0.0)

    def return_times(self, pid, rnd, exit_cal, ar, nazorg) -> np.ndarray:
        """Months from an exit to work to the return to bijstand (inf: none before horizon)."""
        E = self.streams.exponential("return_E", pid, rnd)
        a = ar * np.where(nazorg, np.exp(self.p.nazorg_effect), 1.0)
        until = np.maximum(self.month_horizon - exit_cal, 0.0)
        return start_times(
            self.base_return, self.cal_one, exit_cal, np.zeros(pid.shape[0]), until, a, E
        )

    def nazorg_prob(self, pos, exit_cal, jobcoached) -> np.ndarray:
        p = self.p
        pr = np.where(jobcoached, p.p_nazorg_jobcoached, p.p_nazorg_other)
        ok = (self.pop.municipality[pos] == 0) & (exit_cal >= self.month_jobcoaching)
        return np.where(ok, pr, 0.0)


def simulate_round(ctx: Context, pos, rnd, t0, P=None) -> dict[str, np.ndarray]:
    """Simulate one spell for each (person position, spell number, start)."""
    n = pos.shape[0]
    st = ctx.streams
    pid = pos.astype(np.int64)
    P = np.full(n, np.inf) if P is None else P
    s = ctx.spell_setup(pos, t0)
    E = st.exponential("exit_E", pid, rnd)
    uc = st.uniform("exit_cause", pid, rnd)
    Tn, cn = exit_times(ctx.exit_model, t0, s["tmax"], s["aow"], s["a"], np.full(n, np.inf), P,
                        E, uc)  # fmt: skip
    # jobcoaching: latent start, relevant only before the (untreated) exit
    until = np.minimum(Tn, s["tmax"])
    EJ = st.exponential("jobcoaching_E", pid, rnd)
    U = start_times(ctx.base_jobcoaching, ctx.cal_jobcoaching, t0, ctx.jobcoaching_from(t0),
                    until, s["aj"], EJ)  # fmt: skip
    treated = np.isfinite(U)
    T, cause = Tn.copy(), cn.copy()
    if treated.any():
        ti = np.flatnonzero(treated)
        T1, c1 = exit_times(ctx.exit_model, t0[ti], s["tmax"][ti], s["aow"][ti], s["a"][:, ti],
                            U[ti], P[ti], E[ti], uc[ti])  # fmt: skip
        T[ti], cause[ti] = T1, c1
    exit_cal = t0 + T
    # exit reason within the cause group
    ur = st.uniform("exit_reason", pid, rnd)
    reason = np.full(n, -1, dtype=np.int8)
    reason[cause == 1] = np.where(ur[cause == 1] < ctx.p.p_parttime_exit, 1, 0)
    reason[cause == 2] = 2
    op = np.array([ctx.p.other_reasons.get(k, 0.0) for k in REASONS[3:]])
    cum = np.cumsum(op / op.sum())
    oth = cause == 3
    reason[oth] = 3 + np.minimum(np.searchsorted(cum, ur[oth], side="right"), len(cum) - 1)
    aow_end = oth & s["aow"] & (np.abs(T - s["tmax"]) < 1e-9)
    reason[aow_end] = REASONS.index("overig")
    # nazorg and return after exits to work
    work = cause == 1
    nazorg = np.zeros(n, dtype=bool)
    R = np.full(n, np.inf)
    if work.any():
        wi = np.flatnonzero(work)
        pr = ctx.nazorg_prob(pos[wi], exit_cal[wi], treated[wi])
        nazorg[wi] = st.uniform("nazorg_draw", pid[wi], rnd[wi]) < pr
        R[wi] = ctx.return_times(pid[wi], rnd[wi], exit_cal[wi], s["ar"][wi], nazorg[wi])
    return {
        "pos": pos,
        "rnd": rnd,
        "t0": t0,
        "T": T,
        "cause": cause,
        "reason": reason,
        "U": U,
        "P": P,
        "R": R,
        "nazorg": nazorg,
        "age": s["age"],
    }


def simulate_chain(ctx: Context, pos, t0, rnd=None, P=None) -> dict[str, np.ndarray]:
    """All spells of the given persons, starting with the given spells, with recurrence."""
    rnd = np.zeros(pos.shape[0], dtype=np.int64) if rnd is None else rnd
    out = []
    cur_pos, cur_rnd, cur_t0, cur_P = pos, rnd, t0, P
    for _ in range(ctx.p.max_spells):
        if cur_pos.size == 0:
            break
        res = simulate_round(ctx, cur_pos, cur_rnd, cur_t0, cur_P)
        out.append(res)
        nxt_t0 = res["t0"] + res["T"] + res["R"]
        back = np.isfinite(nxt_t0) & (nxt_t0 < ctx.month_horizon)
        back &= res["rnd"] + 1 < ctx.p.max_spells
        # nobody (re-)enters bijstand at or after the state-pension age
        back &= (nxt_t0 - ctx.pop.birth[res["pos"]]) / 12.0 < ctx.p.aow_age - 1 / 12
        cur_pos, cur_rnd, cur_t0 = res["pos"][back], res["rnd"][back] + 1, nxt_t0[back]
        cur_P = None
    keys = out[0].keys() if out else []
    return {k: np.concatenate([o[k] for o in out]) for k in keys}


def select(spells: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in spells.items()}


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = [q for q in parts if q and len(q["pos"])]
    return {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}
