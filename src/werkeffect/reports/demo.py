"""A synthetic results folder with every name the reports read (for tests and previews).

The numbers are invented (plausible for Groningen, not estimated from anything); they exist so
the reports can be built, tested and looked at before — and independently of — the analyses.
:data:`EXPECTED` lists, per evaluation, the estimands, values, tables and figures the reports
use: it is the contract between ``analyses/`` and ``reports/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.results.files import ResultsWriter

#: what the reports read only when the data allow it (they say so when it is missing)
CONDITIONAL: frozenset[str] = frozenset({"ww.att_job_12m"})

#: what each report reads from ``results/<name>/results.json``
EXPECTED: dict[str, dict[str, list[str]]] = {
    "jobcoaching": {
        "estimates": [
            "jobcoaching.att_exit_work_12m",  # primary (ToE) + naive
            "jobcoaching.hazard_ratio",  # ToE primary; Cox time-varying; dynamic matching
            "jobcoaching.att_u12.u3",
            "jobcoaching.att_u12.u6",
            "jobcoaching.att_u12.u12",
            "jobcoaching.att_u12.u24",
            "jobcoaching.att_durable_12m",
            "nazorg.hazard_ratio_return",
            "jobcoaching.costs.months_avoided_per_participant",
            "jobcoaching.costs.extra_exits_work",
            "jobcoaching.costs.benefit_saved_eur",
            "jobcoaching.costs.programme_cost_eur",
            "jobcoaching.costs.net_benefit_eur",
            "jobcoaching.costs.cost_per_extra_exit_eur",
            "jobcoaching.costs.net_cost_per_extra_exit_eur",
            "jobcoaching.costs.break_even_horizon_months",
        ],
        "values": [
            "persons",
            "spells",
            "participants",
            "evalue",
            "evalue_ci",
            "evalue_cox",
            "evalue_cox_ci",
        ],
        "tables": ["descriptives", "balance", "km_risk", "dynamic_att", "ph_test", "rosenbaum"],
        "figures": [
            "km_exit",
            "cif_exit",
            "love_plot",
            "overlap",
            "dynamic_att",
            "ph_test",
            "break_even",
        ],
    },
    "ww_naar_bijstand": {
        "estimates": [
            "ww.att_inflow_6m",  # primary (DiD, wild cluster bootstrap) + naive
            "ww.att_inflow_3m",
            "ww.att_inflow_12m",
            "ww.att_job_12m",  # only with jobs of all WW recipients (else a note says why)
            "ww.costs.prevented_inflow",
            "ww.costs.benefit_saved_eur",
            "ww.costs.programme_cost_eur",
            "ww.costs.net_benefit_eur",
        ],
        "values": [
            "ww_recipients",
            "ww_endings_groningen",
            "municipalities",
            "pretrend_p_value",
            "start_month",
        ],
        "tables": ["descriptives", "event_study", "att_gt", "honestdid"],
        "figures": ["inflow_trends", "event_study", "honestdid"],
    },
    "statushouders": {
        "estimates": [
            "pilot.att_employed_12m",  # primary (matching + randomisation inference) + naive
            "pilot.att_employed_24m",
            "pilot.att_benefit_exit_12m",  # secondary: off benefit (any exit)
            "pilot.att_benefit_exit_24m",
        ],
        "values": [
            "pilot_size",
            "matched_controls",
            "ri_p_value",
            "mde_12m",
            "power_10pp",
            "rosenbaum_gamma",
        ],
        "tables": ["descriptives", "balance", "rosenbaum", "power"],
        "figures": ["love_plot", "overlap", "ri_distribution", "power_curve"],
    },
    "programma": {
        "estimates": ["programma.extra_exits_work", "programma.net_benefit_eur"],
        "values": [
            "exits_work_2019",
            "exits_work_2020",
            "target_2021",
            "target_2022",
            "budget_eur",
            "budget_werkprogramma_eur",
        ],
        "tables": ["exits_by_year"],
        "figures": ["exits_vs_targets"],
    },
}


def _flow(persons: int) -> DataFlow:
    flow = DataFlow()
    flow.add("extract", "persons", persons + 37, persons + 37, "as delivered", "zoals aangeleverd")
    flow.add(
        "validate",
        "persons",
        persons + 37,
        persons,
        "duplicate or invalid records",
        "dubbele of ongeldige records",
    )
    flow.add(
        "episodes",
        "spells",
        int(persons * 1.4),
        int(persons * 1.25),
        "spells ended before the window",
        "uitkeringsperioden die vóór het venster eindigden",
    )
    flow.add(
        "analysis",
        "spells",
        int(persons * 1.25),
        int(persons * 1.25) - 212,
        "missing covariates",
        "ontbrekende achtergrondkenmerken",
    )
    return flow


def _figure(kind: str, rng: np.random.Generator):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.2, 3.3))
    blue, red = "#00468b", "#c0392b"
    if kind in ("km", "cif"):
        t = np.arange(0, 37)
        for lab, rate, col in (("deelnemers", 0.045, blue), ("niet (nog) deelnemers", 0.03, red)):
            s = np.exp(-rate * t)
            ax.step(t, s if kind == "km" else 1 - s, where="post", color=col, label=lab)
        ax.set_xlabel("maanden sinds start uitkering")
        ax.set_ylabel("nog in bijstand" if kind == "km" else "cumulatieve uitstroom naar werk")
        ax.legend(frameon=False)
    elif kind == "love":
        cov = ["leeftijd", "vrouw", "geen startkwalificatie", "gezondheid", "taal", "schulden"]
        before = rng.uniform(0.05, 0.4, len(cov))
        after = rng.uniform(0.0, 0.08, len(cov))
        y = np.arange(len(cov))
        ax.scatter(before, y, color=red, label="vóór")
        ax.scatter(after, y, color=blue, label="na")
        ax.axvline(0.1, color="grey", ls="--", lw=0.8)
        ax.set_yticks(y, cov)
        ax.set_xlabel("absolute gestandaardiseerde verschil (SMD)")
        ax.legend(frameon=False)
    elif kind == "overlap":
        x = np.linspace(0, 1, 200)
        ax.fill_between(
            x, np.exp(-((x - 0.35) ** 2) / 0.02), alpha=0.4, color=red, label="vergelijking"
        )
        ax.fill_between(
            x, np.exp(-((x - 0.5) ** 2) / 0.02), alpha=0.4, color=blue, label="deelnemers"
        )
        ax.set_xlabel("propensity score")
        ax.legend(frameon=False)
    elif kind == "event":
        e = np.arange(-6, 7)
        est = np.where(e < 0, rng.normal(0, 0.005, len(e)), -0.04 + rng.normal(0, 0.005, len(e)))
        ax.errorbar(e, est, yerr=0.02, fmt="o", color=blue, capsize=3)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
        ax.set_xlabel("maanden t.o.v. start aanpak")
        ax.set_ylabel("effect op instroom")
    elif kind == "bars":
        years = ["2019", "2020", "2021", "2022"]
        ax.bar(years, [861, 937, 1010, 990], color=blue, label="uitstroom naar werk")
        ax.plot(years[2:], [1300, 1000], "D", color=red, label="doelstelling")
        ax.legend(frameon=False)
    else:
        x = np.linspace(0, 1, 50)
        ax.plot(x, 1 - np.exp(-4 * x), color=blue)
        ax.set_xlabel("x")
    fig.tight_layout()
    return fig


def write_demo_results(out_dir: str | Path, seed: int = 0, small_cells: bool = True) -> Path:
    """Write synthetic ``results/<name>/`` folders for the four evaluations; returns out_dir.

    With ``small_cells`` a few counts under the threshold are included on purpose, so the
    reports show suppressed cells and the output-check log.
    """
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    fp = "0" * 48 + "5eed" + "0" * 12
    common = {"seed": 2026, "fingerprint": fp, "extract_date": "2024-12-31"}

    # -- jobcoaching ----------------------------------------------------------------------
    w = ResultsWriter(
        "jobcoaching",
        out,
        title="Effect van jobcoaching op uitstroom naar werk",
        title_en="Effect of jobcoaching on exits to work",
        command="werkeffect run jobcoaching --data data/groningen --out results",
        flow=_flow(10356),
        n_persons=10356,
        **common,
    )
    w.add_estimate(
        "jobcoaching.att_exit_work_12m",
        estimate=0.061,
        std_error=0.018,
        lower=0.026,
        upper=0.096,
        method="Timing-of-events",
        primary=True,
        n_treated=1480,
        n_control=8876,
        scale="probability",
        label_nl="Extra uitstroom naar werk binnen 12 maanden",
        label_en="Extra exits to work within 12 months",
    )
    w.add_estimate(
        "jobcoaching.att_exit_work_12m",
        estimate=0.142,
        std_error=0.012,
        lower=0.118,
        upper=0.166,
        method="Naïeve vergelijking",
        naive=True,
        n_treated=1480,
        n_control=8876,
        scale="probability",
        label_nl="Extra uitstroom naar werk binnen 12 maanden",
        label_en="Extra exits to work within 12 months",
    )
    w.add_estimate(  # the dynamic-matching estimate beside the primary one, as the analysis
        "jobcoaching.att_exit_work_12m",
        estimate=0.072,
        std_error=0.017,
        lower=0.040,
        upper=0.105,
        method="dynamic matching (Sianesi)",
        method_nl="dynamische matching (Sianesi)",
        n_treated=755,
        n_control=3774,
        scale="probability",
        label_nl="Extra kans op werk binnen 12 maanden (dynamische evaluatie)",
        label_en="Extra probability of work within 12 months (dynamic evaluation)",
    )
    for method, hr, lo, hi, prim in (
        ("Timing-of-events", 1.42, 1.15, 1.75, True),
        ("Cox PH, tijdsafhankelijke behandeling", 1.61, 1.44, 1.80, False),
        ("Dynamische matching (Sianesi)", 1.38, 1.10, 1.73, False),
    ):
        w.add_estimate(
            "jobcoaching.hazard_ratio",
            estimate=hr,
            std_error=0.1,
            lower=lo,
            upper=hi,
            method=method,
            primary=prim,
            n_treated=1480,
            n_control=8876,
            scale="hazard_ratio",
            label_nl="Hazard ratio uitstroom naar werk",
            label_en="Hazard ratio of exit to work",
        )
    for u, est in ((3, 0.072), (6, 0.065), (12, 0.052), (24, 0.031)):
        w.add_estimate(
            f"jobcoaching.att_u12.u{u}",
            estimate=est,
            std_error=0.02,
            lower=est - 0.039,
            upper=est + 0.039,
            method="Dynamische matching",
            n_treated=400 - 10 * u,
            n_control=3000,
            scale="probability",
            label_nl=f"Effect bij start na {u} maanden uitkering",
            label_en=f"Effect when starting after {u} months",
        )
    w.add_estimate(
        "jobcoaching.att_durable_12m",
        estimate=0.038,
        std_error=0.015,
        lower=0.009,
        upper=0.067,
        method="dynamic matching (Sianesi)",  # as analyses/jobcoaching.py
        method_nl="dynamische matching (Sianesi)",
        scale="probability",
        n_treated=1480,
        n_control=8876,
        label_nl="Extra duurzame uitstroom (geen terugkeer binnen 12 maanden)",
        label_en="Extra durable exits (no return within 12 months)",
    )
    w.add_estimate(
        "nazorg.hazard_ratio_return",
        estimate=0.81,
        std_error=0.08,
        lower=0.66,
        upper=0.99,
        method="Cox PH",
        scale="hazard_ratio",
        n_treated=420,
        n_control=910,
        label_nl="Hazard ratio terugkeer in bijstand met nazorg",
        label_en="Hazard ratio of return with aftercare",
    )
    costs = {
        "months_avoided_per_participant": (1.9, 0.6, 0.7, 3.1, "months"),
        "extra_exits_work": (90.3, 26.6, 38.5, 142.1, "count"),
        "benefit_saved_eur": (4_218_000, 1_332_000, 1_607_000, 6_829_000, "euro"),
        "programme_cost_eur": (3_552_000, 0, 3_552_000, 3_552_000, "euro"),
        "net_benefit_eur": (666_000, 1_332_000, -1_945_000, 3_277_000, "euro"),
        "cost_per_extra_exit_eur": (39_336, np.nan, 24_996, 92_260, "euro"),
        "net_cost_per_extra_exit_eur": (-7_375, np.nan, -23_005, 50_954, "euro"),
        "break_even_horizon_months": (22.0, np.nan, 14.0, np.inf, "months"),
    }
    labels = {
        "months_avoided_per_participant": "Maanden minder bijstand per deelnemer",
        "extra_exits_work": "Extra uitstroom naar werk (personen)",
        "benefit_saved_eur": "Bespaarde uitkeringen",
        "programme_cost_eur": "Kosten van het programma",
        "net_benefit_eur": "Netto opbrengst",
        "cost_per_extra_exit_eur": "Programmakosten per extra uitstromer (bruto)",
        "net_cost_per_extra_exit_eur": "Nettokosten per extra uitstromer",
        "break_even_horizon_months": "Terugverdientijd",
    }
    for key, (est, se, lo, hi, scale) in costs.items():
        w.add_estimate(
            f"jobcoaching.costs.{key}",
            estimate=est,
            std_error=se,
            lower=lo,
            upper=hi,
            method="Kosten en baten",
            scale=scale,
            n_treated=1480,
            label_nl=labels[key],
            label_en=key.replace("_", " "),
        )
    w.add_value("persons", 10356, label_nl="Personen in de analyse")
    w.add_value("spells", 12945, label_nl="Uitkeringsperioden")
    w.add_value("participants", 1480, label_nl="Deelnemers jobcoaching")
    w.add_value("evalue", 1.9, scale="ratio", label_nl="E-waarde (schatting)")
    w.add_value("evalue_ci", 1.3, scale="ratio", label_nl="E-waarde (intervalgrens)")
    w.add_value("evalue_cox", 2.3, scale="ratio", label_nl="E-waarde Cox (schatting)")
    w.add_value("evalue_cox_ci", 2.2, scale="ratio", label_nl="E-waarde Cox (intervalgrens)")
    desc = pd.DataFrame(
        {
            "kenmerk": [
                "Leeftijd (gemiddeld)",
                "Vrouw (%)",
                "Geen startkwalificatie (%)",
                "Gezondheidsbeperking (%)",
                "Statushouder (%)",
                "Wijk Beijum",
            ],
            "deelnemers": [38.2, 51.0, 48.3, 22.1, 9.8, 3.0 if small_cells else 31.0],
            "niet_deelnemers": [44.9, 53.2, 57.9, 34.6, 8.1, 12.0],
            "n": [1480, 1480, 1480, 1480, 1480, 4 if small_cells else 40],
        }
    )
    w.add_table(
        "descriptives",
        desc,
        caption_nl="Kenmerken van deelnemers en niet-deelnemers",
        caption_en="Characteristics of participants and non-participants",
        count_columns=["n"],
    )
    bal = pd.DataFrame(
        {
            "covariate": [
                "leeftijd",
                "vrouw",
                "geen startkwalificatie",
                "gezondheid",
                "taal",
                "schulden",
            ],
            "smd_before": [-0.41, -0.04, -0.19, -0.27, 0.05, -0.12],
            "smd_after": [-0.03, 0.01, -0.02, -0.04, 0.02, -0.01],
        }
    )
    w.add_table(
        "balance",
        bal,
        caption_nl="Balans vóór en na matching (SMD)",
        caption_en="Balance before and after matching (SMD)",
    )
    t = np.arange(0, 37, 3)
    at_risk_t = np.round(1480 * np.exp(-0.07 * t)).astype(int)
    at_risk_c = np.round(8876 * np.exp(-0.05 * t)).astype(int)
    if small_cells:
        at_risk_t[-2:] = [9, 4]
    km = pd.DataFrame(
        {
            "group": ["deelnemers"] * len(t) + ["niet-deelnemers"] * len(t),
            "time": np.r_[t, t],
            "at_risk": np.r_[at_risk_t, at_risk_c],
            "survival": np.r_[np.exp(-0.045 * t), np.exp(-0.03 * t)],
        }
    )
    w.add_table(
        "km_risk",
        km,
        caption_nl="Aantal nog in bijstand (risicotabel)",
        caption_en="Number at risk",
        risk_set_columns=["at_risk"],
    )
    dyn = pd.DataFrame(
        {
            "u": [3, 6, 12, 24],
            "horizon": [12, 12, 12, 12],
            "estimate": [0.072, 0.065, 0.052, 0.031],
            "lower": [0.033, 0.026, 0.013, -0.008],
            "upper": [0.111, 0.104, 0.091, 0.070],
            "n_treated": [370, 340, 280, 160],
        }
    )
    w.add_table(
        "dynamic_att",
        dyn,
        caption_nl="Effect naar uitkeringsduur bij start",
        caption_en="Effect by elapsed duration at start",
        count_columns=["n_treated"],
    )
    ph = pd.DataFrame(  # the columns of analyses/jobcoaching.py's cox.zph table
        {
            "covariate": ["treated", "age_lt27", "x_barrier_health", "GLOBAL"],
            "chisq": [1.8, 0.6, 5.2, 7.6],
            "df": [1, 1, 1, 3],
            "p": [0.18, 0.44, 0.023, 0.055],
        }
    )
    w.add_table(
        "ph_test",
        ph,
        caption_nl="Toets op proportionele hazards (Schoenfeld)",
        caption_en="Proportional-hazards test (Schoenfeld)",
    )
    ros = pd.DataFrame(
        {"gamma": [1.0, 1.2, 1.4, 1.6, 1.8], "p_upper": [0.001, 0.008, 0.031, 0.082, 0.160]}
    )
    w.add_table("rosenbaum", ros, caption_nl="Rosenbaum-grenzen", caption_en="Rosenbaum bounds")
    for name, kind, cap in (
        ("km_exit", "km", "Aandeel nog in bijstand (Kaplan-Meier)"),
        ("cif_exit", "cif", "Cumulatieve incidentie van uitstroom naar werk"),
        ("love_plot", "love", "Balans van kenmerken vóór en na matching"),
        ("overlap", "overlap", "Overlap van propensity scores"),
        ("dynamic_att", "event", "Effect naar uitkeringsduur bij start"),
        ("ph_test", "line", "Geschaalde Schoenfeld-residuen"),
        ("break_even", "line", "Besparing per deelnemer tegen de kosten"),
    ):
        fig = _figure(kind, rng)
        w.add_figure(name, fig, caption_nl=cap, caption_en=cap)
        plt.close(fig)
    w.add_assumption(
        "Zonder jobcoaching zou de kans op uitstroom van deelnemers en niet-deelnemers, "
        "rekening houdend met hun kenmerken en een onbekende motivatie, hetzelfde verlopen "
        "(timing-of-events: geen anticipatie op de start).",
        "Without jobcoaching, exit chances would follow the same path given characteristics "
        "and an unobserved motivation (timing of events: no anticipation).",
    )
    w.add_assumption(
        "Wie op een bepaalde uitkeringsduur start, wordt vergeleken met wie op die duur nog "
        "niet gestart is (geen 'onsterfelijke tijd').",
        "Starters at a duration are compared with those not yet started at that duration.",
    )
    w.add_note(
        "Fictieve resultaten voor de opmaak van het rapport.",
        "Synthetic results for the report layout.",
    )
    w.write()

    # -- WW naar bijstand -------------------------------------------------------------------
    w = ResultsWriter(
        "ww_naar_bijstand",
        out,
        title="Aanpak WW naar bijstand: minder instroom?",
        title_en="WW-to-bijstand approach: less inflow?",
        command="werkeffect run ww_naar_bijstand --data data/groningen --out results",
        flow=_flow(6120),
        **common,
    )
    for key, est, lo, hi, prim in (
        ("ww.att_inflow_6m", -0.041, -0.072, -0.012, True),
        ("ww.att_inflow_3m", -0.028, -0.055, -0.002, False),
        ("ww.att_inflow_12m", -0.046, -0.083, -0.010, False),
    ):
        w.add_estimate(
            key,
            estimate=est,
            std_error=0.015,
            lower=lo,
            upper=hi,
            method="Verschil-in-verschillen, wild cluster bootstrap",
            primary=prim,
            n_treated=2140,
            n_control=3980,
            scale="probability",
            label_nl=f"Effect op instroom in bijstand binnen {key[-2:-1]} maanden"
            if key[-3] == "_"
            else "Effect op instroom binnen 12 maanden",
            label_en="Effect on inflow into bijstand",
        )
    w.add_estimate(
        "ww.att_inflow_6m",
        estimate=-0.085,
        std_error=0.01,
        lower=-0.105,
        upper=-0.065,
        method="Voor-na vergelijking Groningen",
        naive=True,
        n_treated=2140,
        n_control=1900,
        scale="probability",
        label_nl="Effect op instroom in bijstand binnen 6 maanden",
        label_en="Effect on inflow within 6 months",
    )
    w.add_estimate(
        "ww.att_job_12m",
        estimate=0.021,
        std_error=0.012,
        lower=-0.003,
        upper=0.045,
        method="Verschil-in-verschillen, wild cluster bootstrap",
        n_treated=2140,
        n_control=3980,
        scale="probability",
        label_nl="Effect op werk binnen 12 maanden na einde WW",
        label_en="Effect on a job within 12 months after WW ends",
    )
    for key, est, lo, hi, scale in (
        ("prevented_inflow", 88, 26, 154, "count"),
        ("benefit_saved_eur", 1_040_000, 307_000, 1_820_000, "euro"),
        ("programme_cost_eur", 420_000, 420_000, 420_000, "euro"),
        ("net_benefit_eur", 620_000, -113_000, 1_400_000, "euro"),
    ):
        w.add_estimate(
            f"ww.costs.{key}",
            estimate=est,
            std_error=None,
            lower=lo,
            upper=hi,
            method="Kosten en baten",
            scale=scale,
            n_treated=2140,
            label_nl=key.replace("_", " "),
            label_en=key.replace("_", " "),
        )
    w.add_value("ww_recipients", 6120, label_nl="WW-beëindigingen in de analyse")
    w.add_value("ww_endings_groningen", 4040, label_nl="WW-beëindigingen in Groningen")
    w.add_value("municipalities", 7, count=False, label_nl="Gemeenten (clusters)")
    w.add_value("pretrend_p_value", 0.43, scale="probability", label_nl="p-waarde pre-trends")
    w.add_value("start_month", "2021-01", scale="difference", label_nl="Start van de aanpak")
    w.add_table(
        "descriptives",
        pd.DataFrame(
            {
                "gemeente": ["Groningen", "vergelijkingsgemeenten"],
                "n": [2140, 3980],
                "instroom_6m_voor": [0.212, 0.205],
                "instroom_6m_na": [0.168, 0.201],
            }
        ),
        caption_nl="Instroom binnen 6 maanden na einde WW",
        caption_en="Inflow within 6 months",
        count_columns=["n"],
    )
    e = np.arange(-6, 7)
    w.add_table(
        "event_study",
        pd.DataFrame(
            {
                "event_time": e,
                "estimate": np.where(e < 0, 0.002, -0.04),
                "lower": np.where(e < 0, -0.02, -0.07),
                "upper": np.where(e < 0, 0.02, -0.01),
            }
        ),
        caption_nl="Event study",
        caption_en="Event study",
    )
    w.add_table(
        "att_gt",
        pd.DataFrame(
            {
                "group": [2021] * 4,
                "time": [2019, 2020, 2021, 2022],
                "att": [0.003, -0.002, -0.039, -0.044],
                "std_error": [0.01] * 4,
            }
        ),
        caption_nl="ATT(g,t)",
        caption_en="ATT(g,t)",
    )
    w.add_table(
        "honestdid",
        pd.DataFrame(
            {
                "M": [0.0, 0.5, 1.0, 1.5],
                "lower": [-0.072, -0.080, -0.091, -0.104],
                "upper": [-0.012, -0.004, 0.006, 0.018],
            }
        ),
        caption_nl="Gevoeligheid voor afwijkende trends (HonestDiD)",
        caption_en="Sensitivity to trend violations (HonestDiD)",
    )
    for name, kind, cap in (
        ("inflow_trends", "line", "Instroom in Groningen en vergelijkingsgemeenten"),
        ("event_study", "event", "Event study: effect per maand t.o.v. de start"),
        ("honestdid", "line", "Gevoeligheidsgrenzen (HonestDiD)"),
    ):
        fig = _figure(kind, rng)
        w.add_figure(name, fig, caption_nl=cap, caption_en=cap)
        plt.close(fig)
    w.add_assumption(
        "Zonder de aanpak was de instroom in Groningen net zo veranderd als in de "
        "vergelijkingsgemeenten (parallelle trends).",
        "Without the approach, inflow in Groningen would have changed as in the comparison "
        "municipalities (parallel trends).",
    )
    w.write()

    # -- statushouders ------------------------------------------------------------------------
    w = ResultsWriter(
        "statushouders",
        out,
        title="Pilot statushouders bij stadsbeheer",
        title_en="Pilot refugees at municipal maintenance",
        command="werkeffect run statushouders --data data/groningen --out results",
        flow=_flow(1210),
        n_persons=1210,
        **common,
    )
    w.add_estimate(
        "pilot.att_employed_12m",
        estimate=0.12,
        std_error=0.09,
        lower=-0.06,
        upper=0.30,
        method="Matching met randomisatie-inferentie",
        primary=True,
        n_treated=34,
        n_control=136,
        scale="probability",
        label_nl="Effect op werk na 12 maanden",
        label_en="Effect on work at 12 months",
    )
    w.add_estimate(
        "pilot.att_employed_12m",
        estimate=0.29,
        std_error=0.08,
        lower=0.13,
        upper=0.45,
        method="Naïeve vergelijking",
        naive=True,
        n_treated=34,
        n_control=1176,
        scale="probability",
        label_nl="Effect op werk na 12 maanden",
        label_en="Effect on work at 12 months",
    )
    w.add_estimate(
        "pilot.att_employed_24m",
        estimate=0.09,
        std_error=0.1,
        lower=-0.11,
        upper=0.29,
        method="Matching met randomisatie-inferentie",
        n_treated=34,
        n_control=136,
        scale="probability",
        label_nl="Effect op werk na 24 maanden",
        label_en="Effect on work at 24 months",
    )
    w.add_estimate(
        "pilot.att_benefit_exit_12m",
        estimate=0.08,
        std_error=0.08,
        lower=-0.08,
        upper=0.24,
        method="Matching met randomisatie-inferentie",
        n_treated=34,
        n_control=136,
        scale="probability",
        label_nl="Effect op uitstroom uit bijstand na 12 maanden",
        label_en="Effect on benefit exit at 12 months",
    )
    w.add_estimate(
        "pilot.att_benefit_exit_24m",
        estimate=0.06,
        std_error=0.09,
        lower=-0.12,
        upper=0.24,
        method="Matching met randomisatie-inferentie",
        n_treated=34,
        n_control=136,
        scale="probability",
        label_nl="Effect op uitstroom uit bijstand na 24 maanden",
        label_en="Effect on benefit exit at 24 months",
    )
    # a subgroup that is too small: suppressed by the disclosure rules
    w.add_estimate(
        "pilot.att_ladder_step_12m",
        estimate=0.4,
        std_error=0.3,
        lower=-0.2,
        upper=1.0,
        method="Matching",
        n_treated=6 if small_cells else 34,
        n_control=24,
        scale="difference",
        label_nl="Verschil in trede participatieladder (vrouwen)",
        label_en="Difference in ladder step (women)",
    )
    w.add_value("pilot_size", 34, label_nl="Deelnemers pilot")
    w.add_value("matched_controls", 136, label_nl="Gematchte vergelijkingspersonen")
    w.add_value(
        "ri_p_value", 0.19, scale="probability", label_nl="p-waarde randomisatie-inferentie"
    )
    w.add_value("mde_12m", 0.25, scale="probability", label_nl="Minimaal aantoonbaar effect")
    w.add_value(
        "power_10pp", 0.23, scale="probability", label_nl="Onderscheidend vermogen bij 10 pp"
    )
    w.add_value("rosenbaum_gamma", 1.3, scale="ratio", label_nl="Kritieke Γ")
    w.add_table(
        "descriptives",
        pd.DataFrame(
            {
                "kenmerk": ["Leeftijd (gemiddeld)", "Vrouw (%)", "Jaren in Nederland"],
                "pilot": [31.4, 12.0, 3.1],
                "vergelijking": [32.0, 14.5, 3.0],
                "n": [34, 34, 34],
            }
        ),
        caption_nl="Kenmerken pilotdeelnemers en vergelijkingsgroep",
        caption_en="Characteristics",
        count_columns=["n"],
    )
    w.add_table(
        "balance",
        pd.DataFrame(
            {
                "covariate": ["leeftijd", "vrouw", "cohort", "taalniveau"],
                "smd_before": [-0.21, -0.3, 0.0, 0.45],
                "smd_after": [-0.04, -0.06, 0.0, 0.08],
            }
        ),
        caption_nl="Balans vóór en na matching",
        caption_en="Balance",
    )
    w.add_table(
        "rosenbaum",
        pd.DataFrame(
            {"gamma": [1.0, 1.1, 1.2, 1.3, 1.5], "p_upper": [0.19, 0.26, 0.33, 0.40, 0.52]}
        ),
        caption_nl="Rosenbaum-grenzen",
        caption_en="Rosenbaum bounds",
    )
    w.add_table(
        "power",
        pd.DataFrame(
            {
                "effect": [0.05, 0.10, 0.15, 0.20, 0.25, 0.30],
                "power": [0.09, 0.23, 0.43, 0.64, 0.80, 0.91],
            }
        ),
        caption_nl="Onderscheidend vermogen bij 34 deelnemers",
        caption_en="Power",
    )
    for name, kind, cap in (
        ("love_plot", "love", "Balans vóór en na matching"),
        ("overlap", "overlap", "Overlap van propensity scores"),
        ("ri_distribution", "overlap", "Verdeling onder de nulhypothese (randomisatie-inferentie)"),
        ("power_curve", "line", "Onderscheidend vermogen naar werkelijk effect"),
    ):
        fig = _figure(kind, rng)
        w.add_figure(name, fig, caption_nl=cap, caption_en=cap)
        plt.close(fig)
    w.add_assumption(
        "Deelnemers en gematchte niet-deelnemers uit hetzelfde vergunningscohort verschillen "
        "alleen in gemeten kenmerken.",
        "Participants and matched non-participants of the same permit cohort differ only in "
        "measured characteristics.",
    )
    w.write()

    # -- programma ---------------------------------------------------------------------------
    w = ResultsWriter(
        "programma",
        out,
        title="Werkprogramma: uitstroom en doelstellingen",
        title_en="Work programme: exits and targets",
        command="werkeffect run programma --data data/groningen --out results",
        flow=_flow(10356),
        **common,
    )
    w.add_estimate(
        "programma.extra_exits_work",
        estimate=178,
        std_error=45,
        lower=90,
        upper=266,
        method="Som van de evaluaties",
        primary=True,
        scale="count",
        label_nl="Extra uitstroom naar werk door het programma",
        label_en="Extra exits to work due to the programme",
    )
    w.add_estimate(
        "programma.extra_exits_work",
        estimate=910,
        std_error=28,
        lower=855,
        upper=965,
        method="naive: every participant's exit to work within 12 months",
        naive=True,
        scale="count",
        label_nl="Naïeve telling: deelnemers die binnen 12 maanden werk vonden",
        label_en="Naive count: participants who found work within 12 months",
    )
    w.add_estimate(
        "programma.net_benefit_eur",
        estimate=1_286_000,
        std_error=900_000,
        lower=-478_000,
        upper=3_050_000,
        method="Som van de evaluaties",
        scale="euro",
        label_nl="Netto opbrengst",
        label_en="Net benefit",
    )
    for key, v in (
        ("exits_work_2019", 861),
        ("exits_work_2020", 937),
        ("target_2021", 1300),
        ("target_2022", 1000),
    ):
        w.add_value(key, v, label_nl=key)
    w.add_value("budget_eur", 2_500_000, scale="euro", label_nl="Budget W&O per jaar")
    w.add_value("budget_werkprogramma_eur", 4_500_000, scale="euro",
                label_nl="Budget Werkprogramma 2020-2022")  # fmt: skip
    w.add_table(
        "exits_by_year",
        pd.DataFrame(
            {
                "jaar": [2019, 2020, 2021, 2022],
                "uitstroom_werk": [861, 937, 1010, 990],
                "doelstelling": [np.nan, np.nan, 1300, 1000],
                "extra_door_programma": [np.nan, np.nan, 92.0, 86.0],
            }
        ),
        caption_nl="Uitstroom naar werk per jaar tegen de doelstelling",
        caption_en="Exits to work per year against the target",
        count_columns=["uitstroom_werk"],
    )
    w.add_assumption(
        "De effecten uit de evaluaties gelden ook voor de deelnemers die het programma in "
        "andere jaren bereikte.",
        "The evaluations' effects hold for the participants of other years too.",
    )
    fig = _figure("bars", rng)
    w.add_figure(
        "exits_vs_targets",
        fig,
        caption_nl="Uitstroom naar werk en doelstellingen",
        caption_en="Exits to work and targets",
    )
    plt.close(fig)
    w.write()
    return out


if __name__ == "__main__":  # python -m werkeffect.reports.demo results-demo
    import sys

    target = write_demo_results(sys.argv[1] if len(sys.argv) > 1 else "results-demo")
    print(f"synthetic results written to {target}")
