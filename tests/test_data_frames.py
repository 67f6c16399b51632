"""Episodes and person-months: property tests against a plain (looping) reference."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import werkeffect
from werkeffect.data.dataset import Dataset
from werkeffect.data.flow import DataFlow
from werkeffect.data.frames import DAYS_PER_MONTH, episodes, participation_spells, person_months
from werkeffect.data.io import load
from werkeffect.data.validate import empty_table

FIX = Path(__file__).parent / "fixtures"
T0 = pd.Timestamp("2015-01-01")
REASONS = ["werk", "deeltijdwerk", "scholing", "partner", "overig", None]


@st.composite
def extracts(draw):
    """Random persons with non-overlapping spells and programme participations."""
    n_persons = draw(st.integers(1, 4))
    spells, progs, persons = [], [], []
    ends, lasts = [], []
    for p in range(n_persons):
        pid = f"p{p}"
        persons.append(pid)
        day = draw(st.integers(0, 300))
        for _ in range(draw(st.integers(1, 3))):
            length = draw(st.integers(1, 900))
            start, end = day, day + length - 1
            spells.append([pid, start, end, draw(st.sampled_from(REASONS))])
            for _ in range(draw(st.integers(0, 2))):
                a = draw(st.integers(start, end))
                dur = draw(st.one_of(st.none(), st.integers(1, 500)))
                progs.append([pid, a, None if dur is None else a + dur - 1])
            day = end + draw(st.integers(1, 200))
            ends.append(end)
        lasts.append(len(spells) - 1)
        if draw(st.booleans()):  # a participation in the gap after the last spell: unused
            progs.append([pid, day, day + 10])
    extract = max(ends) + draw(st.integers(0, 100))
    # only the last spell of a person may still run at the extract date (no overlaps)
    running = [i in lasts and draw(st.booleans()) for i in range(len(spells))]
    window = draw(st.one_of(st.none(), st.integers(0, max(ends))))
    return spells, progs, persons, extract, running, window


def _dataset(spells, progs, persons, extract, running):
    d = lambda x: T0 + pd.Timedelta(days=int(x))  # noqa: E731
    sp = pd.DataFrame(
        {
            "spell_id": [f"s{i}" for i in range(len(spells))],
            "person_id": [s[0] for s in spells],
            "start_date": [d(s[1]) for s in spells],
            "end_date": [pd.NaT if r else d(s[2]) for s, r in zip(spells, running, strict=True)],
            "exit_reason": [None if r else s[3] for s, r in zip(spells, running, strict=True)],
        }
    )
    sp["end_date"] = pd.to_datetime(sp["end_date"])
    pr = pd.DataFrame(
        {
            "participation_id": [f"j{i}" for i in range(len(progs))],
            "person_id": [p[0] for p in progs],
            "programme": "jobcoaching",
            "start_date": pd.to_datetime([d(p[1]) for p in progs]),
            "end_date": pd.to_datetime([pd.NaT if p[2] is None else d(p[2]) for p in progs]),
        }
    )
    pe = pd.DataFrame(
        {
            "person_id": persons,
            "birth_date": pd.Timestamp("1980-01-01"),
            "sex": "V",
            "statushouder": False,
        }
    )
    return Dataset(
        persons=pe,
        spells=sp,
        programmes=pr,
        ww=empty_table("ww"),
        extract_date=d(extract),
    )


def _reference_rows(spells, progs, extract, running, window):
    """Plain loops: the rows (in days) each spell must give."""
    rows = {}
    for i, (pid, start, end, _reason) in enumerate(spells):
        last = extract if running[i] else end
        stop = min(last, extract) - start + 1
        entry = 0 if window is None else max(window - start, 0)
        if stop <= entry:
            continue
        mine = [
            (a - start, stop if b is None else min(b - start + 1, stop))
            for p, a, b in progs
            if p == pid and start <= a <= start + stop - 1
        ]
        ps = min((a for a, _ in mine), default=None)
        cuts = sorted({entry, stop} | {t for iv in mine for t in iv if entry < t < stop})
        out = []
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            treated = ps is not None and ps <= lo
            inprog = any(a <= lo < b for a, b in mine)
            ev = (not running[i]) and hi == stop
            out.append((lo, hi, int(ev), int(treated), int(inprog)))
        rows[f"s{i}"] = (out, entry, stop)
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts())
def test_episode_splitting_conserves_time_at_risk_and_exit(ex):
    spells, progs, persons, extract, running, window = ex
    ds = _dataset(spells, progs, persons, extract, running)
    ws = None if window is None else T0 + pd.Timedelta(days=window)
    ep = episodes(ds, window_start=ws)
    ref = _reference_rows(spells, progs, extract, running, window)
    assert set(ep["spell_id"]) == set(ref)
    for sid, g in ep.groupby("spell_id", sort=False):
        want, entry, stop = ref[sid]
        # time at risk of the spell is conserved, rows are contiguous
        assert g["stop"].sub(g["start"]).sum() == pytest.approx((stop - entry) / DAYS_PER_MONTH)
        assert np.allclose(g["start"].to_numpy()[1:], g["stop"].to_numpy()[:-1])
        # the exit event appears once, on the last row, iff the spell ended
        i = int(sid[1:])
        assert g["event"].sum() == (0 if running[i] else 1)
        assert g["event"].iloc[:-1].sum() == 0
        if not running[i]:
            from werkeffect.data.schema import EXIT_GROUPS

            reason = spells[i][3]
            code = {"work": 1, "education": 2, "other": 3}[EXIT_GROUPS[reason]] if reason else 3
            assert g["cause"].iloc[-1] == code
        # identical to the reference, row by row (in days)
        got = list(
            zip(
                np.rint(g["start"] * DAYS_PER_MONTH).astype(int),
                np.rint(g["stop"] * DAYS_PER_MONTH).astype(int),
                g["event"],
                g["treated"],
                g["in_programme"],
                strict=True,
            )
        )
        assert got == want
        assert (g["entry_delayed"] == int(entry > 0)).all()
        assert np.all(np.diff(g["treated"]) >= 0)  # absorbing
        assert (g["in_programme"] <= g["treated"]).all()
    # time since programme: zero at the start, NaN before
    tr = ep[ep["treated"] == 1]
    assert np.allclose(tr["time_since_programme"], tr["start"] - tr["programme_start"])
    assert ep.loc[ep["treated"] == 0, "time_since_programme"].isna().all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts())
def test_participation_spells_link_each_participation_to_its_running_spell(ex):
    """Against plain loops: the spell of the same person running on the start day (up to its
    end or the extract date), its exit reason and the days to its end when it ended."""
    spells, progs, persons, extract, running, _window = ex
    ds = _dataset(spells, progs, persons, extract, running)
    got = participation_spells(ds)
    assert len(got) == len(progs)
    for k, (pid, a, _b) in enumerate(progs):
        want = -1
        for i, (sp_pid, start, end, _reason) in enumerate(spells):
            last = extract if running[i] else min(end, extract)
            if sp_pid == pid and start <= a <= last:
                want = i
        row = got.iloc[k]
        assert row["spell_row"] == want
        ended = want >= 0 and not running[want] and spells[want][2] <= extract
        if ended:
            assert row["days_to_spell_end"] == spells[want][2] - a
            assert row["exit_reason"] == spells[want][3]
            assert row["spell_end_date"] == T0 + pd.Timedelta(days=spells[want][2])
        else:
            assert np.isnan(row["days_to_spell_end"])
            assert row["exit_reason"] is None
            assert pd.isna(row["spell_end_date"])
        if want < 0:
            assert pd.isna(row["spell_start_date"])
        else:
            assert row["spell_start_date"] == T0 + pd.Timedelta(days=spells[want][1])


def test_person_months_refuses_a_panel_larger_than_the_memory(monkeypatch):
    """A panel that cannot fit is refused before it is built, with the sizes and what to do
    (the full national panel, 1.7M persons x 190 months, was killed by the kernel)."""
    from werkeffect.data import frames

    ds = load(FIX / "good" / "parquet")
    full = person_months(ds)
    monkeypatch.setattr(frames, "_available_memory", lambda: len(full) * 50)
    with pytest.raises(MemoryError, match=r"persons x \d+ months\), about .* GB.*on_benefit_only"):
        person_months(ds)
    assert len(person_months(ds, on_benefit_only=True)) < len(full) / 2  # fits
    monkeypatch.setattr(frames, "_available_memory", lambda: None)  # unknown: no guard
    assert len(person_months(ds)) == len(full)


def test_episodes_on_fixture_by_hand():
    ds = load(FIX / "good" / "parquet")
    ep = episodes(ds)
    s1 = ep[ep["spell_id"] == "s1"]
    # s1: 2019-01-01 .. 2019-12-31, jobcoaching 2019-03-01 .. 2019-09-30
    days = np.rint(s1[["start", "stop"]].to_numpy() * DAYS_PER_MONTH).astype(int).tolist()
    assert days == [[0, 59], [59, 273], [273, 365]]
    assert s1["treated"].tolist() == [0, 1, 1]
    assert s1["in_programme"].tolist() == [0, 1, 0]
    assert s1["event"].tolist() == [0, 0, 1] and s1["cause"].iloc[-1] == 1
    assert s1["age"].iloc[0] == pytest.approx(
        (pd.Timestamp("2019-01-01") - pd.Timestamp("1980-04-12")).days / 365.25
    )
    assert ep.loc[ep["spell_id"] == "s2", "previous_spells"].iloc[0] == 1
    s4 = ep[ep["spell_id"] == "s4"]  # running at the extract date 2023-01-01
    assert s4["event"].sum() == 0
    assert s4["stop"].iloc[-1] * DAYS_PER_MONTH == pytest.approx(
        (pd.Timestamp("2023-01-01") - pd.Timestamp("2020-01-01")).days + 1
    )
    assert {"sex", "education", "barrier_health", "ladder_intake", "wijk"} <= set(ep.columns)
    assert ep["statushouder"].dtype == np.int8
    steps = [s.step for s in ep.attrs["flow"]]
    assert steps[-2:] == ["episodes: programme", "episodes: split"]
    assert werkeffect.episodes is episodes


def test_left_truncation_and_flow():
    ds = load(FIX / "good" / "parquet")
    ep = episodes(ds, window_start="2020-01-01", covariates=False)
    # s1 (ended 2019-12-31) and s5 (ended 2019-04-30) are dropped
    assert set(ep["spell_id"]) == {"s2", "s3", "s4", "s6", "s7"}
    s3 = ep[ep["spell_id"] == "s3"]
    assert s3["entry_delayed"].all()
    assert s3["start"].iloc[0] * DAYS_PER_MONTH == pytest.approx(
        (pd.Timestamp("2020-01-01") - pd.Timestamp("2018-03-15")).days
    )
    win = [s for s in ep.attrs["flow"] if s.step == "episodes: window"][0]
    assert (win.rows_in, win.rows_out) == (7, 5)
    assert "left truncation" in win.reason


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts())
def test_person_months_consistent_with_spells(ex):
    spells, progs, persons, extract, running, _ = ex
    ds = _dataset(spells, progs, persons, extract, running)
    pm = person_months(ds)
    months = pd.period_range(
        ds.spells["start_date"].min(), ds.extract_date, freq="M"
    ).to_timestamp()
    assert len(pm) == len(persons) * len(months)
    assert not pm.duplicated(["person_id", "month"]).any()
    ep = episodes(ds, covariates=False)
    # reference by loops: a person-month is on benefit iff some spell covers a day of it
    for sid, pid, s, e in ds.spells[["spell_id", "person_id", "start_date", "end_date"]].itertuples(
        index=False
    ):
        e = ds.extract_date if pd.isna(e) else e
        cover = pm[
            (pm["person_id"] == pid)
            & (pm["month"] >= s.to_period("M").to_timestamp())
            & (pm["month"] <= e)
        ]
        assert cover["on_benefit"].all()
        mine = pm[pm["spell_id"] == sid]
        if len(mine):
            assert mine["duration"].tolist() == [
                (m.year - s.year) * 12 + m.month - s.month for m in mine["month"]
            ]
            # treated in person-months iff the first programme start lies in or before the month
            g = ep[ep["spell_id"] == sid]
            ps = g["programme_start"].iloc[0]
            if np.isnan(ps):
                assert mine["treated"].sum() == 0
            else:
                first = (s + pd.Timedelta(days=round(ps * DAYS_PER_MONTH))).to_period("M")
                want = [int(m.to_period("M") >= first) for m in mine["month"]]
                assert mine["treated"].tolist() == want
    off = pm[pm["on_benefit"] == 0]
    assert off["spell_id"].isna().all() and off["duration"].isna().all()
    assert (off[["exit", "treated", "cause"]] == 0).all().all()
    # every ended spell exits once (unless a later spell took its exit month, which never
    # happens here since spells are at least one day apart but may share a month)
    ended = ds.spells["end_date"].notna().sum()
    assert pm["exit"].sum() <= ended
    assert pm.loc[pm["exit"] == 1, "cause"].gt(0).all()


def test_person_months_jobs_ladder_and_options():
    ds = load(FIX / "good" / "parquet")
    ds.jobs = pd.DataFrame(
        {
            "job_id": ["a", "b"],
            "person_id": ["p1", "p1"],
            "start_date": pd.to_datetime(["2020-01-15", "2020-02-01"]),
            "end_date": pd.to_datetime(["2020-02-10", pd.NaT]),
            "monthly_earnings": [1000.0, 500.0],
        }
    )
    ds.ladder = pd.DataFrame(
        {
            "person_id": ["p1", "p1"],
            "date": pd.to_datetime(["2018-06-01", "2020-03-20"]),
            "step": [2, 4],
        }
    )
    pm = person_months(ds, start="2019-11-01", end="2020-06-01")
    p1 = pm[pm["person_id"] == "p1"].set_index("month")
    assert p1["employed"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    assert p1["earnings"].tolist() == [0, 0, 1000, 1500, 500, 500, 500, 500]
    assert p1["ladder_step"].tolist() == [2, 2, 2, 2, 4, 4, 4, 4]
    assert p1["on_benefit"].tolist() == [1, 1, 0, 0, 0, 0, 0, 1]
    assert p1.loc["2019-12-01", "exit"] == 1 and p1.loc["2019-12-01", "cause"] == 1
    assert p1.loc["2020-06-01", "duration"] == 0
    only = person_months(ds, on_benefit_only=True)
    assert only["on_benefit"].all() and only["duration"].dtype == np.int64
    full = person_months(ds)
    assert len(only) == full["on_benefit"].sum()
    pd.testing.assert_frame_equal(
        only.reset_index(drop=True),
        full[full["on_benefit"] == 1].reset_index(drop=True).astype({"duration": np.int64}),
    )
    assert "person_months" in [s.step for s in only.attrs["flow"]]
    assert werkeffect.person_months is person_months


def test_end_after_extract_date_is_censored_in_unvalidated_data():
    ds = load(FIX / "good" / "parquet")
    ds.extract_date = pd.Timestamp("2019-06-30")  # s1 ends 2019-12-31: after this date
    ep = episodes(ds, covariates=False)
    s1 = ep[ep["spell_id"] == "s1"]
    assert s1["event"].sum() == 0 and s1["cause"].sum() == 0
    assert s1["stop"].iloc[-1] * DAYS_PER_MONTH == pytest.approx(181)
    pm = person_months(ds)
    assert pm.loc[pm["spell_id"] == "s1", "exit"].sum() == 0


def test_job_spells_by_hand():
    """Exit to work -> job spell until the next bijstand spell (return) or censoring at the
    extract date or a month before the AOW age; nazorg within a month of the exit."""
    from werkeffect.data.frames import job_spells

    # p0: work exit day 99, returns on day 160; then a spell ending in work on day 299,
    #     censored at the extract (day 400), with nazorg starting on day 300
    # p1: exit to education (no job spell); p2: born 1958-06-01, exits to work on day 30 and
    #     reaches 67 on 2025-06-01, before the extract: censored a month before that
    spells = [["p0", 0, 99, "werk"], ["p0", 160, 299, "deeltijdwerk"], ["p1", 0, 50, "scholing"],
              ["p2", 0, 30, "werk"]]  # fmt: skip
    ds = _dataset(spells, [], ["p0", "p1", "p2"], 4000, [False] * 4)
    ds.persons.loc[ds.persons["person_id"] == "p2", "birth_date"] = pd.Timestamp("1958-06-01")
    nz = pd.DataFrame(
        {
            "participation_id": ["n0"],
            "person_id": ["p0"],
            "programme": "nazorg",
            "start_date": [T0 + pd.Timedelta(days=300)],
            "end_date": [T0 + pd.Timedelta(days=480)],
        }
    )
    ds.programmes = pd.concat([ds.programmes, nz], ignore_index=True)
    ep = episodes(ds, covariates=False)
    jb = job_spells(ds, ep).set_index("spell_id")
    assert sorted(jb.index) == ["s0", "s1", "s3"]
    assert jb.loc["s0", "event"] == 1
    assert jb.loc["s0", "duration"] == pytest.approx((160 - 99) / DAYS_PER_MONTH)
    assert jb.loc["s0", "nazorg"] == 0 and jb.loc["s1", "nazorg"] == 1
    assert jb.loc["s1", "event"] == 0
    assert jb.loc["s1", "duration"] == pytest.approx((4000 - 299) / DAYS_PER_MONTH)
    aow = pd.Timestamp("2025-06-01") - pd.Timedelta(days=31)
    exit_p2 = T0 + pd.Timedelta(days=30)
    assert jb.loc["s3", "event"] == 0
    assert jb.loc["s3", "duration"] == pytest.approx((aow - exit_p2).days / DAYS_PER_MONTH)
    with pytest.raises(KeyError, match="cause"):
        job_spells(ds, ep.drop(columns="cause"))


def test_frames_on_an_empty_programmes_table():
    """An empty programmes table (header only) loads; the frames work on it (job_spells
    crashed subtracting dates from an untyped empty frame) and the jobcoaching population
    refuses with a message a user can act on."""
    from werkeffect.data.frames import job_spells
    from werkeffect.data.populations import jobcoaching_spells
    from werkeffect.exceptions import EstimationError

    ds = load(FIX / "good" / "parquet")
    ds.programmes = ds.programmes.iloc[:0]
    ep = episodes(ds, covariates=False)
    assert ep["treated"].sum() == 0
    jb = job_spells(ds, ep)
    assert len(jb) and (jb["nazorg"] == 0).all()
    with pytest.raises(EstimationError, match="no jobcoaching participations in table programmes"):
        jobcoaching_spells(ds)
    ds = load(FIX / "good" / "parquet")
    ds.programmes = ds.programmes[ds.programmes["programme"] != "jobcoaching"]
    with pytest.raises(EstimationError, match=r"programmes present: nazorg, scholing, stadsbe"):
        jobcoaching_spells(ds)
    ds = load(FIX / "good" / "parquet")  # jobcoaching, but none in the population's spells
    with pytest.raises(EstimationError, match="none of the 2 jobcoaching participations"):
        jobcoaching_spells(ds, municipality="Haren")


def test_ended_spells_without_exit_reason_are_counted_in_the_flow():
    """They become cause 3 ('other'); the frames' flow says how many (it did not)."""
    ds = load(FIX / "good" / "parquet")
    ds.spells.loc[ds.spells["spell_id"] == "s1", "exit_reason"] = None
    ep = episodes(ds, covariates=False)
    assert ep.loc[ep["spell_id"] == "s1", "cause"].iloc[-1] == 3
    pm = person_months(ds)
    for frame, step in ((ep, "episodes"), (pm, "person_months")):
        notes = [s for s in frame.attrs["flow"] if s.step == step and "exit reason" in s.reason]
        assert len(notes) == 1, step
        assert notes[0].table == "spells" and notes[0].rows_in == notes[0].rows_out == 4
        assert notes[0].reason.startswith("1 of 4 ended spells have no exit reason")
        assert notes[0].reason_nl.startswith("1 van 4 beëindigde uitkeringsperioden")
    # a window that leaves s1 out: it is not counted
    ep = episodes(ds, window_start="2020-01-01", covariates=False)
    assert not [s for s in ep.attrs["flow"] if "exit reason" in s.reason]


