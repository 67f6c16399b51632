"""The true effects: exact where the design fixes them, consistent with the parameters."""

import math

import numpy as np
import pandas as pd
import pytest

from _simhelpers import sim, ww_frame
from werkeffect.simulate import simulate
from werkeffect.simulate.params import resolve_params

SMALL = 0.25


def test_hazard_ratio_is_exp_delta():
    truth = sim("groningen", 0)[1]
    assert truth.values["jobcoaching.hazard_ratio"] == pytest.approx(1.4, rel=1e-12)
    assert truth.values["jobcoaching.log_hazard_ratio"] == pytest.approx(math.log(1.4))
    _, t = simulate(scale=SMALL, seed=1, jobcoaching_effect=((0.0, math.log(1.3)),))
    assert t.values["jobcoaching.hazard_ratio"] == pytest.approx(1.3)
    assert t.values["nazorg.hazard_ratio_return"] == pytest.approx(0.6)
    assert t.params["effects"]["jobcoaching_effect"] == [[0.0, math.log(1.3)]]


def test_piecewise_effect_gives_an_exposure_weighted_log_hr():
    """With log HR 0.1 in the first six months after the programme start and 0.6 after, the
    truth is the average of the two weighted by the treated time at risk in [0, 6) and
    [6, inf) months since the start, up to the spell's end or the extract date (open spells
    run to the end of the extract day; docs/simulator.md, simulate/truth.py). Recomputed from the
    written tables alone: each jobcoaching participation, the bijstand spell it starts in and the
    time from its start to that spell's end.

    The tables hold whole days (each date floored), so each spell's treated time is off by
    less than a day (sd about 0.41 day = 0.013 months); propagated through the weights that
    moves the log HR by about 2.4e-6 (seed 1: 2.6e-6). The tolerance 2e-5 is about 8 such
    sd; weighting by spells instead of time, following spells past the extract date or the
    plain mean of the pieces (0.35) are off by far more."""
    sched = ((0.0, 0.1), (6.0, 0.6))
    ds, t = simulate(scale=SMALL, seed=1, jobcoaching_effect=sched)
    jc = ds.programmes.loc[ds.programmes["programme"] == "jobcoaching", ["person_id", "start_date"]]
    m = jc.rename(columns={"start_date": "programme_start"}).merge(
        ds.spells[["person_id", "start_date", "end_date"]], on="person_id"
    )
    end = m["end_date"].fillna(pd.Timestamp(ds.extract_date) + pd.Timedelta(days=1))
    m = m[(m["start_date"] <= m["programme_start"]) & (m["programme_start"] <= end)]
    assert len(m) == len(jc) > 500  # every participation lies in exactly one spell
    end = m["end_date"].fillna(pd.Timestamp(ds.extract_date) + pd.Timedelta(days=1))
    months = (end - m["programme_start"]).dt.days.to_numpy() / (365.25 / 12)
    w_early = np.clip(months, 0.0, 6.0).sum()
    w_late = np.clip(months - 6.0, 0.0, None).sum()
    assert min(w_early, w_late) > 1000  # both pieces carry weight
    expected = (0.1 * w_early + 0.6 * w_late) / (w_early + w_late)
    assert t.values["jobcoaching.log_hazard_ratio"] == pytest.approx(expected, abs=2e-5)


def test_no_effect_means_every_att_is_exactly_zero():
    _, t = simulate(
        scale=SMALL,
        seed=2,
        jobcoaching_effect=((0.0, 0.0),),
        nazorg_effect=0.0,
        pilot_effect=0.0,
        ladder_programme_up=1.0,
        ww_effect=0.0,
    )
    atts = {k: v for k, v in t.values.items() if ".att" in k}
    assert len(atts) > 20
    for k, v in atts.items():
        assert v == 0.0 or np.isnan(v), (k, v)


def test_nazorg_alone_makes_exits_more_durable():
    # jobcoaching without a hazard effect still raises the chance of nazorg
    _, t = simulate(scale=SMALL, seed=2, jobcoaching_effect=((0.0, 0.0),))
    assert t.values["jobcoaching.att_exit_work_12m"] == 0.0
    assert t.values["jobcoaching.att_durable_12m"] > 0.0


def test_larger_effect_larger_att():
    _, t1 = simulate(scale=SMALL, seed=3)
    _, t2 = simulate(scale=SMALL, seed=3, jobcoaching_effect=((0.0, math.log(2.5)),))
    for h in (6, 12, 24):
        k = f"jobcoaching.att_exit_work_{h}m"
        assert 0 < t1.values[k] < t2.values[k], k
    assert t1.values["jobcoaching.att_exit_work_6m"] < t1.values["jobcoaching.att_exit_work_24m"]


def test_att_u12_keys_and_signs():
    t = sim("groningen", 0)[1]
    for u in (3, 6, 12, 24):
        if u < 24:  # a few hundred treated; at u = 24 only ~60, so the sample ATT is noisy
            assert t.values[f"jobcoaching.att_u12.u{u}"] > 0
        assert f"jobcoaching.att_u12_sianesi.u{u}" in t.values
        assert t.params["counts"][f"jobcoaching.n_treated_u{u}"] > 0
        # starters with a complete 12-month window: fewer (the last year's starters are not)
        n_obs = t.params["counts"][f"jobcoaching.n_treated_u{u}_observed"]
        assert 0 < n_obs < t.params["counts"][f"jobcoaching.n_treated_u{u}"]
    # postponing (Sianesi) rather than never treating can only shrink the contrast on average
    s = np.mean([t.values[f"jobcoaching.att_u12_sianesi.u{u}"] for u in (3, 6, 12)])
    v = np.mean([t.values[f"jobcoaching.att_u12.u{u}"] for u in (3, 6, 12)])
    assert s <= v


