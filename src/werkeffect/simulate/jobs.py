"""Employment spells (jobs) and the participation ladder.

Jobs: a regular job starts the day after every exit to work and ends the day before the
return to bijstand (running when the person does not return); part-time jobs while on
benefit start with hazard ``parttime_rate`` from the spell start and last an exponential time
with mean ``parttime_mean_months``, ending at the latest with the spell.

Ladder: an intake assessment at every spell start (step 1-5 from recorded characteristics,
motivation and noise), moves up and down while on benefit (rates ``ladder_up`` and
``ladder_down`` a month; the up-rate is multiplied by ``ladder_programme_up`` from a programme
start), recorded on the first day of the month after the move; step 6 on the day of an exit
to work.
"""

from __future__ import annotations

import numpy as np

from werkeffect.simulate.spells import Context
from werkeffect.simulate.world import features


def jobs_of(ctx: Context, sp: dict) -> dict[str, np.ndarray]:
    """Jobs (calendar months) of the spells ``sp``: pos, start, end (inf), earnings, kind."""
    p, st = ctx.p, ctx.streams
    pid = sp["pos"].astype(np.int64)
    rnd = sp["rnd"]
    exit_cal = sp["t0"] + sp["T"]
    # regular jobs after exits to work
    w = sp["cause"] == 1
    edu = ctx.pop.education[sp["pos"]]
    base = np.asarray(p.earnings_work)[edu]
    base = np.where(sp["reason"] == 1, p.earnings_parttime_exit, base)
    noise = 0.8 + 0.4 * st.uniform("earnings", pid, rnd, 0)
    r_start = exit_cal[w]
    r_end = exit_cal[w] + sp["R"][w]
    r_earn = np.round(base[w] * noise[w], 2)
    # part-time jobs while on benefit
    s = st.exponential("parttime", pid, rnd, 0) / p.parttime_rate
    d = st.exponential("parttime", pid, rnd, 1) * p.parttime_mean_months
    has = s < sp["T"]
    pt_start = sp["t0"][has] + s[has]
    pt_end = sp["t0"][has] + np.minimum(s[has] + d[has], sp["T"][has])
    pt_earn = np.round(p.earnings_parttime * (0.6 + 0.8 * st.uniform("earnings", pid, rnd, 1)[has]),
                       2)  # fmt: skip
    return {
        "pos": np.concatenate([sp["pos"][w], sp["pos"][has]]),
        "start": np.concatenate([r_start, pt_start]),
        "end": np.concatenate([r_end, pt_end]),
        "earnings": np.concatenate([r_earn, pt_earn]),
        "regular": np.concatenate([np.ones(w.sum(), bool), np.zeros(has.sum(), bool)]),
    }


def employed_at(jobs: dict, pos: np.ndarray, when: np.ndarray) -> np.ndarray:
    """1 if person ``pos[i]`` has a job running at calendar month ``when[i]``."""
    out = np.zeros(pos.shape[0], dtype=bool)
    for i in range(pos.shape[0]):  # only used for the few dozen pilot participants
        sel = jobs["pos"] == pos[i]
        out[i] = bool(np.any((jobs["start"][sel] <= when[i]) & (jobs["end"][sel] > when[i])))
    return out


def ladder_of(ctx: Context, sp: dict) -> dict[str, np.ndarray]:
    """Ladder assessments: pos, calendar month, step; and the intake step per spell."""
    p, st = ctx.p, ctx.streams
    pos = sp["pos"]
    pid = pos.astype(np.int64)
    rnd = sp["rnd"]
    n = pos.shape[0]
    f = features(ctx.pop, pos, sp["age"])
    latent = (
        2.4
        + 0.6 * f["startkwalificatie"]
        + 0.3 * f["age_lt27"]
        - 0.9 * f["health"]
        - 0.5 * f["language"]
        - 0.3 * f["debts"]
        + 0.3 * ctx.pop.motivation[pos]
    )
    z = _norm_ppf(st.uniform("ladder", pid, rnd, 0))
    step = np.clip(np.round(latent + 0.8 * z), 1, 5).astype(np.int64)
    intake = step.copy()
    rows_pos = [pos]
    rows_t = [sp["t0"]]
    rows_step = [step.copy()]
    B = np.minimum(sp["U"], sp["P"])
    up0, dn = p.ladder_up, p.ladder_down
    up1 = p.ladder_up * p.ladder_programme_up
    r0, r1 = up0 + dn, up1 + dn
    c = np.zeros(n)
    T = sp["T"]
    for j in range(p.ladder_max_moves):
        E = st.exponential("ladder", pid, rnd, 1 + j)
        pre = c < B
        Hb = np.where(pre, r0 * (B - c), 0.0)
        first = pre & (E < Hb)
        later = pre & ~first
        c = np.where(pre, c, c + E / r1)
        c[first] += E[first] / r0
        c[later] = B[later] + (E[later] - Hb[later]) / r1
        alive = c < T
        if not alive.any():
            break
        pup = np.where(c < B, up0 / r0, up1 / r1)
        up = st.uniform("ladder", pid, rnd, 20 + j) < pup
        step = np.where(alive, np.clip(step + np.where(up, 1, -1), 1, 5), step)
        # recorded on the first day of the next calendar month (see tables.py)
        t = sp["t0"] + c
        rows_pos.append(pos[alive])
        rows_t.append(t[alive])
        rows_step.append(step[alive])
        T = np.where(alive, T, -np.inf)  # finished spells take no more moves
    w = sp["cause"] == 1
    rows_pos.append(pos[w])
    rows_t.append((sp["t0"] + sp["T"])[w])
    rows_step.append(np.full(int(w.sum()), 6))
    return {
        "pos": np.concatenate(rows_pos),
        "month": np.concatenate(rows_t),
        "step": np.concatenate(rows_step),
        "first_of_month": np.concatenate(
            [np.zeros(n, bool)]
            + [np.ones(len(x), bool) for x in rows_pos[1:-1]]
            + [np.zeros(int(w.sum()), bool)]
        ),  # fmt: skip
        "intake": intake,
        "intake_key": pos.astype(np.int64) * 64 + rnd,
    }


def _norm_ppf(u: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(u)
