"""Disclosure control: the CBS output rules, on hand-made tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from werkeffect.disclosure import (
    DisclosureError,
    DisclosurePolicy,
    OutputCheckLog,
    check_count,
    check_estimate_counts,
    check_flow,
    check_table,
    check_text,
    is_bsn,
)


def test_elfproef_known_values():
    # 111222333: 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-1*3 = 66 = 6*11 -> valid
    # 123456782: 9+16+21+24+25+24+21+16-2 = 154 = 14*11 -> valid
    assert is_bsn([111222333, 123456782]).tolist() == [True, True]
    # one digit changed breaks the check; 8 digits are too short as text
    assert is_bsn([111222334, 123456789]).tolist() == [False, False]
    assert is_bsn(["111222333", " 123456782 ", "12345678", "abc"]).tolist() == [
        True,
        True,
        False,
        False,
    ]


def test_small_counts_are_suppressed_with_secondary_and_logged():
    df = pd.DataFrame(
        {"wijk": ["a", "b", "c", "d"], "n": [120, 4, 50, 33], "mean_earn": [1.0, 2.0, 3.0, 4.0]}
    )
    log = OutputCheckLog()
    out = check_table(df, "wijken", log=log)
    assert pd.isna(out.loc[1, "n"])  # primary: 4 < 10
    assert pd.isna(out.loc[3, "n"])  # secondary: the smallest other cell
    assert out.loc[0, "n"] == 120 and out.loc[2, "n"] == 50
    assert pd.isna(out.loc[1, "mean_earn"])  # statistic of the small group
    assert out.loc[3, "mean_earn"] == 4.0  # secondary suppression hides the count only
    rules = [(e["rule"], e["column"], e["row"]) for e in log]
    assert rules[0] == ("small_count", "n", "wijk=b")
    assert ("secondary", "n", "wijk=d") in rules
    assert ("small_group", "mean_earn", "wijk=b") in rules
    assert str(out["n"].dtype) == "Int64"


def test_threshold_is_configurable_and_zero_is_not_suppressed():
    df = pd.DataFrame({"g": ["a", "b", "c"], "n": [0, 12, 30]})
    out = check_table(df, "t", policy=DisclosurePolicy(threshold=15, secondary=False))
    assert out["n"].isna().tolist() == [False, True, False]


def test_risk_set_cuts_each_curve():
    km = pd.DataFrame(
        {
            "group": ["x"] * 5 + ["y"] * 5,
            "time": list(range(5)) * 2,
            "at_risk": [100, 50, 20, 9, 30, 100, 80, 60, 40, 12],
        }
    )
    log = OutputCheckLog()
    out = check_table(km, "km", risk_set_columns=["at_risk"], log=log)
    # x is cut from time 3 on (even though 30 follows), y is kept whole
    assert out.groupby("group")["time"].max().to_dict() == {"x": 2, "y": 4}
    assert [e["rule"] for e in log] == ["risk_set"]
    assert "time=3" in log.entries[0]["detail"]


def test_rounding_policy():
    df = pd.DataFrame({"g": ["a", "b"], "n": [123, 1047]})
    log = OutputCheckLog()
    out = check_table(df, "t", policy=DisclosurePolicy(rounding=5), log=log)
    assert out["n"].tolist() == [125, 1045]
    out10 = check_table(df, "t", policy=DisclosurePolicy(rounding=10))
    assert out10["n"].tolist() == [120, 1050]
    assert log.entries[-1]["rule"] == "rounding"


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"person_id": [1, 2], "age": [30, 40]}), "person_id"),
        (pd.DataFrame({"bsn": ["x", "y"], "n": [20, 30]}), "bsn"),
        (pd.DataFrame({"geboortedatum": ["2000-01-01"], "n": [20]}), "geboortedatum"),
        (pd.DataFrame({"g": ["a", "b"], "max_age": [80, 90], "n": [20, 30]}), "maximum"),
        (pd.DataFrame({"stat": ["mean", "max"], "age": [40.0, 88.0]}), "maximum"),
        (pd.DataFrame({"g": ["a", "b", "c"], "n": [1, 1, 1]}), "every count"),
        (pd.DataFrame({"code": ["111222333", "x"], "n": [20, 30]}), "BSN"),
    ],
)
def test_unsafe_tables_raise_and_say_why(frame, match):
    with pytest.raises(DisclosureError, match=match):
        check_table(frame, "t")


def test_as_many_rows_as_persons_is_individual_data():
    df = pd.DataFrame({"age": np.arange(50), "earn": np.arange(50.0)})
    with pytest.raises(DisclosureError, match="individual rows"):
        check_table(df, "t", n_persons=50)
    with pytest.raises(DisclosureError, match="individual rows"):
        check_table(df, "t", displayed=True, policy=DisclosurePolicy(max_rows_without_counts=20))


def test_describe_min_max_rows_refused():
    df = pd.DataFrame({"age": [20.0, 30.0, 40.0]}).describe()
    with pytest.raises(DisclosureError, match="min"):
        check_table(df, "describe")


def test_single_counts_estimates_and_texts():
    log = OutputCheckLog()
    assert check_count(7, "n", log=log) is None
    assert check_count(12, "n", policy=DisclosurePolicy(rounding=5), log=log) == 10
    assert [e["action"] for e in log] == ["suppressed", "rounded"]
    assert check_estimate_counts("x", 6, 100, log=log)
    assert not check_estimate_counts("y", 60, 100, log=log)
    with pytest.raises(DisclosureError, match="BSN"):
        check_text("contact 111222333 today", "note")
    assert check_text("861 uitstromers in 2019", "note")


def test_flow_hides_small_drops():
    recs = [
        {"step": "a", "table": "persons", "rows_in": 1003, "rows_out": 1000, "reason": "x"},
        {"step": "b", "table": "spells", "rows_in": 1000, "rows_out": 800, "reason": "y"},
    ]
    log = OutputCheckLog()
    out = check_flow(recs, log=log)
    assert out[0]["dropped"] is None
    assert out[1]["dropped"] == 200
    assert all(r["rows_in"] % 10 == 0 and r["rows_out"] % 10 == 0 for r in out)
    assert log.entries[0]["column"] == "dropped"
