"""BSN guard and pseudonymisation."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from werkeffect.data.io import load
from werkeffect.data.privacy import (
    bsn_columns,
    is_bsn,
    pseudonymise_folder,
    pseudonymise_values,
)
from werkeffect.exceptions import DataValidationError

FIX = Path(__file__).parent / "fixtures"
BSN_DIR = FIX / "malformed" / "bsn_ids"


def _elfproef(s: str) -> bool:  # plain reference implementation
    s = s.zfill(9)
    return (
        len(s) == 9
        and s.isdigit()
        and int(s) > 0
        and (
            sum(w * int(c) for w, c in zip([9, 8, 7, 6, 5, 4, 3, 2, -1], s, strict=True)) % 11 == 0
        )
    )


def test_is_bsn_known_values():
    # 123456782 and 111222333 are the textbook valid test numbers
    vals = ["123456782", "111222333", "123456789", "12345678", "1234567890", "abcdefghi", None]
    assert is_bsn(pd.Series(vals, dtype=object)).tolist() == [
        True, True, False, False, False, False, False,
    ]  # fmt: skip
    # a number that lost its leading zero (012345672 is valid) is still recognised
    assert _elfproef("012345672")
    assert is_bsn(pd.Series([12345672, 12345672.0, 123456782])).tolist() == [True, True, True]
    assert not is_bsn(pd.Series(["000000000"]))[0]


def test_is_bsn_agrees_with_reference_on_random_numbers():
    rng = np.random.default_rng(1)
    nums = rng.integers(10_000_000, 999_999_999, size=5000)
    got = is_bsn(pd.Series(nums.astype(str)))
    want = np.array([_elfproef(str(n)) for n in nums])
    np.testing.assert_array_equal(got, want)
    assert 0.07 < got.mean() < 0.12  # about 1 in 11 random numbers pass


def test_file_with_bsn_like_ids_is_refused():
    with pytest.raises(DataValidationError) as info:
        load(BSN_DIR)
    msg = str(info.value)
    assert "persons.person_id" in msg and "spells.person_id" in msg
    assert "werkeffect pseudonymise" in msg
    assert "Refusing to load" in msg


def test_guard_threshold_is_half_of_the_non_null_values():
    ids = ["123456782", "111222333", "p3", "p4", None, None]
    assert bsn_columns({"t": pd.DataFrame({"x": ids})})  # 2 of 4 non-null = 50%
    assert not bsn_columns({"t": pd.DataFrame({"x": ids[:2] + ["p3", "p4", "p5"]})})


def test_pseudonymised_output_contains_none_of_the_original_ids(tmp_path):
    key = tmp_path / "secret" / "werkeffect.key"
    out = tmp_path / "out"
    done = pseudonymise_folder(BSN_DIR, out, key_file=key)
    assert done["persons"] == ["person_id"] and set(done["spells"]) == {"spell_id", "person_id"}
    originals = set()
    for f in BSN_DIR.glob("*.csv"):
        df = pd.read_csv(f, dtype=str)
        for c in df.columns:
            if c.endswith("_id"):
                originals |= set(df[c].dropna())
    blob = b"".join(f.read_bytes() for f in out.iterdir())
    for orig in originals:
        assert orig.encode() not in blob, orig
        assert orig.lstrip("0").encode() not in blob
    # the key is never written to the output
    assert key.read_bytes().strip() not in blob
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in BSN_DIR.iterdir() if p.suffix in (".csv", ".json")
    )
    # joins still work: the pseudonymised extract loads and validates
    ds = load(out)
    assert len(ds.persons) == 6 and ds.spells["person_id"].isin(ds.persons["person_id"]).all()
    assert ds.persons["person_id"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_key_file_is_created_private_and_reused(tmp_path, capsys):
    key = tmp_path / "k.key"
    pseudonymise_folder(BSN_DIR, tmp_path / "a", key_file=key)
    assert "created a new random key" in capsys.readouterr().err
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pseudonymise_folder(BSN_DIR, tmp_path / "b", key_file=key)
    a = pd.read_csv(tmp_path / "a" / "persons.csv", dtype=str)
    b = pd.read_csv(tmp_path / "b" / "persons.csv", dtype=str)
    pd.testing.assert_frame_equal(a, b)  # same key, same pseudonyms
    other = tmp_path / "other.key"
    other.write_text("another-secret-key-of-enough-length\n")
    pseudonymise_folder(BSN_DIR, tmp_path / "c", key_file=other)
    c = pd.read_csv(tmp_path / "c" / "persons.csv", dtype=str)
    assert not set(c["person_id"]) & set(a["person_id"])


def test_key_inside_output_folder_is_refused(tmp_path):
    with pytest.raises(DataValidationError, match="inside the output folder"):
        pseudonymise_folder(BSN_DIR, tmp_path / "out", key_file=tmp_path / "out" / "k")


def test_leading_zero_and_number_forms_map_to_one_pseudonym():
    key = b"0123456789abcdef0123"
    s = pd.Series(["012345672", "12345672", " 12345672 ", None], dtype=object)
    h = pseudonymise_values(s, key)
    assert h.iloc[0] == h.iloc[1] == h.iloc[2] and h.iloc[3] is None
    assert pseudonymise_values(pd.Series([12345672.0]), key).iloc[0] == h.iloc[0]


def test_bsn_in_a_column_not_named_id_blocks_writing(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(BSN_DIR, src)
    p = pd.read_csv(src / "persons.csv", dtype=str)
    p["burgerservicenummer"] = p["person_id"]
    p.to_csv(src / "persons.csv", index=False)
    with pytest.raises(DataValidationError, match="persons.burgerservicenummer"):
        pseudonymise_folder(src, tmp_path / "out", key_file=tmp_path / "k")
    assert not (tmp_path / "out").exists()
    pseudonymise_folder(
        src,
        tmp_path / "out",
        key_file=tmp_path / "k",
        id_columns=["person_id", "spell_id", "participation_id", "ww_id", "burgerservicenummer"],
    )
    assert not bsn_columns({"p": pd.read_csv(tmp_path / "out" / "persons.csv", dtype=str)})


def test_spss_extract_is_pseudonymised_in_its_own_format(tmp_path):
    import pyreadstat

    src = tmp_path / "src"
    shutil.copytree(FIX / "good" / "spss_labels", src)
    df, _ = pyreadstat.read_sav(str(src / "spells.sav"))
    pseudonymise_folder(src, tmp_path / "out", key_file=tmp_path / "k")
    out, meta = pyreadstat.read_sav(str(tmp_path / "out" / "spells.sav"))
    assert not set(out["person_id"]) & set(df["person_id"])
    assert meta.variable_value_labels["exit_reason"][1.0] == "regular paid job"
    ds = load(tmp_path / "out", mapping=src / "mapping.yaml")
    assert len(ds.spells) == 7
