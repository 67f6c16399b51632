"""``werkeffect run NAME``: run a pre-specified evaluation script from ``analyses/``.

Each evaluation is a plain script, ``python analyses/<name>.py --data DIR --out DIR``; this
module finds it and runs it in a fresh interpreter, so a failing evaluation (for instance one
whose data lack the WW table) says why and the others still run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The evaluations in the order ``run all`` takes them (the monitor reads the others' results).
EVALUATIONS = ("jobcoaching", "ww_naar_bijstand", "statushouders", "programma")


def analyses_dir() -> Path:
    """``analyses/`` in the working directory, else beside the source tree."""
    here = Path.cwd() / "analyses"
    if here.is_dir():
        return here
    repo = Path(__file__).resolve().parents[2] / "analyses"
    if repo.is_dir():
        return repo
    raise FileNotFoundError(
        "No analyses/ folder found in the working directory or beside the package; "
        "run werkeffect from the project folder."
    )


def run_analysis(
    name: str,
    data: str | Path,
    out: str | Path,
    seed: int = 2026,
    extra_args: list[str] | None = None,
) -> int:
    """Run ``analyses/<name>.py`` (or every evaluation for ``all``); returns an exit code."""
    names = list(EVALUATIONS) if name == "all" else [name]
    folder = analyses_dir()
    failed = []
    for n in names:
        script = folder / f"{n}.py"
        if not script.is_file():
            known = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
            raise FileNotFoundError(f"No evaluation '{n}' in {folder}; available: {known}")
        cmd = [sys.executable, str(script), "--data", str(data), "--out", str(out)]
        cmd += ["--seed", str(seed), *(extra_args or [])]
        print(f"== werkeffect run {n}", flush=True)
        # the child imports the same werkeffect as this process, hashes reproducibly and
        # starts its linear algebra on one thread (see analysis.run_main)
        src = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=path, MPLBACKEND="Agg")
        env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS")})  # fmt: skip
        proc = subprocess.run(cmd, env=env, check=False)
        if proc.returncode != 0:
            failed.append(n)
    if failed:
        print(f"werkeffect run: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
