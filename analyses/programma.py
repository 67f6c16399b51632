"""Programme monitor: exits to work per year against the targets, and how many are extra.

Pre-specified (``python analyses/programma.py --data DIR --out results``; run after
``jobcoaching``, whose primary ATT it reads from ``results/jobcoaching/results.json``):

- exits from bijstand to a regular paid job per calendar year in Groningen, beside what the
  municipality reported (861 in 2019, 937 in 2020) and its targets (1,300 in 2021, 1,000 in
  2022);
- the extra exits caused by jobcoaching: its ATT on exit to work within 12 months times the
  number of people starting jobcoaching that year; the rest would have happened anyway;
- the programme's net result: the net benefits (benefit saved minus programme cost) of
  jobcoaching and of the WW approach added up, their errors taken as independent (the two
  evaluations use different people: bijstand spells and WW recipients). Without WW results
  the net result is jobcoaching's alone, and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from werkeffect.analysis import add_drawn_figure, add_wald_estimate, open_evaluation, run_main
from werkeffect.monitor import (
    EXITS_TO_WORK_ACHIEVED,
    EXITS_TO_WORK_TARGET,
    exits_by_year,
    monitor_table,
    participant_exits_to_work,
    programme_starts_by_year,
)
from werkeffect.results.files import read_results

#: Budget of the Werk- en ontwikkelprogramma 2022–2025 per year (euros; seed 000/001).
BUDGET_PER_YEAR = 2_500_000.0
#: Budget of the Werkprogramma 2020–2022 over its three years (euros; seed 000/001).
BUDGET_WERKPROGRAMMA = 4_500_000.0
YEARS = (2017, 2025)


def _optional_results(path: Path):
    try:
        return read_results(path)
    except FileNotFoundError:
        return None


def add_net_benefit(w, jc, ww) -> None:
    """``programma.net_benefit_eur``: the evaluations' net benefits added up."""
    parts = []
    for name, res, key in (
        ("jobcoaching", jc, "jobcoaching.costs.net_benefit_eur"),
        ("ww_naar_bijstand", ww, "ww.costs.net_benefit_eur"),
    ):
        rec = None if res is None else res.estimate(key)
        if rec is not None and rec.get("estimate") is not None:
            parts.append((name, float(rec["estimate"]), float(rec["std_error"])))
    if not parts:
        return
    names = [p[0] for p in parts]
    est = sum(p[1] for p in parts)
    se = float(np.sqrt(sum(p[2] ** 2 for p in parts)))
    both = len(parts) == 2
    add_wald_estimate(
        w,
        "programma.net_benefit_eur",
        est,
        se,
        method="sum of the evaluations' net benefits: " + " + ".join(names),
        method_nl="som van de netto opbrengsten van de evaluaties: " + " + ".join(names),
        scale="euro",
        label_nl="Netto opbrengst van jobcoaching"
        + (" en de aanpak WW naar bijstand" if both else "")
        + " (besparing min kosten)",
        label_en="Net benefit of jobcoaching"
        + (" and the WW approach" if both else "")
        + " (savings minus cost)",
    )
    w.add_value("net_benefit_parts", " + ".join(names), scale="difference", count=False)
    if not both:
        w.add_note(
            "De netto opbrengst is alleen die van " + names[0] + ": de resultaten van de "
            "andere evaluatie ontbreken.",
            "The net benefit is that of " + names[0] + " only: the other evaluation's "
            "results are missing.",
            name="net_benefit_parts",
        )


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
        # ATT × participants and exits ÷ target: each gives a count of its row back
        derived_columns=[
            "extra_exits",
            "extra_lower",
            "extra_upper",
            "share_extra",
            "share_of_target",
        ],
    )
    for year, n in EXITS_TO_WORK_ACHIEVED.items():
        w.add_value(f"exits_work_{year}", n, label_nl=f"gerapporteerde uitstroom naar werk {year}")
    for year, n in EXITS_TO_WORK_TARGET.items():
        w.add_value(f"target_{year}", n, label_nl=f"doelstelling uitstroom naar werk {year}")
    w.add_value("years", f"{YEARS[0]}–{YEARS[1]}", scale="difference", count=False,
                label_nl="jaren van de monitor")  # fmt: skip
    w.add_value("budget_eur", BUDGET_PER_YEAR, scale="euro", count=False,
                label_nl="budget Werk- en ontwikkelprogramma 2022–2025 per jaar")  # fmt: skip
    w.add_value("budget_werkprogramma_eur", BUDGET_WERKPROGRAMMA, scale="euro", count=False,
                label_nl="budget Werkprogramma 2020–2022, drie jaar samen")  # fmt: skip

    extra = float(table["extra_exits"].sum())
    se = float(att["std_error"]) * float(table["participants"].sum())
    add_wald_estimate(
        w,
        "programma.extra_exits_work",
        extra,
        se,
        method="jobcoaching ATT × participants per year",
        method_nl="effect van jobcoaching (ATT) × deelnemers per jaar",
        scale="count",
        label_nl=f"Extra uitstroom naar werk door jobcoaching, {YEARS[0]}–{YEARS[1]}",
        label_en=f"Extra exits to work due to jobcoaching, {YEARS[0]}-{YEARS[1]}",
    )
    # naive: every participant who found work within 12 months counted as a programme result
    gross = participant_exits_to_work(ds, within_months=12)
    gross = gross[gross["year"].between(*YEARS)]
    n_part, n_exit = (
        gross["participants"].to_numpy(float),
        gross["exits_work_within"].to_numpy(float),
    )
    share = np.divide(n_exit, n_part, out=np.zeros_like(n_exit), where=n_part > 0)
    add_wald_estimate(
        w,
        "programma.extra_exits_work",
        float(n_exit.sum()),
        float(np.sqrt(np.sum(n_part * share * (1 - share)))),
        method="naive: every participant's exit to work within 12 months of the start counted "
        "as a result of jobcoaching",
        method_nl="naïef: elke uitstroom naar werk van een deelnemer binnen 12 maanden na de "
        "start telt als resultaat van jobcoaching",
        naive=True,
        scale="count",
        counts_persons=True,
        n_treated=int(n_part.sum()),
        label_nl="Naïeve telling: deelnemers die binnen 12 maanden werk vonden",
        label_en="Naive count: participants who found work within 12 months",
    )
    add_net_benefit(w, jc, _optional_results(Path(ev.args.out) / "ww_naar_bijstand"))
    w.add_assumption(
        "Het effect van jobcoaching op de deelnemers van een jaar is gelijk aan het gemiddelde "
        "effect uit de evaluatie van jobcoaching.",
        "Jobcoaching's effect on a year's participants equals the average effect estimated in "
        "the jobcoaching evaluation.",
        name="constant_effect",
    )
    w.add_assumption(
        "De fouten van de evaluaties van jobcoaching en de aanpak WW naar bijstand zijn "
        "onafhankelijk: ze gaan over verschillende mensen (bijstand en WW).",
        "The errors of the jobcoaching and WW evaluations are independent: they concern "
        "different people (bijstand and WW recipients).",
        name="independent_errors",
    )

    def draw(ax, lang: str) -> None:
        words = {
            "nl": ("uitstroom naar werk", "waarvan extra door jobcoaching", "doelstelling",
                   "gerapporteerd", "personen"),
            "en": ("exits to work", "of which extra due to jobcoaching", "target", "reported",
                   "persons"),
        }[lang]  # fmt: skip
        years = table["year"].astype(int).astype(str)
        ax.bar(years, table["exits_work"], color="#9db7d5", label=words[0])
        ax.bar(years, table["extra_exits"], color="#00468b", label=words[1])
        has_target = table["target"].notna()
        ax.plot(years[has_target], table.loc[has_target, "target"], "D", color="#c0392b",
                label=words[2])  # fmt: skip
        has_rep = table["reported"].notna()
        ax.plot(years[has_rep], table.loc[has_rep, "reported"], "o", color="#333333",
                label=words[3])  # fmt: skip
        ax.set_ylabel(words[4])
        ax.legend(frameon=False, fontsize=8)

    add_drawn_figure(
        w,
        "exits_vs_targets",
        draw,
        caption_nl="Uitstroom naar werk per jaar tegenover de doelstellingen",
        caption_en="Exits to work per year against the targets",
        data=table[["year", "exits_work"]],
        count_columns=["exits_work"],
    )
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
