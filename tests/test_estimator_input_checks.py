"""Estimator input checks from the s11 input audit: values that are present but not numbers,
no exits of interest, too few clusters, missing outcomes, duplicate rows, fractional codes,
missing cluster or id values and words that say what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynamic_dgp import simulate_spells
from werkeffect.dynamic import DynamicIPW, DynamicMatch
from werkeffect.exceptions import DataValidationError, EstimationError
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
    with pytest.raises(DataValidationError, match=r"cluster column `cl` has missing.*\[1, 3\]"):
        DynamicMatch(spells.assign(cl=cl), cluster="cl", **DYN)


def test_dynamic_duplicate_spell_ids(spells):
    df = spells.assign(spell_id=np.arange(len(spells)))
    dup = pd.concat([df, df.iloc[[7]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"`spell_id` repeats 1 id.*\[7, 600\]"):
        DynamicMatch(dup, spell="spell_id", **DYN)
    with pytest.raises(DataValidationError, match=r"row labels \(index\) repeat"):
        DynamicMatch(pd.concat([df, df.iloc[[7]]]), **DYN)