def test_pooled_observed_sianesi_truth_is_the_treated_weighted_mean_over_u():
    t = sim("groningen", 0)[1]
    c, v = t.params["counts"], t.values
    n = np.array([c[f"jobcoaching.n_treated_u{u}_observed"] for u in (3, 6, 12, 24)])
    a = np.array([v[f"jobcoaching.att_u12_sianesi_observed.u{u}"] for u in (3, 6, 12, 24)])
    pooled = v["jobcoaching.att_u12_sianesi_observed.pooled"]
    assert pooled == pytest.approx(float(n @ a / n.sum()), rel=1e-12)
    assert a.min() < pooled < a.max()


def test_observed_sianesi_truth_counts_the_starters_a_frame_with_complete_follow_up_keeps():
    """jobcoaching.n_treated_u{u}_observed is the number of treated spells that the
    matching frames (tests/_matching_sim_frames.py, complete 12-month window) keep, up to
    the rounding of dates to whole days: a start at elapsed month 3.99 of the simulator's
    continuous time is dated 122 days (4.008 months) after the spell start, so a few
    starters move between neighbouring months (seed 0: 248 against 254 at u = 3, 250
    against 248 at u = 6)."""
    from _matching_sim_frames import jobcoaching_frames

    ds, t = sim("groningen", 0)
    frames = jobcoaching_frames(ds)
    for u, f in frames.items():
        n_frame = int(f["treated"].sum())
        n_obs = t.params["counts"][f"jobcoaching.n_treated_u{u}_observed"]
        assert abs(n_obs - n_frame) <= max(3, 0.05 * n_obs), (u, n_frame, n_obs)


def test_ww_att_gt_zero_before_adoption_and_near_the_parameter_after():
    ds, t = sim("groningen", 0)
    g = t.params["ww_groups"]["Groningen"]
    assert g == 8  # adoption 2020-01-01, contacts for WW ending from 2020H2
    for period in range(1, g):
        assert t.values[f"ww.att_gt.{g}.{period}"] == 0.0
    # expected effect on inflow within 12 months in post periods, from the recorded contacts
    ww = ww_frame(ds, 12)
    post = ww[ww.groningen & (ww.period >= g)]
    early = post.ww_end < post.ww_max_end
    contacted = post.contact_date.notna()
    p = resolve_params("groningen", "groningen")
    expected = p.ww_effect * np.mean(contacted * np.where(early, p.ww_early_end_factor, 1.0))
    se = math.sqrt(abs(expected) / len(post))
    assert abs(t.values["ww.att_inflow_12m"] - expected) < 4 * se
    assert t.values["ww.att_inflow_6m"] < 0
    assert t.values["ww.att_inflow_3m"] > t.values["ww.att_inflow_6m"]


def test_staggered_adoption_adds_a_group():
    _, t = simulate(
        scale=SMALL, seed=4, ww_adoption={"Groningen": "2020-01-01", "Eemsdelta": "2022-01-01"}
    )
    assert t.params["ww_groups"]["Eemsdelta"] == 12
    assert "ww.att_gt.12.12" in t.values and t.values["ww.att_gt.12.11"] == 0.0


def test_pilot_truth():
    t = sim("groningen", 0)[1]
    assert t.params["counts"]["pilot.n_participants"] == 40
    assert t.values["pilot.att_employed_12m"] > 0
    assert t.values["pilot.att_employed_24m"] > 0
    assert t.values["pilot.hazard_ratio"] == pytest.approx(5.0)


def test_truth_json_roundtrip_sorted_and_stable():
    t = sim("groningen", 0)[1]
    text = t.to_json()
    keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('  "')]
    assert keys == sorted(keys)
    back = type(t).from_json(text)
    assert back.values == pytest.approx(t.values, nan_ok=True)
    assert type(t).from_json(t.to_json(include_params=True)).params["seed"] == 0


def test_pilot_treated_outcomes_match_the_tables():
    """For participants the written world is the treated world: the truth's treated levels
    must equal what the jobs, spells and ladder tables say on the same day."""
    ds, t = sim("groningen", 0)
    pilot = ds.programmes[ds.programmes.programme == "stadsbeheer"]
    for h in (12, 24):
        day = pilot.start_date + pd.to_timedelta(round(h * 365.25 / 12), unit="D")
        pid = pilot.person_id.to_numpy()
        jobs = ds.jobs.merge(pd.DataFrame({"person_id": pid, "day": day.to_numpy()}))
        run = (jobs.start_date <= jobs.day) & (jobs.end_date.isna() | (jobs.end_date >= jobs.day))
        employed = pd.Series(pid).isin(jobs.loc[run, "person_id"]).mean()
        assert employed == pytest.approx(t.values[f"pilot.employed_{h}m_treated"], abs=1e-12)
    # the untreated world is never written, but its levels must be plausible
    assert 0 <= t.values["pilot.employed_12m_untreated"] <= t.values["pilot.employed_12m_treated"]
