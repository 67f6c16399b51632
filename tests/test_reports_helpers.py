"""Dutch formatting and the report helpers (no kernel needed)."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from werkeffect.reports.helpers import (
    Report,
    fmt_date,
    fmt_euro,
    fmt_interval,
    fmt_month,
    fmt_num,
    fmt_pct,
    fmt_value,
    markdown_table,
)
from werkeffect.results.files import ResultsWriter


def test_dutch_numbers():
    assert fmt_num(1234567.891, 2) == "1.234.567,89"
    assert fmt_num(1234567.891, 2, lang="en") == "1,234,567.89"
    assert fmt_num(-0.04, 1) == "0,0"  # no negative zero
    assert fmt_num(-1234.5, 1) == "−1.234,5"
    assert fmt_num(None) == "niet beschikbaar"
    assert fmt_num(float("nan"), lang="en") == "not available"
    assert fmt_num(math.inf) == "onbegrensd"
    assert fmt_pct(0.1234) == "12,3%"
    assert fmt_pct(0.061, points=True) == "6,1 procentpunt"
    assert fmt_euro(4218000) == "€ 4.218.000"
    assert fmt_euro(-1945000, millions=True) == "€ −1,9 miljoen"
    assert fmt_interval(0.026, 0.096, fmt_pct) == "tussen 2,6% en 9,6%"
    assert fmt_interval(1.15, 1.75, decimals=2, lang="en") == "between 1.15 and 1.75"
    # a bound just off zero keeps its sign and a digit: whether zero is inside is what counts
    assert fmt_interval(-7.72, -0.0297, decimals=1) == "tussen −7,7 en −0,03"
    assert fmt_interval(-0.0772, -0.0003, fmt_pct, points=True) == (
        "tussen −7,7 procentpunt en −0,03 procentpunt"
    )
    assert fmt_interval(-7.72, 0.0, decimals=1) == "tussen −7,7 en 0,0"  # zero is zero
    assert fmt_interval(-7.72, 1e-9, decimals=1) == "tussen −7,7 en 0,0"  # at most 3 more
    assert fmt_date("2019-10-01") == "1 oktober 2019"
    assert fmt_date("2019-10-01", "en") == "1 October 2019"
    assert fmt_month("2020-01") == "januari 2020"
    assert fmt_month("2020-01-09", "en") == "January 2020"
    assert fmt_value(1.423, "hazard_ratio") == "1,42"
    assert fmt_value(22.0, "months") == "22,0 maanden"


def test_markdown_table_marks_suppressed_cells():
    from werkeffect.disclosure import DisclosurePolicy, OutputCheckLog, check_table
    from werkeffect.reports.helpers import suppressed_cells

    df = pd.DataFrame(
        {
            "wijk": ["a", "b", "c"],
            "jaar": [2019, 2020, 2021],
            "n": [120, 4, 55],
            "rate": [0.25, 0.5, None],
        }
    )
    log = OutputCheckLog()
    safe = check_table(df, "t", policy=DisclosurePolicy(secondary=False), log=log)
    md = markdown_table(safe, count_columns=["n"], suppressed=suppressed_cells(safe, log.entries))
    lines = md.splitlines()
    assert lines[0] == "| Wijk | Jaar | Aantal | Rate |"
    assert "| a | 2019 | 120 | 0,25 |" in lines  # no thousands point in a year
    assert "| b | 2020 | <10 | x |" in lines  # suppressed count and statistic
    assert "| c | 2021 | 55 | – |" in lines  # missing, not suppressed


@pytest.fixture()
def results(tmp_path):
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    w.add_estimate(
        "proef.att",
        estimate=0.061,
        lower=0.026,
        upper=0.096,
        method="ToE",
        primary=True,
        scale="probability",
        n_treated=120,
        n_control=900,
        label_nl="Extra uitstroom",
    )
    w.add_estimate(
        "proef.att",
        estimate=0.142,
        lower=0.118,
        upper=0.166,
        method="naive: ever versus never",
        method_nl="naïef: ooit tegenover nooit",
        naive=True,
        scale="probability",
        label_nl="Extra uitstroom",
    )
    w.add_estimate(
        "proef.voor_na",
        estimate=0.2,
        lower=0.1,
        upper=0.3,
        method="naive: before versus after",
        naive=True,
        scale="probability",
        label_nl="Naïeve vergelijking: vóór en na",
        label_en="Naive comparison: before and after",
    )
    w.add_estimate(
        "proef.klein", estimate=0.4, lower=0.1, upper=0.7, method="M", n_treated=4, n_control=40
    )
    w.write()
    return tmp_path


def test_report_reads_and_degrades_gracefully(results):
    R = Report(results, "proef")
    assert R.sentence("proef.att") == (
        "6,1 procentpunt (95%-interval: tussen 2,6 en 9,6 procentpunt)"
    )
    assert R.fmt("proef.att", naive=True) == "14,2 procentpunt"
    assert "niet beschikbaar" in R.sentence("proef.bestaat_niet")
    assert "onderdrukt" in R.sentence("proef.klein")
    assert "Niet beschikbaar" in R.table("geen_tabel")
    assert "Niet beschikbaar" in R.figure("geen_figuur")
    assert R.ref("fig", "geen_figuur") == "(figuur niet beschikbaar)"
    table = R.estimates_table()
    assert "naïeve vergelijking" in table and "#tbl-schattingen" in table
    # the primary and the naive estimate of one estimand sit next to each other
    rows = [r for r in table.splitlines() if r.startswith("| Extra")]
    assert "primair" in rows[0] and "naïeve" in rows[1]
    # the method in the report's language where the results name it so, else as stored
    assert "naïef: ooit tegenover nooit" in rows[1] and "ToE" in rows[0]
    # a label that already says it is naive is not told so twice
    assert "| Naïeve vergelijking: vóór en na |" in table
    english = Report(results, "proef", "en").estimates_table()
    assert "| Naive comparison: before and after |" in english
    assert "naive: ever versus never" in english and "naïef" not in english
    missing = Report(results, "ontbreekt")
    assert "ontbreken" in missing.missing_results()
    assert missing.fmt("x") == "niet beschikbaar"
    assert Report(results, "proef", "en").sentence("proef.att").startswith("6.1 percentage")


def test_p_values_never_show_as_zero():
    from werkeffect.reports.helpers import fmt_p

    assert fmt_p(0.37) == "0,37"
    assert fmt_p(0.004) == "0,004"
    assert fmt_p(0.0001) == "< 0,001"
    assert fmt_p(0.0001, "en") == "< 0.001"
    assert fmt_p(None) == "niet beschikbaar"


def test_markdown_table_p_values_and_yes_no():
    df = pd.DataFrame({"covariate": ["x", "z"], "p": [3.7e-12, 0.21], "post": [True, False]})
    lines = markdown_table(df).splitlines()
    assert lines[0] == "| Kenmerk | P-waarde | Na de start |"
    assert "| x | < 0,001 | ja |" in lines and "| z | 0,21 | nee |" in lines
    assert "| x | < 0.001 | yes |" in markdown_table(df, lang="en").splitlines()


@pytest.fixture()
def flow_results(tmp_path):
    from werkeffect.data.flow import DataFlow

    flow = DataFlow()
    flow.add("read", "spells", 9930, 9930, "read spells.parquet", "ingelezen: spells.parquet")
    flow.add(
        "episodes: window",
        "spells",
        9930,
        8200,
        "spells ended before window_start 2015-01-01 dropped",
        "uitkeringsperioden die vóór 1 januari 2015 eindigden vallen af",
    )
    flow.add("own step", "ladder", 50, 40, "an English reason only")
    ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32, flow=flow).write()
    return tmp_path


def test_dutch_flow_table_shows_the_dutch_reason_and_names(flow_results):
    table = Report(flow_results, "proef").flow_table()
    assert "| Stap | Tabel | Rijen in | Rijen uit | Verwijderd | Reden |" in table
    assert (
        "| inlezen | uitkeringsperioden | 9.930 | 9.930 | 0 | ingelezen: spells.parquet |" in table
    )
    assert "| episodes: venster | uitkeringsperioden |" in table
    assert "vóór 1 januari 2015 eindigden vallen af" in table
    assert "read spells.parquet" not in table and "window_start" not in table
    # a step without a Dutch reason shows the English one; an unknown name shows as is
    assert "| own step | participatieladder | 50 | 40 | 10 | an English reason only |" in table
    assert "reason" not in table.lower().replace("an english reason only", "")


def test_english_flow_table_shows_the_english_reason(flow_results):
    table = Report(flow_results, "proef", "en").flow_table()
    assert "| read | spells | 9,930 | 9,930 | 0 | read spells.parquet |" in table
    assert "spells ended before window_start 2015-01-01 dropped" in table
    assert "ingelezen" not in table and "uitkeringsperioden" not in table
    assert "Reason nl" not in table and "reason_nl" not in table


def test_flow_figure_has_its_caption_in_the_reports_language(flow_results, monkeypatch):
    import re

    import matplotlib

    from werkeffect.reports._kernel import FIGURE_DIR_ENV

    matplotlib.use("Agg")
    monkeypatch.setenv(FIGURE_DIR_ENV, str(flow_results / "figuren"))
    nl = Report(flow_results, "proef").flow_figure()
    en = Report(flow_results, "proef", "en").flow_figure()
    assert nl.strip().startswith("![Datastroom van extract") and nl.strip().endswith(
        "{#fig-dataflow}"
    )
    assert en.strip().startswith("![Data flow from extract to analysis]")
    paths = [re.search(r"\]\((.*?\.svg)\)", x).group(1) for x in (nl, en)]
    assert all(Path(p).is_file() for p in paths) and paths[0] != paths[1]  # other words
    # the same flow gives the same file: a re-render reads the same image
    assert Report(flow_results, "proef").flow_figure() == nl
    assert "Niet beschikbaar" in Report(flow_results, "ontbreekt").flow_figure()


def test_flow_figure_goes_to_the_folder_the_render_names(flow_results, tmp_path, monkeypatch):
    import matplotlib

    from werkeffect.reports._kernel import FIGURE_DIR_ENV

    matplotlib.use("Agg")
    monkeypatch.setenv(FIGURE_DIR_ENV, str(tmp_path / "figuren"))
    md = Report(flow_results, "proef").flow_figure()
    svgs = list((tmp_path / "figuren").glob("*.svg"))
    assert len(svgs) == 1 and f"]({svgs[0]})" in md


def test_flow_diagram_speaks_the_reports_language(flow_results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def texts(lang):
        fig = Report(flow_results, "proef", lang).flow_diagram()
        out = "\n".join(t.get_text() for t in fig.axes[0].texts)
        plt.close(fig)
        return out

    nl, en = texts("nl"), texts("en")
    assert "episodes: venster (uitkeringsperioden)" in nl and "vóór 1 januari" in nl
    assert "window_start" not in nl
    assert "episodes: window (spells)" in en and "spells ended before" in en


@pytest.fixture()
def split_flow_results(tmp_path):
    """The jobcoaching flow's two troubles: a step that adds rows (episodes split at the
    programme start) and a step that drops fewer than 10 rows (so every row count is rounded),
    with exact counts in the reasons."""
    from werkeffect.data.flow import DataFlow

    flow = DataFlow()
    flow.add("read", "spells", 33_678, 33_678, "read spells.parquet", "ingelezen: spells.parquet")
    flow.add("episodes: split", "spells", 33_678, 44_915,
             "spells split into start–stop rows (22,775 exits)",
             "uitkeringsperioden gesplitst in start-stoprijen (22.775 keer uitstroom)")  # fmt: skip
    flow.add("timing-of-events job spells", "exits to work", 9_931, 9_923,
             "job spells of zero length left out",
             "werkperioden van nul dagen weggelaten")  # fmt: skip
    ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32, flow=flow).write()
    return tmp_path


def test_flow_table_says_rows_added_and_which_counts_are_rounded(split_flow_results):
    """The table once showed "Verwijderd −11.240" for a step that adds rows, and the report
    said "alle aantallen in de datastroom zijn afgerond" beside an exact 22.775 in a reason,
    while the provenance table said "Afronding aantallen: geen"."""
    import json

    data = json.loads((split_flow_results / "proef" / "results.json").read_text())
    assert data["disclosure"]["flow_rounding"] == 10 and data["disclosure"]["rounding"] is None
    R = Report(split_flow_results, "proef")
    table = R.flow_table()
    assert (
        "| episodes: splitsen | uitkeringsperioden | 33.680 | 44.920 | – | 11.240 rijen erbij: "
        "uitkeringsperioden gesplitst in start-stoprijen (22.775 keer uitstroom) |" in table
    )
    assert "−11.240" not in table and "-11.240" not in table
    assert "| uitstroom naar werk | 9.930 | 9.920 | <10 |" in table  # suppressed, not "–"
    assert (
        "(aantallen rijen afgerond op veelvouden van 10; aantallen in de kolom Reden niet "
        "afgerond)" in table
    )
    repro = R.reproducibility()
    assert "| Afronding aantallen | rijen in de datastroom op veelvouden van 10" in repro
    assert "rijen); andere aantallen niet afgerond |" in repro
    note = R.disclosure_log()
    assert "alle aantallen in de datastroom" not in note
    assert "de aantallen rijen van alle stappen (Rijen in, Rijen uit, Verwijderd) zijn " in note
    assert "De aantallen in de kolom Reden zijn niet afgerond." in note
    en = Report(split_flow_results, "proef", "en")
    assert "| 33,680 | 44,920 | – | 11,240 rows added: spells split" in en.flow_table()
    assert "rows of the data flow to multiples of 10" in en.reproducibility()


def test_flow_diagram_says_rows_added_not_a_negative_removal(split_flow_results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = Report(split_flow_results, "proef").flow_diagram()
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert any(t.startswith("11.240 rijen erbij: ") for t in texts)
    assert any(t.startswith("verwijderd: <10\n") for t in texts)
    assert not any("−" in t or "verwijderd: -" in t for t in texts)


def test_without_a_small_drop_the_flow_is_exact_and_says_no_rounding(flow_results):
    R = Report(flow_results, "proef")
    assert R.flow_rounding is None
    assert "afgerond" not in R.flow_table()
    assert "| Afronding aantallen | geen |" in R.reproducibility()


def test_provenance_names_both_roundings_when_they_differ(tmp_path):
    """Counts rounded to 5 by the policy, the flow's rows to 10 for a small drop."""
    from werkeffect.data.flow import DataFlow

    flow = DataFlow()
    flow.add("population", "spells", 9_931, 9_928, "three left out", "drie weggelaten")
    ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32, flow=flow,
                  rounding=5).write()  # fmt: skip
    R = Report(tmp_path, "proef")
    assert R.flow_rounding == 10
    # a results file written before disclosure.flow_rounding was stored: read from its flow
    path = tmp_path / "proef" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["disclosure"]["flow_rounding"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Report(tmp_path, "proef").flow_rounding == 10
    assert (
        "| Afronding aantallen | rijen in de datastroom op veelvouden van 10 (een stap "
        "verwijderde minder dan 10 rijen); andere aantallen op veelvouden van 5 |"
    ) in R.reproducibility()


def test_an_old_flow_record_shows_the_english_reason_in_a_dutch_report(flow_results):
    import json

    path = flow_results / "proef" / "results.json"
    data = json.loads(path.read_text())
    for r in data["flow"]:
        del r["reason_nl"]
    path.write_text(json.dumps(data))
    table = Report(flow_results, "proef").flow_table()
    assert "| inlezen | uitkeringsperioden | 9.930 | 9.930 | 0 | read spells.parquet |" in table


def test_a_break_even_beyond_the_period_followed_is_said_in_words(tmp_path):
    """A break-even horizon the savings do not reach is stored as +inf; the report says it
    lies beyond the period followed (not "onbegrensd", and never "tussen onbegrensd en
    onbegrensd")."""
    w = ResultsWriter("kosten", tmp_path, title="Kosten", fingerprint="ab" * 32)
    for key, lower, upper in (
        ("kosten.nooit", math.inf, math.inf),
        ("kosten.misschien", 14.0, math.inf),
        ("kosten.binnen", 14.0, 20.0),
    ):
        est = 17.0 if math.isfinite(upper) else upper
        w.add_estimate(key, estimate=est, lower=lower, upper=upper, method="M", scale="months")
    w.write()
    R = Report(tmp_path, "kosten")
    assert R.fmt("kosten.nooit") == "niet binnen de gevolgde periode"
    assert R.interval("kosten.nooit") == "niet binnen de gevolgde periode"
    assert R.interval("kosten.misschien") == "14,0 maanden of later"
    assert R.interval("kosten.binnen") == "tussen 14,0 en 20,0 maanden"
    assert R.fmt("kosten.binnen") == "17,0 maanden"
    table = R.estimates_table()
    assert "onbegrensd" not in table and "14,0 maanden of later" in table
    en = Report(tmp_path, "kosten", "en")
    assert en.interval("kosten.nooit") == "not within the period followed"
    assert en.interval("kosten.misschien") == "14.0 months or later"


def test_a_set_amount_has_no_interval(tmp_path):
    """Programme cost is a parameter times the participants: no statistical uncertainty, so
    no 'between 19.1 million and 19.1 million'."""
    w = ResultsWriter("kosten", tmp_path, title="Kosten", fingerprint="ab" * 32)
    w.add_estimate(
        "kosten.prijs", estimate=19.1e6, lower=19.1e6, upper=19.1e6, method="M", scale="euro"
    )
    w.add_estimate("kosten.baat", estimate=7.3e6, lower=4.7e6, upper=1e7, method="M", scale="euro")
    w.write()
    R = Report(tmp_path, "kosten")
    assert R.interval("kosten.prijs") == "vast (geen statistische onzekerheid)"
    assert "95%" not in R.sentence("kosten.prijs")
    row = [r for r in R.estimates_table().splitlines() if r.startswith("| kosten.prijs")]
    assert "| vast (geen statistische onzekerheid) |" in row[0] and "tussen" not in row[0]
    assert R.interval("kosten.baat").startswith("tussen")
    # no naive comparison among these estimates, so the caption does not promise one
    assert "Schattingen met 95%-interval" in R.estimates_table()
    assert "naïeve" not in R.estimates_table()
    assert Report(tmp_path, "kosten", "en").interval("kosten.prijs").startswith("fixed")


def test_an_estimate_without_spread_is_not_called_a_set_amount(tmp_path):
    """lower = upper on a scale other than euros is an estimate without spread (e.g. every
    outcome the same), not a cost parameter: the report says so instead of 'vast'."""
    w = ResultsWriter("nul", tmp_path, title="Nul", fingerprint="ab" * 32)
    w.add_estimate("nul.att", estimate=0.0, lower=0.0, upper=0.0, method="M", scale="probability")
    w.write()
    R = Report(tmp_path, "nul")
    assert R.interval("nul.att") == "geen spreiding (interval van één punt)"
    assert "vast" not in R.sentence("nul.att") and "95%" not in R.sentence("nul.att")
    assert Report(tmp_path, "nul", "en").interval("nul.att").startswith("no spread")


def test_an_estimate_stored_without_interval_says_so(tmp_path):
    """An analysis may store an estimate without interval (the method gives no usable one,
    e.g. Callaway-Sant'Anna with one treated municipality): the report says 'geen interval',
    never 'niet beschikbaar' or 'tussen ...', and a sentence promises no 95% interval."""
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="ab" * 32)
    w.add_estimate("proef.att", estimate=-0.038, method="CS", scale="probability")
    w.write()
    R = Report(tmp_path, "proef")
    assert R.interval("proef.att") == "geen interval"
    assert R.sentence("proef.att") == "−3,8 procentpunt (geen interval)"
    row = [r for r in R.estimates_table().splitlines() if r.startswith("| proef.att")]
    assert "| geen interval |" in row[0]
    assert "tussen" not in row[0] and "beschikbaar" not in row[0]
    assert Report(tmp_path, "proef", "en").interval("proef.att") == "no interval"
    assert R.side("proef.att") == "unknown"


