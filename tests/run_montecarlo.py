"""Run the slow Monte Carlo tests' replications in chunks and summarise them.

The slow tests run all their replications in one pytest call. For the tables in
``docs/dynamic.md`` and ``docs/timing_of_events.md`` the replications are run in chunks of
seeds (several processes, one result line per replication) with the tests' own
per-replication functions, so a table and the test compute the same numbers. A run resumes:
replications already in its output file are skipped, so a stopped chunk is restarted with
the same command::

    python tests/run_montecarlo.py dynamic 1300 1450 out.csv DynamicIPW DynamicMatch-ipw
    python tests/run_montecarlo.py toe 0 100 out.jsonl [--criterion loglik] [--cov-type robust]
    python tests/run_montecarlo.py toe 0 35 out.jsonl --sample first-spells   # or inflow
    python tests/run_montecarlo.py dynamic-summary out1.csv out2.csv ...
    python tests/run_montecarlo.py pilot-selection 200 1,1.5,2 [--jobs 2]

``pilot-selection`` asks how strong the caseworkers' choice of pilot participants must be
before the pilot's naive comparisons miss the truth in most worlds: every selection
coefficient (``pilot_beta`` and ``pilot_duration_coef``) times k, the demo's scenario at
Groningen size, the matched estimate and both naive comparisons of
``tests/test_matching_slow.py`` in each world.

``toe --sample inflow`` (entrants from the 2015 window, first spells, no return process) and
``--sample first-spells`` (each person's first spell in the window) are diagnostics of the
timing-of-events model on single-spell samples; they were slow tests marked as expected
failures that could not fail (docs/timing_of_events.md: coverage 77%, the inflow's δ
-0.099 with the AIC's mass points). The primary sample (``all``, the default) is the test's.

Set ``OMP_NUM_THREADS=1`` (and ``OPENBLAS_NUM_THREADS=1``) when running several processes
on one machine: the fits are small and thread oversubscription makes them several times slower.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import warnings

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def read_dynamic(path: str) -> pd.DataFrame:
    """The complete rows of a dynamic replication file (a line cut off by a stop is left out)."""
    df = pd.read_csv(path, on_bad_lines="skip")
    return df.dropna(subset=["estimate", "std_error", "truth", "seconds"])


def _done_dynamic(out: str) -> set[tuple[int, str]]:
    """(seed, estimator) pairs already in ``out``."""
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        return set()
    df = read_dynamic(out)
    return set(zip(df["seed"].astype(int), df["name"], strict=True))


def _end_line(out: str) -> None:
    """Finish a last line cut off by a stop, so the next row starts on a line of its own."""
    if os.path.exists(out) and os.path.getsize(out) > 0:
        with open(out, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            cut = fh.read(1) != b"\n"
        if cut:
            with open(out, "a") as fh:
                fh.write("\n")


def _done_toe(out: str) -> set[int]:
    if not os.path.exists(out):
        return set()
    done = set()
    with open(out) as fh:
        for line in fh:
            try:
                done.add(int(json.loads(line)["seed"]))
            except (ValueError, KeyError):
                continue  # a line cut off by a stop
    return done


def run_dynamic(scenario: str, seeds: range, out: str, names: list[str], n_boot: int) -> None:
    """Append one row per (seed, estimator, u) to ``out`` (the slow test's ``_one``),
    skipping (seed, estimator) pairs already there."""
    from test_dynamic_simulator import ESTIMATORS, _one

    names = names or list(ESTIMATORS)
    _end_line(out)
    done = _done_dynamic(out)
    new = not os.path.exists(out) or os.path.getsize(out) == 0
    with open(out, "a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["seed", "name", "u", "estimate", "std_error", "truth", "seconds"])
        for seed in seeds:
            for name in names:
                if (seed, name) in done:
                    continue
                t0 = time.perf_counter()
                rows = _one(scenario, name, seed, n_boot)
                dt = round(time.perf_counter() - t0, 2)
                w.writerows([seed, name, u, est, se, tr, dt] for u, est, se, tr in rows)
                fh.flush()


TOE_SAMPLES = {
    "all": {"with_returns": True},
    "inflow": {"inflow_only": True},
    "first-spells": {"first_spell_only": True},
}


def run_toe(
    seeds: range, out: str, criterion: str | None, cov_type: str | None = None, sample="all"
) -> None:
    """Append one JSON line per world to ``out`` (the slow test's ``one_replication``),
    skipping seeds already there; ``cov_type`` is passed to ``TimingOfEvents.fit``
    (default: the fit's own); ``sample`` one of :data:`TOE_SAMPLES`."""
    import functools

    from test_toe_montecarlo import one_replication
    from werkeffect.survival import TimingOfEvents

    if cov_type:
        TimingOfEvents.fit = functools.partialmethod(TimingOfEvents.fit, cov_type=cov_type)
    kw = {"criterion": criterion} if criterion else {}
    _end_line(out)
    done = _done_toe(out)
    for seed in seeds:
        if seed in done:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = one_replication(seed, **TOE_SAMPLES[sample], **kw)
        line = {k: v if isinstance(v, str | bool | type(None)) else float(v) for k, v in r.items()}
        with open(out, "a") as fh:
            fh.write(json.dumps(line) + "\n")


def dynamic_summary(files: list[str]) -> str:
    """The table of ``docs/dynamic.md``: bias against each sample's truth, coverage of the
    population ATT (the slow test's two criteria) and of the sample truth."""
    df = pd.concat([read_dynamic(f) for f in files]).drop_duplicates(["seed", "name", "u"])
    lines = [
        "| estimator | u | replications | mean truth | mean bias | bias / effect | MC s.e. "
        "| SD of estimate | mean SE | SE / SD | coverage (population ATT) "
        "| coverage (sample truth) | test criteria (bias, coverage) |",
        "|---" * 13 + "|",
    ]
    from test_dynamic_simulator import cell_checks

    for (name, u), d in df.groupby(["name", "u"]):
        c = cell_checks(d)
        crit = "–"  # u = 24 is not in the test
        if u != 24:
            crit = f"{'pass' if c['bias_ok'] else 'FAIL'}, {'pass' if c['cover_ok'] else 'FAIL'}"
        sd = d["estimate"].std()
        lines.append(
            f"| {name} | {u} | {len(d)} | {c['effect']:.3f} | {c['bias']:+.4f} "
            f"| {100 * c['bias'] / c['effect']:+.0f}% | {c['mcse']:.4f} | {sd:.3f} "
            f"| {d['std_error'].mean():.3f} | {d['std_error'].mean() / sd:.2f} "
            f"| {100 * c['cover']:.1f}% | {100 * c['cover_sample']:.1f}% | {crit} |"
        )
    return "\n".join(lines)


def _pilot_world(k: float, seed: int) -> dict:
    """One world of the demo scenario with the pilot's selection scaled by ``k``: the truth
    and (estimate, lower, upper) of the matched estimate and the two naive comparisons (NaN
    when the estimator refuses, e.g. on perfect separation)."""
    from test_matching_slow import pilot_ai, pilot_naive_before_after, pilot_naive_eligible
    from werkeffect import simulate
    from werkeffect.exceptions import EstimationError
    from werkeffect.simulate.params import SimParams

    base = SimParams()
    ds, truth = simulate(
        "groningen",
        seed=seed,
        scale="groningen",
        pilot_beta={n: v * k for n, v in base.pilot_beta.items()},
        pilot_duration_coef=base.pilot_duration_coef * k,
    )
    out = {"k": k, "truth": truth.values["pilot.att_employed_12m"]}
    for name, f in (
        ("matched", pilot_ai),
        ("naive_eligible", pilot_naive_eligible),
        ("naive_before_after", pilot_naive_before_after),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out[name] = tuple(f(ds, seed))
            except EstimationError:  # a refusal (e.g. separation) is counted
                out[name] = (float("nan"),) * 3
    return out


def pilot_selection(reps: int, ks: list[float], n_jobs: int = 2) -> str:
    """Bias (share of the mean truth), coverage and refusals per selection strength k."""
    import numpy as np
    from joblib import Parallel, delayed

    seeds = np.random.SeedSequence(99).generate_state(reps)
    rows = Parallel(n_jobs=n_jobs)(delayed(_pilot_world)(k, int(s)) for k in ks for s in seeds)
    lines = [
        "| k | estimate | bias | bias / effect | coverage | refused |",
        "|---|---|---|---|---|---|",
    ]
    for k in ks:
        rs = [r for r in rows if r["k"] == k]
        truth = np.array([r["truth"] for r in rs])
        for name in ("matched", "naive_eligible", "naive_before_after"):
            e = np.array([r[name] for r in rs], dtype=float)
            ok = ~np.isnan(e[:, 0])
            bias = float(np.mean(e[ok, 0] - truth[ok]))
            cover = float(np.mean((e[ok, 1] <= truth[ok]) & (truth[ok] <= e[ok, 2])))
            lines.append(
                f"| {k:g} | {name} | {bias:+.3f} | {bias / truth[ok].mean():+.0%} "
                f"| {cover:.2f} | {int((~ok).sum())} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    d = sub.add_parser("dynamic", help="tests/test_dynamic_simulator.py replications")
    d.add_argument("first", type=int)
    d.add_argument("stop", type=int, help="seeds first, ..., stop - 1")
    d.add_argument("out")
    d.add_argument("estimators", nargs="*")
    d.add_argument("--scenario", default="groningen-observables")
    d.add_argument("--n-boot", type=int, default=199)
    t = sub.add_parser("toe", help="tests/test_toe_montecarlo.py primary replications")
    t.add_argument("first", type=int)
    t.add_argument("stop", type=int)
    t.add_argument("out")
    t.add_argument("--criterion", default=None)
    t.add_argument("--cov-type", default=None, help="hessian or robust")
    t.add_argument("--sample", default="all", choices=list(TOE_SAMPLES))
    s = sub.add_parser("dynamic-summary", help="table of dynamic replications")
    s.add_argument("files", nargs="+")
    ps = sub.add_parser("pilot-selection", help="pilot naive comparisons by selection strength")
    ps.add_argument("reps", type=int)
    ps.add_argument("ks", help="selection multipliers, e.g. 1,1.5,2")
    ps.add_argument("--jobs", type=int, default=2)
    a = p.parse_args(argv)
    if a.what == "dynamic":
        run_dynamic(a.scenario, range(a.first, a.stop), a.out, a.estimators, a.n_boot)
    elif a.what == "toe":
        run_toe(range(a.first, a.stop), a.out, a.criterion, a.cov_type, a.sample)
    elif a.what == "pilot-selection":
        print(pilot_selection(a.reps, [float(k) for k in a.ks.split(",")], a.jobs))
    else:
        print(dynamic_summary(a.files))


if __name__ == "__main__":
    main()
