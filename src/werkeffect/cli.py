"""The ``werkeffect`` command line.

Every command prints one clear message and exits non-zero on error; the traceback is shown
only with ``--debug``. Commands import their module lazily so ``werkeffect --help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_check(args: argparse.Namespace) -> int:
    from werkeffect.data.io import check

    return check(args.path, mapping=args.mapping, repair=args.repair)


def _cmd_pseudonymise(args: argparse.Namespace) -> int:
    from werkeffect.data.privacy import pseudonymise_folder

    pseudonymise_folder(
        args.input, args.out, key_file=args.key_file, id_columns=args.columns or None
    )
    print(f"Pseudonymised extract written to {args.out}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from werkeffect.simulate import simulate, write_simulation

    try:
        scale: str | float = float(args.scale)
    except ValueError:
        scale = args.scale
    dataset, truth = simulate(scenario=args.scenario, seed=args.seed, scale=scale)
    write_simulation(dataset, truth, args.out, fmt=args.format)
    print(f"Simulated '{args.scenario}' (seed {args.seed}): {dataset!r} -> {args.out}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from werkeffect.runner import run_analysis

    extra = ["--scheduler", args.scheduler] if args.scheduler else []
    if args.n_boot is not None:
        extra += ["--n-boot", str(args.n_boot)]
    return run_analysis(args.name, data=args.data, out=args.out, seed=args.seed, extra_args=extra)


def _cmd_report(args: argparse.Namespace) -> int:
    from werkeffect.reports import render_reports

    return render_reports(
        args.name, to=args.to.split(","), results=args.results, lang=args.lang, out=args.out
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="werkeffect", description="Evaluate welfare-to-work programmes (bijstand)."
    )
    p.add_argument("--debug", action="store_true", help="show the traceback on errors")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="load and validate an extract, print the report")
    c.add_argument("path")
    c.add_argument("--mapping", help="YAML/JSON file renaming the extract's columns")
    c.add_argument("--repair", action="store_true", help="repair identical duplicate rows")
    c.set_defaults(func=_cmd_check)

    c = sub.add_parser("pseudonymise", help="replace id columns by keyed hashes (HMAC-SHA256)")
    c.add_argument("input", help="folder with the raw extract")
    c.add_argument("--out", required=True, help="folder for the pseudonymised extract")
    c.add_argument("--key-file", required=True, help="file holding the secret key")
    c.add_argument("--columns", nargs="*", help="id columns (default: all *_id columns)")
    c.set_defaults(func=_cmd_pseudonymise)

    c = sub.add_parser("simulate", help="simulate synthetic Groningen with known true effects")
    c.add_argument("--scenario", default="groningen")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True)
    c.add_argument(
        "--scale",
        default="groningen",
        help="'groningen' (default), 'national' or a factor such as 0.25",
    )
    c.add_argument("--format", default="parquet", choices=["parquet", "csv"])
    c.set_defaults(func=_cmd_simulate)

    c = sub.add_parser("run", help="run analyses/NAME.py (or 'all')")
    c.add_argument("name")
    c.add_argument("--data", default="data/groningen")
    c.add_argument("--out", default="results")
    c.add_argument("--seed", type=int, default=2026)
    c.add_argument("--n-boot", type=int, default=None, help="bootstrap replications")
    c.add_argument("--scheduler", default=None, help="Dask scheduler address (joblib dask)")
    c.set_defaults(func=_cmd_run)

    c = sub.add_parser("report", help="render reports/NAME.qmd (or 'all')")
    c.add_argument("name")
    c.add_argument("--to", default="html,pdf")
    c.add_argument("--results", default="results")
    c.add_argument("--lang", default="nl", choices=["nl", "en"])
    c.add_argument("--out", default=None, help="output folder (default reports/_output)")
    c.set_defaults(func=_cmd_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("werkeffect: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear message; the traceback only on request
        if args.debug:
            raise
        print(f"werkeffect {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