def test_a_note_shown_in_the_text_is_left_out_of_the_notes(tmp_path):
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="ab" * 32)
    w.add_note("Werk is niet geschat.", "Work is not estimated.", name="work")
    w.add_note("Kosten zijn een aanname.", "Costs are assumed.", name="costs")
    w.write()
    R = Report(tmp_path, "proef")
    assert R.note("work") == "Werk is niet geschat."
    assert Report(tmp_path, "proef", "en").note("work") == "Work is not estimated."
    assert R.note("ontbreekt") == "" and Report(tmp_path, "leeg").note("work") == ""
    assert "Werk is niet geschat." in R.notes()
    notes = R.notes(exclude=["work"])
    assert "Werk is niet geschat." not in notes and "Kosten zijn een aanname." in notes


def test_covariates_are_named_in_words(tmp_path):
    """Balance and PH tables store the analyses' column names; reports show words."""
    from werkeffect.reports.labels import covariate_label

    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    balance = pd.DataFrame(
        {
            "covariate": ["x_barrier_health", "household_paar_kinderen", "age_55p", "nieuw"],
            "type": ["binary", "binary", "binary", "continuous"],
            "smd": [0.1, -0.05, 0.0, 0.2],
        }
    )
    w.add_table("balance", balance, caption_nl="Balans", caption_en="Balance")
    w.write()
    nl = Report(tmp_path, "proef").table("balance")
    assert "| gezondheidsproblemen | 0/1 |" in nl
    assert "| huishouden: paar met kinderen | 0/1 |" in nl
    assert "| 55 jaar of ouder |" in nl
    assert "| nieuw | doorlopend |" in nl  # an unknown name stays as it is
    en = Report(tmp_path, "proef", "en").table("balance")
    assert "| health problems | binary |" in en and "| household: couple with children |" in en
    assert covariate_label("education_laag") == "opleiding: laag"
    assert covariate_label("sex_V", "en") == "female"


