"""Turn the simulated world into the tables of ``werkeffect.data.schema``.

Only what an extract drawn on ``extract_date`` would hold is written: spells running on or
after ``window_start`` and started by the extract date, programme participations, jobs and
ladder assessments in that window, all WW records; everything after the extract date is cut
(running spells, participations and jobs get an empty end date). Motivation, frailty and the
potential outcomes are never written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from werkeffect.data import schema
from werkeffect.simulate.params import DAYS_PER_MONTH, JOBCOACHING_PROVIDERS, WIJKEN
from werkeffect.simulate.spells import REASONS, Context
from werkeffect.simulate.world import EDUCATION_CODES, HOUSEHOLD_CODES, SEX_CODES

_ORIGIN = np.datetime64("2000-01-01", "D")
NAT = np.datetime64("NaT", "ns")


def day(months: np.ndarray) -> np.ndarray:
    """Integer day number (days since 2000-01-01) of calendar months; huge for inf."""
    m = np.asarray(months, dtype=float)
    out = np.full(m.shape, np.iinfo(np.int64).max // 4, dtype=np.int64)
    ok = np.isfinite(m)
    out[ok] = np.floor(m[ok] * DAYS_PER_MONTH + 1e-7).astype(np.int64)
    return out


def to_date(days: np.ndarray, extract_day: int | None = None) -> np.ndarray:
    d = np.asarray(days, dtype=np.int64)
    out = (_ORIGIN + d.astype("timedelta64[D]")).astype("datetime64[ns]")
    if extract_day is not None:
        out = np.where(d > extract_day, NAT, out)
    return out


def _cat(values, codes: dict) -> pd.Categorical:
    return pd.Categorical(values, categories=list(codes))


def build_tables(ctx: Context, sp: dict, ww, pilot, jobs: dict, ladder: dict, names: list[str]):
    p, pop, st = ctx.p, ctx.pop, ctx.streams
    ext_day = int((np.datetime64(pd.Timestamp(p.extract_date).date()) - _ORIGIN).astype(int))
    win_day = int((np.datetime64(pd.Timestamp(p.window_start).date()) - _ORIGIN).astype(int))

    # ---- spells in the window ------------------------------------------------------------
    s_start = day(sp["t0"])
    s_end = day(sp["t0"] + sp["T"])
    keep = (s_start <= ext_day) & (s_end >= win_day)
    ks = np.flatnonzero(keep)
    # persons: everyone with a spell in the extract or a WW record
    in_persons = np.zeros(pop.n, dtype=bool)
    in_persons[sp["pos"][ks]] = True
    ww_pos_base = pop.n - ww.pop.n
    in_persons[ww_pos_base:] = True
    ppos = np.flatnonzero(in_persons)
    new_id = np.zeros(pop.n, dtype=np.int64)
    new_id[ppos] = np.arange(1, ppos.size + 1)

    # order spells by person and start; ids sequential
    order = ks[np.lexsort((sp["rnd"][ks], new_id[sp["pos"][ks]]))]
    pid_out = new_id[sp["pos"][order]]
    cens = s_end[order] > ext_day
    reason = sp["reason"][order]
    reason_str = np.array(REASONS, dtype=object)[np.maximum(reason, 0)]
    reason_str = np.where(cens | (reason < 0), None, reason_str)
    year = np.floor(sp["t0"][order] / 12) + 2000
    hh = pop.household[sp["pos"][order]]
    amount = (
        np.asarray(p.benefit_amount)[hh]
        * (1 + p.benefit_indexation) ** np.maximum(year - 2015, 0)
        * (0.95 + 0.1 * st.uniform("amount", sp["pos"][order], sp["rnd"][order]))
    )
    spells = pd.DataFrame(
        {
            "spell_id": np.arange(1, order.size + 1, dtype=np.int64),
            "person_id": pid_out,
            "start_date": to_date(s_start[order]),
            "end_date": to_date(s_end[order], ext_day),
            "exit_reason": _cat(reason_str, schema.EXIT_REASONS),
            "monthly_amount": np.round(amount, 2),
        }
    )

    # ---- ladder intake per person: the first spell in the extract ---------------------------
    ikey = ladder["intake_key"]
    iord = np.argsort(ikey, kind="stable")
    first_of_person = np.full(pop.n, -1, dtype=np.int64)
    rev = order[::-1]
    first_of_person[sp["pos"][rev]] = rev  # the last write is the first spell
    has = first_of_person[ppos] >= 0
    fs = first_of_person[ppos][has]
    want = sp["pos"][fs].astype(np.int64) * 64 + sp["rnd"][fs]
    li = np.zeros(ppos.size, dtype=np.int64)
    li[has] = ladder["intake"][iord[np.searchsorted(ikey[iord], want)]]
    ladder_intake = pd.array(li, dtype="Int64")
    ladder_intake[~has] = pd.NA

    # ---- persons ----------------------------------------------------------------------------
    wijk_names = np.array([w for w, _ in WIJKEN] + [None], dtype=object)
    permit = pop.permit[ppos]
    persons = pd.DataFrame(
        {
            "person_id": new_id[ppos],
            "birth_date": to_date(day(pop.birth[ppos])),
            "sex": _cat(np.array(SEX_CODES, dtype=object)[pop.sex[ppos]], schema.SEX),
            "education": _cat(
                np.array(EDUCATION_CODES, dtype=object)[pop.education[ppos]], schema.EDUCATION
            ),
            "startkwalificatie": pop.education[ppos] >= 1,
            "household": _cat(
                np.array(HOUSEHOLD_CODES, dtype=object)[pop.household[ppos]], schema.HOUSEHOLD
            ),
            "municipality": np.array(names, dtype=object)[pop.municipality[ppos]],
            "wijk": wijk_names[pop.wijk[ppos]],
            "statushouder": pop.statushouder[ppos].astype(bool),
            "permit_date": np.where(np.isnan(permit), NAT, to_date(day(np.nan_to_num(permit)))),
            "barrier_health": pop.health[ppos].astype(bool),
            "barrier_language": pop.language[ppos].astype(bool),
            "barrier_debts": pop.debts[ppos].astype(bool),
            "ladder_intake": ladder_intake,
        }
    )

    # ---- programmes ------------------------------------------------------------------------
    prog = []
    jc = np.isfinite(sp["U"])
    jc_start = day(sp["t0"] + sp["U"])
    jc &= (jc_start >= win_day) & (jc_start <= ext_day) & in_persons[sp["pos"]]
    i = np.flatnonzero(jc)
    lo, hi = ctx.p.jobcoaching_months
    dur = lo + (hi - lo) * st.uniform("jobcoaching_duration", sp["pos"][i], sp["rnd"][i])
    prov = np.array(JOBCOACHING_PROVIDERS, dtype=object)[
        np.minimum(
            (st.uniform("jobcoaching_provider", sp["pos"][i], sp["rnd"][i])
             * len(JOBCOACHING_PROVIDERS)).astype(int),
            len(JOBCOACHING_PROVIDERS) - 1,
        )
    ]  # fmt: skip
    prog.append(
        (sp["pos"][i], "jobcoaching", jc_start[i],
         day(sp["t0"][i] + np.minimum(sp["U"][i] + dur, sp["T"][i])), prov)
    )  # fmt: skip
    nz = sp["nazorg"] & in_persons[sp["pos"]]
    exit_day = day(sp["t0"] + sp["T"])
    nz &= (exit_day + 1 >= win_day) & (exit_day + 1 <= ext_day)
    i = np.flatnonzero(nz)
    lo, hi = ctx.p.nazorg_months
    ndur = lo + (hi - lo) * st.uniform("nazorg_duration", sp["pos"][i], sp["rnd"][i])
    ex = sp["t0"][i] + sp["T"][i]
    prog.append(
        (sp["pos"][i], "nazorg", exit_day[i] + 1,
         np.maximum(day(ex + np.minimum(ndur, sp["R"][i])) - 1, exit_day[i] + 1),
         np.full(i.size, "Jobcoach Noord", dtype=object))
    )  # fmt: skip
    if pilot is not None:
        ok = day(pilot.date) <= ext_day
        prog.append(
            (pilot.pos[ok], "stadsbeheer", day(pilot.date[ok]), day(pilot.end[ok]),
             np.full(int(ok.sum()), "Stadsbeheer Groningen", dtype=object))
        )  # fmt: skip
    ci = np.flatnonzero(np.isfinite(ww.contact))
    ci = ci[day(ww.contact[ci]) <= ext_day]
    prog.append(
        (ww_pos_base + ci, "ww_naar_bijstand", day(ww.contact[ci]), day(ww.end[ci]),
         np.full(ci.size, "UWV / gemeente", dtype=object))
    )  # fmt: skip
    ppos_all = np.concatenate([x[0] for x in prog])
    prog_name = np.concatenate([np.full(len(x[0]), x[1], dtype=object) for x in prog])
    pstart = np.concatenate([x[2] for x in prog])
    pend = np.concatenate([x[3] for x in prog])
    pprov = np.concatenate([x[4] for x in prog])
    pend = np.maximum(pend, pstart)
    porder = np.lexsort((prog_name, pstart, new_id[ppos_all]))
    programmes = pd.DataFrame(
        {
            "participation_id": np.arange(1, porder.size + 1, dtype=np.int64),
            "person_id": new_id[ppos_all[porder]],
            "programme": _cat(prog_name[porder], schema.PROGRAMMES),
            "start_date": to_date(pstart[porder]),
            "end_date": to_date(pend[porder], ext_day),
            "provider": pprov[porder],
        }
    )

    # ---- WW --------------------------------------------------------------------------------
    wpos = ww_pos_base + np.arange(ww.pop.n)
    worder = np.lexsort((day(ww.max_end), new_id[wpos]))
    ww_table = pd.DataFrame(
        {
            "ww_id": np.arange(1, wpos.size + 1, dtype=np.int64),
            "person_id": new_id[wpos[worder]],
            "municipality": np.array(names, dtype=object)[ww.municipality[worder]],
            "ww_start": to_date(day(ww.start[worder])),
            "ww_max_end": to_date(day(ww.max_end[worder])),
            "ww_end": to_date(day(ww.end[worder]), ext_day),
            "contact_date": np.where(
                np.isfinite(ww.contact[worder]),
                to_date(day(np.nan_to_num(ww.contact[worder]))),
                NAT,
            ),
        }
    )

    # ---- jobs ------------------------------------------------------------------------------
    j_start = day(jobs["start"]) + np.where(jobs["regular"], 1, 0)
    j_end = day(jobs["end"]) - np.where(jobs["regular"] & np.isfinite(jobs["end"]), 1, 0)
    j_end = np.maximum(j_end, j_start)
    jk = in_persons[jobs["pos"]] & (j_start <= ext_day) & (j_end >= win_day)
    ji = np.flatnonzero(jk)
    jorder = ji[np.lexsort((j_start[ji], new_id[jobs["pos"][ji]]))]
    jobs_table = pd.DataFrame(
        {
            "job_id": np.arange(1, jorder.size + 1, dtype=np.int64),
            "person_id": new_id[jobs["pos"][jorder]],
            "start_date": to_date(j_start[jorder]),
            "end_date": to_date(j_end[jorder], ext_day),
            "monthly_earnings": jobs["earnings"][jorder],
        }
    )

    # ---- ladder ----------------------------------------------------------------------------
    ld = day(ladder["month"])
    fom = ladder["first_of_month"]
    dates = (_ORIGIN + ld.astype("timedelta64[D]")).astype("datetime64[M]")
    dates = np.where(fom, dates + 1, dates).astype("datetime64[D]")
    ld = np.where(fom, (dates - _ORIGIN).astype(np.int64), ld)
    lk = in_persons[ladder["pos"]] & (ld >= win_day) & (ld <= ext_day)
    li_ = np.flatnonzero(lk)
    lorder = li_[np.lexsort((ld[li_], new_id[ladder["pos"][li_]]))]
    lad = pd.DataFrame(
        {
            "person_id": new_id[ladder["pos"][lorder]],
            "date": to_date(ld[lorder]),
            "step": ladder["step"][lorder].astype(np.int64),
        }
    )
    lad = lad.drop_duplicates(["person_id", "date"], keep="last").reset_index(drop=True)
    return {
        "persons": persons,
        "spells": spells,
        "programmes": programmes,
        "ww": ww_table,
        "jobs": jobs_table,
        "ladder": lad,
    }, new_id
