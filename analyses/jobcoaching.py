"""Evaluation: does jobcoaching get people on bijstand into work sooner?

Pre-specified analysis (run ``python analyses/jobcoaching.py --data DIR --out results``):

- population: Groningen bijstand spells running on or after the observation window
  (1 January 2015); spells that started earlier enter at their elapsed duration (left
  truncation);
- primary: the timing-of-events model (caseworkers select "de mensen die willen" on motivation
  that the data do not record) on all spells in the window, with the return to bijstand after
  a job as a further hazard sharing the unobserved factors, reported as the hazard ratio of
  exit to work and as the ATT on exit to work within 12 months of the start of jobcoaching;
- robustness: dynamic evaluation by elapsed duration (Sianesi matching; Van den Berg–Vikström
  weighting), Cox with time-varying treatment, competing exits;
- durable exit (no return within 12 months; dynamic matching only, which assumes selection
  on recorded characteristics: a supplementary estimate, not a main one) and the effect of
  nazorg on returns;
- the naive comparison (ever versus never a participant), labelled as such;
- costs and benefits of the participants' months off benefit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

import werkeffect
from werkeffect.analysis import (
    Evaluation,
    add_drawn_figure,
    add_ratio_estimate,
    dummies,
    open_evaluation,
    run_main,
)
from werkeffect.costs import TERM_LABELS, CostAssumptions, cost_benefit
from werkeffect.data.populations import jobcoaching_spells
from werkeffect.dynamic import (
    DynamicIPW,
    DynamicMatch,
    spells_from_dataset,
    static_comparison,
)
from werkeffect.matching import balance, evalue, love_plot
from werkeffect.reports.labels import covariate_label
from werkeffect.survival import AalenJohansen, CoxPH, KaplanMeier, TimingOfEvents

WINDOW_START = "2015-01-01"
PLOT_MONTHS = 120
RISK_TABLE_MONTHS = (1, 24, 48, 72, 96, 120)  # the risk table under the curves (month 1:
# at month 0 nobody is at risk yet, everyone enters at the start of the month)
#: the curves' words (the exit causes are those of data.frames.CAUSES)
CURVE_WORDS = {
    "nl": {"xlabel": "maanden sinds start uitkering", "title": "",
           "risk_title": "aantal nog in de bijstand", "lang": "nl"},
    "en": {"xlabel": "months since the benefit started", "title": "",
           "risk_title": "number still on benefit", "lang": "en"},
}  # fmt: skip
CAUSE_NAMES = {"nl": {1: "werk", 2: "scholing", 3: "overig"},
               "en": {1: "work", 2: "education", 3: "other"}}  # fmt: skip
STILL_ON_BENEFIT = {"nl": "nog in de bijstand", "en": "still on benefit"}
CUMULATIVE_EXIT = {"nl": "cumulatieve uitstroom", "en": "cumulative exit"}
MUNICIPALITY = "Groningen"
#: the timing-of-events model may use up to this many mass points; the AIC chooses (the
#: specification of the Monte Carlo in tests/test_toe_montecarlo.py)
TOE_MAX_MASS_POINTS = 6
#: baseline intervals of the exit and programme hazards (months of elapsed duration)
TOE_BASELINE_CUTS = (0, 3, 6, 12, 24, 36, 60, 120)
HORIZONS = (6, 12, 24)
#: months after programme start at which the timing-of-events ATT is computed (the curve)
ATT_CURVE_MONTHS = tuple(range(1, 25))
U_VALUES = (3, 6, 12, 24)
COVARIATE_COLUMNS = ("sex", "education", "household")
BINARY_COLUMNS = ("statushouder", "barrier_health", "barrier_language", "barrier_debts")
#: covariates of the return to bijstand after a job (timing-of-events model)
RETURN_COVARIATES = ("nazorg", "age_lt27", "age_55p", "x_barrier_health", "x_barrier_debts")


def smallest_risk_set(curve, upto: float) -> int:
    """The smallest number at risk on the part of a curve that a figure shows (an empty
    risk set, as at month 0 before anyone enters, is no group; 1 to 9 persons is)."""
    at_risk = np.asarray(curve.risk_table(np.arange(0.0, upto + 1.0)), dtype=float)
    shown = at_risk[at_risk > 0]
    return int(shown.min()) if len(shown) else 0


def plot_horizon(curve, upto: int, threshold: int) -> int:
    """The last whole month up to ``upto`` before the curve's risk set first falls under the
    disclosure threshold: a figure shows the curve that far (as the risk table is cut)."""
    at_risk = np.asarray(curve.risk_table(np.arange(1.0, upto + 1.0)), dtype=float)
    at_risk = at_risk.reshape(len(at_risk), -1).min(axis=1)
    small = np.flatnonzero(at_risk < threshold)
    return int(small[0]) if len(small) else int(upto)


def covariate_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Numeric covariates recorded at spell start: age bands, dummies, barriers, history."""
    age = frame["age"].to_numpy(float)
    cov = pd.DataFrame(
        {
            "age_lt27": (age < 27).astype(float),
            "age_45_54": ((age >= 45) & (age < 55)).astype(float),
            "age_55p": (age >= 55).astype(float),
            "previous_spells_capped": np.minimum(frame["previous_spells"].to_numpy(float), 3),
        },
        index=frame.index,
    )
    for c in BINARY_COLUMNS:
        cov[f"x_{c}"] = frame[c].astype(float)
    cov = pd.concat([cov, dummies(frame, COVARIATE_COLUMNS)], axis=1)
    cov = cov.loc[:, cov.std() > 0]
    cov.columns = [str(c) for c in cov.columns]
    return cov, list(cov.columns)