def test_estimator_warnings_are_introduced_as_such(tmp_path):
    import warnings

    from werkeffect.analysis import note_warnings

    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    w.add_note("De pilot begon in 2021.", "The pilot began in 2021.", name="warning:start")
    with pytest.raises(ValueError, match="kind must be"):
        w.add_note("x", kind="melding")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("15 treated unit(s) have no overlap", stacklevel=1)
    note_warnings(w, caught, "matching binnen een caliper", "matching within a caliper")
    w.write()
    nl = Report(tmp_path, "proef").notes()
    lines = [ln for ln in nl.splitlines() if ln]
    assert [n["kind"] for n in w.notes] == ["note", "warning"]  # the kind, not the name
    assert lines[0] == "- De pilot begon in 2021."
    assert lines[1].startswith("Meldingen van de schattingsmethoden") and "Engels" in lines[1]
    # a warning without a Dutch text is shown wholly in English, its step too, and the
    # lead-in says so
    assert lines[2] == "- matching within a caliper: 15 treated unit(s) have no overlap"
    en = Report(tmp_path, "proef", "en").notes()
    assert "- The pilot began in 2021." in en and "Messages from the estimation" in en
    assert Report(tmp_path, "ontbreekt").notes() == ""


def test_an_estimators_dutch_warning_reaches_the_dutch_report(tmp_path):
    """A warning with a Dutch text (EstimationWarning.nl) is shown in Dutch, and the lead-in
    no longer says 'in English'; the English report keeps the English text."""
    import warnings

    from werkeffect.analysis import note_warnings
    from werkeffect.did._checks import warn_few_clusters

    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_few_clusters(7, "wild", stacklevel=1)
    note_warnings(w, caught, "DiD gemeenteclusters", "DiD, municipality clusters")
    w.write()
    nl = [ln for ln in Report(tmp_path, "proef").notes().splitlines() if ln]
    assert nl[0] == "Meldingen van de schattingsmethoden (technisch):"
    assert nl[1] == (
        "- DiD gemeenteclusters: slechts 7 clusters: clustergecorrigeerde standaardfouten zijn "
        "onbetrouwbaar bij minder dan 30; daarom wordt de wild cluster bootstrap gebruikt"
    )
    en = Report(tmp_path, "proef", "en").notes()
    assert "- DiD, municipality clusters: only 7 clusters: cluster-robust standard" in en


