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
