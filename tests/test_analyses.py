"""The evaluation scripts in analyses/: clear errors, reproducible results files, and (slow)
primary estimates that cover the simulator's truth where the naive comparison does not."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from werkeffect.results.files import read_results
from werkeffect.runner import run_analysis
from werkeffect.simulate import simulate, write_simulation


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_statushouders_results_are_byte_identical_on_rerun(small_extract, tmp_path):
    first = tmp_path / "results"
    assert run_analysis("statushouders", small_extract, first, seed=5) == 0
    a = digest(first / "statushouders")
    assert run_analysis("statushouders", small_extract, first, seed=5) == 0  # same command
    b = digest(first / "statushouders")
    assert "results.json" in a and any(k.startswith("figures/") for k in a)
    assert a == b
    res = read_results(first / "statushouders")
    primary = res.estimate("pilot.att_employed_12m")
    assert primary["primary"] and primary["lower"] < primary["estimate"] < primary["upper"]
    assert res.estimate("pilot.att_employed_12m", naive=True) is not None
    assert all(step["reason_nl"] for step in res["flow"])  # a Dutch reason for every step
    assert all(e.get("method_nl") for e in res["estimates"])  # and a Dutch method name
    text = (first / "statushouders" / "results.json").read_text()
    assert str(tmp_path) not in text  # no machine paths in results files


def test_ww_results_hold_primary_and_naive_and_no_person_rows(small_extract, tmp_path):
    assert run_analysis("ww_naar_bijstand", small_extract, tmp_path, seed=5) == 0
    res = read_results(tmp_path / "ww_naar_bijstand")
    primary = res.estimate("ww.att_inflow_6m")
    assert primary["method"].startswith("DiD") and primary["primary"]
    assert res.estimate("ww.att_inflow_6m", naive=True)["method"].startswith("naive")
    assert all(step["reason_nl"] for step in res["flow"])  # a Dutch reason for every step
    assert all(e.get("method_nl") for e in res["estimates"])  # and a Dutch method name
    for name in res["tables"]:
        table = res.table(name)
        assert "person_id" not in table.columns and "ww_id" not in table.columns


def test_missing_ww_table_names_it_and_other_evaluations_still_run(small_extract, tmp_path, capfd):
    data = tmp_path / "no_ww"
    shutil.copytree(small_extract, data)
    (data / "ww.parquet").unlink()
    assert run_analysis("ww_naar_bijstand", data, tmp_path / "out") == 1
    err = capfd.readouterr().err
    assert "needs the table(s) ww" in err and "Traceback" not in err
    assert run_analysis("statushouders", data, tmp_path / "out") == 0


def test_unknown_evaluation_lists_the_available_ones(tmp_path):
    with pytest.raises(FileNotFoundError, match="jobcoaching"):
        run_analysis("onbekend", tmp_path, tmp_path)


@pytest.mark.slow
def test_demo_primary_estimates_cover_the_truth_and_naive_ones_do_not(tmp_path):
    """make demo's data (seed 2026): every primary interval covers the truth (issue 9)."""
    data = tmp_path / "groningen"
    dataset, truth = simulate(seed=2026)
    write_simulation(dataset, truth, data)
    assert run_analysis("all", data, tmp_path / "results", seed=2026) == 0
    truth_values = json.loads((data / "truth.json").read_text())
    checked = 0
    for name in ("jobcoaching", "ww_naar_bijstand", "statushouders"):
        res = read_results(tmp_path / "results" / name)
        for rec in res["estimates"]:
            key = rec["estimand"]
            # an estimate stored without interval (Callaway-Sant'Anna with one treated
            # municipality) has no coverage to check
            if key not in truth_values or rec["estimate"] is None or rec["lower"] is None:
                continue
            covers = float(rec["lower"]) <= truth_values[key] <= float(rec["upper"])
            if rec["primary"]:
                assert covers, (name, key, rec["method"], rec["lower"], rec["upper"])
                checked += 1
            # selection on motivation (jobcoaching) and the labour-market calendar (the WW
            # before-after comparison) make the naive comparisons miss. The 40-person pilot
            # is not checked here: a naive interval is +-0.15 wide at n = 40, and in this
            # world both naive comparisons cover by chance (0.244 and 0.250 against 0.200).
            # Over 200 worlds they are biased by 44% and 61% of the effect and cover in 70%
            # and 50% of them (test_matching_slow.py::test_monte_carlo_pilot_naive_...)
            if rec["naive"] and name in ("jobcoaching", "ww_naar_bijstand"):
                assert not covers, (name, key, rec["method"])
    assert checked >= 4
    # the report's E-value is that of the primary hazard ratio as stored (it was the Cox
    # ratio's, which selection on motivation biases), the Cox one beside it
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "jobcoaching_script", Path(__file__).resolve().parents[1] / "analyses" / "jobcoaching.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    jc = read_results(tmp_path / "results" / "jobcoaching")
    primary = jc.estimate("jobcoaching.hazard_ratio")
    assert primary["primary"] and primary["method"].startswith("timing-of-events")
    cox = jc.estimate("jobcoaching.hazard_ratio", method="Cox, time-varying treatment")
    for key, record in (("evalue", primary), ("evalue_cox", cox)):
        point, bound = script.hazard_ratio_evalue(record)
        assert jc["values"][key]["value"] == pytest.approx(point, rel=1e-9), key
        assert jc["values"][f"{key}_ci"]["value"] == pytest.approx(bound, rel=1e-9), key
    # the net cost per extra exit is the net result per extra exit (gross cost beside it)
    costs = {k: jc.estimate(f"jobcoaching.costs.{k}")["estimate"] for k in (
        "net_benefit_eur", "extra_exits_work", "programme_cost_eur", "cost_per_extra_exit_eur",
        "net_cost_per_extra_exit_eur")}  # fmt: skip
    assert costs["net_cost_per_extra_exit_eur"] == pytest.approx(
        -costs["net_benefit_eur"] / costs["extra_exits_work"], rel=1e-9
    )
    assert costs["cost_per_extra_exit_eur"] == pytest.approx(
        costs["programme_cost_eur"] / costs["extra_exits_work"], rel=1e-9
    )
    # the programme monitor's naive count (every participant who found work) is far above the
    # extra exits the evaluation attributes to jobcoaching
    mon = read_results(tmp_path / "results" / "programma")
    naive = mon.estimate("programma.extra_exits_work", naive=True)
    assert naive["lower"] > mon.estimate("programma.extra_exits_work")["upper"]
    # the analyses write every estimate and value the reports read (reports.demo.EXPECTED:
    # the pilot's benefit exit was read but never written)
    from werkeffect.reports.demo import CONDITIONAL, EXPECTED

    for name, expected in EXPECTED.items():
        res = read_results(tmp_path / "results" / name)
        written = {e["estimand"] for e in res["estimates"]}
        assert not set(expected["estimates"]) - written - CONDITIONAL, name
        assert not set(expected["values"]) - set(res["values"]), name
    # every stored table has rows (a disclosure cut once emptied the risk table), and the
    # reports find every table and figure they ask for
    for name in ("jobcoaching", "ww_naar_bijstand", "statushouders", "programma"):
        res = read_results(tmp_path / "results" / name)
        for table in res["tables"]:
            assert len(res.table(table)) > 0, (name, table)
        assert all(e.get("method_nl") for e in res["estimates"]), name
    from werkeffect.reports import REPORTS, render_reports

    out = tmp_path / "reports"
    assert render_reports("all", to=["html"], results=tmp_path / "results", out=out) == 0
    for name in REPORTS:
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert "Niet beschikbaar" not in html and "niet beschikbaar" not in html, name