def test_matching_warnings_carry_dutch_text():
    """The overlap and unmatched warnings of nearest-neighbour matching say it in Dutch too,
    with Dutch numbers; pickling (joblib workers) keeps the Dutch text."""
    import pickle
    import warnings

    import numpy as np

    from werkeffect.exceptions import EstimationWarning
    from werkeffect.matching import NearestNeighborMatch

    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(2.5, 1, 30), rng.normal(0, 1, 300)]
    df = pd.DataFrame({"d": np.r_[np.ones(30), np.zeros(300)].astype(int), "x": x})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NearestNeighborMatch(df, "d", ["x"], replace=True).fit()  # overlap
        NearestNeighborMatch(df, "d", ["x"], caliper=0.05).fit()  # unmatched
    ours = [c.message for c in caught if isinstance(c.message, EstimationWarning)]
    texts = [m.nl for m in ours]
    outside = [t for t in texts if "buiten het bereik van de vergelijkingsgroep" in t]
    # the words give no score range: its ends would be two persons' scores
    assert outside and not any(ch.isdigit() for ch in outside[0].split("vergelijkingsgroep")[1])
    assert any("zonder match (geen vergelijkingspersoon binnen de caliper" in t for t in texts)
    again = pickle.loads(pickle.dumps(ours[0]))
    assert again.nl == ours[0].nl and str(again) == str(ours[0])


