"""Conclusions in the reports follow the numbers (werkeffect.reports.wording).

The council text once said "a loss is not excluded" when the whole interval was a loss, "twice
as large" of a naive comparison with the opposite sign, and "no clear effect" of a pilot whose
interval excluded zero. The phrases are now chosen from the estimates; these tests hold each
branch, and render the council information on results where every conclusion flips.
"""

import json
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest

from werkeffect.reports import render_reports
from werkeffect.reports.demo import write_demo_results
from werkeffect.reports.helpers import Report
from werkeffect.reports.wording import interval_side, naive_versus_causal, net_result
from werkeffect.results.files import ResultsWriter


@pytest.mark.parametrize(
    ("lower", "upper", "null", "side"),
    [
        (0.01, 0.05, 0.0, "above"),
        (-0.05, -0.01, 0.0, "below"),
        (-0.01, 0.05, 0.0, "spans"),
        (0.0, 0.05, 0.0, "spans"),  # a bound on the null is not "clear"
        (1.2, 1.9, 1.0, "above"),  # hazard ratio
        (0.8, 1.2, 1.0, "spans"),
        (None, 0.05, 0.0, "unknown"),
        (float("nan"), 0.05, 0.0, "unknown"),
    ],
)
def test_interval_side(lower, upper, null, side):
    assert interval_side(lower, upper, null) == side


@pytest.mark.parametrize(
    ("naive", "causal", "nl", "en"),
    [
        (-0.122, 0.038, "heeft het omgekeerde teken van het effect",
         "has the opposite sign of the effect"),
        (0.10, 0.04, "is 2,5 keer zo groot als het effect", "is 2.5 times as large as the effect"),
        (0.05, 0.04, "is ongeveer even groot als het effect", "is about as large as the effect"),
        (0.01, 0.04, "is kleiner dan het effect", "is smaller than the effect"),
        (-0.08, -0.03, "is 2,7 keer zo groot als het effect",
         "is 2.7 times as large as the effect"),
        (0.05, 0.0, "", ""),
        (None, 0.04, "", ""),
    ],
)  # fmt: skip
def test_naive_versus_causal(naive, causal, nl, en):
    assert naive_versus_causal(naive, causal, "nl") == nl
    assert naive_versus_causal(naive, causal, "en") == en
    if nl:
        assert naive_versus_causal(naive, causal, "nl", than="de schatting").endswith(
            " de schatting"
        )


def test_net_result_says_loss_gain_or_both():
    assert net_result(-14.0e6, -9.8e6) == (
        "kost per saldo meer dan het aan uitkeringen bespaart: tussen € 9,8 miljoen en "
        "€ 14,0 miljoen"
    )
    assert net_result(1.0e6, 3.5e6) == "levert per saldo tussen € 1,0 miljoen en € 3,5 miljoen op"
    both = net_result(-0.7e6, 3.7e6)
    assert both.endswith("winst en verlies zijn allebei mogelijk") and "−0,7" in both
    assert net_result(-0.7e6, 3.7e6, "en").endswith("both a gain and a loss are possible")
    assert "onbekend" in net_result(None, 1.0)


def test_report_side_uses_one_for_ratios(tmp_path):
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    w.add_estimate("proef.hr", estimate=1.3, lower=1.1, upper=1.5, method="Cox",
                   scale="hazard_ratio")  # fmt: skip
    w.add_estimate("proef.att", estimate=0.02, lower=-0.01, upper=0.05, method="M",
                   scale="probability", primary=True)  # fmt: skip
    w.add_estimate("proef.att", estimate=0.09, lower=0.07, upper=0.11, method="naive",
                   naive=True, scale="probability")  # fmt: skip
    w.write()
    R = Report(tmp_path, "proef")
    assert R.side("proef.hr") == "above"
    assert R.side("proef.att") == "spans"
    assert R.side("proef.ontbreekt") == "unknown"
    assert R.naive_versus("proef.att") == "is 4,5 keer zo groot als het effect"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def _set(results, name, estimand, naive=False, **values):
    path = results / name / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    hits = [e for e in data["estimates"] if e["estimand"] == estimand and e["naive"] == naive]
    assert hits, estimand
    for e in hits:
        e.update(values)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def _add_method(results, name, estimand, method, **values):
    """A further (robustness) estimate of ``estimand`` by ``method``, copied from the
    primary one with ``values`` changed."""
    path = results / name / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    base = next(e for e in data["estimates"] if e["estimand"] == estimand and not e["naive"])
    data["estimates"] = [e for e in data["estimates"] if e["method"] != method]
    data["estimates"].append({**base, "method": method, "primary": False, **values})
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def _report_text(results, name, out):
    assert render_reports(name, to=["html"], results=results, out=out) == 0
    parser = _Text()
    parser.feed((out / f"{name}.html").read_text(encoding="utf-8"))
    return " ".join(" ".join(parser.parts).split())