def calendar_cuts(ds: werkeffect.Dataset) -> list[str]:
    """1 January of every year after the window's first, up to the extract date."""
    first = pd.Timestamp(WINDOW_START).year + 1
    last = pd.Timestamp(ds.extract_date).year
    return [f"{year}-01-01" for year in range(first, last + 1)]


def groningen_episodes(ev: Evaluation) -> pd.DataFrame:
    """Spells at risk of jobcoaching (:func:`werkeffect.data.populations.jobcoaching_spells`:
    Groningen residents of bijstand age, pilot participants out, exits at the AOW age
    censored), the population of the Monte Carlo in tests/test_toe_montecarlo.py."""
    ep = jobcoaching_spells(ev.dataset, window_start=WINDOW_START, municipality=MUNICIPALITY)
    ep["exit_work"] = (ep["cause"] == 1).astype(int)
    return ep


def spell_level(ep: pd.DataFrame) -> pd.DataFrame:
    """One row per spell: entry, duration, cause, programme start, covariates."""
    first = ep.groupby("spell_id", sort=False).head(1).set_index("spell_id")
    last = ep.groupby("spell_id", sort=False).tail(1).set_index("spell_id")
    spells = first.drop(columns=["stop", "event", "cause"]).rename(columns={"start": "entry"})
    spells["duration"] = last["stop"]
    spells["cause"] = last["cause"]
    return spells.reset_index()


def hazard_ratio_evalue(record: dict | None) -> tuple[float, float] | None:
    """E-values (VanderWeele & Ding 2017) of a stored hazard-ratio estimate (its record in
    the results file) and of its interval bound nearest 1: how strongly an unrecorded factor
    would have to drive both participation and exit (risk-ratio scale) to explain the effect
    away. Exit to work is common (far more than 15% by the end of follow-up), so the hazard
    ratio goes to the risk-ratio scale with the common-outcome conversion (``rare=False``;
    VanderWeele 2020). ``None`` when the record is missing or suppressed.

    For the timing-of-events model the factor is one *beyond* what it allows for (a fixed
    personal factor acting proportionally on both hazards): e.g. motivation that changes
    during the spell and times the start."""
    if record is None or record.get("estimate") is None:
        return None
    ev = evalue(
        record["estimate"], lower=record["lower"], upper=record["upper"], scale="HR", rare=False
    )
    return float(ev["point"]), float(ev["ci"])


#: the descriptives' shares of a yes/no characteristic (their group size: ``aantal``)
DESCRIPTIVE_SHARES = (
    "zonder startkwalificatie",
    "gezondheidsproblemen",
    "taalbarrière",
    "schulden",
    "statushouder",
)


