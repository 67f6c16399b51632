"""Analysis frames on simulated data for the slow matching Monte Carlo tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

DPM = 365.25 / 12
WORK = ("werk", "deeltijdwerk")
# age bands as the simulator's hazards use them (age at the spell start): a propensity or
# outcome model linear in age alone misses the steps at 27, 45 and 55
COVARIATES = [
    "age", "age_lt27", "age_45_54", "age_55p", "female", "education", "household",
    "statushouder",
    "barrier_health", "barrier_language", "barrier_debts", "ladder_intake", "previous_spells",
    "calendar",
]  # fmt: skip


def jobcoaching_frames(ds, us=(3, 6, 12, 24), horizon=12, municipality="Groningen", seed=0):
    """Risk-set frames on one clock for Sianesi's estimand ATT(u, horizon).

    Treated: spells whose first jobcoaching start ``U`` (elapsed months, from the dates) lies
    in ``[u, u+1)``; their clock starts at ``U``. Controls: spells not treated before ``u+1``
    (they may be treated later) that are still on benefit at a pseudo start time ``S = u + f``,
    ``f`` drawn from the treated's within-month start times ``U - u`` of that frame, so that
    treated and controls are at risk from the same elapsed moment in the same way (a control
    who leaves in ``[u, S)`` is not in the risk set, as a treated who left before ``U`` could
    not have started). Outcome for both: exit to work in ``(start, start + horizon]``.
    Spells whose window ``[u, u + 1 + horizon]`` passes the extract date or that reach ``u``
    before 2015 are left out. Column ``t0`` holds ``U`` or ``S``.
    """
    sp = ds.spells.copy()
    per = ds.persons.set_index("person_id")
    sp = sp[per.loc[sp["person_id"], "municipality"].to_numpy() == municipality]
    extract = pd.Timestamp(ds.extract_date)
    sp["dur"] = ((sp["end_date"].fillna(extract) - sp["start_date"]).dt.days / DPM).to_numpy()
    sp["work"] = sp["exit_reason"].isin(WORK) & sp["end_date"].notna()
    sp = sp.sort_values(["person_id", "start_date"])
    sp["previous_spells"] = sp.groupby("person_id").cumcount()
    jc = ds.programmes[ds.programmes["programme"] == "jobcoaching"][["person_id", "start_date"]]
    m = sp[["spell_id", "person_id", "start_date", "end_date"]].merge(
        jc.rename(columns={"start_date": "jc"}), on="person_id"
    )
    end = m["end_date"].fillna(extract + pd.Timedelta(days=1))
    m = m[(m["jc"] >= m["start_date"]) & (m["jc"] <= end)]
    first = m.groupby("spell_id")["jc"].min()
    sp["U"] = sp["spell_id"].map((first - sp.set_index("spell_id")["start_date"]).dt.days / DPM)
    p = per.loc[sp["person_id"]]
    sp["age"] = ((sp["start_date"] - p["birth_date"].to_numpy()).dt.days / 365.25).to_numpy()
    sp["female"] = (p["sex"].to_numpy() == "V").astype(int)
    for c in ("education", "household", "ladder_intake"):
        sp[c] = p[c].to_numpy()
    for c in ("startkwalificatie", "statushouder", "barrier_health", "barrier_language",
              "barrier_debts"):  # fmt: skip
        sp[c] = p[c].astype(int).to_numpy()
    sp["ladder_intake"] = sp["ladder_intake"].fillna(0)
    sp["age_lt27"] = (sp["age"] < 27).astype(int)
    sp["age_45_54"] = ((sp["age"] >= 45) & (sp["age"] < 55)).astype(int)
    sp["age_55p"] = (sp["age"] >= 55).astype(int)
    window = pd.Timestamp("2015-01-01")
    frames = {}
    for u in us:
        rng = np.random.default_rng([seed, u])
        t_u = sp["start_date"] + pd.to_timedelta((u + 1 + horizon) * DPM, unit="D")
        at_u = sp["start_date"] + pd.to_timedelta(u * DPM, unit="D")
        ok = ((t_u <= extract) & (at_u >= window)).to_numpy()
        U = sp["U"].to_numpy()
        dur = sp["dur"].to_numpy()
        treated = ok & (U >= u) & (U < u + 1)
        frac = U[treated] - u if treated.any() else np.array([0.5])
        S = u + rng.choice(frac, size=len(sp))
        # controls: untreated up to the end of month u and on benefit at their pseudo start
        control = ok & ~(U < u + 1) & (dur > S)
        keep = treated | control
        f = sp[keep].copy()
        f["treated"] = treated[keep].astype(int)
        f["t0"] = np.where(treated, U, S)[keep]
        f["y"] = (f["work"] & (f["dur"] <= f["t0"] + horizon)).astype(int)
        f["calendar"] = f["start_date"].dt.year + f["start_date"].dt.dayofyear / 365.25 + u / 12
        frames[u] = f.reset_index(drop=True)
    return frames
