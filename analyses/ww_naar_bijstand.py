"""Evaluation: does the *Aanpak WW naar bijstand* prevent inflow into bijstand?

Pre-specified analysis (``python analyses/ww_naar_bijstand.py --data DIR --out results``):

- design: Groningen contacts people whose WW ends, six months before the end, from its start
  date on; the comparison municipalities of the labour-market region do not. Cohorts of WW
  endings (half-years of the maximum WW end date) are repeated cross sections;
- primary: difference-in-differences (two-way fixed effects on municipality × half-year inflow
  rates) of inflow into bijstand within 6 months after
  WW ends, with a wild cluster bootstrap over municipality x half-year cells (with 7
  municipalities, one of them treated, clustering by municipality gives no usable interval);
  the same with clusters = municipalities as a (very conservative) robustness check;
- robustness: Callaway–Sant'Anna on the individual records (never-treated controls; with
  one treated municipality its cluster-robust errors are not usable, so its estimates are
  stored without interval); horizons of 3 and 12 months;
- work after WW ends: the same DiD on the share with a job within 12 months, only when the
  jobs table records the work of WW recipients who never entered bijstand (jobs from the
  polis administration): with jobs known only through bijstand, less inflow shows as less
  work (a Cox model of time to a job on such data once gave a hazard ratio of 0.68);
- diagnostics: event study with a joint pre-trend test; Rambachan–Roth sensitivity bounds;
- the naive before–after comparison in Groningen alone, labelled as such;
- costs and benefits of the prevented inflow.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.analysis import (
    Evaluation,
    add_drawn_figure,
    add_naive_difference,
    open_evaluation,
    run_main,
)
from werkeffect.costs import TERM_LABELS, CostAssumptions, cost_benefit
from werkeffect.did import (
    TWFE,
    CallawaySantAnna,
    EventStudy,
    event_study_plot,
    honest_bounds,
    ww_inflow_frame,
)
from werkeffect.did.ww_frame import MONTH_DAYS, period_label
from werkeffect.exceptions import SingleTreatedClusterWarning
from werkeffect.formatting import fmt_num
from werkeffect.survival import KaplanMeier

TREATED_MUNICIPALITY = "Groningen"
HORIZONS = (3, 6, 12)
#: *Assumption*: cost of contacting and guiding one WW recipient (euros).
COST_PER_CONTACT = 600.0


def municipality_frame(ds, horizon: int) -> pd.DataFrame:
    fm = ww_inflow_frame(ds, horizon, level="municipality")
    fm["cell"] = fm["municipality"].astype(str) + "_" + fm["period"].astype(str)
    return fm


def twfe(fm: pd.DataFrame, ev: Evaluation, cluster: str = "cell", outcome: str = "inflow"):
    """TWFE DiD on municipality x half-year cells with a wild cluster bootstrap (WCR).

    ``cluster="cell"`` (primary): clusters are the municipality x half-year cells, valid when
    the shocks to a municipality's inflow are independent across half-years once municipality
    and period effects are removed (the residual autocorrelation in the comparison
    municipalities is reported as a check). ``cluster="municipality"``: valid under any
    correlation within a municipality, but with one treated municipality the WCR is very
    conservative (MacKinnon & Webb 2017) — reported as robustness.
    """
    return TWFE(fm, outcome, "municipality", "period", "treated", cluster=cluster).fit(
        inference="wild", n_boot=max(ev.n_boot, 999), seed=ev.seed
    )


def residual_autocorrelation(fm: pd.DataFrame) -> float:
    """Lag-1 autocorrelation over half-years of the two-way residuals of the comparison
    municipalities' inflow rates (the check behind clustering by municipality x half-year);
    NaN without comparison municipalities (the DiD then stops with its own message)."""
    c = fm[fm["group"] == 0].pivot(index="period", columns="municipality", values="inflow")
    c = c.dropna()
    if c.empty:  # no comparison municipality: no residuals (and no numpy empty-mean warning)
        return float("nan")
    r = c.sub(c.mean(axis=0), axis=1).sub(c.mean(axis=1), axis=0) + c.to_numpy().mean()
    a, b = r.iloc[1:].to_numpy().ravel(), r.iloc[:-1].to_numpy().ravel()
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 else float("nan")


def rmst_new_spells(ev: Evaluation, horizon: float = 24.0) -> float:
    """Restricted mean months on bijstand within ``horizon`` of the spells that WW recipients
    started within 12 months after their WW ended (the inflow the approach tries to prevent)."""
    ww = ev.dataset.ww[["person_id", "ww_end"]].dropna()
    sp = ev.dataset.spells.merge(ww, on="person_id", how="inner")
    gap = (sp["start_date"] - sp["ww_end"]).dt.days
    sp = sp[(gap >= 0) & (gap <= 365)].drop_duplicates("spell_id").copy()
    if sp.empty:
        raise ValueError("no bijstand spell starts within 12 months after a WW end")
    end = sp["end_date"].fillna(pd.Timestamp(ev.dataset.extract_date))
    sp["months"] = (end - sp["start_date"]).dt.days / (365.25 / 12)
    sp["ended"] = sp["end_date"].notna().astype(int)
    sp = sp[sp["months"] > 0]
    km = KaplanMeier(sp, duration="months", event="ended").fit()
    grid = np.arange(0.0, horizon, 0.25)
    surv = km.at(grid)["estimate"].to_numpy(float)
    return float(np.sum(surv) * 0.25)


#: months after the WW end within which a job counts (the work outcome)
JOB_HORIZON = 12


def jobs_cover_ww(dataset, frame: pd.DataFrame) -> bool:
    """Whether the jobs table records work of WW recipients who never were on bijstand.

    A jobs table from the benefit administration knows only the jobs of people on (or leaving)
    bijstand; from the polis administration it knows everyone's. With the first, a WW
    recipient whom the approach keeps out of bijstand has no job on record, so less inflow
    shows as less work: work after WW cannot be compared. The sign of that: not one job of the
    WW recipients in ``frame`` who have no bijstand spell at all."""
    jobs = dataset.jobs
    if jobs is None or jobs.empty:
        return False
    never = ~frame["person_id"].isin(dataset.spells["person_id"])
    return bool(frame.loc[never, "person_id"].isin(jobs["person_id"]).any())


def job_frame(dataset, horizon: float = JOB_HORIZON) -> pd.DataFrame:
    """Municipality x half-year cells of the share of WW endings followed by a job within
    ``horizon`` months (a job starting on or after the WW end day): the primary's frame
    (same records, periods and treatment; follow-up complete) with work as the outcome."""
    fr = ww_inflow_frame(dataset, horizon)
    ww_end = fr["ww_id"].map(dataset.ww.set_index("ww_id")["ww_end"])
    m = fr[["ww_id", "person_id"]].assign(ww_end=ww_end.to_numpy())
    m = m.merge(dataset.jobs[["person_id", "start_date"]], on="person_id", how="inner")
    gap = (m["start_date"] - m["ww_end"]).dt.days
    found = m.loc[(gap >= 0) & (gap <= horizon * MONTH_DAYS), "ww_id"]
    fr["job"] = fr["ww_id"].isin(found).astype(int)
    fm = (
        fr.groupby(["municipality", "period"], sort=True)
        .agg(group=("group", "first"), treated=("treated", "max"), job=("job", "mean"),
             n=("job", "size"))
        .reset_index()
    )  # fmt: skip
    fm["cell"] = fm["municipality"].astype(str) + "_" + fm["period"].astype(str)
    return fm


def reissue_but_single_cluster(caught) -> list:
    """Issue the caught warnings again, except the estimator's
    :class:`SingleTreatedClusterWarning`; return the cohorts that warning names (the analysis
    leaves their intervals out and says so in its own words)."""
    lone = []
    for c in caught:
        if isinstance(c.message, SingleTreatedClusterWarning):
            lone += [g for g in c.message.cohorts if g not in lone]
        else:
            warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    return sorted(lone)


def main(argv: Sequence[str] | None = None) -> None:
    ev = open_evaluation(
        "ww_naar_bijstand",
        title="Effect van de Aanpak WW naar bijstand op de instroom in de bijstand",
        title_en="Effect of the WW-to-bijstand approach on inflow into bijstand",
        argv=argv,
    )
    ev.require(["ww"])
    ds, w = ev.dataset, ev.writer

    individual = ww_inflow_frame(ds, 6)
    flow = individual.attrs.get("flow")
    if flow is not None:
        ds.flow.add_new_steps(flow)
    treated_records = int(individual["treated"].sum())
    control_records = int(len(individual) - treated_records)
    groups = individual.loc[individual["group"] > 0, "group"]
    if groups.empty:
        raise ValueError("no municipality in the ww table ever contacted anyone (contact_date)")
    w.add_value("ww_recipients", int(len(individual)), label_nl="WW-beëindigingen")
    w.add_value(
        "ww_endings_groningen",
        int((individual["municipality"] == TREATED_MUNICIPALITY).sum()),
        label_nl=f"WW-beëindigingen in {TREATED_MUNICIPALITY}",
    )
    w.add_value(
        "municipalities", int(individual["municipality"].nunique()), count=False,
        label_nl="gemeenten",
    )  # fmt: skip
    # the month only: the first contact date is one person's date
    first_contact = ds.ww["contact_date"].dropna().min()
    w.add_value("start_month", pd.Timestamp(first_contact).strftime("%Y-%m"),
                label_nl="start aanpak (maand)")  # fmt: skip

    # -- primary: TWFE DiD with a wild cluster bootstrap over municipality x half-year ----
    results = {}
    for h in HORIZONS:
        fm = municipality_frame(ds, h)
        with ev.step(
            f"DiD {h} months", warnings_note=f"DiD {h} maanden", warnings_note_en=f"DiD {h} months"
        ):
            results[h] = twfe(fm, ev)
        w.add_estimate(
            f"ww.att_inflow_{h}m",
            results[h],
            "ATT",
            method="DiD (TWFE, wild cluster bootstrap, municipality x half-year)",
            method_nl="verschil-in-verschillen (TWFE, wild cluster bootstrap, gemeente × halfjaar)",
            primary=h == 6,
            scale="probability",
            n_treated=treated_records,
            n_control=control_records,
            label_nl=f"Effect op instroom in de bijstand binnen {h} maanden na einde WW",
            label_en=f"Effect on inflow into bijstand within {h} months after WW ends",
        )

    # -- robustness: clusters = municipalities (valid under any within-municipality
    #    correlation, very conservative with one treated municipality) ---------------------
    fm6 = municipality_frame(ds, 6)
    with ev.step(
        "DiD, municipality clusters",
        warnings_note="DiD gemeenteclusters",
        warnings_note_en="DiD, municipality clusters",
    ):
        by_municipality = twfe(fm6, ev, cluster="municipality")
    w.add_estimate(
        "ww.att_inflow_6m",
        by_municipality,
        "ATT",
        method="DiD (TWFE, wild cluster bootstrap, municipalities; conservative)",
        method_nl="verschil-in-verschillen (TWFE, wild cluster bootstrap, gemeenten; voorzichtig)",
        scale="probability",
        n_treated=treated_records,
        n_control=control_records,
        label_nl="Effect op instroom binnen 6 maanden, onzekerheid per gemeente (zeer ruim)",
        label_en="Effect on inflow within 6 months, clustered by municipality (very wide)",
    )
    rho = residual_autocorrelation(fm6)
    w.add_value(
        "residual_autocorrelation", round(rho, 3), count=False, scale="difference",
        label_nl="autocorrelatie van de restschokken per gemeente (vergelijkingsgemeenten)",
    )  # fmt: skip
    w.add_assumption(
        "Schokken in de instroom per gemeente en halfjaar zijn onderling onafhankelijk, na "
        f"vaste verschillen tussen gemeenten en halfjaren (gemeten autocorrelatie in de "
        f"vergelijkingsgemeenten: {fmt_num(rho, 2, 'nl')}); anders is alleen het ruime "
        "interval per gemeente betrouwbaar.",
        "Shocks to inflow per municipality and half-year are independent once municipality and "
        f"period effects are removed (measured autocorrelation in the comparison "
        f"municipalities: {fmt_num(rho, 2, 'en')}); otherwise only the wide by-municipality "
        "interval holds.",
        name="independent-cells",
    )

    # -- robustness: Callaway-Sant'Anna on the individual records -------------------------
    with ev.step("Callaway-Sant'Anna", warnings_note="Callaway-Sant'Anna"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cs = CallawaySantAnna(
                individual,
                outcome="inflow",
                unit="ww_id",
                time="period",
                group="group",
                control="never",
                method="reg",
                panel=False,
                cluster="municipality",
            ).fit()
            cs_simple = cs.aggregate("simple")
        # cohorts whose treated all live in one municipality: no usable error (the estimator
        # says so); their estimates are stored without one, so no reader of the results
        # file shows an interval the method disowns
        lone = reissue_but_single_cluster(caught)
    cs_record = {
        "method": "Callaway-Sant'Anna (never treated, repeated cross sections)",
        "method_nl": "Callaway-Sant'Anna (nooit behandelde gemeenten, herhaalde doorsneden)",
        "scale": "probability",
        "n_treated": treated_records,
        "n_control": control_records,
        "label_nl": "Effect op instroom binnen 6 maanden (Callaway–Sant'Anna)",
        "label_en": "Effect on inflow within 6 months (Callaway-Sant'Anna)",
    }
    if lone:  # the point estimate only; the method and a note say why
        cs_record["method"] += "; no interval: one treated municipality"
        cs_record["method_nl"] += "; geen interval: één behandelde gemeente"
        w.add_estimate(
            "ww.att_inflow_6m", term="ATT", estimate=float(cs_simple.params["ATT"]), **cs_record
        )
        hy = ", ".join(period_label(lone))
        who_nl, who_en = (
            (f"alle WW'ers met de aanpak (start in halfjaar {hy}) wonen",
             f"all WW recipients under the approach (start in half-year {hy}) live")
            if len(lone) == 1
            else (f"de WW'ers met de aanpak wonen per start (halfjaren {hy})",
                  f"the WW recipients under the approach live, per start (half-years {hy}),")
        )  # fmt: skip
        w.add_note(
            f"Callaway–Sant'Anna: {who_nl} in één gemeente. Met één behandelde gemeente is een "
            "standaardfout die verschillen tussen gemeenten meeneemt niet te schatten "
            "(onbruikbaar, meestal veel te klein). Daarom staan de Callaway–Sant'Anna-"
            "schattingen zonder interval en zonder standaardfout; de onzekerheid van het "
            "effect staat bij de primaire schatting.",
            f"Callaway-Sant'Anna: {who_en} in one municipality. With one treated municipality "
            "a cluster-robust standard error cannot be estimated (not usable, usually far too "
            "small), so the Callaway-Sant'Anna estimates are shown without interval or "
            "standard error; the uncertainty of the effect is given with the primary estimate.",
            name="Callaway-Sant'Anna",
        )
    else:
        w.add_estimate("ww.att_inflow_6m", cs_simple, "ATT", **cs_record)
    att_gt = cs.att_gt.copy()
    att_gt.loc[att_gt["group"].isin(lone), "std_error"] = np.nan
    if att_gt["std_error"].isna().all():
        att_gt = att_gt.drop(columns="std_error")
    # periods are half-years of the maximum WW end date: show them as such
    att_gt.insert(0, "start_half_year", period_label(att_gt.pop("group")))
    att_gt.insert(1, "half_year", period_label(att_gt.pop("time")))
    att_gt["base_period"] = period_label(att_gt["base_period"])
    w.add_table(
        "att_gt",
        att_gt,
        caption_nl="Effect per start (g) en halfjaar (t), ATT(g,t)",
        caption_en="Effect per cohort (g) and period (t), ATT(g,t)",
    )

    # -- naive: before-after in Groningen alone -------------------------------------------
    gron = individual[individual["municipality"] == TREATED_MUNICIPALITY]
    post = gron["period"] >= groups.min()
    add_naive_difference(
        w,
        "ww.att_inflow_6m",
        gron.loc[post, "inflow"],
        gron.loc[~post, "inflow"],
        method="naive: before versus after in Groningen",
        method_nl="naïef: vóór tegenover na in Groningen",
        label_nl="Naïeve vergelijking: instroom in Groningen vóór en na de start",
        label_en="Naive comparison: inflow in Groningen before and after the start",
    )

    # -- descriptives and trends ----------------------------------------------------------
    desc = (
        individual.assign(
            after=pd.Categorical(
                np.where(individual["period"] >= groups.min(), "na", "voor"),
                categories=["voor", "na"],
            )
        )
        .groupby(["municipality", "after"], observed=True)["inflow"]
        .agg(aantal="size", instroom="mean")
        .reset_index()
    )
    w.add_table(
        "descriptives",
        desc,
        caption_nl="WW-beëindigingen en instroom binnen 6 maanden, vóór en na de start",
        caption_en="WW endings and inflow within 6 months, before and after the start",
        count_columns=["aantal"],
        share_columns={"instroom": "aantal"},
    )
    is_g = fm6["municipality"] == TREATED_MUNICIPALITY
    trend = fm6.assign(groep=np.where(is_g, "Groningen", "vergelijkingsgemeenten"))
    trend["weighted"] = trend["inflow"] * trend["n"]
    trend = trend.groupby(["groep", "period"], observed=True)[["weighted", "n"]].sum()
    trend["instroom"] = trend["weighted"] / trend["n"]
    trend = trend.reset_index()

    def draw_trends(ax, lang: str) -> None:
        others = {"nl": "vergelijkingsgemeenten", "en": "comparison municipalities"}[lang]
        for name, sub in trend.groupby("groep"):
            ax.plot(sub["period"], sub["instroom"], marker="o",
                    label=others if name == "vergelijkingsgemeenten" else name)  # fmt: skip
        ax.axvline(groups.min() - 0.5, color="grey", ls="--", lw=0.8)
        ax.set_xlabel({"nl": "halfjaar van einde WW (1 = 2017-H1)",
                       "en": "half-year WW ended (1 = 2017-H1)"}[lang])  # fmt: skip
        ax.set_ylabel({"nl": "instroom binnen 6 maanden", "en": "inflow within 6 months"}[lang])
        ax.legend(frameon=False)

    add_drawn_figure(
        w,
        "inflow_trends",
        draw_trends,
        caption_nl="Instroom in de bijstand binnen 6 maanden na einde WW, per halfjaar",
        caption_en="Inflow into bijstand within 6 months after WW ends, by half-year",
        data=trend[["groep", "period", "n"]].rename(columns={"n": "aantal"}),
        count_columns=["aantal"],
    )

    # -- event study, pre-trends, sensitivity ---------------------------------------------
    with ev.step("event study", warnings_note="event study"):
        es = EventStudy(
            fm6, outcome="inflow", unit="municipality", time="period", group="group",
            leads=3, lags=3,
        ).fit(n_boot=max(ev.n_boot, 999), seed=ev.seed)  # fmt: skip
        honest = honest_bounds(es, M=[0.0, 0.5, 1.0, 1.5, 2.0], seed=ev.seed)
    if es.pretrend is not None:
        p = es.pretrend.get("wild_p_value", es.pretrend.get("p_value"))
        w.add_value("pretrend_p_value", float(p), scale="difference", count=False,
                    label_nl="p-waarde toets op parallelle trends")  # fmt: skip
    es_table = es.to_frame()
    es_table["term"] = es_table["term"].astype(str)
    w.add_table(
        "event_study",
        es_table,
        caption_nl="Effect per halfjaar vóór en na de start (event study)",
        caption_en="Effect by half-year before and after the start (event study)",
    )

    def draw_event_study(ax, lang: str) -> None:
        event_study_plot(es, ax=ax, lang=lang, title="")
        ax.set_xlabel({"nl": "halfjaren ten opzichte van de start",
                       "en": "half-years relative to the start"}[lang])  # fmt: skip

    add_drawn_figure(
        w,
        "event_study",
        draw_event_study,
        caption_nl="Event study: effect op de instroom per halfjaar ten opzichte van de start",
        caption_en="Event study: effect on inflow by half-year relative to the start",
        min_count=int(individual.groupby("period").size().min()),
    )
    w.add_table(
        "honestdid",
        honest.to_frame(),
        caption_nl="Gevoeligheid voor schending van parallelle trends (Rambachan & Roth)",
        caption_en="Sensitivity to violations of parallel trends (Rambachan & Roth)",
    )
    ht = honest.to_frame()

    def draw_honest(ax, lang: str) -> None:
        ax.vlines(ht["M"], ht["lower"], ht["upper"], color="#00468b", lw=3)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel({"nl": "M (toegestane schending, relatief)",
                       "en": "M (allowed violation, relative)"}[lang])  # fmt: skip
        ax.set_ylabel({"nl": "effect op instroom", "en": "effect on inflow"}[lang])

    add_drawn_figure(
        w,
        "honestdid",
        draw_honest,
        figsize=(6.2, 3.4),
        caption_nl="Robuuste intervallen bij toenemende schending van parallelle trends",
        caption_en="Robust intervals as violations of parallel trends grow",
    )

    # -- work after WW ends: the share with a job within 12 months, same design -----------
    if jobs_cover_ww(ds, individual):
        with ev.step(
            "work after WW", warnings_note="werk na de WW", warnings_note_en="work after WW"
        ):
            work = twfe(job_frame(ds), ev, outcome="job")
        w.add_estimate(
            f"ww.att_job_{JOB_HORIZON}m",
            work,
            "ATT",
            method="DiD (TWFE, wild cluster bootstrap, municipality x half-year)",
            method_nl="verschil-in-verschillen (TWFE, wild cluster bootstrap, gemeente × halfjaar)",
            scale="probability",
            n_treated=treated_records,
            n_control=control_records,
            label_nl=f"Effect op werk binnen {JOB_HORIZON} maanden na einde WW",
            label_en=f"Effect on a job within {JOB_HORIZON} months after WW ends",
        )
    elif ds.jobs is None or ds.jobs.empty:
        w.add_note(
            "Het effect op werk na het einde van de WW is niet geschat: het extract bevat geen "
            "banen.",
            "The effect on work after WW ends is not estimated: the extract holds no jobs.",
            name="work_after_ww",
        )
    else:
        w.add_note(
            "Het effect op werk na het einde van de WW is niet geschat. In dit extract staan "
            "alleen banen van mensen die in de bijstand kwamen (werk na de bijstand, "
            "deeltijdwerk naast de uitkering); van WW'ers die zonder bijstand aan het werk "
            "gingen, ontbreekt de baan. Een vergelijking van werk na de WW zou dan vooral meten "
            "dat minder mensen de bijstand instromen: de aanpak zou het vinden van werk lijken "
            "te vertragen, terwijl er alleen minder banen in beeld zijn. Met de "
            "banen van alle WW'ers (uit de polisadministratie) kan deze vergelijking wel.",
            "The effect on work after WW ends is not estimated. This extract holds only the "
            "jobs of people who entered bijstand (work after bijstand, part-time work on "
            "benefit); the jobs of WW recipients who found work without bijstand are missing. "
            "A comparison of work after WW would then mostly measure that fewer people enter "
            "bijstand: the approach would seem to slow down finding work, while only fewer jobs "
            "are on record. With the jobs of all WW recipients (from the polis administration) "
            "the comparison can be made.",
            name="work_after_ww",
        )

    # -- costs and benefits ---------------------------------------------------------------
    att6 = results[6]
    months_per_inflow = rmst_new_spells(ev)
    att, att_se = float(att6.params["ATT"]), float(att6.std_errors["ATT"])
    cb = cost_benefit(
        -att * months_per_inflow,
        att_se * months_per_inflow,
        treated_records,
        assumptions=CostAssumptions(programme_cost_per_participant=COST_PER_CONTACT),
        horizon=24,
    )
    w.add_estimate(
        "ww.costs.prevented_inflow",
        estimate=-att * treated_records,
        std_error=att_se * treated_records,
        lower=-float(att6.conf_int().loc["ATT", "upper"]) * treated_records,
        upper=-float(att6.conf_int().loc["ATT", "lower"]) * treated_records,
        method="DiD effect × WW endings after the start",
        method_nl="effect (verschil-in-verschillen) × WW-beëindigingen na de start",
        scale="count",
        label_nl="Voorkomen instroom (personen)",
        label_en="Prevented inflow (persons)",
    )
    for term in ("benefit_saved_eur", "programme_cost_eur", "net_benefit_eur"):
        w.add_estimate(
            f"ww.costs.{term}",
            cb,
            term,
            method="costs and benefits (DiD effect)",
            method_nl="kosten en baten (effect uit verschil-in-verschillen)",
            scale="euro",
            label_nl=TERM_LABELS[term][0],
            label_en=TERM_LABELS[term][1],
        )
    w.add_note(
        f"Besparing: voorkomen instroom × {fmt_num(months_per_inflow, 1)} "
        "maanden (gemiddelde duur "
        "binnen 24 maanden van bijstandsperioden van WW'ers) × de maandelijkse uitkering; "
        f"kosten € {COST_PER_CONTACT:.0f} per benaderde WW'er (aanname).",
        f"Savings: prevented inflow × {months_per_inflow:.1f} months (restricted mean within "
        f"24 months) × monthly benefit; cost € {COST_PER_CONTACT:.0f} per contact (assumption).",
        name="costs",
    )
    w.add_assumption(
        "Parallelle trends: zonder de aanpak was de instroom in Groningen even hard gestegen "
        "of gedaald als in de vergelijkingsgemeenten.",
        "Parallel trends: without the approach, inflow in Groningen would have moved as in the "
        "comparison municipalities.",
        name="parallel-trends",
    )
    w.add_assumption(
        "Geen anticipatie en geen doorwerking naar de vergelijkingsgemeenten.",
        "No anticipation and no spill-over to the comparison municipalities.",
        name="no-spillover",
    )
    w.write()


if __name__ == "__main__":
    run_main(main)
