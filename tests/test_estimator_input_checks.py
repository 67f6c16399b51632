"""Estimator input checks from the s11 input audit: values that are present but not numbers,
no exits of interest, too few clusters, missing outcomes, duplicate rows, fractional codes,
missing cluster or id values and words that say what is wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dynamic_dgp import simulate_spells
from werkeffect.dynamic import DynamicIPW, DynamicMatch
from werkeffect.exceptions import DataValidationError, EstimationError, EstimationWarning
from werkeffect.survival import TimingOfEvents


# ---------------------------------------------------------------------------------------
def toe_spells(n: int = 400, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    tp = rng.exponential(1 / 0.05, n)
    T = np.minimum(rng.exponential(1 / (0.05 * np.exp(0.3 * x))), 30.0) + 0.01
    cause = np.where(T < 30, rng.integers(1, 3, n), 0)
    return pd.DataFrame(
        {"T": T, "cause": cause, "ps": np.where(tp < T, tp, np.nan), "x": x,
         "id": np.arange(n) // 2}
    )  # fmt: skip


TOE = dict(duration="T", cause="cause", programme_start="ps", covariates=["x"],
           baseline_cuts=[0, 6, 12], max_mass_points=1)  # fmt: skip


def test_toe_programme_start_text_is_an_error_not_never_treated():
    df = toe_spells()
    df["ps"] = df["ps"].astype(object)
    df.loc[[4, 9], "ps"] = "3,5"
    with pytest.raises(DataValidationError, match=r"'ps'.*'3,5'.*2 row\(s\), e\.g\. rows 4, 9"):
        TimingOfEvents(df, **TOE)
    # a genuinely missing start (NaN, None, empty text) still means no programme
    df.loc[[4, 9], "ps"] = None
    df.loc[11, "ps"] = ""
    TimingOfEvents(df, **TOE)


def test_toe_duration_and_entry_text_are_errors():
    df = toe_spells().assign(entry=0.0)
    bad = df.assign(T=df["T"].astype(object))
    bad.loc[3, "T"] = "lang"
    with pytest.raises(DataValidationError, match=r"'T'.*'lang'.*rows 3"):
        TimingOfEvents(bad, **TOE)
    bad = df.assign(entry=df["entry"].astype(object))
    bad.loc[5, "entry"] = "?"
    with pytest.raises(DataValidationError, match=r"'entry'.*rows 5"):
        TimingOfEvents(bad, entry="entry", **TOE)


def test_toe_validation_errors_name_example_rows():
    df = toe_spells().assign(entry=0.0)
    with pytest.raises(DataValidationError, match=r"'T'.*2 row\(s\), e\.g\. rows 1, 6"):
        TimingOfEvents(df.assign(T=np.where(df.index.isin([1, 6]), -1.0, df["T"])), **TOE)
    ent = np.where(df.index.isin([2, 8]), df["T"] + 1, 0.0)
    with pytest.raises(DataValidationError, match=r"'entry'.*2 row\(s\), e\.g\. rows 2, 8"):
        TimingOfEvents(df.assign(entry=ent), entry="entry", **TOE)
    with pytest.raises(DataValidationError, match=r"'ps'.*negative.*rows 7"):
        TimingOfEvents(df.assign(ps=np.where(df.index == 7, -2.0, df["ps"])), **TOE)


def test_toe_fractional_and_text_cause_codes():
    df = toe_spells()
    c = df["cause"].astype(float)
    c[0] = 1.5
    with pytest.raises(DataValidationError, match=r"'cause'.*1\.5.*rows 0"):
        TimingOfEvents(df.assign(cause=c), **TOE)
    c = df["cause"].astype(str)
    c[3] = "werk"
    with pytest.raises(DataValidationError, match=r"'cause'.*'werk'.*rows 3"):
        TimingOfEvents(df.assign(cause=c), **TOE)
    with pytest.raises(DataValidationError, match=r"'cause'.*-1.*rows 2"):
        TimingOfEvents(df.assign(cause=np.where(df.index == 2, -1, df["cause"])), **TOE)


def test_toe_missing_person_id_is_named():
    df = toe_spells()
    df["id"] = df["id"].astype(object)
    df.loc[[0, 5], "id"] = None
    with pytest.raises(
        DataValidationError, match=r"'id' is missing in 2 row\(s\), e\.g\. rows 0, 5"
    ):
        TimingOfEvents(df, id="id", **TOE)


# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spells() -> pd.DataFrame:
    return simulate_spells(600, seed=3)


DYN = dict(covariates=["x1"], u_values=[2, 4], horizons=(6,))


def test_dynamic_programme_start_text_is_an_error(spells):
    df = spells.assign(programme_start=spells["programme_start"].astype(object))
    df.loc[[2, 5], "programme_start"] = "maart"
    with pytest.raises(DataValidationError, match=r"programme_start.*'maart'.*rows 2, 5"):
        DynamicMatch(df, **DYN)
    df.loc[[2, 5], "programme_start"] = np.nan  # missing: not treated
    DynamicMatch(df, **DYN)
    df = spells.assign(duration=spells["duration"].astype(object))
    df.loc[4, "duration"] = "12 mnd"
    with pytest.raises(DataValidationError, match=r"duration.*'12 mnd'.*rows 4"):
        DynamicMatch(df, **DYN)


@pytest.mark.parametrize("cls", [DynamicMatch, DynamicIPW])
def test_dynamic_no_exits_to_work_raises(spells, cls):
    df = spells.assign(cause=np.where(spells["cause"] == 1, 3, spells["cause"]))
    with pytest.raises(EstimationError, match=r"no exits to work.*code 1.*present: \[3\]"):
        cls(df, **DYN)


def test_dynamic_one_cluster_and_missing_cluster(spells):
    with pytest.raises(EstimationError, match="'cl' has 1 distinct value.*at least 2 clusters"):
        DynamicMatch(spells.assign(cl="a"), cluster="cl", **DYN).fit(n_boot=5, progress=False)
    cl = np.where(spells.index.isin([1, 3]), None, "a")
    with pytest.raises(DataValidationError, match=r"cluster column `cl` has missing.*rows 1, 3$"):
        DynamicMatch(spells.assign(cl=cl), cluster="cl", **DYN)


def test_dynamic_duplicate_spell_ids(spells):
    df = spells.assign(spell_id=np.arange(len(spells)))
    dup = pd.concat([df, df.iloc[[7]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"`spell_id` repeats 1 id.*rows 7, 600:"):
        DynamicMatch(dup, spell="spell_id", **DYN)
    with pytest.raises(DataValidationError, match=r"row labels \(index\) repeat"):
        DynamicMatch(pd.concat([df, df.iloc[[7]]]), **DYN)


# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def episodes() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    t = rng.exponential(1 / (0.05 * np.exp(0.3 * x)))
    c = rng.uniform(5, 30, n)
    return pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x": x,
                         "z": rng.normal(size=n), "cl": np.arange(n) % 40})  # fmt: skip


def test_cox_clusters_one_few_missing(episodes):
    from werkeffect.survival import CoxPH

    spec = dict(duration="t", event="e", covariates=["x"])
    with pytest.raises(EstimationError, match="'cl' has 1 distinct value.*at least 2 clusters"):
        CoxPH(episodes.assign(cl=7), cluster="cl", **spec).fit()
    with pytest.warns(EstimationWarning, match="only 3 clusters") as rec:
        CoxPH(episodes.assign(cl=episodes["cl"] % 3), cluster="cl", **spec).fit()
    assert "slechts 3 clusters" in rec[0].message.nl
    cl = episodes["cl"].astype(float).where(~episodes.index.isin([4, 8]))
    with pytest.raises(
        DataValidationError, match=r"'cl' is missing in 2 row\(s\), e\.g\. rows 4, 8"
    ):
        CoxPH(episodes.assign(cl=cl), cluster="cl", **spec)


def test_cox_missing_strata_collinear_and_zero_weights(episodes):
    from werkeffect.survival import CoxPH

    spec = dict(duration="t", event="e", covariates=["x"])
    s = np.where(episodes.index.isin([1, 2]), None, np.where(episodes["x"] > 0, "a", "b"))
    with pytest.raises(DataValidationError, match=r"strata column 's' is missing.*rows 1, 2"):
        CoxPH(episodes.assign(s=s), strata="s", **spec)
    with pytest.raises(EstimationError, match=r"\['x', 'x2'\] are collinear"):
        CoxPH(episodes.assign(x2=2 * episodes["x"]), duration="t", event="e",
              covariates=["x", "z", "x2"]).fit()  # fmt: skip
    with pytest.raises(EstimationError, match="weights in 'w' are 0 for every row"):
        CoxPH(episodes.assign(w=0.0), weights="w", **spec)


# ---------------------------------------------------------------------------------------
def did_panel(n_units: int = 60, n_t: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_t)
    time = np.tile(np.arange(1, n_t + 1), n_units)
    g = np.repeat(rng.choice([0, 4, 5], n_units, p=[0.4, 0.3, 0.3]), n_t)
    y = rng.normal(size=n_units * n_t) + np.where((g > 0) & (time >= g), 1.0, 0.0)
    df = pd.DataFrame({"unit": unit, "time": time, "group": g, "y": y})
    df["treated"] = (df["group"] > 0).astype(int)
    df["post"] = (df["time"] >= 4).astype(int)
    df["d"] = ((df["group"] > 0) & (df["time"] >= df["group"])).astype(int)
    df["cl"] = df["unit"] % 6
    return df


def test_did_one_cluster_raises_before_dividing():
    from werkeffect.did import TWFE, CallawaySantAnna, DiD, EventStudy

    df = did_panel().assign(cl=1)
    msg = "'cl' has 1 distinct value.*at least 2 clusters"
    with pytest.raises(EstimationError, match=msg):
        DiD(df[df["group"] != 5], outcome="y", treated="treated", post="post", unit="unit",
            cluster="cl").fit()  # fmt: skip
    with pytest.raises(EstimationError, match=msg):
        EventStudy(df, outcome="y", unit="unit", time="time", group="group", leads=2, lags=1,
                   cluster="cl").fit()  # fmt: skip
    with pytest.raises(EstimationError, match=msg):
        TWFE(df, "y", "unit", "time", "d", cluster="cl").fit(inference="analytic")
    with pytest.raises(EstimationError, match=msg):
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group",
                         cluster="cl").fit()  # fmt: skip


def test_callaway_santanna_few_clusters_warns():
    from werkeffect.did import CallawaySantAnna

    with pytest.warns(EstimationWarning, match="only 6 clusters"):
        CallawaySantAnna(did_panel(), outcome="y", unit="unit", time="time", group="group",
                         cluster="cl").fit()  # fmt: skip


def test_did_duplicate_unit_time_rows_are_named():
    from werkeffect.did import TWFE, CallawaySantAnna, EventStudy

    df = did_panel()
    dup = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    msg = r"1 value\(s\) of \('unit', 'time'\) occur more than once.*rows 3, 360"
    with pytest.raises(DataValidationError, match=msg):
        CallawaySantAnna(dup, outcome="y", unit="unit", time="time", group="group").fit()
    with pytest.raises(DataValidationError, match=msg):
        EventStudy(dup, outcome="y", unit="unit", time="time", group="group", leads=2,
                   lags=1).fit()  # fmt: skip
    with pytest.raises(DataValidationError, match=msg):
        TWFE(dup, "y", "unit", "time", "d").fit(inference="analytic")


def test_callaway_santanna_single_treated_unit_warns():
    from werkeffect.did import CallawaySantAnna

    df = did_panel()
    one = df["unit"][df["group"] == 4].iloc[0]
    df = df[(df["group"] != 4) | (df["unit"] == one)]
    with pytest.warns(EstimationWarning, match="cohort.* 4 are a single unit") as rec:
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group").fit()
    assert any("één" in getattr(r.message, "nl", "") for r in rec)
    # the warning names the cohorts, for a caller that leaves their intervals out; a worker
    # process (pickling) keeps them
    import pickle

    from werkeffect.exceptions import SingleTreatedClusterWarning

    single = [r.message for r in rec if isinstance(r.message, SingleTreatedClusterWarning)]
    assert len(single) == 1 and single[0].cohorts == (4,)
    again = pickle.loads(pickle.dumps(single[0]))
    assert again.cohorts == (4,) and again.nl == single[0].nl and str(again) == str(single[0])


def test_did_wording_no_untreated_and_no_treated():
    from werkeffect.did import DiD, EventStudy

    df = did_panel()
    with pytest.raises(EstimationError, match="no untreated units"):
        DiD(df.assign(treated=1), outcome="y", treated="treated", post="post", unit="unit").fit()
    with pytest.raises(EstimationError, match="no treated units"):
        EventStudy(df.assign(group=0), outcome="y", unit="unit", time="time", group="group",
                   leads=2, lags=1).fit()  # fmt: skip


# ---------------------------------------------------------------------------------------
def matching_frame(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-x1))).astype(int)
    return pd.DataFrame({"d": d, "x1": x1, "x2": rng.integers(0, 2, n).astype(float),
                         "y": x1 + 0.5 * d + rng.normal(size=n)})  # fmt: skip


def _estimators():
    from werkeffect.matching import AIPW, CEM, IPW, EntropyBalance, NearestNeighborMatch

    kw = dict(treatment="d", covariates=["x1", "x2"])
    return {
        "nn": lambda df: NearestNeighborMatch(df, **kw).fit().att("y"),
        "ipw": lambda df: IPW(df, **kw).fit(outcome="y"),
        "aipw": lambda df: AIPW(df, **kw).fit(outcome="y"),
        "eb": lambda df: EntropyBalance(df, **kw).fit(outcome="y"),
        "cem": lambda df: CEM(df, **kw).fit(outcome="y"),
    }


@pytest.mark.parametrize("name", ["nn", "ipw", "aipw", "eb", "cem"])
def test_matching_missing_outcome_and_single_treated(name):
    fit = _estimators()[name]
    df = matching_frame()
    y = df["y"].where(~df.index.isin([3, 17]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overlap warnings are not the point here
        with pytest.raises(DataValidationError, match=r"'y' is missing.*rows 3, 17"):
            fit(df.assign(y=y))
    with pytest.raises(EstimationError, match="only 1 treated unit.*at least 2 treated"):
        fit(df.assign(d=(df.index == 0).astype(int)))


def test_cox_covariates_without_variation_within_strata_are_named(episodes):
    """With strata each stratum has its own baseline, so a covariate constant within every
    stratum (or a combination of covariates collinear only within strata) has no effect to
    estimate; lifelines and R's coxph return NA or a huge standard error instead."""
    from werkeffect.survival import CoxPH

    s = np.where(episodes["z"] > 0, "a", "b")
    flag = (episodes["z"] > 0).astype(float)  # the stratum itself as a covariate
    with pytest.raises(EstimationError, match=r"\['g'\] do not vary within any stratum of \['s'\]"):
        CoxPH(episodes.assign(s=s, g=flag), duration="t", event="e", strata="s",
              covariates=["x", "g"]).fit()  # fmt: skip
    # x2 = x + 3 in stratum a and x in stratum b: full rank overall, collinear within strata
    x2 = episodes["x"] + 3 * flag
    with pytest.raises(EstimationError, match=r"\['x', 'x2'\] are collinear.*within the strata"):
        CoxPH(episodes.assign(s=s, x2=x2), duration="t", event="e", strata="s",
              covariates=["x", "x2"]).fit()  # fmt: skip
    # without strata the same design is fine
    CoxPH(episodes.assign(x2=x2), duration="t", event="e", covariates=["x", "x2"]).fit()
