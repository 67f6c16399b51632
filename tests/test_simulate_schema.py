"""The simulated tables follow werkeffect.data.schema exactly."""

import numpy as np
import pandas as pd
import pytest

from _simhelpers import sim
from werkeffect.data import schema
from werkeffect.simulate import SimParams, simulate

DTYPE_CHECK = {
    "id": lambda s: s.dtype == np.int64,
    "date": lambda s: s.dtype == "datetime64[ns]",
    "bool": lambda s: s.dtype == bool,
    "category": lambda s: isinstance(s.dtype, pd.CategoricalDtype),
    "float": lambda s: s.dtype == np.float64,
    "int": lambda s: s.dtype in (np.int64, pd.Int64Dtype()),
    "str": lambda s: s.dtype == object,
}


@pytest.fixture(scope="module", params=["groningen", "groningen-observables"])
def ds(request):
    # the simulator's own types (typed=False); typed=True gives load()'s types (tested in
    # test_simulate_determinism.py)
    return sim(request.param, 0, typed=False)[0]


@pytest.mark.parametrize("name", list(schema.TABLES))
def test_columns_types_codes_and_keys(ds, name):
    spec = schema.TABLES[name]
    df = getattr(ds, name)
    assert list(df.columns) == spec.names
    assert len(df) > 0
    for col in spec.columns:
        s = df[col.name]
        assert DTYPE_CHECK[col.dtype](s), (name, col.name, s.dtype)
        if not col.nullable:
            assert s.notna().all(), (name, col.name)
        if col.codes is not None:
            assert set(s.dropna().astype(str)) <= set(col.codes), (name, col.name)
            assert list(s.cat.categories) == list(col.codes)
        if col.min is not None:
            assert (s.dropna() >= col.min).all(), (name, col.name)
        if col.max is not None:
            assert (s.dropna() <= col.max).all(), (name, col.name)
    assert not df.duplicated(list(spec.key)).any(), name
    for start, end in spec.date_pairs:
        ok = df[end].isna() | (df[end] >= df[start])
        assert ok.all(), (name, start, end, df[~ok].head())
    if spec.person_column:
        assert df[spec.person_column].isin(ds.persons.person_id).all(), name


def test_no_values_after_the_extract_date(ds):
    ext = ds.extract_date
    for name, df in ds.tables().items():
        for col in df.columns:
            if df[col].dtype == "datetime64[ns]" and col != "birth_date":
                assert (df[col].dropna() <= ext).all(), (name, col)


def test_running_spells_have_no_exit_reason_and_ended_ones_do(ds):
    sp = ds.spells
    assert sp.loc[sp.end_date.isna(), "exit_reason"].isna().all()
    assert sp.loc[sp.end_date.notna(), "exit_reason"].notna().all()


def test_spells_of_a_person_do_not_overlap(ds):
    sp = ds.spells.sort_values(["person_id", "start_date"])
    prev_end = sp.groupby("person_id").end_date.shift()
    same = sp.person_id.eq(sp.person_id.shift())
    assert not (same & (prev_end.isna() | (sp.start_date <= prev_end))).any()


def test_unobserved_heterogeneity_is_not_written(ds):
    cols = {c for df in ds.tables().values() for c in df.columns}
    assert not cols & {"motivation", "frailty", "M", "V"}


def test_persons_municipalities_and_ww_contacts():
    ds = sim("groningen", 0)[0]
    names = set(ds.persons.municipality)
    assert "Groningen" in names and len(names) == 1 + SimParams().ww_municipalities
    contacted = ds.ww[ds.ww.contact_date.notna()]
    assert (contacted.municipality == "Groningen").all()
    assert (contacted.contact_date >= pd.Timestamp("2020-01-01")).all()
    months = (contacted.ww_max_end - contacted.contact_date).dt.days / (365.25 / 12)
    assert months.between(5.9, 6.1).all()
    ww_prog = ds.programmes[ds.programmes.programme == "ww_naar_bijstand"]
    assert len(ww_prog) == len(contacted)
    assert ds.ww.ww_max_end.min() >= pd.Timestamp("2017-01-01")
    assert ds.ww.ww_max_end.max() <= pd.Timestamp("2024-12-31")


def test_programmes_present_and_pilot_is_statushouders():
    ds = sim("groningen", 0)[0]
    progs = ds.programmes.programme.value_counts()
    for p in ("jobcoaching", "nazorg", "stadsbeheer", "ww_naar_bijstand"):
        assert progs.get(p, 0) > 0, p
    pilot = ds.programmes[ds.programmes.programme == "stadsbeheer"]
    assert len(pilot) == SimParams().pilot_size
    sh = ds.persons.set_index("person_id").loc[pilot.person_id, "statushouder"]
    assert sh.all()


def test_unknown_parameter_and_scenario_raise():
    with pytest.raises(TypeError, match="unknown parameter"):
        simulate(scale=0.05, not_a_parameter=1)
    with pytest.raises(ValueError, match="unknown scenario"):
        simulate(scenario="rotterdam", scale=0.05)
    with pytest.raises(ValueError, match="scale"):
        simulate(scale="europe")


def test_ages_permits_and_ww_dates_are_plausible(ds):
    sp = ds.spells.join(ds.persons.set_index("person_id"), on="person_id")
    age_start = (sp.start_date - sp.birth_date).dt.days / 365.25
    assert age_start.min() >= 17.99 and age_start.max() < 67
    age_end = (sp.end_date - sp.birth_date).dt.days / 365.25
    assert age_end.max() <= 67.01
    sh = ds.persons[ds.persons.statushouder]
    assert sh.permit_date.notna().all()
    assert ds.persons.loc[~ds.persons.statushouder, "permit_date"].isna().all()
    first = ds.spells.groupby("person_id").start_date.min()
    assert (sh.permit_date <= sh.person_id.map(first).fillna(pd.Timestamp.max)).all()
    assert (ds.ww.ww_end <= ds.ww.ww_max_end).all()
    assert (ds.ww.contact_date.dropna() >= ds.ww.ww_start.min()).all()