def descriptives(spells: pd.DataFrame) -> pd.DataFrame:
    """Characteristics at spell start, participants versus others (counts and shares)."""
    part = spells["programme_start"].notna()
    rows = []
    for label, mask in (("deelnemers jobcoaching", part), ("overige uitkeringen", ~part)):
        s = spells.loc[mask]
        rows.append(
            {
                "groep": label,
                "aantal": int(len(s)),
                "leeftijd (gemiddeld)": float(s["age"].mean()),
                "zonder startkwalificatie": float(1 - s["startkwalificatie"].astype(float).mean()),
                "gezondheidsproblemen": float(s["barrier_health"].astype(float).mean()),
                "taalbarrière": float(s["barrier_language"].astype(float).mean()),
                "schulden": float(s["barrier_debts"].astype(float).mean()),
                "statushouder": float(s["statushouder"].astype(float).mean()),
            }
        )
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> None:
    ev = open_evaluation(
        "jobcoaching",
        title="Effect van jobcoaching op uitstroom uit de bijstand naar werk",
        title_en="Effect of jobcoaching on exits from bijstand to work",
        argv=argv,
    )
    w = ev.writer
    ep = groningen_episodes(ev)
    spells = spell_level(ep)
    cov_spells, covs = covariate_frame(spells)
    spells = pd.concat([spells, cov_spells], axis=1)
    ep = ep.merge(spells[["spell_id", *covs]], on="spell_id", how="left")
    n_part = int(spells["programme_start"].notna().sum())
    n_other = int(len(spells) - n_part)
    w.add_value("persons", int(spells["person_id"].nunique()), label_nl="personen")
    w.add_value("spells", int(len(spells)), label_nl="uitkeringsperioden")
    w.add_value("participants", n_part, label_nl="deelnemers jobcoaching")
    w.add_table(
        "descriptives",
        descriptives(spells),
        caption_nl="Kenmerken bij de start van de uitkering: deelnemers en overige uitkeringen",
        caption_en="Characteristics at benefit start: participants and other spells",
        count_columns=["aantal"],
        share_columns=dict.fromkeys(DESCRIPTIVE_SHARES, "aantal"),
    )

    # -- primary: timing-of-events on all spells, the return to bijstand modelled ---------
    # a person's later spell exists only after a return from a job, and returning depends on
    # the same unobserved factors (motivation, being hard to place): the job spell until the
    # return is a further hazard sharing them, so later spells add information, not selection
    jobs = werkeffect.job_spells(ev.dataset, spells, covariates=covs)
    ev.dataset.flow.add(
        "timing-of-events job spells",
        "exits to work",
        int((spells["cause"] == 1).sum()),
        len(jobs),
        "exits to work followed from the day after the exit until the next bijstand spell "
        "(return) or the extract date; job spells of zero length are left out",
        "uitstroom naar werk gevolgd vanaf de dag na de uitstroom tot de volgende "
        "bijstandsuitkering (terugkeer) of de peildatum; werkperioden van nul dagen weggelaten",
    )
    # the count of earlier spells follows from past returns, which the model now describes
    toe_covs = [c for c in covs if c != "previous_spells_capped"]
    return_covs = [c for c in RETURN_COVARIATES if c in jobs.columns and jobs[c].nunique() > 1]
    with ev.step("timing-of-events", warnings_note="timing-of-events"):
        toe = TimingOfEvents(
            spells,
            duration="duration",
            programme_start="programme_start",
            cause="cause",
            id="person_id",
            entry="entry",
            covariates=toe_covs,
            baseline_cuts=TOE_BASELINE_CUTS,
            max_mass_points=TOE_MAX_MASS_POINTS,
            programme_from_entry=True,
            # the labour market and the programme's capacity both move with the calendar
            # year; left out, the calendar would confound the effect
            calendar="spell_start_date",
            calendar_cuts=calendar_cuts(ev.dataset),
            return_spells=jobs,
            return_covariates=return_covs,
            return_cuts=(0, 6, 12, 24),
        ).fit(  # sandwich by person: calibrated where the Hessian is not
            cov_type="robust", horizons=ATT_CURVE_MONTHS
        )
    toe_n = {"n_treated": n_part, "n_control": n_other}
    w.add_value("toe_mass_points", int(toe.n_mass_points), scale="difference", count=False,
                label_nl="aantal massapunten (typen) in het timing-of-events-model")  # fmt: skip
    w.add_value("toe_max_mass_points", TOE_MAX_MASS_POINTS, scale="difference", count=False,
                label_nl="toegestaan maximum aantal massapunten")  # fmt: skip
    primary_hr = add_ratio_estimate(
        w,
        "jobcoaching.hazard_ratio",
        toe,
        "treatment",
        method="timing-of-events (NPMLE)",
        method_nl="timing-of-events-model (NPMLE)",
        label_nl="Hazard ratio uitstroom naar werk (jobcoaching)",
        label_en="Hazard ratio of exit to work (jobcoaching)",
        primary=True,
        **toe_n,
    )
    w.add_estimate(
        "jobcoaching.log_hazard_ratio",
        toe,
        "treatment",
        method="timing-of-events (NPMLE)",
        method_nl="timing-of-events-model (NPMLE)",
        primary=True,
        scale="log_hazard_ratio",
        label_nl="Log hazard ratio uitstroom naar werk",
        label_en="Log hazard ratio of exit to work",
        **toe_n,
    )
    att_curve = toe.exit_probabilities  # at every month of ATT_CURVE_MONTHS
    for h in HORIZONS:
        w.add_estimate(
            f"jobcoaching.att_exit_work_{h}m",
            att_curve,
            f"att_exit_work_{h}m",
            method="timing-of-events (NPMLE)",
            method_nl="timing-of-events-model (NPMLE)",
            primary=h == 12,
            scale="probability",
            label_nl=f"Extra kans op werk binnen {h} maanden na start jobcoaching",
            label_en=f"Extra probability of work within {h} months of starting jobcoaching",
            **toe_n,
        )
    if toe.no_heterogeneity is not None:
        add_ratio_estimate(
            w,
            "jobcoaching.hazard_ratio",
            toe.no_heterogeneity,
            "treatment",
            method="piecewise-constant hazard without heterogeneity",
            method_nl="stuksgewijs constante hazard zonder heterogeniteit",
            label_nl="Hazard ratio zonder correctie voor selectie op motivatie",
            label_en="Hazard ratio without correcting for selection on motivation",
            **toe_n,
        )

    # -- robustness: Cox with time-varying treatment --------------------------------------
    with ev.step("Cox", warnings_note="Cox"):
        cox = CoxPH(
            ep,
            duration="stop",
            entry="start",
            event="exit_work",
            covariates=["treated", *covs],
            cluster="person_id",
            id="spell_id",
        ).fit()
    cox_hr = add_ratio_estimate(
        w,
        "jobcoaching.hazard_ratio",
        cox,
        "treated",
        method="Cox, time-varying treatment",
        method_nl="Cox, deelname als tijdsafhankelijke variabele",
        label_nl="Hazard ratio (Cox, jobcoaching als tijdsafhankelijke behandeling)",
        label_en="Hazard ratio (Cox, time-varying treatment)",
        n_treated=n_part,
        n_control=n_other,
    )
    w.add_table(
        "ph_test",
        cox.test_proportional_hazards().rename_axis("covariate").reset_index(),
        caption_nl="Toets van proportionele hazards (geschaalde Schoenfeld-residuen)",
        caption_en="Test of proportional hazards (scaled Schoenfeld residuals)",
    )

    # -- robustness: dynamic evaluation by elapsed duration -------------------------------
    dyn_common = dict(
        u_values=U_VALUES,
        horizons=HORIZONS,
        window_start=WINDOW_START,
    )
    with ev.step(
        "dynamic evaluation",
        warnings_note="dynamische evaluatie",
        warnings_note_en="dynamic evaluation",
    ):
        sianesi = DynamicMatch.from_dataset(ev.dataset, **dyn_common).fit(
            n_boot=ev.n_boot, seed=ev.seed, progress=False
        )
        vdbv = DynamicIPW.from_dataset(ev.dataset, **dyn_common).fit(
            n_boot=ev.n_boot, seed=ev.seed + 1, progress=False
        )
        durable = DynamicMatch.from_dataset(ev.dataset, outcome="durable", **dyn_common).fit(
            n_boot=ev.n_boot, seed=ev.seed + 2, progress=False
        )
    for res, key, method, method_nl in (
        (vdbv, "att_u12", "dynamic IPW (Van den Berg & Vikström)",
         "dynamische weging (Van den Berg & Vikström)"),
        (sianesi, "att_u12_sianesi", "dynamic matching (Sianesi)",
         "dynamische matching (Sianesi)"),
    ):  # fmt: skip
        cohort = res.cohorts.set_index("u")
        for u in U_VALUES:
            if (u, 12) not in res.params.index:
                continue
            # the persons this u's estimate rests on, not the whole analysis's
            w.add_estimate(
                f"jobcoaching.{key}.u{u}",
                res,
                (u, 12),
                method=method,
                method_nl=method_nl,
                n_treated=int(cohort.loc[u, "n_treated_matched"]),
                n_control=int(cohort.loc[u, "n_controls_used"]),
                scale="probability",
                label_nl=f"Extra kans op werk binnen 12 maanden, start na {u} maanden uitkering",
                label_en=f"Extra probability of work within 12 months, start at month {u}",
            )
        if ("ATT", 12) in res.params.index:
            w.add_estimate(
                "jobcoaching.att_exit_work_12m",
                res,
                ("ATT", 12),
                method=method,
                method_nl=method_nl,
                scale="probability",
                label_nl="Extra kans op werk binnen 12 maanden (dynamische evaluatie)",
                label_en="Extra probability of work within 12 months (dynamic evaluation)",
            )
    if ("ATT", 12) in durable.params.index:
        w.add_estimate(
            "jobcoaching.att_durable_12m",
            durable,
            ("ATT", 12),
            method="dynamic matching (Sianesi)",
            method_nl="dynamische matching (Sianesi)",
            scale="probability",
            label_nl="Extra kans op duurzaam werk (geen terugkeer binnen 12 maanden)",
            label_en="Extra probability of a durable exit (no return within 12 months)",
        )
    dyn_table = vdbv.to_frame()
    u_h = pd.DataFrame(dyn_table["term"].tolist(), columns=["u", "horizon"])
    # each u's own starters (matched) and controls used; the ATT row rests on all of them
    sizes = vdbv.cohorts.set_index("u")[["n_treated_matched", "n_controls_used"]]
    per_u = sizes.reindex(pd.to_numeric(u_h["u"], errors="coerce")).to_numpy()
    overall = [vdbv.n.get("n_treated") or np.nan, vdbv.n.get("n_control") or np.nan]
    per_u[u_h["u"].astype(str).eq("ATT").to_numpy()] = overall
    dyn_table = pd.concat(
        [
            u_h.assign(u=u_h["u"].astype(str)),
            dyn_table.drop(columns=["term", "n"]),
            pd.DataFrame(per_u, columns=["n_treated", "n_control"]),
        ],
        axis=1,
    )
    w.add_table(
        "dynamic_att",
        dyn_table,
        caption_nl="Effect naar uitkeringsduur bij de start (u) en horizon (h)",
        caption_en="Effect by elapsed duration at start (u) and horizon (h)",
        count_columns=["n_treated", "n_control"],
    )
    smallest = int(np.nanmin(sizes.to_numpy()))
    if smallest >= w.policy.threshold:
        add_drawn_figure(
            w,
            "dynamic_att",
            lambda ax, lang: vdbv.plot(ax=ax, horizon=12, lang=lang),
            caption_nl="Extra kans op werk binnen 12 maanden naar uitkeringsduur bij de start",
            caption_en="Extra probability of work within 12 months by elapsed duration at start",
            min_count=smallest,
        )
    else:
        w.add_note(
            "De figuur van het effect naar uitkeringsduur is weggelaten: minstens één groep "
            f"starters of vergelijkingspersonen telt minder dan {w.policy.threshold} personen.",
            "The figure of the effect by elapsed duration is left out: at least one group of "
            f"starters or controls has fewer than {w.policy.threshold} persons.",
            name="dynamic_att_figure",
        )

    # -- nazorg: does support after starting work prevent a return to bijstand? ----------
    # the job spells of the timing-of-events model: one definition of a return
    with ev.step("nazorg", warnings_note="nazorg", warnings_note_en="aftercare (nazorg)"):
        nazorg = CoxPH(
            jobs,
            duration="duration",
            event="event",
            covariates=return_covs,
            cluster="person_id",
        ).fit()
    add_ratio_estimate(
        w,
        "nazorg.hazard_ratio_return",
        nazorg,
        "nazorg",
        method="Cox, return to bijstand after exit to work",
        method_nl="Cox, terugkeer in de bijstand na uitstroom naar werk",
        label_nl="Hazard ratio terugkeer in de bijstand met nazorg",
        label_en="Hazard ratio of returning to bijstand with nazorg",
        n_treated=int(jobs["nazorg"].sum()),
        n_control=int((jobs["nazorg"] == 0).sum()),
    )

    # -- naive comparison ----------------------------------------------------------------
    dyn_frame = spells_from_dataset(ev.dataset, programme="jobcoaching", window_start=WINDOW_START)
    naive = static_comparison(dyn_frame, window=12, n_boot=ev.n_boot, seed=ev.seed + 3)
    w.add_estimate(
        "jobcoaching.att_exit_work_12m",
        naive,
        "ATT_static",
        method="naive: ever versus never a participant",
        method_nl="naïef: ooit tegenover nooit deelnemer",
        naive=True,
        scale="probability",
        label_nl="Naïeve vergelijking: ooit deelnemer versus nooit deelnemer",
        label_en="Naive comparison: ever versus never a participant",
    )

    # -- curves: time on benefit and competing exits --------------------------------------
    spells["event_any"] = (spells["cause"] > 0).astype(int)
    km = KaplanMeier(spells, duration="duration", event="event_any", entry="entry").fit()
    # month 1, not 0: with delayed entry the risk set at t counts spells with entry < t
    times = [1, 6, 12, 24, 36, 60]
    risk = km.risk_table(times).loc["all"].to_numpy()
    w.add_table(
        "km_risk",
        pd.DataFrame(
            {
                "time": times,
                "at_risk": risk.astype(int),
                "survival": km.at(times)["estimate"].to_numpy(),
            }
        ),
        caption_nl="Aantal nog in de bijstand (risicoset) en aandeel nog in de bijstand naar "
        "uitkeringsduur",
        caption_en="Number still on benefit (risk set) and share still on benefit by elapsed "
        "duration",
        risk_set_columns=["at_risk"],
    )
    km_months = plot_horizon(km, PLOT_MONTHS, w.policy.threshold)
    add_drawn_figure(
        w,
        "km_exit",
        lambda ax, lang: km.plot(
            ax=ax,
            risk_times=[m for m in RISK_TABLE_MONTHS if m <= km_months],
            xlim=(0, km_months),
            **CURVE_WORDS[lang],
            ylabel=STILL_ON_BENEFIT[lang],
        ),
        caption_nl="Aandeel nog in de bijstand naar uitkeringsduur (Kaplan–Meier)",
        caption_en="Share still on benefit by elapsed duration (Kaplan–Meier)",
        min_count=smallest_risk_set(km, km_months),
    )
    aj = AalenJohansen(spells, duration="duration", cause="cause", entry="entry").fit()
    aj_months = plot_horizon(aj, PLOT_MONTHS, w.policy.threshold)
    add_drawn_figure(
        w,
        "cif_exit",
        lambda ax, lang: aj.plot(
            ax=ax,
            risk_times=[m for m in RISK_TABLE_MONTHS if m <= aj_months],
            xlim=(0, aj_months),
            **CURVE_WORDS[lang],
            ylabel=CUMULATIVE_EXIT[lang],
            labels=CAUSE_NAMES[lang],
        ),
        caption_nl="Cumulatieve uitstroom naar werk, scholing en overig (Aalen–Johansen)",
        caption_en="Cumulative incidence of exit to work, education and other",
        min_count=smallest_risk_set(aj, aj_months),
    )

    # -- balance of participants and others at spell start --------------------------------
    spells["participant"] = spells["programme_start"].notna().astype(int)
    bal = balance(spells, treatment="participant", covariates=covs)
    # nothing is weighted here: the differences as observed (the "_un" columns; the
    # adjusted ones would repeat them)
    raw = ["type", "mean_treated_un", "mean_control_un", "smd_un", "variance_ratio_un"]
    w.add_table(
        "balance",
        bal[raw]
        .rename(columns=lambda c: c.removesuffix("_un"))
        .reset_index()
        .rename(columns={"index": "covariate"}),
        caption_nl="Verschillen in kenmerken tussen deelnemers en overige uitkeringen (SMD)",
        caption_en="Differences in characteristics, participants versus others (SMD)",
        share_columns={"mean_treated": n_part, "mean_control": n_other},
        share_rows=("type", "binary"),
        derived_columns=["smd", "variance_ratio"],
    )
    add_drawn_figure(
        w,
        "love_plot",
        lambda ax, lang: love_plot(
            bal, ax=ax, labels=lambda c: covariate_label(c, lang), lang=lang
        ),
        figsize=(6.2, 4.2),
        caption_nl="Gestandaardiseerde verschillen tussen deelnemers en overige uitkeringen",
        caption_en="Standardised differences, participants versus others",
    )

    # -- sensitivity: E-values of the primary (timing-of-events) and the Cox hazard ratio --
    # of the records as stored, so the report's E-value is that of the ratio it shows
    for key, record, what in (
        ("evalue", primary_hr, "de primaire hazard ratio (timing-of-events)"),
        ("evalue_cox", cox_hr, "de Cox-hazard ratio"),
    ):
        evalues = hazard_ratio_evalue(record)
        if evalues is None:
            continue
        w.add_value(key, evalues[0], scale="difference", count=False,
                    label_nl=f"E-waarde van {what}")  # fmt: skip
        w.add_value(f"{key}_ci", evalues[1], scale="difference", count=False,
                    label_nl=f"E-waarde van de intervalgrens van {what}")  # fmt: skip

    # -- costs and benefits --------------------------------------------------------------
    curve = att_curve.to_frame().set_index("term")
    att_rows = [f"att_exit_work_{h}m" for h in ATT_CURVE_MONTHS]
    att = curve.loc[att_rows, "estimate"].to_numpy()
    att_se = curve.loc[att_rows, "std_error"].to_numpy()
    # months off benefit gained = area between the exit curves; the standard errors are
    # added (perfect correlation: the curve is driven by one effect parameter): conservative
    months = np.cumsum(np.r_[att[0] / 2, (att[1:] + att[:-1]) / 2])
    months_se = np.cumsum(np.r_[att_se[0] / 2, (att_se[1:] + att_se[:-1]) / 2])
    rmst_curve = pd.DataFrame(
        {"horizon": np.arange(1, 25), "rmst_difference": months, "std_error": months_se}
    )
    household = spells.loc[spells["participant"] == 1, "household"].astype(str).value_counts()
    cb = cost_benefit(
        float(months[-1]),
        float(months_se[-1]),
        n_part,
        att_exit_work=float(curve.loc["att_exit_work_12m", "estimate"]),
        att_exit_work_se=float(curve.loc["att_exit_work_12m", "std_error"]),
        horizon=24,
        rmst_curve=rmst_curve,
        assumptions=CostAssumptions(),
        household_mix=household.to_dict(),
    )
    scales = {
        "months_avoided_per_participant": "months",
        "extra_exits_work": "count",
        "benefit_saved_eur": "euro",
        "programme_cost_eur": "euro",
        "net_benefit_eur": "euro",
        "cost_per_extra_exit_eur": "euro",
        "net_cost_per_extra_exit_eur": "euro",
        "break_even_horizon_months": "months",
    }
    for term, scale in scales.items():
        if term in cb.params.index:
            w.add_estimate(
                f"jobcoaching.costs.{term}",
                cb,
                term,
                method="costs and benefits (timing-of-events effect)",
                method_nl="kosten en baten (effect uit het timing-of-events-model)",
                scale=scale,
                label_nl=TERM_LABELS[term][0],
                label_en=TERM_LABELS[term][1],
            )
    add_drawn_figure(
        w,
        "break_even",
        lambda ax, lang: cb.plot(ax=ax, lang=lang),
        caption_nl="Besparing op uitkeringen per deelnemer tegenover de kosten van jobcoaching",
        caption_en="Benefit savings per participant against the cost of jobcoaching",
    )

    w.add_assumption(
        "Geen anticipatie: de kans op werk verandert niet al vóór de start van jobcoaching.",
        "No anticipation: the exit hazard does not change before jobcoaching starts.",
        name="toe",
    )
    w.add_assumption(
        "Motivatie en andere niet-geregistreerde kenmerken werken evenredig op de kans op werk "
        "en de kans op jobcoaching (mixed proportional hazards).",
        "Unobserved motivation acts proportionally on both hazards (mixed proportional hazards).",
        name="toe-mph",
    )
    w.add_assumption(
        "De arbeidsmarkt en de capaciteit van jobcoaching veranderen per kalenderjaar: het "
        "model geeft elk jaar één factor op elke kans, voor iedereen dezelfde.",
        "The labour market and jobcoaching's capacity change by calendar year: the model gives "
        "each year one factor on every hazard, the same for everybody.",
        name="toe-calendar",
    )
    w.add_assumption(
        "Dynamische evaluatie en Cox nemen aan dat deelname alleen afhangt van geregistreerde "
        "kenmerken; bij selectie op motivatie overschatten ze het effect.",
        "Dynamic evaluation and Cox assume selection on recorded characteristics only.",
        name="selection-on-observables",
    )
    w.write()


if __name__ == "__main__":
    run_main(main)