def test_shares_show_as_percentages_and_differences_as_points():
    df = pd.DataFrame({"groep": ["a", "b"], "vrouw": [0.4816, 0.3], "effect": [0.05, 0.1]})
    md = markdown_table(df, percent=["vrouw"], points=["effect"])
    assert "| a | 48,2% | 5,0 |" in md and "| b | 30,0% | 10,0 |" in md
    md = markdown_table(df, percent=["vrouw"], decimals={"vrouw": 0}, lang="en")
    assert "| a | 48% |" in md


def test_read_step_names_the_file_and_its_format():
    from werkeffect.data.readers import ReadInfo

    info = ReadInfo("/data/jobs.parquet", "parquet")
    assert info.describe() == "jobs.parquet (Parquet)"
    assert ReadInfo("x/p.sav", "sav").describe("nl") == "p.sav (SPSS)"


def test_english_tables_say_their_columns_and_values_in_english(tmp_path):
    """English headings for the technical columns (not 'Smd un' or 'U'), and stored Dutch
    group names shown in English where the report says how (``values=``)."""
    df = pd.DataFrame({"smd_un": [0.1], "u": [3], "att": [0.05], "chisq": [1.0]})
    head = markdown_table(df, lang="en").splitlines()[0]
    assert head == "| SMD before | Elapsed duration at start (u) | Effect | Chi² |"
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    groups = pd.DataFrame({"groep": ["deelnemers", "overige"], "aantal": [40, 1570]})
    w.add_table("descriptives", groups, count_columns=["aantal"])
    w.write()
    words = {"groep": {"deelnemers": "participants"}}
    en = Report(tmp_path, "proef", "en").table("descriptives", values=words)
    assert "| participants | 40 |" in en and "| overige | 1,570 |" in en  # unlisted: as is
    nl = Report(tmp_path, "proef").table("descriptives")
    assert "| deelnemers | 40 |" in nl


