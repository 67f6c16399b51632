"""Benchmark: Callaway-Sant'Anna and the TWFE event study on a large staggered panel.

``run(size)`` — ``size`` is the number of units (default 1,000,000) observed in 12 periods,
never-treated controls, no covariates, analytic (influence-function) standard errors.
Every (tool, size) runs in a fresh subprocess so peak memory (max RSS, including the data)
is measured per run. Peers (csdid, differences, diff-diff, moderndid; linearmodels and
pyfixest for TWFE) run at a reduced size when the full size would take minutes or exceed
memory; werkeffect also runs at that reduced size so speed ratios compare like with like.
``agrees`` compares each peer's ATT(g,t) with werkeffect's on identical data (1e-8).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

N_PERIODS = 12
PEER_SIZE = 100_000
SUITE = "did"


def _data(n_units: int, seed: int = 1):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from werkeffect.did._dgp import staggered_panel

    df, _ = staggered_panel(n_units, N_PERIODS, seed=seed, first_cohort=3)
    return df


def _worker(tool: str, task: str, n_units: int, out: str) -> None:
    import resource
    import warnings

    warnings.filterwarnings("ignore")
    df = _data(n_units)
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    c0 = time.process_time()
    att = None
    if task == "cs":
        if tool == "werkeffect":
            from werkeffect.did import CallawaySantAnna

            res = CallawaySantAnna(
                df,
                outcome="y",
                unit="unit",
                time="time",
                group="group",
                control="never",
                method="dr",
            ).fit()
            res.aggregate("simple")
            att = res.att_gt["att"].to_numpy()
        elif tool == "csdid":
            import contextlib
            import io

            from csdid.att_gt import ATTgt

            with contextlib.redirect_stdout(io.StringIO()):
                m = ATTgt(
                    yname="y",
                    tname="time",
                    idname="unit",
                    gname="group",
                    data=df,
                    control_group="nevertreated",
                ).fit(est_method="dr", bstrap=False)
                m.aggte("simple", bstrap=False)
            att = np.asarray(m.results["att"], float)
        elif tool == "differences":
            from differences import ATTgt

            d = df.assign(cohort=df["group"].replace(0, np.nan).astype(float))
            d = d.set_index(["unit", "time"])
            a = ATTgt(data=d, cohort_column="cohort")
            a.fit(formula="y", est_method="dr", control_group="never_treated", progress_bar=False)
            a.aggregate("simple")
            att = a.results().iloc[:, 0].to_numpy()
        elif tool == "diff-diff":
            from diff_diff import CallawaySantAnna as DD

            r = DD(control_group="never_treated", estimation_method="dr").fit(
                df, outcome="y", unit="unit", time="time", first_treat="group"
            )
            keys = sorted(r.group_time_effects)
            att = np.array([r.group_time_effects[k]["effect"] for k in keys])
        elif tool == "moderndid":
            import moderndid as md

            r = md.att_gt(
                data=df,
                yname="y",
                tname="time",
                gname="group",
                idname="unit",
                est_method="dr",
                boot=False,
            )
            md.aggte(r, type="simple", boot=False)
            att = np.asarray(r.att_gt, float)
    elif task == "twfe":
        if tool == "werkeffect":
            from werkeffect.did import EventStudy

            r = EventStudy(
                df, outcome="y", unit="unit", time="time", group="group", leads=4, lags=5
            ).fit(inference="analytic")
            att = r.params.to_numpy()
        elif tool in ("linearmodels", "pyfixest"):
            from werkeffect.did import EventStudy

            es = EventStudy(
                df, outcome="y", unit="unit", time="time", group="group", leads=4, lags=5
            )
            y, x, uid, tid, cl, ev = es._design()
            import pandas as pd

            names = [f"e{'m' if e < 0 else 'p'}{abs(e)}" for e in ev]
            d = pd.DataFrame(x, columns=names)
            d["y"], d["u"], d["t"] = y, uid, tid
            del x
            if tool == "linearmodels":
                from linearmodels import PanelOLS

                d = d.set_index(["u", "t"])
                m = PanelOLS(d["y"], d[names], entity_effects=True, time_effects=True).fit(
                    cov_type="clustered", cluster_entity=True
                )
                att = m.params.to_numpy()
            else:
                import pyfixest as pf

                m = pf.feols("y ~ " + " + ".join(names) + " | u + t", data=d, vcov={"CRV1": "u"})
                att = m.coef().to_numpy()
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(out, att)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "data_mb": base_mb}))


def _run_one(tool: str, task: str, n_units: int, timeout: float = 900):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "att.npy")
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",
            PYTHONPATH=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"),
        )
        try:
            p = subprocess.run(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--worker",
                    tool,
                    task,
                    str(n_units),
                    out,
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return None, None, f"timed out after {timeout:.0f} s"
        if p.returncode != 0:
            return None, None, "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:200]
        info = json.loads(p.stdout.strip().splitlines()[-1])
        return info, np.load(out, allow_pickle=True), ""


def _row(task, tool, size, info, agrees, note):
    if info is not None and "cpu" in info:
        note = (note + "; " if note else "") + f"cpu {info['cpu']:.2f} s"
    return {
        "suite": SUITE,
        "task": task,
        "tool": tool,
        "size": size,
        "seconds": None if info is None else round(info["seconds"], 3),
        "peak_mb": None if info is None else round(info["peak_mb"], 1),
        "agrees": agrees,
        "note": note,
    }


def run(size: int | None = None, repeats: int = 3) -> list[dict]:
    size = int(size or 1_000_000)
    peer_size = min(size, PEER_SIZE)
    rows: list[dict] = []
    # --- Callaway & Sant'Anna -------------------------------------------------------------
    runs = [_run_one("werkeffect", "cs", size) for _ in range(repeats)]
    ok = [r for r in runs if r[0] is not None]
    secs = float(np.median([r[0]["seconds"] for r in ok])) if ok else None
    cpus = [r[0]["cpu"] for r in ok]
    info = dict(ok[0][0], seconds=secs, cpu=float(np.median(cpus))) if ok else None
    rows.append(
        _row(
            "cs_never_nocov",
            "werkeffect",
            size,
            info,
            None,
            f"{size:,} units x {N_PERIODS} periods, dr, analytic SEs + simple "
            f"aggregation; median of {len(ok)} runs; peak_mb includes the data "
            f"({ok[0][0]['data_mb']:.0f} MB after generating it)"
            if ok
            else runs[0][2],
        )
    )
    ref_info, ref_att, _ = _run_one("werkeffect", "cs", peer_size)
    if peer_size != size:
        rows.append(
            _row(
                "cs_never_nocov",
                "werkeffect",
                peer_size,
                ref_info,
                None,
                "same code at the peers' size",
            )
        )
    for tool in ("csdid", "differences", "diff-diff", "moderndid"):
        info, att, err = _run_one(tool, "cs", peer_size)
        agrees = None
        if att is not None and ref_att is not None and att.shape == ref_att.shape:
            agrees = bool(np.allclose(att, ref_att, rtol=0, atol=1e-8))
        note = err or (
            f"run at {peer_size:,} units (full size takes minutes / >10 GB)"
            if peer_size != size
            else ""
        )
        if info is not None and ref_info is not None:
            note += f"; werkeffect is {info['seconds'] / ref_info['seconds']:.0f}x faster here"
        rows.append(_row("cs_never_nocov", tool, peer_size, info, agrees, note.strip("; ")))
    # --- TWFE event study ------------------------------------------------------------------
    info, es_att, err = _run_one("werkeffect", "twfe", size)
    rows.append(
        _row(
            "twfe_event_study",
            "werkeffect",
            size,
            info,
            None,
            err or "leads 4, lags 5, clustered by unit; peak_mb is the whole process",
        )
    )
    _, es_ref, _ = _run_one("werkeffect", "twfe", peer_size)
    for tool in ("linearmodels", "pyfixest"):
        info, att, err = _run_one(tool, "twfe", peer_size)
        agrees = None
        if att is not None and es_ref is not None and att.shape == es_ref.shape:
            agrees = bool(np.allclose(att, es_ref, rtol=0, atol=1e-8))
        rows.append(
            _row(
                "twfe_event_study",
                tool,
                peer_size,
                info,
                agrees,
                err or (f"run at {peer_size:,} units" if peer_size != size else ""),
            )
        )
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        size = int(sys.argv[1]) if len(sys.argv) > 1 else None
        for r in run(size):
            print(json.dumps(r))