def test_a_frames_flow_adds_only_its_own_steps_to_the_dataset_record():
    """A frame's flow starts with its dataset's (read, validate); merging it back must not
    count those steps twice (the jobcoaching report once listed every read twice)."""
    ds = load(FIX / "good" / "parquet")
    before = list(ds.flow)
    ep = episodes(ds, window_start="2020-01-01", covariates=False)
    ds.flow.add_new_steps(ep.attrs["flow"])
    steps = [s.step for s in ds.flow]
    assert list(ds.flow)[: len(before)] == before
    assert len(steps) == len(before) + sum(s.step.startswith("episodes") for s in ds.flow)
    assert not any(s.step.startswith("episodes") for s in before)
    n = len(ds.flow)
    ds.flow.add_new_steps(ep.attrs["flow"])  # merging twice adds nothing
    assert len(ds.flow) == n
    # a flow that does not extend the record is appended whole
    other = DataFlow()
    other.add("own", "ww", 5, 4, "one dropped")
    ds.flow.add_new_steps(other)
    assert list(ds.flow)[-1].step == "own"


def test_add_new_steps_compares_steps_with_their_dutch_reason():
    base = DataFlow()
    base.add("read", "spells", 10, 10, "read spells.parquet", "ingelezen: spells.parquet")
    frame = base.copy()
    frame.add("episodes: split", "spells", 10, 14, "split", "gesplitst")
    base.add_new_steps(frame)
    assert [s.step for s in base] == ["read", "episodes: split"]
    base.add_new_steps(frame)  # merging twice adds nothing
    assert len(base) == 2