def test_estimates_follow_the_numbers_in_their_names(tmp_path):
    """Elapsed durations 3, 6, 12, 24 in that order, not as text (12, 24, 3, 6)."""
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    for u in (12, 24, 3, 6):
        w.add_estimate(f"proef.att_u12.u{u}", estimate=0.01 * u, lower=0.0, upper=0.5,
                       method="M", label_nl=f"start na {u} maanden")  # fmt: skip
    w.write()
    rows = [r for r in Report(tmp_path, "proef").estimates_table().splitlines() if "start na" in r]
    assert [int(r.split("start na ")[1].split()[0]) for r in rows] == [3, 6, 12, 24]


def test_output_check_log_speaks_the_reports_language(tmp_path):
    """The log names outputs, rules and actions in words (not 'flow', 'small_count'), names
    a table by its caption, and says why every count of the data flow is rounded."""
    from werkeffect.data.flow import DataFlow

    flow = DataFlow()
    flow.add("read", "spells", 9931, 9931, "read spells.parquet", "ingelezen: spells.parquet")
    flow.add("population", "spells", 9931, 9928, "three left out", "drie weggelaten")
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32, flow=flow)
    wijken = pd.DataFrame({"wijk": ["a", "b", "c"], "n": [40, 4, 55]})
    w.add_table("wijken", wijken, caption_nl="Deelnemers per wijk",
                caption_en="Participants by district", count_columns=["n"])  # fmt: skip
    w.write()
    nl = Report(tmp_path, "proef").disclosure_log()
    assert "| datastroom | Verwijderd | populatie (uitkeringsperioden) |" in nl
    assert "| minder dan 10 personen | onderdrukt |" in nl
    assert "| tabel: Deelnemers per wijk | Aantal |" in nl
    assert "afgerond op veelvouden van 10" in nl
    assert "small_count" not in nl and "| flow |" not in nl
    en = Report(tmp_path, "proef", "en").disclosure_log()
    assert "| data flow | dropped | population (spells) | fewer than 10 persons |" in en
    assert "table: Participants by district" in en and "rounded to multiples of 10" in en


