"""`werkeffect check` and `werkeffect pseudonymise` through the CLI entry point."""

from __future__ import annotations

from pathlib import Path

from werkeffect.cli import main

FIX = Path(__file__).parent / "fixtures"


def test_check_prints_report_on_good_data(capsys):
    assert main(["check", str(FIX / "good" / "dutch_cp1252")]) == 0
    out = capsys.readouterr().out
    assert "Extract date: 2023-01-01" in out
    assert "spells" in out and "7 rows" in out
    assert "start_date 2017-05-01 .. 2021-01-01" in out
    assert "Data flow:" in out and "OK: all checks passed." in out


def test_check_with_mapping(capsys):
    code = main(
        [
            "check",
            str(FIX / "good" / "mapped"),
            "--mapping",
            str(FIX / "good" / "mapped" / "mapping.yaml"),
        ]
    )
    assert code == 0, capsys.readouterr().err


def test_check_bad_data_returns_1_with_one_clear_message(capsys):
    assert main(["check", str(FIX / "malformed" / "multi_problem")]) == 1
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err + cap.out
    assert "did not pass" in cap.err and "The extract has 4 problems" in cap.err
    assert cap.out == ""


def test_check_repair_flag(capsys):
    assert main(["check", str(FIX / "malformed" / "identical_duplicate")]) == 1
    assert main(["check", "--repair", str(FIX / "malformed" / "identical_duplicate")]) == 0
    assert "identical duplicate rows dropped" in capsys.readouterr().out


def test_check_refuses_bsn(capsys):
    assert main(["check", str(FIX / "malformed" / "bsn_ids")]) == 1
    err = capsys.readouterr().err
    assert "BSN" in err and "werkeffect pseudonymise" in err and "Traceback" not in err


def test_check_missing_path(capsys, tmp_path):
    assert main(["check", str(tmp_path / "nope")]) == 1
    assert "No extract at" in capsys.readouterr().err


def test_pseudonymise_cli_then_check(capsys, tmp_path):
    out = tmp_path / "out"
    code = main(
        [
            "pseudonymise",
            str(FIX / "malformed" / "bsn_ids"),
            "--out",
            str(out),
            "--key-file",
            str(tmp_path / "k"),
        ]
    )
    assert code == 0
    cap = capsys.readouterr()
    assert "Pseudonymised extract written" in cap.out and "created a new random key" in cap.err
    assert main(["check", str(out)]) == 0


def test_pseudonymise_cli_error_is_one_line(capsys, tmp_path):
    code = main(
        [
            "pseudonymise",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "o"),
            "--key-file",
            str(tmp_path / "k"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("werkeffect pseudonymise: No extract folder") and "Traceback" not in err


def test_check_counts_ended_spells_without_exit_reason_and_warns(capsys, tmp_path):
    """They count as exits for another reason (cause 3): `check` says how many, and warns
    when the share is large (the exit-to-work effect would be biased)."""
    import shutil

    import pandas as pd

    shutil.copytree(FIX / "good" / "parquet", tmp_path / "x")
    f = tmp_path / "x" / "spells.parquet"
    sp = pd.read_parquet(f)
    assert main(["check", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    assert "spells ended without an exit reason: 0 of 4 (0.0%)" in out
    assert "Warning" not in out
    sp.loc[sp["spell_id"] == "s1", "exit_reason"] = None
    sp.to_parquet(f, index=False)
    assert main(["check", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    assert "spells ended without an exit reason: 1 of 4 (25.0%)" in out
    assert "Warning: 25.0% of the ended spells (1) have no exit_reason" in out
    assert "effect on exit to work is biased" in out