def _council_text(results, out):
    return _report_text(results, "raadsinformatie", out)


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory):
    return write_demo_results(tmp_path_factory.mktemp("demo") / "results")


def test_council_conclusions_follow_the_numbers(demo_results, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(demo_results, results)
    # an unclear jobcoaching effect, a naive comparison 3 times as large, a net gain,
    # a WW effect that is not shown, a pilot without a clear effect
    _set(results, "jobcoaching", "jobcoaching.att_exit_work_12m",
         estimate=0.02, lower=-0.01, upper=0.05)  # fmt: skip
    _set(results, "jobcoaching", "jobcoaching.att_exit_work_12m", naive=True,
         estimate=0.06, lower=0.05, upper=0.07)  # fmt: skip
    _set(results, "jobcoaching", "jobcoaching.costs.net_benefit_eur",
         estimate=2.0e6, lower=1.0e6, upper=3.0e6)  # fmt: skip
    _set(results, "ww_naar_bijstand", "ww.att_inflow_6m", estimate=-0.01, lower=-0.03,
         upper=0.01)  # fmt: skip
    _set(results, "statushouders", "pilot.att_employed_12m", estimate=0.08, lower=-0.07,
         upper=0.23)  # fmt: skip
    text = _council_text(results, tmp_path / "out")
    assert "Of jobcoaching helpt, is niet zeker" in text
    assert "Jobcoaching helpt:" not in text
    assert "Jobcoaching levert per saldo tussen € 1,0 miljoen en € 3,0 miljoen op" in text
    assert "die uitkomst is 3,0 keer zo groot als het effect" in text and "te hoog uit" in text
    assert "komen niet aantoonbaar minder vaak in de bijstand" in text
    assert "geen duidelijk effect laat zien" in text
    assert "komt op 910; de meesten van hen hadden ook zonder jobcoaching werk gevonden" in text

    # the opposite: a clear effect, a naive comparison of the opposite sign, a net loss, a
    # clear pilot effect
    _set(results, "jobcoaching", "jobcoaching.att_exit_work_12m",
         estimate=0.04, lower=0.03, upper=0.05)  # fmt: skip
    _set(results, "jobcoaching", "jobcoaching.att_exit_work_12m", naive=True,
         estimate=-0.12, lower=-0.13, upper=-0.11)  # fmt: skip
    _set(results, "jobcoaching", "jobcoaching.costs.net_benefit_eur",
         estimate=-12.0e6, lower=-14.0e6, upper=-10.0e6)  # fmt: skip
    _set(results, "statushouders", "pilot.att_employed_12m", estimate=0.2, lower=0.01,
         upper=0.39)  # fmt: skip
    text = _council_text(results, tmp_path / "out2")
    assert "Jobcoaching helpt:" in text
    assert "kost per saldo meer dan het aan uitkeringen bespaart: tussen € 10,0 miljoen" in text
    assert "die uitkomst heeft het omgekeerde teken van het effect" in text
    assert "te laag uit" in text
    assert "Het interval ligt boven nul, dus de pilot lijkt te helpen" in text
    assert "de ondergrens ligt dicht bij nul" in text  # 0.01 against 0.2
    assert "Een strengere vergelijking" not in text  # no caliper estimate in these results
    # hidden selection: the demo's critical Gamma 1.3
    assert "een 1,3 keer zo grote kans heeft om mee te doen" in text
    assert "niet uitgesloten" not in text and "twee keer zo groot als" not in text
    # extra exits that may be more than half the participants' count: not "most"
    _set(results, "programma", "programma.extra_exits_work", estimate=500, lower=400, upper=600)
    # the robustness checks the council text quotes: the pilot within a caliper, the WW
    # approach with whole municipalities as clusters; each sentence follows its interval
    caliper = "nearest-neighbour matching within a caliper of 0.2 SD"
    cautious = "DiD (TWFE, wild cluster bootstrap, municipalities; conservative)"
    _add_method(results, "statushouders", "pilot.att_employed_12m", caliper,
                estimate=0.18, lower=-0.003, upper=0.364)  # fmt: skip
    _set(results, "ww_naar_bijstand", "ww.att_inflow_6m", estimate=-0.038, lower=-0.059,
         upper=-0.017)  # fmt: skip
    _add_method(results, "ww_naar_bijstand", "ww.att_inflow_6m", cautious,
                estimate=-0.038, lower=-0.077, upper=-0.0003)  # fmt: skip
    text = _council_text(results, tmp_path / "out3")
    assert "komt op 910; een deel van hen had ook zonder jobcoaching" in text
    assert "laat geen duidelijk effect zien (tussen −0,3 en 36,4 procentpunt)" in text
    assert "Groningen is de enige gemeente met deze aanpak" in text
    assert "geeft tussen −7,7 en −0,03 procentpunt; ook dan blijft het interval onder nul" in text
    _add_method(results, "statushouders", "pilot.att_employed_12m", caliper,
                estimate=0.18, lower=0.02, upper=0.34)  # fmt: skip
    _add_method(results, "ww_naar_bijstand", "ww.att_inflow_6m", cautious,
                estimate=-0.038, lower=-0.08, upper=0.004)  # fmt: skip
    text = _council_text(results, tmp_path / "out4")
    assert "Een strengere vergelijking" not in text
    assert "geeft tussen −8,0 en 0,4 procentpunt: ook geen effect past dan bij de gegevens" in text


def test_rosenbaum_sentence_when_the_bound_is_not_reached(demo_results, tmp_path):
    """Without a critical Gamma the pilot report says why, instead of 'a factor niet
    beschikbaar'."""
    results = tmp_path / "results"
    shutil.copytree(demo_results, results)
    path = results / "statushouders" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["values"].pop("rosenbaum_gamma")
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    text = _report_text(results, "statushouders", tmp_path / "out")
    # the demo pilot's p at Gamma = 1 is 0.19
    assert "ook zonder verborgen selectie is het resultaat niet van nul te onderscheiden" in text
    assert "factor niet beschikbaar" not in text


def test_proportional_hazards_sentence_follows_the_test(demo_results, tmp_path):
    """The jobcoaching report says whether the PH test speaks against a constant effect of
    jobcoaching, and for how many other characteristics it does."""
    text = _report_text(demo_results, "jobcoaching", tmp_path / "out")
    assert "Voor jobcoaching wijst de toets daar niet tegen (p = 0,18)" in text
    assert "Voor 1 van de 2 andere kenmerken wel" in text
    results = tmp_path / "results"
    shutil.copytree(demo_results, results)
    table = results / "jobcoaching" / "tables" / "ph_test.parquet"
    ph = pd.read_parquet(table)
    ph.loc[ph["covariate"] == "treated", "p"] = 0.004
    ph.to_parquet(table)
    text = _report_text(results, "jobcoaching", tmp_path / "out2")
    assert "Voor jobcoaching wijst de toets erop dat het effect met de duur verandert" in text
    assert "(p = 0,004)" in text and "wijst daar niet tegen" not in text


def test_parallel_trends_breakdown_follows_the_table():
    from werkeffect.reports.wording import parallel_trends_breakdown

    def table(lowers, uppers):
        return pd.DataFrame({"M": [0.0, 0.5, 1.0], "lower": lowers, "upper": uppers})

    breaks = table([-0.06, -0.13, -0.24], [-0.02, 0.09, 0.19])
    assert parallel_trends_breakdown(breaks).startswith("Bij M = 0,5 bevat het interval nul al")
    assert "At M = 0.5 the interval already" in parallel_trends_breakdown(breaks, "en")
    holds = table([-0.06, -0.05, -0.04], [-0.02, -0.01, -0.005])
    assert parallel_trends_breakdown(holds).startswith(
        "Ook bij M = 1,0 bevat het interval nul niet"
    )
    at_zero = table([-0.06, -0.13, -0.24], [0.02, 0.09, 0.19])
    assert "M = 0" in parallel_trends_breakdown(at_zero)
    assert parallel_trends_breakdown(None) == ""


def test_programme_budgets_are_the_two_programmes(demo_results, tmp_path):
    """The Werkprogramma 2020–2022 had € 4,5 miljoen over three years, the Werk- en
    ontwikkelprogramma 2022–2025 € 2,5 miljoen a year (brief, seeds 000/001); the monitor once
    gave the second budget to the first programme."""
    text = _report_text(demo_results, "programma", tmp_path / "out")
    assert "Het Werkprogramma (2020–2022, € 4,5 miljoen over drie jaar)" in text
    assert "Werk- en ontwikkelprogramma dat erop volgt (2022–2025, € 2,5 miljoen per jaar)" in text


def test_jobcoaching_report_names_the_evalue_durable_work_and_costs_for_what_they_are(
    demo_results, tmp_path
):
    """The review's findings: the E-value was the Cox ratio's (which the report calls biased)
    and not the primary one's; the durable-exit estimate came from dynamic matching without
    saying so or that it is probably too high; "een extra uitstromer kost" was the gross
    programme cost per extra exit."""
    text = _report_text(demo_results, "jobcoaching", tmp_path / "out")
    # E-value: of the primary (timing-of-events) ratio, with what it means for that model
    assert (
        "De E-waarde van de primaire hazard ratio (1,42, timing-of-events-model) is 1,9 (voor "
        "de ondergrens van het interval 1,3)" in text
    )
    assert "De E-waarde gaat over een factor daarbuiten" in text
    assert "Ter vergelijking: de Cox-hazard ratio (1,61) laat geen onbekende persoonlijke " in text
    assert "haar E-waarde is 2,3 (voor de intervalgrens 2,2)" in text
    assert "De E-waarde van de Cox-hazard ratio is" not in text
    # durable work: apart, from dynamic matching, assumptions and direction of the bias said
    assert "Duurzaam werk (aanvullend, geen hoofdresultaat)" in text
    assert "Volgens dynamische matching (Sianesi) is dat 3,8 procentpunt" in text
    assert "Dit is geen hoofdresultaat" in text
    assert "alleen afhangt van geregistreerde kenmerken" in text
    assert "deze schatting is daardoor waarschijnlijk te hoog" in text
    assert (
        "Dezelfde methode schat de extra kans op werk binnen 12 maanden op 7,2 procentpunt, "
        "het primaire model, dat een onbekende persoonlijke factor zoals motivatie toelaat, op "
        "6,1 procentpunt; ook daar ligt de schatting van dynamische matching hoger." in text
    )
    # costs: the gross programme cost per extra exit named as such, the net one beside it
    assert "een extra uitstromer kost € 39.336" not in text
    assert (
        "Aan programmakosten alleen (bruto, zonder de bespaarde uitkeringen) kost een extra "
        "uitstromer € 39.336 (tussen € 24.996 en € 92.260)" in text
    )
    assert (
        "Na aftrek van de bespaarde uitkeringen levert een extra uitstromer per saldo € 7.375 "
        "op (tussen € −23.005 en € 50.954; een negatief bedrag is een besparing)" in text
    )
    assert "Nettokosten per extra uitstromer" in text
    english = tmp_path / "en"
    assert render_reports("jobcoaching", to=["html"], results=demo_results, out=english,
                          lang="en") == 0  # fmt: skip
    parser = _Text()
    parser.feed((english / "jobcoaching-en.html").read_text(encoding="utf-8"))
    en = " ".join(" ".join(parser.parts).split())
    assert "The E-value of the primary hazard ratio (1.42, timing-of-events model) is 1.9" in en
    assert "this estimate is therefore probably too high" in en
    assert "In programme cost alone (gross, without the benefit saved) one extra exit costs" in en
    assert "Net of the benefit saved, one extra exit saves €7,375" in en