def test_output_check_log_names_estimates_values_notes_and_rows_in_words(tmp_path):
    """Not 'estimate:pilot.att_employed_12m', 'value:participants_outside_overlap',
    'note:matching' or 'covariate=age_45_54, type=binary' in a Dutch report: the estimate's
    and value's labels, the Dutch method, the covariate's label."""
    w = ResultsWriter("proef", tmp_path, title="Proef", fingerprint="cd" * 32)
    for method, method_nl, n in (
        ("matching", "matching", 40),
        ("matching within a caliper", "matching binnen een caliper", 37),
    ):
        w.add_estimate("pilot.att", estimate=0.2, lower=0.0, upper=0.4, method=method,
                       method_nl=method_nl, n_treated=n, n_control=120,
                       label_nl="Extra kans op werk", label_en="Extra chance of work")  # fmt: skip
    w.add_value("outside", 4, label_nl="deelnemers buiten het bereik", label_en="outside")
    w.add_note("3 deelnemers zonder match", "3 participants without a match", name="matching")
    balance = pd.DataFrame({"covariate": ["age_45_54", "female"], "type": ["binary"] * 2,
                            "mean_treated": [0.1, 0.5]})  # fmt: skip
    w.add_table("balance", balance, caption_nl="Balans", share_columns={"mean_treated": 40},
                share_rows=("type", "binary"), key_columns=["covariate", "type"])  # fmt: skip
    w.write()
    nl = Report(tmp_path, "proef").disclosure_log()
    assert "| schatting: Extra kans op werk | Deelnemers | matching binnen een caliper |" in nl
    assert "| waarde: deelnemers buiten het bereik |" in nl
    assert "| toelichting (matching) |" in nl
    assert "| tabel: Balans |" in nl and "| 45 tot 55 jaar, 0/1 |" in nl
    for raw in ("estimate:", "value:", "note:", "covariate=", "type=binary", "pilot.att"):
        assert raw not in nl, raw
    en = Report(tmp_path, "proef", "en").disclosure_log()
    assert "| estimate: Extra chance of work | Treated | matching within a caliper |" in en
