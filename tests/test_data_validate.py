"""The malformed-extract corpus (tests/fixtures/malformed, written by make_malformed.py):
each case breaks one rule and the error message must say which, where and how often."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import werkeffect
from werkeffect.data.io import load
from werkeffect.data.validate import validate
from werkeffect.exceptions import DataValidationError, WerkeffectError

FIX = Path(__file__).parent / "fixtures"
BAD = FIX / "malformed"
GOOD = FIX / "good"

# case -> (substrings the message must contain, number of problems)
EXPECTED: dict[str, tuple[list[str], int]] = {
    "missing_column": (["spells.exit_reason: missing column", "mapping file"], 1),
    "wrong_type_date": (
        ["spells.start_date: wrong type", "not a date: '31-02-2018'", "(rows 3)"],
        1,
    ),
    "wrong_type_number": (
        ["spells.monthly_amount: wrong type", "not a number: 'veel'", "(rows 1)"],
        1,
    ),
    "wrong_type_bool": (["persons.statushouder: wrong type", "'misschien'", "(rows 2)"], 1),
    "not_whole_number": (["persons.ladder_intake: wrong type", "not a whole number: '2.5'"], 1),
    "missing_value": (["persons.sex: missing value", "1 row", "(rows 4)"], 1),
    "missing_id": (["spells.person_id: missing value", "(rows 5)"], 1),
    "identical_duplicate": (["persons: identical duplicate rows", "repair=True", "(rows 7)"], 1),
    "duplicate_key": (["spells.spell_id: duplicate key", "2 rows", "(rows 1, 8)"], 1),
    "end_before_start": (["spells.end_date: end before start", "(rows 3)"], 1),
    "ww_max_end_before_start": (["ww.ww_max_end: end before start", "before ww_start"], 1),
    "overlapping_spells": (["spells.start_date: overlapping spells", "(rows 2)"], 1),
    "outside_spell": (["programmes.start_date: outside every spell", "jobcoaching", "(rows 1)"], 1),
    "unknown_person": (["programmes.person_id: unknown person", "(rows 5)"], 1),
    "age_under_15": (["spells.start_date: impossible age", "under 15", "(rows 6)"], 1),
    "age_over_100": (["spells.start_date: impossible age", "over 100", "(rows 5)"], 1),
    "after_extract_date": (
        ["spells.end_date: after extract date", "extract date 2023-01-01", "'2023-06-30'"],
        1,
    ),
    "before_1900": (["persons.birth_date: before 1900", "(rows 1)"], 2),  # + age over 100
    "out_of_range": (["persons.ladder_intake: out of range", "allowed 1 to 6", "(rows 2)"], 1),
    "negative_amount": (["spells.monthly_amount: out of range", "allowed 0 to 10000"], 1),
    "unknown_code": (["persons.sex: unknown code", "values 'Q'", "allowed: M, V, X"], 1),
    "unknown_programme": (["programmes.programme: unknown code", "'cursus'", "(rows 3)"], 1),
    "exit_reason_while_running": (["spells.exit_reason: exit reason while running", "(rows 4)"], 1),
    "ambiguous_number_notation": (
        ["spells.monthly_amount: ambiguous number notation", "'1.200'", "'1250.50'", "(rows 1)"],
        1,
    ),
    "mixed_number_notation": (
        ["spells.monthly_amount: ambiguous number notation", "decimal commas", "(rows 1, 2, 4)"],
        1,
    ),
    "empty_file": (["persons: unreadable file", "persons.csv is empty"], 1),
    "header_only": (["spells: empty table", "header but no rows"], 1),
    "missing_table": (["spells: missing table"], 1),
    "ragged_csv": (["programmes: unreadable file", "Expected 6 fields in line 7, saw 8"], 1),
    "excel_as_csv": (["persons: unreadable file", "not a text file"], 1),
    "ambiguous_table": (["persons: ambiguous table", "persons.csv, persons.parquet"], 1),
    "multi_problem": (
        [
            "persons.sex: unknown code",
            "spells.end_date: end before start",
            "programmes.start_date: wrong type",
            "ww.ww_start: missing value",
        ],
        4,
    ),
}


def test_corpus_is_complete():
    cases = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert len(cases) >= 20
    assert set(EXPECTED) | {"spss_unknown_label", "bsn_ids"} == cases


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_malformed_case_is_reported(case):
    needles, n_problems = EXPECTED[case]
    with pytest.raises(DataValidationError) as info:
        load(BAD / case)
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in:\n{msg}"
    assert len(info.value.problems) == n_problems, msg
    assert "1-based record numbers" in msg
    assert isinstance(info.value, WerkeffectError)


def test_all_problems_in_one_pass_are_counted():
    with pytest.raises(DataValidationError) as info:
        load(BAD / "multi_problem")
    assert str(info.value).startswith("The extract has 4 problems")
    tables = {p.table for p in info.value.problems}
    assert tables == {"persons", "spells", "programmes", "ww"}


def test_spss_label_that_names_no_code_is_reported_by_its_label():
    with pytest.raises(DataValidationError, match="persons.sex: unknown code") as info:
        load(BAD / "spss_unknown_label", mapping=BAD / "spss_unknown_label" / "mapping.yaml")
    assert "'onbekend'" in str(info.value)


def test_example_rows_are_capped_at_five(tmp_path):
    shutil.copytree(GOOD / "parquet", tmp_path / "x")
    p = pd.read_parquet(tmp_path / "x" / "persons.parquet")
    p["sex"] = "Q"
    p.to_parquet(tmp_path / "x" / "persons.parquet")
    with pytest.raises(DataValidationError) as info:
        load(tmp_path / "x")
    prob = info.value.problems[0]
    assert prob.count == 6 and prob.rows == (1, 2, 3, 4, 5)
    assert "(rows 1, 2, 3, 4, 5, ...)" in str(info.value)


# ----------------------------------------------------------------- repair and the flow


def test_identical_duplicates_repaired_only_on_request_and_recorded():
    ds = load(BAD / "identical_duplicate", repair=True)
    assert len(ds.persons) == 6
    steps = [s for s in ds.flow if s.step == "repair"]
    assert len(steps) == 1
    assert (steps[0].table, steps[0].rows_in, steps[0].rows_out) == ("persons", 7, 6)
    assert "identical duplicate" in steps[0].reason
    assert steps[0].reason_nl.startswith("identieke dubbele rijen verwijderd")
    assert all(s.reason_nl for s in ds.flow)  # the reads and checks too


def test_repair_does_not_hide_conflicting_duplicates():
    with pytest.raises(DataValidationError, match="duplicate key"):
        load(BAD / "duplicate_key", repair=True)


def test_an_inferred_extract_date_is_a_month_end_not_a_persons_date(tmp_path):
    # the latest date of the data is one person's event: publishing it as the extract date
    # would show it; the end of its month is what the results and reports carry
    shutil.copytree(GOOD / "parquet", tmp_path / "x")
    (tmp_path / "x" / "extract.json").unlink()
    prog = pd.read_parquet(tmp_path / "x" / "programmes.parquet")
    i = prog["end_date"].idxmax()
    prog.loc[i, "end_date"] = pd.Timestamp("2023-01-17")
    prog.to_parquet(tmp_path / "x" / "programmes.parquet")
    ds = load(tmp_path / "x")
    assert ds.extract_date == pd.Timestamp("2023-01-31")
    assert not any("2023-01-17" in s.reason for s in ds.flow)


def test_extract_date_from_data_is_noted_in_the_flow(tmp_path):
    shutil.copytree(GOOD / "parquet", tmp_path / "x")
    (tmp_path / "x" / "extract.json").unlink()
    ds = load(tmp_path / "x")
    assert ds.extract_date == pd.Timestamp("2022-12-31")  # nazorg end, the latest date
    notes = [s for s in ds.flow if s.step == "extract date"]
    assert notes and "month of the latest date in the data, 2022-12-31" in notes[0].reason
    assert notes[0].reason_nl.endswith(
        "de laatste datum in de gegevens is genomen, 31 december 2022"
    )
    ds2 = load(tmp_path / "x", extract_date="2023-03-01")
    assert ds2.extract_date == pd.Timestamp("2023-03-01")


# ----------------------------------------------------------------- good extracts


def _reference():
    return load(GOOD / "parquet")


@pytest.mark.parametrize(
    "case", ["dutch_cp1252", "dutch_latin1", "dutch_utf8_bom", "utf16_no_bom", "stata_labels"]
)
def test_dialects_and_formats_read_the_same_values(case):
    ref = _reference()
    ds = load(GOOD / case)
    cols = ["spell_id", "person_id", "start_date", "end_date", "exit_reason", "monthly_amount"]
    pd.testing.assert_frame_equal(ds.spells[cols], ref.spells[cols])
    pcols = ["person_id", "birth_date", "sex", "education", "household", "statushouder"]
    pd.testing.assert_frame_equal(ds.persons[pcols], ref.persons[pcols])
    pd.testing.assert_frame_equal(ds.programmes.iloc[:, :5], ref.programmes.iloc[:, :5])


def test_dutch_dialect_details():
    ds = load(GOOD / "dutch_cp1252")
    assert ds.spells["monthly_amount"].tolist()[:3] == [1250.5, 1250.5, 1700.0]  # 1.700,00
    assert ds.persons.loc[1, "wijk"] == "Selwerd Café"
    assert ds.programmes.loc[0, "provider"] == "Werkbedrijf – Team Zuid"
    assert ds.persons["startkwalificatie"].tolist() == [False, True, False, True, True, False]
    assert ds.persons["sex"].tolist() == ["M", "V", "V", "M", "X", "M"]  # 'm' normalised
    assert load(GOOD / "dutch_latin1").persons.loc[1, "wijk"] == "Selwerd Café"
    assert ds.spells["start_date"].dtype == "datetime64[ns]"


def test_spss_value_labels_become_schema_codes():
    ds = load(GOOD / "spss_labels", mapping=GOOD / "spss_labels" / "mapping.yaml")
    ref = _reference()
    # labels 'man'/'vrouw'/'anders / onbekend' name the meanings of M, V, X
    assert ds.persons["sex"].tolist() == ref.persons["sex"].tolist()
    assert ds.persons["education"].tolist() == ref.persons["education"].tolist()
    # exit reason label 'regular paid job' is the meaning of code 'werk'
    assert (
        ds.spells["exit_reason"].fillna("-").tolist()
        == ref.spells["exit_reason"].fillna("-").tolist()
    )
    assert ds.persons["statushouder"].tolist() == ref.persons["statushouder"].tolist()


@pytest.mark.parametrize("mapping", ["mapping.json", "mapping.yaml"])
def test_mapping_file_renames_columns(mapping):
    ds = load(GOOD / "mapped", mapping=GOOD / "mapped" / mapping)
    ref = _reference()
    assert ds.spells["spell_id"].tolist() == ref.spells["spell_id"].tolist()
    assert ds.persons["sex"].tolist() == ref.persons["sex"].tolist()


def test_without_mapping_the_message_names_the_columns_present():
    with pytest.raises(DataValidationError) as info:
        load(GOOD / "mapped")
    msg = str(info.value)
    assert "spells.spell_id: missing column" in msg and "UITKERING_ID" in msg


def test_bad_mapping_file_is_explained(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("- just\n- a list\n")
    with pytest.raises(DataValidationError, match="mapping must look like"):
        load(GOOD / "mapped", mapping=m)
    m.write_text("personen: {A: b}\n")
    with pytest.raises(DataValidationError, match="unknown table"):
        load(GOOD / "mapped", mapping=m)


def test_load_is_exported_and_dataset_typed():
    ds = werkeffect.load(GOOD / "parquet")
    assert isinstance(ds, werkeffect.Dataset)
    assert werkeffect.DataValidationError is DataValidationError
    assert ds.jobs.empty and list(ds.jobs.columns)[:2] == ["job_id", "person_id"]
    assert not ds.has("jobs") and ds.has("ww")


def test_validate_accepts_typed_frames_directly():
    ref = _reference()
    tables, flow = validate(
        {"persons": ref.persons, "spells": ref.spells, "programmes": ref.programmes},
        extract_date="2023-01-01",
    )
    pd.testing.assert_frame_equal(tables["spells"], ref.spells)
    assert tables["ww"].empty and len(flow) == 3


def test_missing_folder_and_file_instead_of_folder(tmp_path):
    with pytest.raises(DataValidationError, match="No extract at"):
        load(tmp_path / "nope")
    f = tmp_path / "persons.csv"
    f.write_text("a\n1\n")
    with pytest.raises(DataValidationError, match="expects a folder"):
        load(f)
    with pytest.raises(DataValidationError, match="No table files"):
        load(tmp_path / ".." / tmp_path.name / "sub" if False else _empty(tmp_path))


def _empty(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_large_dutch_csv_parses_by_distinct_values(tmp_path):
    """Columns over 2,000 rows are parsed per distinct value; results and row numbers match."""
    from werkeffect.data.validate import parse_dates, parse_numbers

    n = 3000
    rng = pd.Series(range(n))
    persons = pd.DataFrame(
        {
            "person_id": "p" + rng.astype(str),
            "birth_date": "01-0" + (rng % 9 + 1).astype(str) + "-1980",
            "sex": rng.map(lambda i: "mvx"[i % 3]),
            "education": "laag",
            "startkwalificatie": rng.map(lambda i: ["ja", "nee"][i % 2]),
            "household": "alleenstaand",
            "municipality": "Groningen",
            "statushouder": "0",
            "barrier_health": "1",
            "barrier_language": "0",
            "barrier_debts": "nee",
        }
    )
    spells = pd.DataFrame(
        {
            "spell_id": "s" + rng.astype(str),
            "person_id": "p" + rng.astype(str),
            "start_date": (rng % 28 + 1).astype(str).str.zfill(2) + "-03-2019",
            "end_date": "",
            "exit_reason": "",
            "monthly_amount": (1000 + rng % 7).astype(str) + ",5",
        }
    )
    spells.loc[2499, "start_date"] = "30-02-2019"
    d = tmp_path / "x"
    d.mkdir()
    persons.to_csv(d / "persons.csv", sep=";", index=False, encoding="cp1252")
    spells.to_csv(d / "spells.csv", sep=";", index=False, encoding="cp1252")
    (d / "programmes.csv").write_text("participation_id;person_id;programme;start_date;end_date\n")
    with pytest.raises(DataValidationError) as info:
        load(d, extract_date="2023-01-01")
    assert len(info.value.problems) == 1
    p = info.value.problems[0]
    assert (p.table, p.column, p.rule, p.count, p.rows) == (
        "spells", "start_date", "wrong type", 1, (2500,),
    )  # fmt: skip
    spells.loc[2499, "start_date"] = "28-02-2019"
    spells.to_csv(d / "spells.csv", sep=";", index=False, encoding="cp1252")
    ds = load(d, extract_date="2023-01-01")
    raw = pd.read_csv(d / "spells.csv", sep=";", dtype=str)
    pd.testing.assert_series_equal(
        ds.spells["start_date"], parse_dates(raw["start_date"]), check_names=False
    )
    assert ds.spells["monthly_amount"].tolist() == parse_numbers(raw["monthly_amount"]).tolist()
    assert ds.persons["sex"].value_counts().to_dict() == {"M": 1000, "V": 1000, "X": 1000}
    assert ds.persons["startkwalificatie"].sum() == 1500


def test_whole_euros_with_thousands_separator_are_not_read_as_cents(tmp_path):
    """'€ 1.200' in a column without decimals is 1200 euros (noted in the flow), not 1.20."""
    shutil.copytree(BAD / "ambiguous_number_notation", tmp_path / "x")
    f = tmp_path / "x" / "spells.csv"
    sp = pd.read_csv(f, dtype=str, keep_default_na=False)
    sp["monthly_amount"] = ["€ 1.200", "1.250", "€ 1.700", "1.900", "", "950", "1.300"]
    sp.to_csv(f, index=False)
    ds = load(tmp_path / "x")
    assert ds.spells["monthly_amount"].tolist()[:4] == [1200.0, 1250.0, 1700.0, 1900.0]
    assert ds.spells["monthly_amount"].tolist()[5:] == [950.0, 1300.0]
    notes = [s for s in ds.flow if s.step == "read" and "thousands" in s.reason]
    assert len(notes) == 1 and "thousands separator" in notes[0].reason


def test_number_notation_per_column():
    from werkeffect.data.validate import parse_numbers

    def read(*values):
        return parse_numbers(pd.Series(values, dtype=object)).tolist()

    assert read("1250.50", "1700", "0.5") == [1250.5, 1700.0, 0.5]  # decimal point
    assert read("1250,50", "1.700,00") == [1250.5, 1700.0]  # Dutch decimal comma
    assert read("€ 1.200", "950", "12.345.678") == [1200.0, 950.0, 12345678.0]
    # three decimals throughout: '.' is a decimal mark, 1.250 is 1.25
    assert read("1.250", "0.750", "1234.567") == [1.25, 0.75, 1234.567]
    # either reading possible: refused (NaN here; validate names the rows)
    assert read("1.200", "1075.38")[0] != read("1.200", "1075.38")[0]  # NaN
    assert read("1.234,56", "85.50")[1] != read("1.234,56", "85.50")[1]
