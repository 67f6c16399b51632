"""Disclosure control: the CBS output rules, on hand-made tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from werkeffect.disclosure import (
    DisclosureError,
    DisclosurePolicy,
    OutputCheckLog,
    check_count,
    check_differences,
    check_estimate_counts,
    check_flow,
    check_table,
    check_text,
    check_text_counts,
    flow_rounding,
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


def test_flow_rounding_names_the_multiple_check_flow_rounds_to():
    """The results file records it, so a report can say which counts are rounded."""
    small = [
        {"step": "a", "table": "spells", "rows_in": 33_678, "rows_out": 44_915},  # rows added
        {"step": "b", "table": "jobs", "rows_in": 9_931, "rows_out": 9_923},  # 8 dropped
    ]
    exact = small[:1]
    assert flow_rounding(exact) is None
    assert flow_rounding(small) == 10
    assert flow_rounding(exact, policy=DisclosurePolicy(rounding=5)) == 5
    assert flow_rounding(small, policy=DisclosurePolicy(rounding=5)) == 10
    assert flow_rounding(small, policy=DisclosurePolicy(rounding=20)) == 20
    out = check_flow(small)
    assert [(r["rows_in"], r["rows_out"]) for r in out] == [(33_680, 44_920), (9_930, 9_920)]
    # read back from a published record (a report on a results file without the key): the
    # suppressed step's missing count says it, the step that adds rows does not
    assert flow_rounding(out) == 10 and flow_rounding(check_flow(exact)) is None
    assert out[0]["dropped"] == -11_240 and out[1]["dropped"] is None
    assert check_flow(exact)[0]["rows_in"] == 33_678  # nothing small: the counts stay exact


def test_a_share_that_stands_for_a_small_count_is_suppressed():
    # 1 of 19 entered bijstand (5.3%): share x group size gives the person back; 45 of 50
    # leaves 5 in the rest of the group; 0% and 100% describe no small cell
    df = pd.DataFrame(
        {
            "municipality": ["Veendam", "Veendam", "Groningen", "Oldambt", "Eemsdelta", "Ten Boer"],
            "aantal": [19, 16, 493, 50, 99, 40],
            "instroom": [1 / 19, 1 / 16, 67 / 493, 45 / 50, 0.0, 1.0],
        }
    )
    log = OutputCheckLog()
    out = check_table(
        df, "descriptives", count_columns=["aantal"], share_columns={"instroom": "aantal"}, log=log
    )
    assert out["instroom"].isna().tolist() == [True, True, False, True, False, False]
    assert out["aantal"].tolist() == [19, 16, 493, 50, 99, 40]
    hits = [(e["rule"], e["row"]) for e in log if e["rule"] == "small_share"]
    assert hits == [
        ("small_share", "municipality=Veendam"),
        ("small_share", "municipality=Veendam"),
        ("small_share", "municipality=Oldambt"),
    ]
    # without the declaration the same table passes: the rule needs the group size
    assert check_table(df, "descriptives", count_columns=["aantal"])["instroom"].notna().all()


def test_balance_shares_apply_to_binary_rows_and_take_their_differences_along():
    bal = pd.DataFrame(
        {
            "covariate": ["age", "barrier_health", "female"],
            "type": ["continuous", "binary", "binary"],
            "mean_treated": [37.2, 5 / 40, 19 / 40],
            "mean_control": [45.3, 46 / 132, 46 / 132],
            "smd": [-0.92, -0.68, 0.25],
        }
    )
    log = OutputCheckLog()
    out = check_table(
        bal,
        "balance",
        share_columns={"mean_treated": 40, "mean_control": 132},
        share_rows=("type", "binary"),
        derived_columns=["smd"],
        log=log,
    )
    # 5 of 40 participants with health problems: the share and the SMD (from which it could
    # be solved with the control share) go; the mean age is no share and stays
    assert out["mean_treated"].isna().tolist() == [False, True, False]
    assert out["smd"].isna().tolist() == [False, True, False]
    assert out["mean_control"].notna().all()
    assert out.loc[0, "mean_treated"] == 37.2


def test_statistics_derived_from_a_secondary_count_go_with_it():
    # extra exits = ATT x participants: hiding 11 participants (secondary) but publishing
    # 0.42 extra exits with a published ATT of 0.0385 gives the 11 back
    att = 0.0384827
    df = pd.DataFrame(
        {
            "year": [2017, 2018, 2019, 2020],
            "participants": [60, 11, 7, 90],
            "extra_exits": [att * 60, att * 11, att * 7, att * 90],
            "mean_age": [36.0, 35.0, 34.0, 37.0],
        }
    )
    log = OutputCheckLog()
    out = check_table(
        df, "exits", count_columns=["participants"], derived_columns=["extra_exits"], log=log
    )
    assert out["participants"].isna().tolist() == [False, True, True, False]
    assert out["extra_exits"].isna().tolist() == [False, True, True, False]
    # a statistic not derived from the count stays for the secondary cell's row
    assert out["mean_age"].isna().tolist() == [False, False, True, False]
    with pytest.raises(DisclosureError, match="derived column 'nope'"):
        check_table(df, "exits", count_columns=["participants"], derived_columns=["nope"])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("3 deelnemer(s) hebben een propensity score buiten het bereik", "<10 deelnemer(s) hebben"),
        ("9 van 28 deelnemer(s) zonder match", "<10 van 28 deelnemer(s) zonder match"),
        ("kept: the 8 participants placed that day", "kept: the <10 participants placed"),
        ("2 of 40 treated persons unmatched", "<10 of 40 treated persons unmatched"),
        ("5 gematchte vergelijkingspersonen", "<10 gematchte vergelijkingspersonen"),
        ("9 eenheid/eenheden hebben een score vrijwel 0", "<10 eenheid/eenheden hebben"),
        ("9 unit(s) have a score of almost 0 or 1", "<10 unit(s) have a score"),
    ],
)
def test_small_counts_of_persons_in_text_are_masked(text, masked):
    log = OutputCheckLog()
    out = check_text_counts(text, "note", log=log)
    assert masked in out
    assert [e["rule"] for e in log] == ["text_count"]


@pytest.mark.parametrize(
    "text",
    [
        "281 exits at the state-pension age",
        "caliper of 0,2 sd; 3:1 matching",
        "werk na 12 maanden",
        "1.234 personen",
        "Gamma 2 is de grens",
        "0 deelnemers buiten het bereik",
    ],
)
def test_other_numbers_in_text_are_left_alone(text):
    log = OutputCheckLog()
    assert check_text_counts(text, "note", log=log) == text
    assert len(log) == 0


def test_notes_and_flow_reasons_are_masked_on_the_way_out():
    from werkeffect.results.files import ResultsWriter

    w = ResultsWriter("x")
    w.add_note("3 deelnemers zonder match", "3 participants without a match", name="matching")
    assert w.notes[-1]["text_nl"] == "<10 deelnemers zonder match"
    assert w.notes[-1]["text_en"] == "<10 participants without a match"
    recs = [
        {
            "step": "pilot",
            "table": "pilot",
            "rows_in": 400,
            "rows_out": 400,
            "reason": "kept: the 8 participants placed that day",
            "reason_nl": "behouden: de 8 deelnemers die die dag zijn geplaatst",
        }
    ]
    out = check_flow(recs)
    assert out[0]["reason"] == "kept: the <10 participants placed that day"
    assert out[0]["reason_nl"] == "behouden: de <10 deelnemers die die dag zijn geplaatst"


def test_bsn_written_in_groups_is_recognised():
    # 123456782 passes the elfproef (see above); the official notation is 1234.56.782
    assert is_bsn(["1234.56.782", "123 45 6782", "123-456-782", "123.456.782"]).tolist() == [
        True,
        True,
        True,
        True,
    ]
    assert not is_bsn(["1234.56.781", "12.34.56782"]).any()
    for text in ("BSN 1234.56.782", "bsn: 123 45 6782", "nummer 123-456-782"):
        with pytest.raises(DisclosureError, match="BSN"):
            check_text(text, "note")
    # three groups of three with points is how a Dutch report writes a number (€ 123.456.782)
    assert check_text("kosten € 123.456.782", "note")


def test_an_estimate_that_counts_persons_is_suppressed_under_the_threshold():
    from werkeffect.results.files import ResultsWriter

    w = ResultsWriter("x")
    few = w.add_estimate("m.found_work", estimate=7.0, method="naive count", scale="count",
                         naive=True, counts_persons=True, n_treated=120)  # fmt: skip
    assert few["suppressed"] and few["estimate"] is None
    many = w.add_estimate("m.found_work", estimate=70.0, method="count", scale="count",
                          counts_persons=True, n_treated=120)  # fmt: skip
    assert not many["suppressed"] and many["estimate"] == 70.0
    # an effect on the count scale (0.4 extra exits) is no count of persons
    effect = w.add_estimate("m.extra", estimate=0.4, method="ATT x n", scale="count")
    assert effect["estimate"] == 0.4


def test_counts_that_differ_by_fewer_than_the_threshold_are_withheld():
    log = OutputCheckLog()
    counts = [
        ("estimate:p.att", "caliper", "n_treated", 37),  # 40 - 37 = 3 without a match
        ("value:pilot_size", "", "value", 40),
        ("estimate:p.att", "matching", "n_treated", 40),  # equal: nothing to learn
        ("estimate:p.att", "matching", "n_control", 95),
        ("estimate:p.att", "caliper", "n_control", 85),  # 10 apart: kept
        ("estimate:p.att", "naive", "n_control", 84),  # 1 below 85
        ("value:outside", "", "value", None),  # suppressed before: not published
    ]
    withheld = check_differences(counts, log=log)
    assert withheld == {("estimate:p.att", "caliper", "n_treated"),
                        ("estimate:p.att", "naive", "n_control")}  # fmt: skip
    assert [(e["output"], e["row"], e["column"], e["rule"]) for e in log] == [
        ("estimate:p.att", "naive", "n_control", "differencing"),
        ("estimate:p.att", "caliper", "n_treated", "differencing"),
    ]
    # the order given does not matter; a chain is checked against the kept counts only
    assert check_differences(counts[::-1]) == withheld
    chain = [("a", "", "n", 100), ("b", "", "n", 95), ("c", "", "n", 89)]
    assert check_differences(chain) == {("b", "", "n")}  # 89 is 11 below the kept 100
    assert check_differences(chain, policy=5) == set()
    assert check_differences([("a", "", "n", 12), ("b", "", "n", 12)]) == set()


def test_the_writer_withholds_a_count_that_gives_a_small_difference_away(tmp_path):
    import json

    from werkeffect.results.files import ResultsWriter, read_results

    w = ResultsWriter("x", tmp_path)
    w.add_value("pilot_size", 40)
    w.add_value("ri_p_value", 0.031, scale="difference", count=False)
    w.add_value("other_size", 38, count=False)  # not a count of persons: not compared
    for method, n in (("matching", 40), ("matching within a caliper", 37)):
        w.add_estimate("p.att", estimate=0.2, std_error=0.1, method=method, n_treated=n,
                       n_control=3 * n, scale="probability")  # fmt: skip
    w.to_dict()  # twice: the second call must not log the checks again
    r = read_results(w.write().parent, validate=True)
    caliper = r.estimate("p.att", method="matching within a caliper")
    # 40 - 37 = 3 participants and 120 - 111 = 9 controls would be counted by subtraction
    assert caliper["n_treated"] is None and caliper["n_control"] is None
    assert caliper["estimate"] == 0.2  # the estimate itself rests on 37 and 111: it stays
    full = r.estimate("p.att", method="matching")
    assert (full["n_treated"], full["n_control"]) == (40, 120)
    assert r["values"]["pilot_size"]["value"] == 40
    assert r["values"]["other_size"]["value"] == 38
    log = [e for e in r["disclosure"]["log"] if e["rule"] == "differencing"]
    assert sorted(e["column"] for e in log) == ["n_control", "n_treated"]
    assert {e["row"] for e in log} == {"matching within a caliper"}
    # the writer's own records are left as added
    assert w.estimates[1]["n_treated"] == 37
    raw = json.loads((tmp_path / "x" / "results.json").read_text())
    assert raw["disclosure"]["log"] == r["disclosure"]["log"]