@pytest.mark.slow
def test_dynamic_evaluation_covers_the_truth_on_groningen_observables(tmp_path):
    """With selection on recorded characteristics only, the dynamic-evaluation estimates of
    the jobcoaching evaluation cover the truth (issue 9)."""
    data = tmp_path / "observables"
    dataset, truth = simulate(scenario="groningen-observables", seed=2026)
    write_simulation(dataset, truth, data)
    assert run_analysis("jobcoaching", data, tmp_path / "results", seed=2026) == 0
    res = read_results(tmp_path / "results" / "jobcoaching")
    truth_values = json.loads((data / "truth.json").read_text())
    dynamic = [
        r
        for r in res["estimates"]
        if r["method"].startswith("dynamic") and r["estimand"] in truth_values
    ]
    assert len(dynamic) >= 8
    covered = [
        float(r["lower"]) <= truth_values[r["estimand"]] <= float(r["upper"]) for r in dynamic
    ]
    # 95% intervals: allow one miss among the ATT(u, 12) and average estimates
    assert sum(covered) >= len(covered) - 1, dynamic


def test_ww_residual_autocorrelation_sees_persistent_municipality_shocks():
    """The check behind clustering by municipality x half-year: near 0 for independent cell
    shocks, clearly positive when a municipality's shocks persist (AR(1), rho = 0.8)."""
    import importlib.util

    import numpy as np
    import pandas as pd

    path = Path(__file__).resolve().parents[1] / "analyses" / "ww_naar_bijstand.py"
    spec = importlib.util.spec_from_file_location("ww_naar_bijstand_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    rng = np.random.default_rng(5)
    n_mun, n_per = 40, 16
    mun_effect = rng.normal(0, 0.03, n_mun)[:, None]
    period_effect = np.linspace(0.05, -0.03, n_per)[None, :]

    def frame(shocks):
        y = 0.2 + mun_effect + period_effect + shocks
        return pd.DataFrame(
            {
                "municipality": np.repeat([f"m{i}" for i in range(n_mun)], n_per),
                "period": np.tile(np.arange(1, n_per + 1), n_mun),
                "group": 0,
                "inflow": y.ravel(),
            }
        )

    independent = rng.normal(0, 0.01, (n_mun, n_per))
    ar = np.zeros((n_mun, n_per))
    ar[:, 0] = rng.normal(0, 0.01, n_mun)
    for t in range(1, n_per):  # over half-years, not people
        ar[:, t] = 0.8 * ar[:, t - 1] + rng.normal(0, 0.006, n_mun)
    assert abs(script.residual_autocorrelation(frame(independent))) < 0.15
    assert script.residual_autocorrelation(frame(ar)) > 0.4


@pytest.mark.slow
def test_a_small_pilot_gives_no_small_count_back(tmp_path):
    """A pilot of a few placements per date (the audit's world: 12 of a date's participants
    taken out): no output of the statushouders evaluation, nor its report, lets a count of
    fewer than 10 persons be read or recomputed."""
    import re

    import numpy as np

    from werkeffect.reports import render_reports

    dataset, truth = simulate(seed=3, scale=0.1)
    prog = dataset.programmes
    pilot = prog[prog["programme"].astype(str).eq("stadsbeheer")]
    date = pilot["start_date"].value_counts().idxmax()
    drop = pilot.index[pilot["start_date"].eq(date)][:12]
    dataset.programmes = prog.drop(index=drop).reset_index(drop=True)
    data = tmp_path / "small"
    write_simulation(dataset, truth, data)
    assert run_analysis("statushouders", data, tmp_path / "results", seed=1) == 0
    res = read_results(tmp_path / "results" / "statushouders")
    t = 10
    size = res["values"]["pilot_size"]["value"]

    def small(x) -> bool:
        return x is not None and 0 < round(float(x)) < t

    outside = res["values"]["participants_outside_overlap"]["value"]
    assert not small(outside)
    for rec in res["estimates"]:
        assert not small(rec["n_treated"]) and not small(rec["n_control"])
        if rec["n_treated"] is not None and not rec["naive"]:
            assert not small(size - rec["n_treated"]), rec["method"]
    texts = [n["text_nl"] for n in res["notes"]] + [n["text_en"] for n in res["notes"]]
    texts += [f["reason"] for f in res["flow"]] + [f["reason_nl"] for f in res["flow"]]
    count = re.compile(r"(?<![\d.,<])[1-9] (deelnemer|participant|eenhe|unit|statushouder)")
    assert not [x for x in texts if count.search(x)]
    # shares times their group size: neither the persons with a characteristic nor the rest
    desc = res.table("descriptives")
    for col in ("vrouw", "met startkwalificatie", "werk na 12 maanden"):
        k = desc[col].astype(float) * desc["aantal"].astype(float)
        rest = desc["aantal"].astype(float) - k
        assert not (k.between(0.5, t - 0.5) | rest.between(0.5, t - 0.5)).any(), col
    bal = res.table("balance")
    binary = bal["type"].eq("binary")
    for col, n in (("mean_treated_un", size), ("mean_treated", size)):
        k = bal.loc[binary, col].astype(float) * n
        assert not (k.between(0.5, t - 0.5) | (n - k).between(0.5, t - 0.5)).any(), col
    assert np.isfinite(res.estimate("pilot.att_employed_12m")["estimate"])
    out = tmp_path / "reports"
    assert render_reports("statushouders", to=["html"], results=tmp_path / "results", out=out) == 0


@pytest.mark.slow
def test_small_elapsed_duration_cohorts_are_suppressed_not_fatal(tmp_path):
    """A small world where a cohort of starters at some elapsed duration u has fewer than 10
    persons: each u's estimate carries its own cohort's count (it used to carry the whole
    analysis's, so the small cohort passed) and is suppressed; the figure is left out with a
    note instead of stopping the run."""
    dataset, truth = simulate(seed=1, scale=0.1)
    data = tmp_path / "small"
    write_simulation(dataset, truth, data)
    assert run_analysis("jobcoaching", data, tmp_path / "results", seed=1) == 0
    res = read_results(tmp_path / "results" / "jobcoaching")
    table = res.table("dynamic_att")
    per_u = table[table["u"] != "ATT"]
    assert per_u["n_treated"].isna().any()  # this world has a cohort under 10
    # a count may also be withheld because it lies within 10 of another published count
    # (differencing); its estimate then stays, and the log says why the count is missing
    differenced = {(e["output"], e["row"]) for e in res["disclosure"]["log"]
                   if e["rule"] == "differencing" and e["column"] == "n_treated"}  # fmt: skip
    for rec in res["estimates"]:
        if ".u" in rec["estimand"] and "att_u12" in rec["estimand"]:
            n = rec["n_treated"]
            withheld = (f"estimate:{rec['estimand']}", rec["method"]) in differenced
            assert rec["suppressed"] or withheld or (n is not None and n >= 10), rec
    u_estimates = [r for r in res["estimates"] if r["estimand"].startswith("jobcoaching.att_u12")]
    assert any(r["suppressed"] for r in u_estimates)
    assert "dynamic_att" not in res["figures"]
    assert any(n["name"] == "dynamic_att_figure" for n in res["notes"])


def test_evaluations_run_their_linear_algebra_on_one_thread(monkeypatch, tmp_path):
    """A multi-threaded BLAS splits sums by the machine's cores; the timing-of-events fit
    turned that rounding into a different estimate (0.4061 against 0.4088 on one world with
    one and two threads). run_main pins the evaluation to one thread, and `werkeffect run`
    starts the child process so."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from werkeffect.analysis import run_main

    seen = []
    with threadpool_limits(limits=2):
        with pytest.raises(SystemExit) as done:
            run_main(lambda argv: seen.append([p["num_threads"] for p in threadpool_info()]), [])
        assert done.value.code in (0, None)
        assert seen and seen[0] and all(n == 1 for n in seen[0])
        # and the limit is lifted afterwards (a notebook keeps its threads)
        assert any(p["num_threads"] == 2 for p in threadpool_info())

    import subprocess

    envs = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, env, check: envs.append(env)
                        or subprocess.CompletedProcess(cmd, 0))  # fmt: skip
    assert run_analysis("statushouders", tmp_path, tmp_path / "out") == 0
    assert {envs[0][k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")} == {"1"}
