"""tests/run_montecarlo.py: the table applies the slow test's two criteria."""

import numpy as np
import pandas as pd

from run_montecarlo import dynamic_summary


def _replications(tmp_path, shift: float, se: float) -> str:
    rng = np.random.default_rng(0)
    n = 400
    truth = 0.07 + 0.01 * rng.standard_normal(n)
    est = 0.07 + shift + 0.03 * rng.standard_normal(n)
    df = pd.DataFrame(
        {"seed": np.arange(n), "name": "X", "u": 3, "estimate": est, "std_error": se,
         "truth": truth, "seconds": 1.0}
    )  # fmt: skip
    path = tmp_path / f"reps_{shift}_{se}.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_calibrated_replications_pass_both_criteria(tmp_path):
    row = dynamic_summary([_replications(tmp_path, 0.0, 0.03)]).splitlines()[-1]
    assert row.startswith("| X | 3 | 400 |") and row.endswith("| pass, pass |"), row


def test_biased_or_overconfident_replications_fail(tmp_path):
    biased = dynamic_summary([_replications(tmp_path, 0.02, 0.03)]).splitlines()[-1]
    assert biased.endswith("| FAIL, FAIL |"), biased  # +29% of the effect, intervals off
    narrow = dynamic_summary([_replications(tmp_path, 0.0, 0.015)]).splitlines()[-1]
    assert narrow.endswith("| pass, FAIL |"), narrow  # coverage about 68%


def test_dynamic_run_resumes_after_a_stop(tmp_path, monkeypatch):
    import run_montecarlo
    import test_dynamic_simulator

    calls = []

    def fake_one(scenario, name, seed, n_boot):
        calls.append((seed, name))
        return [(u, 0.05 + seed / 1000, 0.01, 0.05) for u in (3, 6)]

    monkeypatch.setattr(test_dynamic_simulator, "_one", fake_one)
    out = tmp_path / "reps.csv"
    run_montecarlo.run_dynamic("groningen", range(0, 2), str(out), ["A", "B"], 9)
    with open(out, "a") as fh:  # a stop in the middle of a line
        fh.write("2,A,3,0.0")
    calls.clear()
    run_montecarlo.run_dynamic("groningen", range(0, 4), str(out), ["A", "B"], 9)
    assert calls == [(2, "A"), (2, "B"), (3, "A"), (3, "B")]
    df = run_montecarlo.read_dynamic(str(out))
    assert len(df) == 4 * 2 * 2 and not df.duplicated(["seed", "name", "u"]).any()
    assert df.loc[(df["seed"] == 2) & (df["name"] == "A"), "estimate"].tolist() == [0.052] * 2


def test_toe_run_skips_worlds_already_written(tmp_path, monkeypatch):
    import run_montecarlo
    import test_toe_montecarlo

    calls = []

    def fake_replication(seed, with_returns=False, **kw):
        calls.append(seed)
        return {"seed": seed, "delta": 0.3, "converged": True}

    monkeypatch.setattr(test_toe_montecarlo, "one_replication", fake_replication)
    out = tmp_path / "toe.jsonl"
    run_montecarlo.run_toe(range(0, 2), str(out), None)
    with open(out, "a") as fh:
        fh.write('{"seed": 2, "del')
    calls.clear()
    run_montecarlo.run_toe(range(0, 3), str(out), None)
    assert calls == [2]


def test_toe_run_sample_choice_reaches_the_replication(tmp_path, monkeypatch):
    """``--sample inflow`` / ``first-spells``: the diagnostics that replaced the two slow
    expected failures of tests/test_toe_montecarlo.py run ``one_replication`` on that sample."""
    import run_montecarlo
    import test_toe_montecarlo

    seen = []

    def fake_replication(seed, **kw):
        seen.append(kw)
        return {"seed": seed, "delta": 0.3, "converged": True}

    monkeypatch.setattr(test_toe_montecarlo, "one_replication", fake_replication)
    for sample in ("all", "inflow", "first-spells"):
        run_montecarlo.run_toe(range(0, 1), str(tmp_path / f"{sample}.jsonl"), None, None, sample)
    assert seen == [{"with_returns": True}, {"inflow_only": True}, {"first_spell_only": True}]
