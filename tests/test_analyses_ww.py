"""The WW-naar-bijstand evaluation and its report say what the numbers are.

A review of the rendered demo report found: a Callaway-Sant'Anna interval next to the
estimator's own warning not to report one (one treated municipality); a hazard ratio of
"work" of 0.68 that only measured the smaller inflow (the extract knows jobs only through
bijstand); the total of all municipalities' WW endings called "WW recipients in Groningen";
a column "Deelnemers" that counted the WW endings of two half-years, before the start too;
and a column name and an integer period in the Dutch text. These tests run the evaluation on
a small synthetic extract, render its report, and hold each point.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from werkeffect.data.io import load
from werkeffect.did import ww_inflow_frame
from werkeffect.formatting import fmt_num
from werkeffect.reports import render_reports
from werkeffect.results.files import read_results
from werkeffect.runner import run_analysis

NAME = "ww_naar_bijstand"


class _Html(HTMLParser):
    """The text of a rendered report, and its tables as lists of rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.parts, self.tables, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())

    def table_with(self, header: str) -> list[list[str]]:
        return next(t for t in self.tables if t and header in t[0])


def _render(results: Path, out: Path) -> _Html:
    assert render_reports(NAME, to=["html"], results=results, out=out) == 0
    page = _Html()
    page.feed((out / f"{NAME}.html").read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def extract(small_extract) -> Path:
    """The shared small extract (tests/conftest.py): jobs known only through bijstand."""
    return small_extract


@pytest.fixture(scope="module")
def run(extract, tmp_path_factory):
    """The evaluation on the simulator's extract (jobs known only through bijstand)."""
    root = tmp_path_factory.mktemp("ww_results")
    assert run_analysis(NAME, extract, root / "results", seed=5) == 0
    res = read_results(root / "results" / NAME)
    return res, _render(root / "results", root / "out")


def test_callaway_santanna_has_no_interval_with_one_treated_municipality(run):
    res, page = run
    cs = [e for e in res["estimates"] if e["method"].startswith("Callaway")]
    assert len(cs) == 1
    assert cs[0]["estimate"] is not None  # the point estimate stays
    for part in ("std_error", "lower", "upper", "p_value"):
        assert cs[0][part] is None, part  # so no consumer of the results file shows one
    assert "att_gt" in res["tables"] and "std_error" not in res.table("att_gt").columns
    # the report: 'geen interval' in its row of the estimates table, the primary keeps its own
    rows = page.table_with("Schatter")
    cs_row = next(r for r in rows if "Callaway" in r[0])
    assert cs_row[3] == "geen interval" and "tussen" not in " ".join(cs_row)
    primary = next(r for r in rows if "(primair)" in r[0])
    assert primary[3].startswith("tussen")
    assert "Standaardfout" not in page.table_with("Basisperiode")[0]


def test_the_dutch_text_names_half_years_and_municipalities_not_codes(run):
    _, page = run
    text = page.text
    assert "'municipality'" not in text and "‘municipality’" not in text
    assert "cohort(en)" not in text
    # the analysis says it in the report's terms: the start half-year of the approach
    assert "alle WW’ers met de aanpak (start in halfjaar 2020-2) wonen in één gemeente" in text
    assert "zonder interval en zonder standaardfout" in text


def test_work_after_ww_is_not_estimated_when_jobs_are_known_only_through_bijstand(run):
    """In the simulator's extract every job belongs to someone who was on bijstand, so fewer
    inflow shows as less 'work' (the hazard ratio of 0.68 the review found): no estimate,
    and the report says why in plain words."""
    res, page = run
    assert not [e for e in res["estimates"] if "job" in e["estimand"]]
    assert [n for n in res["notes"] if n["name"] == "work_after_ww"]
    text = page.text
    assert "Werk na de WW. Het effect op werk na het einde van de WW is niet geschat." in text
    assert "alleen banen van mensen die in de bijstand kwamen" in text
    assert "polisadministratie" in text
    assert "azard ratio" not in text
    assert text.count("Het effect op werk na het einde van de WW is niet geschat") == 1


def test_data_sentence_counts_ww_endings_of_all_municipalities(run, extract):
    res, page = run
    frame = ww_inflow_frame(load(extract), 6)
    total = len(frame)
    groningen = int((frame["municipality"] == "Groningen").sum())
    assert res["values"]["ww_recipients"]["value"] == total
    assert 0 < groningen < total
    m = frame["municipality"].nunique()
    assert (
        f"{fmt_num(total)} WW-beëindigingen (afgelopen WW-uitkeringen) in {m} gemeenten samen, "
        f"waarvan {fmt_num(groningen)} in Groningen." in page.text
    )
    assert "WW-ontvangers in Groningen" not in page.text


def test_att_gt_counts_are_labelled_as_the_ww_endings_of_two_half_years(run, extract):
    """Each ATT(g,t) compares half-year t with its base period: its counts are the WW endings
    of both, before the start as well (when nobody was contacted) — not 'participants'."""
    _, page = run
    table = page.table_with("Basisperiode")
    head = table[0]
    assert "Deelnemers" not in head
    col = head.index("WW-beëindigingen Groningen (halfjaar en basisperiode)")
    ctrl = head.index("WW-beëindigingen vergelijkingsgemeenten (halfjaar en basisperiode)")
    frame = ww_inflow_frame(load(extract), 6)
    frame["half"] = [f"{2017 + (p - 1) // 2}-{(p - 1) % 2 + 1}" for p in frame["period"]]
    gron = frame[frame["municipality"] == "Groningen"]["half"].value_counts()
    others = frame[frame["group"] == 0]["half"].value_counts()
    before = [r for r in table[1:] if r[head.index("Na de start")] == "nee"]
    assert before  # rows before the start are there, and counted the same way
    for row in table[1:]:
        t, base = row[head.index("Halfjaar")], row[head.index("Basisperiode")]
        assert row[col] == fmt_num(gron[t] + gron[base]), row
        assert row[ctrl] == fmt_num(others[t] + others[base]), row
    assert "de aantallen tellen de WW-beëindigingen van beide halfjaren samen" in page.text


def test_work_after_ww_with_jobs_of_all_ww_recipients_covers_the_truth(extract, tmp_path):
    """With a jobs table that knows everyone's work (as the polis administration does), the
    effect on a job within 12 months is estimated with the primary's design and inference:
    here the jobs are drawn with a known effect of +8 percentage points, on top of
    municipality and half-year differences."""
    data = tmp_path / "polis"
    shutil.copytree(extract, data)
    ds = load(data)
    frame = ww_inflow_frame(ds, 12)
    ww = ds.ww.set_index("ww_id")
    rng = np.random.default_rng(3)
    effect = 0.08
    mun = dict(zip(sorted(frame["municipality"].unique()), rng.normal(0, 0.05, 7), strict=True))
    p = (0.45 + frame["municipality"].map(mun) + 0.04 * np.sin(frame["period"])
         + effect * frame["treated"])  # fmt: skip
    works = rng.random(len(frame)) < p
    days = np.where(works, rng.integers(0, 365, len(frame)), rng.integers(380, 700, len(frame)))
    start = frame["ww_id"].map(ww["ww_end"]).to_numpy() + pd.to_timedelta(days, unit="D")
    keep = start <= pd.Timestamp(ds.extract_date)
    jobs = pd.DataFrame(
        {
            "job_id": [f"j{i}" for i in range(int(keep.sum()))],
            "person_id": frame["person_id"].to_numpy()[keep],
            "start_date": start[keep],
            "end_date": pd.NaT,
            "monthly_earnings": 2100.0,
        }
    )
    jobs.to_parquet(data / "jobs.parquet", index=False)
    assert run_analysis(NAME, data, tmp_path / "results", seed=5) == 0
    res = read_results(tmp_path / "results" / NAME)
    rec = res.estimate("ww.att_job_12m")
    assert rec["method"] == "DiD (TWFE, wild cluster bootstrap, municipality x half-year)"
    assert rec["lower"] < effect < rec["upper"], rec
    assert abs(rec["estimate"] - effect) < 0.04
    assert not [n for n in res["notes"] if n["name"] == "work_after_ww"]
    page = _render(tmp_path / "results", tmp_path / "out")
    assert "Werk na de WW. De aanpak verandert de kans dat een WW’er binnen 12 maanden" in (
        page.text
    )