def test_every_flow_step_of_the_package_says_it_in_dutch(tmp_path):
    """Reads, validation, the frames of every evaluation: each step has a Dutch reason, so
    a Dutch report never shows an English one for them."""
    from werkeffect.did import ww_inflow_frame
    from werkeffect.dynamic import spells_from_dataset
    from werkeffect.matching.pilot import pilot_frame
    from werkeffect.simulate import simulate, write_simulation

    simulated, truth = simulate(seed=4, scale=0.3)
    write_simulation(simulated, truth, tmp_path)
    ds = load(tmp_path)
    flows = [
        simulated.flow,
        ds.flow,
        episodes(ds, programme="jobcoaching", window_start="2015-01-01").attrs["flow"],
        person_months(ds).attrs["flow"],
        person_months(ds, on_benefit_only=True).attrs["flow"],
        ww_inflow_frame(ds, 6, level="municipality").attrs["flow"],
        pilot_frame(ds, horizons=(12,)).attrs["flow"],
        spells_from_dataset(ds, window_start="2015-01-01").attrs["flow"],
    ]
    steps = {s for flow in flows for s in flow}
    names = {s.step for s in steps}
    assert {"simulate", "read", "validate", "episodes: window", "episodes: split"} <= names
    assert {"person_months", "ww: municipality x period", "programme offered"} <= names
    assert any(n.startswith("pilot: placement date") for n in names)
    missing = sorted(f"{s.step} ({s.table})" for s in steps if not s.reason_nl.strip())
    assert not missing, f"no Dutch reason: {missing}"
    # and the Dutch reports have a Dutch name for every step and table
    from werkeffect.reports.helpers import flow_step_label, flow_table_label

    assert not [s.step for s in steps if flow_step_label(s.step) == s.step]
    assert not [s.table for s in steps if flow_table_label(s.table) == s.table]
    # Dutch numbers: a point between thousands, never the English comma
    split = next(s for s in steps if s.step == "episodes: split")
    assert re.search(r"\d\.\d{3} keer uitstroom", split.reason_nl)
    assert not any(re.search(r"\d,\d{3}", s.reason_nl) for s in steps)
