"""Agreement with R's survival (3.5.3) and cmprsk (2.2.11) on committed fixtures.

The expected numbers below were printed by R (``options(digits=12)`` or 15) with the calls
quoted above each constant; CI has no R. Fixtures: ``tests/fixtures/survival/`` — ``heart.csv``
and ``lung.csv`` are R's built-in datasets (``write.csv(heart, ..., row.names=FALSE)``),
``lung_complete.csv`` is ``na.omit(lung[, c("time","status","age","sex","ph.ecog","inst")])``
with ``status <- status - 1``; ``lefttrunc.csv`` (left truncation), ``tvtreat.csv``
(time-varying treatment, start–stop) and ``competing.csv`` come from ``make_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from werkeffect.survival import (
    AalenJohansen,
    CoxPH,
    FineGray,
    KaplanMeier,
    NelsonAalen,
    cif_difference,
    logrank_test,
    rmst_difference,
    time_varying_effect,
)

pytestmark = pytest.mark.needs_r

FIX = Path(__file__).parent / "fixtures" / "survival"
RTOL = 1e-4


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name)


def close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Fixture 1: heart (start–stop, time-varying transplant), R built-in
# ---------------------------------------------------------------------------------------
# f <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data=heart,
#            cluster=id)
HEART_COEF = [0.0271666409577, -0.1463463456742, -0.6372098899670, -0.0102507724091]
HEART_ROBUST_SE = [0.0138918929241, 0.0730798592394, 0.3582102023844, 0.3168823490625]
HEART_NAIVE_SE = [0.0137141152103, 0.0704679795189, 0.3672259961803, 0.3137547983375]
HEART_LOGLIK = [-298.121355673, -290.565616218]
# same model with ties="breslow" and no cluster: coef and sqrt(diag(f2$var))
HEART_BRESLOW_COEF = [0.0271520807645, -0.1461157500026, -0.6358434755982, -0.0118958509638]
HEART_BRESLOW_SE = [0.0137211312396, 0.0704657060509, 0.3672106957371, 0.3136443767412]
# cox.zph(f)$table (transform = "km")
HEART_ZPH = [
    [0.8668747109154, 0.351821976236],
    [1.7164144292076, 0.190155241647],
    [0.0973950591162, 0.754978346543],
    [0.2029343881531, 0.652362645573],
    [3.4731022988456, 0.481979967766],
]
HEART_X = ["age", "year", "surgery", "transplant"]


def test_heart_start_stop_efron_cluster():
    h = read("heart.csv")
    res = CoxPH(
        h, duration="stop", event="event", entry="start", covariates=HEART_X, cluster="id", id="id"
    ).fit()
    close(res.params, HEART_COEF)
    close(res.std_errors, HEART_ROBUST_SE)
    close(res.naive_std_errors, HEART_NAIVE_SE)
    close([res.extra["loglik_null"], res.loglik], HEART_LOGLIK)
    zph = res.test_proportional_hazards()
    close(zph[["chisq", "p"]].to_numpy(), HEART_ZPH)


def test_heart_breslow():
    h = read("heart.csv")
    res = CoxPH(
        h, duration="stop", event="event", entry="start", covariates=HEART_X, ties="breslow"
    ).fit()
    close(res.params, HEART_BRESLOW_COEF)
    close(res.std_errors, HEART_BRESLOW_SE)


# ---------------------------------------------------------------------------------------
# Fixture 2: lefttrunc.csv (delayed entry: stock sample), cluster = team
# ---------------------------------------------------------------------------------------
# f <- coxph(Surv(entry, stop, event) ~ x1 + x2, data=d, cluster=team)
LT_COEF = [0.511254848172, -0.232745371951]
LT_ROBUST_SE = [0.0888575142237, 0.1517242116487]
# km <- survfit(Surv(entry, stop, event) ~ x2, data=d)            (conf.type = "log")
# summary(km, times=c(6,12,24)) : n.risk, surv, std.err, lower, upper   (x2=0 then x2=1)
LT_KM_NRISK = [81, 72, 51, 71, 58, 38]
LT_KM_SURV = [0.742320160509, 0.547207007922, 0.352418443149, 0.817523596538, 0.623363803067,
              0.433218213862]  # fmt: skip
LT_KM_SE = [0.0434993548914, 0.0479424170943, 0.0439495542395, 0.0440480991170,
            0.0540109247044, 0.0540131852786]  # fmt: skip
LT_KM_LOWER_LOG = [0.661776804106, 0.460866750956, 0.275998430124, 0.735593076311,
                   0.526004927620, 0.339296833080]  # fmt: skip
LT_KM_UPPER_LOG = [0.832666266449, 0.649722525868, 0.449998063453, 0.908579556307,
                   0.738742948155, 0.553138144903]  # fmt: skip
# survfit(..., conf.type="log-log"): summary(km2, times=c(6,12,24)) lower, upper
LT_KM_LOWER_LL = [0.645260020019, 0.448612285311, 0.267569242707, 0.711560026337,
                  0.508158830337, 0.326176181448]  # fmt: skip
LT_KM_UPPER_LL = [0.816549940779, 0.635401628790, 0.438216821248, 0.887554202660,
                  0.718947983616, 0.535473270009]  # fmt: skip
# km <- survfit(Surv(entry, stop, event) ~ 1, data=d); quantile(km, 0.5)  -> 17
# summary(km, times=c(6,12,24))$cumhaz and $std.chaz
LT_MEDIAN = 17.0
LT_CUMHAZ = [0.252163729220145, 0.534561297645219, 0.926749069652679]
LT_CUMHAZ_SE = [0.0398923729324535, 0.0607839789306807, 0.0861821333343749]


def test_lefttrunc_cox_cluster():
    d = read("lefttrunc.csv")
    assert (d["entry"] > 0).mean() > 0.3  # really left-truncated
    res = CoxPH(
        d, duration="stop", event="event", entry="entry", covariates=["x1", "x2"], cluster="team"
    ).fit()
    close(res.params, LT_COEF)
    close(res.std_errors, LT_ROBUST_SE)


def test_lefttrunc_kaplan_meier_greenwood_and_intervals():
    d = read("lefttrunc.csv")
    km = KaplanMeier(d, duration="stop", event="event", entry="entry", group="x2")
    res = km.fit(times=[6, 12, 24], conf_type="log")
    close(res.params, LT_KM_SURV)
    close(res.std_errors, LT_KM_SE)  # Greenwood se of S
    ci = res.conf_int()
    close(ci["lower"], LT_KM_LOWER_LOG)
    close(ci["upper"], LT_KM_UPPER_LOG)
    np.testing.assert_array_equal(res.risk_table([6, 12, 24]).to_numpy().ravel(), LT_KM_NRISK)
    ll = km.fit(times=[6, 12, 24]).conf_int()  # default log-log
    close(ll["lower"], LT_KM_LOWER_LL)
    close(ll["upper"], LT_KM_UPPER_LL)


def test_lefttrunc_median_and_nelson_aalen():
    d = read("lefttrunc.csv")
    km = KaplanMeier(d, duration="stop", event="event", entry="entry").fit()
    assert km.median()["all"] == LT_MEDIAN
    na = NelsonAalen(d, duration="stop", event="event", entry="entry").fit(times=[6, 12, 24])
    close(na.params, LT_CUMHAZ)
    close(na.std_errors, LT_CUMHAZ_SE)


# ---------------------------------------------------------------------------------------
# Fixture 3: tvtreat.csv (programme starting during the spell, start–stop rows)
# ---------------------------------------------------------------------------------------
# f <- coxph(Surv(start, stop, event) ~ treated + age + female, data=tv, cluster=person_id)
TV_COEF = [0.5042409003596, -0.0170852926325, 0.1610111865785]
TV_ROBUST_SE = [0.15749539478004, 0.00607963073322, 0.14440345493517]
# cox.zph(f)$table
TV_ZPH_CHISQ = [0.000161911843541152, 0.396054417014543081, 0.201660695041582128,
                0.491602594712381991]  # fmt: skip
# f3 <- coxph(Surv(start, stop, event) ~ treated + age + female, data=tv, cluster=wijk,
#             ties="breslow")
TV_WIJK_COEF = [0.4862524502693, -0.0166203715439, 0.1543842446168]
TV_WIJK_SE = [0.14598329168941, 0.00369671126692, 0.15750075986153]
# piecewise effect by time since programme start: the frame from time_varying_effect(tv,
# cuts=[6, 12]) written to CSV, then (with treated_12+ renamed treated_12p)
# coxph(Surv(start, stop, event) ~ treated_0_6 + treated_6_12 + treated_12p + age + female,
#       data=sp, cluster=person_id)
TV_PW_COEF = [0.5585481005323827, 0.4851985710342201, 0.3726057536784952, -0.0170220660740012,
              0.1675496508107194]  # fmt: skip
TV_PW_SE = [0.1883651941819313, 0.2701740774815156, 0.3094398554574133, 0.0060489523087909,
            0.1437564830370155]  # fmt: skip


def test_time_varying_treatment_person_cluster():
    tv = read("tvtreat.csv")
    res = CoxPH(
        tv,
        duration="stop",
        event="event",
        entry="start",
        covariates=["treated", "age", "female"],
        cluster="person_id",
        id="person_id",
    ).fit()
    close(res.params, TV_COEF)
    close(res.std_errors, TV_ROBUST_SE)
    close(res.test_proportional_hazards()["chisq"], TV_ZPH_CHISQ)


def test_time_varying_treatment_cluster_on_wijk_breslow():
    tv = read("tvtreat.csv")
    res = CoxPH(
        tv,
        duration="stop",
        event="event",
        entry="start",
        covariates=["treated", "age", "female"],
        cluster="wijk",
        ties="breslow",
    ).fit()
    close(res.params, TV_WIJK_COEF)
    close(res.std_errors, TV_WIJK_SE)


def test_piecewise_effect_by_time_since_programme():
    tv = read("tvtreat.csv")
    sp, names = time_varying_effect(tv, cuts=[6, 12], cause=None)
    assert names == ["treated_0_6", "treated_6_12", "treated_12+"]
    # splitting keeps total time at risk and events
    assert np.isclose((sp.stop - sp.start).sum(), (tv.stop - tv.start).sum())
    assert sp.event.sum() == tv.event.sum()
    res = CoxPH(
        sp,
        duration="stop",
        event="event",
        entry="start",
        covariates=[*names, "age", "female"],
        cluster="person_id",
        id="person_id",
    ).fit()
    close(res.params, TV_PW_COEF)
    close(res.std_errors, TV_PW_SE)


# ---------------------------------------------------------------------------------------
# Fixture 4: lung (R built-in): strata, cluster on institution, log-rank, RMST
# ---------------------------------------------------------------------------------------
# f4 <- coxph(Surv(time, status) ~ age + ph.ecog + strata(sex), data=lung2, cluster=inst)
LUNG_STRATA_COEF = [0.0107084013906, 0.4690629418837]
LUNG_STRATA_SE = [0.00684626511178, 0.11109238482253]
# cox.zph(f4)$table[, "chisq"]
LUNG_STRATA_ZPH = [0.182346436548887, 2.516407554246787, 2.550285072124255]
# f5 <- coxph(Surv(time, status) ~ age + ph.ecog + sex, data=lung2);
# cox.zph(f5, transform="identity")$table[, "chisq"]
LUNG_COEF = [0.011232164214821, 0.469216397079841, -0.556593413976612]
LUNG_SE = [0.00926210540521359, 0.11429040215999856, 0.16807103087540165]
LUNG_ZPH_ID = [0.190257141163885, 1.825810319716481, 2.655061868292055, 4.553368027641883]
# survdiff(Surv(time, status) ~ sex, data=lung2): Chisq, Observed, Expected
LUNG_LR = (9.8863908, [110, 53], [90.134338, 72.865662])
# survdiff(Surv(time, status) ~ sex + strata(ph.ecog), data=lung2)
LUNG_LR_STRAT = (10.983015, [110, 53], [89.528836, 73.471164])
# summary(survfit(Surv(time,status) ~ sex, data=lung2), rmean=365)$table[, c("rmean",
# "se(rmean)")]
LUNG_RMST = {1: (242.140781152, 10.4204817776), 2: (297.465409532, 10.7913239788)}


def test_lung_strata_cluster_and_zph():
    lung = read("lung_complete.csv")
    res = CoxPH(
        lung, duration="time", event="status", covariates=["age", "ph.ecog"], strata="sex",
        cluster="inst",
    ).fit()  # fmt: skip
    close(res.params, LUNG_STRATA_COEF)
    close(res.std_errors, LUNG_STRATA_SE)
    close(res.test_proportional_hazards()["chisq"], LUNG_STRATA_ZPH)
    res2 = CoxPH(lung, duration="time", event="status", covariates=["age", "ph.ecog", "sex"]).fit()
    close(res2.params, LUNG_COEF)
    close(res2.std_errors, LUNG_SE)
    close(res2.test_proportional_hazards(transform="identity")["chisq"], LUNG_ZPH_ID)


def test_lung_logrank_and_stratified():
    lung = read("lung_complete.csv")
    lr = logrank_test(lung, "time", "status", "sex")
    close(lr.statistic, LUNG_LR[0], rtol=1e-6)
    close(lr.table["observed"], LUNG_LR[1])
    close(lr.table["expected"], LUNG_LR[2], rtol=1e-6)
    with pytest.warns(UserWarning, match="no one at risk"):
        lr2 = logrank_test(lung, "time", "status", "sex", strata="ph.ecog")
    close(lr2.statistic, LUNG_LR_STRAT[0], rtol=1e-6)
    close(lr2.table["expected"], LUNG_LR_STRAT[2], rtol=1e-6)


def test_lung_rmst_difference():
    lung = read("lung_complete.csv")
    res = rmst_difference(lung, "time", "status", "sex", horizon=365)
    by = res.by_group.set_index("group")
    for g, (m, se) in LUNG_RMST.items():
        close(by.loc[g, "rmst"], m)
        close(by.loc[g, "std_error"], se)
    close(res.params.iloc[0], LUNG_RMST[2][0] - LUNG_RMST[1][0])
    close(res.std_errors.iloc[0], np.hypot(LUNG_RMST[1][1], LUNG_RMST[2][1]))


# ---------------------------------------------------------------------------------------
# Fixture 5: competing.csv (work / education / other exits): cuminc and crr
# ---------------------------------------------------------------------------------------
# ci <- cuminc(d$ftime, d$cause, cencode=0); timepoints(ci, c(6,12,24))  (rows: causes 1-3)
CI_EST = [
    [0.2293562465903, 0.346696403052, 0.454137763063],
    [0.0611845335516, 0.105076048216, 0.178525938820],
    [0.0779371249318, 0.159295733256, 0.230129682175],
]
CI_VAR = [
    [0.00059643327149, 0.000814042635667, 0.001026412577000],
    [0.00019559478588, 0.000344307647541, 0.000633517796495],
    [0.00024378172182, 0.000488434138947, 0.000748847594449],
]
# cuminc(d$ftime, d$cause, group=d$x2, cencode=0): est and var for cause 1, groups 0 and 1
CI_G_EST = {0: [0.2093180609927, 0.294597972812, 0.357216300888],
            1: [0.2539485217946, 0.408847939923, 0.559331941768]}  # fmt: skip
CI_G_VAR = {0: [0.001022117762086, 0.001351467518245, 0.00182801273344],
            1: [0.001425407863130, 0.001952238693702, 0.00216647496178]}  # fmt: skip
# cv <- crr(d$ftime, d$cause, cov1=cbind(x1=d$x1, x2=d$x2), failcode=1, cencode=0,
#           gtol=1e-12); cv$coef; sqrt(diag(cv$var))
CRR_COEF = [0.410619541911, 0.535199608725]
CRR_SE = [0.0895021572415, 0.1810062625099]


def test_aalen_johansen_matches_cuminc():
    d = read("competing.csv")
    res = AalenJohansen(d, duration="ftime", cause="cause").fit(times=[6, 12, 24])
    close(res.params.to_numpy().reshape(3, 3), CI_EST)
    close((res.std_errors.to_numpy() ** 2).reshape(3, 3), CI_VAR)


def test_cif_difference_matches_cuminc_by_group():
    d = read("competing.csv")
    res = cif_difference(d, "ftime", "cause", "x2", cause_of_interest=1)
    close(res.by_group["CIF[1]"], CI_G_EST[1])
    close(res.by_group["CIF[0]"], CI_G_EST[0])
    close(res.params, np.subtract(CI_G_EST[1], CI_G_EST[0]))
    close(res.std_errors**2, np.add(CI_G_VAR[1], CI_G_VAR[0]))


def test_fine_gray_matches_crr():
    d = read("competing.csv")
    res = FineGray(
        d, duration="ftime", cause="cause", cause_of_interest=1, covariates=["x1", "x2"]
    ).fit()
    close(res.params, CRR_COEF)
    close(res.std_errors, CRR_SE)


def test_cause_specific_cox_equals_cox_on_indicator():
    d = read("competing.csv")
    cs = CoxPH.cause_specific(
        d, duration="ftime", cause="cause", cause_of_interest=2, covariates=["x1", "x2"]
    ).fit()
    d2 = d.assign(e=(d["cause"] == 2).astype(int))
    direct = CoxPH(d2, duration="ftime", event="e", covariates=["x1", "x2"]).fit()
    close(cs.params, direct.params, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Case weights (e.g. inverse probability weights) with robust errors, lefttrunc.csv
# ---------------------------------------------------------------------------------------
# d$w <- 0.5 + (d$team %% 4) / 2
# coxph(Surv(entry, stop, event) ~ x1 + x2, data=d, weights=w, cluster=team)
W_EFRON = ([0.4998521770240852, -0.0327409579594105], [0.0793972378019075, 0.1560870539075005])
# d$rid <- 1:nrow(d); coxph(Surv(entry, stop, event) ~ x1 + x2, data=d, weights=w,
#                           ties="breslow", cluster=rid)
W_BRESLOW = ([0.490881256586801, -0.033627544819382], [0.105941426172816, 0.173172539654080])


def test_weighted_cox_robust():
    d = read("lefttrunc.csv")
    d["w"] = 0.5 + (d["team"] % 4) / 2
    res = CoxPH(d, duration="stop", event="event", entry="entry", covariates=["x1", "x2"],
                weights="w", cluster="team").fit()  # fmt: skip
    close(res.params, W_EFRON[0])
    close(res.std_errors, W_EFRON[1])
    res = CoxPH(d, duration="stop", event="event", entry="entry", covariates=["x1", "x2"],
                weights="w", ties="breslow").fit(robust=True)  # fmt: skip
    close(res.params, W_BRESLOW[0])
    close(res.std_errors, W_BRESLOW[1])
