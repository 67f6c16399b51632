"""The truth agrees with an unbiased estimate from the tables when jobcoaching is assigned
at random over elapsed duration (no covariates, no motivation, no calendar effect): treated
in month u versus spells still on benefit and not treated in that month (Sianesi)."""

import numpy as np
import pandas as pd

from _simhelpers import DAYS, groningen_spells
from werkeffect.data.schema import EXIT_GROUPS
from werkeffect.simulate import simulate


def sianesi_from_tables(ds, u: int):
    sp = groningen_spells(ds)
    ext = ds.extract_date
    sp = sp[(sp.start_date >= pd.Timestamp("2015-01-01"))].copy()
    jc = ds.programmes.loc[ds.programmes.programme == "jobcoaching", ["person_id", "start_date"]]
    m = sp[["spell_id", "person_id", "start_date", "end_date"]].merge(
        jc.rename(columns={"start_date": "jc"}), on="person_id"
    )
    m = m[(m.jc >= m.start_date) & (m.end_date.isna() | (m.jc <= m.end_date))]
    U = (sp.spell_id.map(m.groupby("spell_id").jc.min()) - sp.start_date).dt.days / DAYS
    U = U.fillna(np.inf).to_numpy()
    dur = ((sp.end_date.fillna(ext) - sp.start_date).dt.days / DAYS).to_numpy()
    work = sp.exit_reason.astype(object).map(EXIT_GROUPS).eq("work") & sp.end_date.notna()
    work = work.to_numpy()
    # observed for at least u + 13 months before the extract date
    room = ((ext - sp.start_date).dt.days / DAYS).to_numpy() >= u + 13
    treated = np.flatnonzero(room & (U >= u) & (U < u + 1))
    diffs = []
    for i in treated:
        t = U[i]
        ctrl = room & (dur > t) & ~(U < u + 1)
        y1 = work[i] and dur[i] <= t + 12
        y0 = np.mean(work[ctrl] & (dur[ctrl] <= t + 12))
        diffs.append(float(y1) - y0)
    d = np.array(diffs)
    return d.mean(), d.std(ddof=1) / np.sqrt(d.size), d.size


def test_sianesi_truth_matches_a_randomised_comparison():
    ds, truth = simulate(
        scenario="groningen-observables",
        seed=5,
        scale=2.0,
        typed=False,
        beta_jobcoaching={},
        jobcoaching_calendar={2015: 1.0},
        base_jobcoaching=(0.02,) * 8,
        jobcoaching_effect=((0.0, np.log(2.5)),),
    )
    est, se, true = [], [], []
    for u in (3, 6, 12):
        e, s, n = sianesi_from_tables(ds, u)
        assert n > 300
        est.append(e)
        se.append(s)
        true.append(truth.values[f"jobcoaching.att_u12_sianesi.u{u}"])
    est, se, true = np.array(est), np.array(se), np.array(true)
    assert np.all(true > 0.1)
    # pooled over u: the data-based estimate agrees with the truth
    pooled_se = np.sqrt(np.sum(se**2)) / 3
    assert abs(est.mean() - true.mean()) < 3.5 * pooled_se, (est, true, pooled_se)
