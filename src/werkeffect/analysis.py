"""Plumbing shared by the evaluation scripts in ``analyses/``.

A script stays a plain, readable sequence of estimation steps; this module gives it the
command line (``--data``, ``--out``, ``--seed``, ``--threshold``), the validated dataset, a
:class:`~werkeffect.results.files.ResultsWriter`, and one clear message instead of a traceback
when the data lack what the evaluation needs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from werkeffect.data.dataset import Dataset
from werkeffect.exceptions import WerkeffectError
from werkeffect.results.files import ResultsWriter


class MissingDataError(WerkeffectError):
    """The data lack a table or column an evaluation needs."""


@dataclass
class Evaluation:
    """What an evaluation script works with."""

    name: str
    dataset: Dataset
    writer: ResultsWriter
    seed: int
    args: argparse.Namespace

    @property
    def n_boot(self) -> int:
        return int(self.args.n_boot)

    @contextmanager
    def step(
        self, what: str, warnings_note: str | None = None, warnings_note_en: str | None = None
    ) -> Iterator[None]:
        """Report a step and its duration on stderr (progress for long evaluations).

        With ``warnings_note`` (Dutch; ``warnings_note_en`` when English differs), the
        warnings raised inside the step are kept as report notes under that name
        (:func:`note_warnings`) instead of going to the terminal.
        """
        t0 = time.perf_counter()
        print(f"[{self.name}] {what} ...", file=sys.stderr, flush=True)
        if warnings_note is None:
            yield
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield
            note_warnings(self.writer, caught, warnings_note, warnings_note_en)
        print(f"[{self.name}] {what}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    def require(self, tables: Iterable[str]) -> None:
        """Raise :class:`MissingDataError` naming every required table that is empty."""
        missing = [t for t in tables if not self.dataset.has(t)]
        if missing:
            raise MissingDataError(
                f"evaluation '{self.name}' needs the table(s) {', '.join(missing)}, which the "
                f"extract in {self.args.data} does not contain (no file or no rows)"
            )


def parse_args(name: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=f"analyses/{name}.py", description=f"Evaluation: {name}")
    p.add_argument("--data", default="data/groningen", help="folder with the extract")
    p.add_argument("--out", default="results", help="results root folder")
    p.add_argument("--seed", type=int, default=2026, help="seed for bootstraps and simulations")
    p.add_argument("--threshold", type=int, default=10, help="disclosure threshold")
    p.add_argument("--n-boot", type=int, default=199, help="bootstrap replications")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address for parallel work")
    p.add_argument("--debug", action="store_true", help="show the traceback on errors")
    return p.parse_args(argv)


def open_evaluation(
    name: str,
    *,
    title: str,
    title_en: str,
    argv: Sequence[str] | None = None,
) -> Evaluation:
    """Parse the command line, load and validate the data, and open the results writer."""
    from werkeffect.data.io import load

    args = parse_args(name, argv)
    dataset = load(args.data)
    command = ["werkeffect", "run", name, "--data", args.data, "--out", args.out]
    command += ["--seed", str(args.seed)]
    writer = ResultsWriter(
        name,
        args.out,
        title=title,
        title_en=title_en,
        seed=args.seed,
        command=command,
        dataset=dataset,
        threshold=args.threshold,
    )
    return Evaluation(name=name, dataset=dataset, writer=writer, seed=args.seed, args=args)


def run_main(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None):
    """Run an evaluation's ``main`` with one clear message (no traceback) on failure.

    Linear algebra runs on one thread: how a multi-threaded BLAS splits a sum depends on the
    machine's cores, and the timing-of-events fit amplified that rounding into a different
    estimate in the third decimal (0.4061 against 0.4088 on one simulated world with one and
    two threads). Same data, seed and version must give the same bytes on any machine."""
    from threadpoolctl import threadpool_limits

    from werkeffect.parallel import compute_backend

    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--scheduler", default=None)
    scheduler = pre.parse_known_args(argv)[0].scheduler
    try:
        with compute_backend(scheduler), threadpool_limits(limits=1):
            main(argv)
    except (WerkeffectError, FileNotFoundError, ValueError) as exc:
        if "--debug" in argv:
            raise
        print(f"{Path(sys.argv[0]).name}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


def add_drawn_figure(
    writer: ResultsWriter,
    name: str,
    draw: Callable[[Any, str], Any],
    *,
    figsize: tuple[float, float] = (6.2, 3.6),
    **kwargs: Any,
) -> None:
    """Draw a figure twice, with Dutch and with English words (``draw(ax, lang)``), and add
    both (:meth:`ResultsWriter.add_figure`; ``kwargs`` are its captions and disclosure
    arguments): Dutch reports show the first, English ones the second."""
    import matplotlib.pyplot as plt

    figs = []
    try:
        for lang in ("nl", "en"):
            fig, ax = plt.subplots(figsize=figsize)
            figs.append(fig)
            draw(ax, lang)
        writer.add_figure(name, figs[0], fig_en=figs[1], **kwargs)
    finally:
        for fig in figs:
            plt.close(fig)


def note_warnings(
    writer: ResultsWriter,
    caught: Iterable[warnings.WarningMessage],
    step: str,
    step_en: str | None = None,
):
    """Record the estimators' warnings as notes, so the report shows them: in Dutch where the
    warning carries a Dutch text (:class:`~werkeffect.exceptions.EstimationWarning` ``nl``),
    else wholly in English (step included), as the software words it; a Dutch report tells
    the two apart by ``text_nl == text_en``."""
    seen: set[str] = set()
    for w in caught:
        text = str(w.message)
        if text in seen:
            continue
        seen.add(text)
        en = f"{step_en or step}: {text}"
        nl = getattr(w.message, "nl", "")
        writer.add_note(f"{step}: {nl}" if nl else en, en, name=step, kind="warning")


def add_ratio_estimate(
    writer: ResultsWriter,
    estimand: str,
    result,
    term: str,
    *,
    method: str,
    label_nl: str,
    label_en: str,
    primary: bool = False,
    naive: bool = False,
    n_treated: int | None = None,
    n_control: int | None = None,
    method_nl: str = "",
) -> dict[str, Any]:
    """Store exp(coefficient) — a hazard ratio — with the interval transformed as well;
    returns the record as stored (:meth:`ResultsWriter.add_estimate`)."""
    beta = float(result.params[term])
    se = float(result.std_errors[term])
    ci = result.conf_int().loc[term]
    return writer.add_estimate(
        estimand,
        estimate=float(np.exp(beta)),
        std_error=float(np.exp(beta) * se),  # delta method; the interval is exp of the log's
        lower=float(np.exp(ci["lower"])),
        upper=float(np.exp(ci["upper"])),
        method=method,
        method_nl=method_nl,
        primary=primary,
        naive=naive,
        n_treated=n_treated,
        n_control=n_control,
        label_nl=label_nl,
        label_en=label_en,
        scale="hazard_ratio",
    )


def add_wald_estimate(
    writer: ResultsWriter,
    estimand: str,
    estimate: float,
    std_error: float,
    *,
    level: float = 0.95,
    **kwargs: Any,
) -> None:
    """Store an estimate with its Wald interval (estimate ± z s.e. at ``level``); ``kwargs``
    go to :meth:`ResultsWriter.add_estimate` (method, scale, labels, ...)."""
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2))
    writer.add_estimate(
        estimand,
        estimate=estimate,
        std_error=std_error,
        lower=estimate - z * std_error,
        upper=estimate + z * std_error,
        level=level,
        **kwargs,
    )


def naive_difference(y_treated: pd.Series, y_control: pd.Series) -> tuple[float, float]:
    """Difference in means and its Welch (unequal-variance) standard error."""
    diff = float(y_treated.mean() - y_control.mean())
    se = float(np.sqrt(y_treated.var() / len(y_treated) + y_control.var() / len(y_control)))
    return diff, se


def add_naive_difference(
    writer: ResultsWriter,
    estimand: str,
    y_treated: pd.Series,
    y_control: pd.Series,
    *,
    method: str,
    label_nl: str,
    label_en: str,
    scale: str = "probability",
    level: float = 0.95,
    method_nl: str = "",
) -> None:
    """Store the naive comparison: difference in means with a Welch (unequal-variance) error.

    It is labelled ``naive`` so every report shows it beside, never instead of, the causal
    estimate.
    """
    diff, se = naive_difference(y_treated, y_control)
    add_wald_estimate(
        writer,
        estimand,
        diff,
        se,
        level=level,
        method=method,
        method_nl=method_nl,
        naive=True,
        scale=scale,
        n_treated=int(len(y_treated)),
        n_control=int(len(y_control)),
        label_nl=label_nl,
        label_en=label_en,
    )


def dummies(frame: pd.DataFrame, columns: Sequence[str], drop_first: bool = True) -> pd.DataFrame:
    """0/1 indicator columns for categorical ``columns`` (reference = first sorted level)."""
    out = pd.get_dummies(frame[list(columns)].astype("category"), drop_first=drop_first)
    return out.astype(float)
