"""Analysis frames on simulated data for the slow matching Monte Carlo tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

DPM = 365.25 / 12
WORK = ("werk", "deeltijdwerk")
COVARIATES = [
    "age", "female", "education", "household", "statushouder",
    "barrier_health", "barrier_language", "barrier_debts", "ladder_intake", "previous_spells",
    "calendar",
]  # fmt: skip


def jobcoaching_frames(ds, us=(3, 6, 12, 24), horizon=12, municipality="Groningen"):
    """Risk-set frames: spells whose jobcoaching starts in elapsed month [u, u+1) (treated)
    against spells on benefit at u + 0.5 and not treated before u+1 (controls; they may be treated
    later: Sianesi's estimand). Outcome: exit to work within ``horizon`` months of the start
    (treated) or of u + 0.5 (controls). Spells whose follow-up passes the extract date are
    left out."""
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
    window = pd.Timestamp("2015-01-01")
    frames = {}
    for u in us:
        t_u = sp["start_date"] + pd.to_timedelta((u + 1 + horizon) * DPM, unit="D")
        at_u = sp["start_date"] + pd.to_timedelta(u * DPM, unit="D")
        ok = (t_u <= extract) & (at_u >= window) & (sp["dur"] > u)
        treated = ok & (sp["U"] >= u) & (sp["U"] < u + 1)
        # controls are on benefit at their reference time u + 0.5 (as the treated are at U)
        control = ok & ~(sp["U"] < u + 1) & (sp["dur"] > u + 0.5)
        f = sp[treated | control].copy()
        f["treated"] = treated[treated | control].astype(int).to_numpy()
        t0 = np.where(f["treated"] == 1, f["U"], u + 0.5)
        f["y"] = (f["work"] & (f["dur"] <= t0 + horizon)).astype(int)
        f["calendar"] = f["start_date"].dt.year + f["start_date"].dt.dayofyear / 365.25 + u / 12
        frames[u] = f.reset_index(drop=True)
    return frames
