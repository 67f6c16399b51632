"""Programme monitor: exits to work per year against the targets, and how many are extra.

Pre-specified (``python analyses/programma.py --data DIR --out results``; run after
``jobcoaching``, whose primary ATT it reads from ``results/jobcoaching/results.json``):

- exits from bijstand to a regular paid job per calendar year in Groningen, beside what the
  municipality reported (861 in 2019, 937 in 2020) and its targets (1,300 in 2021, 1,000 in
  2022);
- the extra exits caused by jobcoaching: its ATT on exit to work within 12 months times the
  number of people starting jobcoaching that year; the rest would have happened anyway;
- the programme's net cost, from the jobcoaching evaluation's costs and benefits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from werkeffect.analysis import open_evaluation, run_main
from werkeffect.monitor import (
    EXITS_TO_WORK_ACHIEVED,
    EXITS_TO_WORK_TARGET,
    exits_by_year,
    monitor_table,
    programme_starts_by_year,
)
from werkeffect.results.files import read_results

#: Budget of the Werk- en ontwikkelprogramma per year (euros; seed 000/001).
BUDGET_PER_YEAR = 2_500_000.0
YEARS = (2017, 2025)


def main(argv: Sequence[str] | None = None) -> None:
    ev = open_evaluation(
        "programma",
        title="Programmamonitor: uitstroom naar werk en het effect van het programma",
        title_en="Programme monitor: exits to work and the programme's effect",
        argv=argv,
    )
    ds, w = ev.dataset, ev.writer
    jc_path = Path(ev.args.out) / "jobcoaching"
    try:
        jc = read_results(jc_path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the programme monitor needs the jobcoaching results in {jc_path}; run "
            "'werkeffect run jobcoaching' first"
        ) from None
    att = jc.estimate("jobcoaching.att_exit_work_12m")
    if att is None or att.get("estimate") is None:
        raise ValueError("the jobcoaching results hold no primary ATT on exit to work")

    exits = exits_by_year(ds, years=YEARS)
    starts = programme_starts_by_year(ds)
    table = monitor_table(exits, starts, float(att["estimate"]), float(att["std_error"]))
    w.add_table(
        "exits_by_year",
        table,
        caption_nl="Uitstroom naar werk per jaar, doelstellingen en extra uitstroom door "
        "jobcoaching",
        caption_en="Exits to work per year, targets and extra exits due to jobcoaching",
        count_columns=["exits_work", "participants"],
    )
    for year, n in EXITS_TO_WORK_ACHIEVED.items():
        w.add_value(f"exits_work_{year}", n, label_nl=f"gerapporteerde uitstroom naar werk {year}")
    for year, n in EXITS_TO_WORK_TARGET.items():
        w.add_value(f"target_{year}", n, label_nl=f"doelstelling uitstroom naar werk {year}")
    w.add_value("budget_eur", BUDGET_PER_YEAR, scale="euro", count=False,
                label_nl="budget per jaar")  # fmt: skip

    z = 1.959964
    extra = float(table["extra_exits"].sum())
    se = float(att["std_error"]) * float(table["participants"].sum())
    w.add_estimate(
        "programma.extra_exits_work",
        estimate=extra,
        std_error=se,
        lower=extra - z * se,
        upper=extra + z * se,
        method="jobcoaching ATT × participants per year",
        scale="count",
        label_nl=f"Extra uitstroom naar werk door jobcoaching, {YEARS[0]}–{YEARS[1]}",
        label_en=f"Extra exits to work due to jobcoaching, {YEARS[0]}-{YEARS[1]}",
    )
    net = jc.estimate("jobcoaching.costs.net_benefit_eur")
    if net is not None and net.get("estimate") is not None:
        w.add_estimate(
            "programma.net_benefit_eur",
            estimate=float(net["estimate"]),
            std_error=float(net["std_error"]),
            lower=float(net["lower"]),
            upper=float(net["upper"]),
            method="from the jobcoaching evaluation",
            scale="euro",
            label_nl="Netto opbrengst van jobcoaching (besparing min kosten)",
            label_en="Net benefit of jobcoaching (savings minus cost)",
        )

    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    years = table["year"].astype(int).astype(str)
    ax.bar(years, table["exits_work"], color="#9db7d5", label="uitstroom naar werk")
    ax.bar(years, table["extra_exits"], color="#00468b", label="waarvan extra door jobcoaching")
    has_target = table["target"].notna()
    ax.plot(years[has_target], table.loc[has_target, "target"], "D", color="#c0392b",
            label="doelstelling")  # fmt: skip
    has_rep = table["reported"].notna()
    ax.plot(years[has_rep], table.loc[has_rep, "reported"], "o", color="#333333",
            label="gerapporteerd")  # fmt: skip
    ax.set_ylabel("personen")
    ax.legend(frameon=False, fontsize=8)
    w.add_figure(
        "exits_vs_targets",
        fig,
        caption_nl="Uitstroom naar werk per jaar tegenover de doelstellingen",
        caption_en="Exits to work per year against the targets",
        data=table[["year", "exits_work"]],
        count_columns=["exits_work"],
    )
    plt.close(fig)
    w.add_note(
        "De extra uitstroom telt een deelnemer mee in het jaar waarin jobcoaching begon; de "
        "rest van de uitstroom was er ook zonder het programma gekomen.",
        "Extra exits are counted in the year jobcoaching started.",
        name="attribution",
    )
    if np.isnan(table["target"]).all():
        w.add_note("Geen doelstellingen in de jaren van de data.", "No targets in these years.")
    w.write()


if __name__ == "__main__":
    run_main(main)
