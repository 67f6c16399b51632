"""Results files: schema, disclosure on the way out, byte-identical reruns."""

import json
import math
from pathlib import Path

import jsonschema
import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from werkeffect.data.flow import DataFlow
from werkeffect.disclosure import DisclosureError
from werkeffect.results import EstimationResult
from werkeffect.results.files import ResultsWriter, read_results, schema_path

SCHEMA = json.loads(schema_path().read_text())


def make_writer(out: Path, **kw) -> ResultsWriter:
    flow = DataFlow()
    flow.add("extract", "persons", 2000, 2000, "as delivered")
    flow.add("validate", "persons", 2000, 1950, "invalid records")
    w = ResultsWriter(
        "proef",
        out,
        title="Proef",
        seed=7,
        command=["werkeffect", "run", "proef", "--data", str(Path.cwd() / "data" / "x")],
        fingerprint="ab" * 32,
        flow=flow,
        extract_date="2024-12-31",
        n_persons=1950,
        **kw,
    )
    res = EstimationResult(
        params=pd.Series({"treatment": 0.3}),
        std_errors=pd.Series({"treatment": 0.1}),
        method="Cox PH",
        n={"n_treated": 120, "n_control": 900},
    )
    w.add_estimate(
        "proef.log_hazard_ratio",
        res,
        "treatment",
        primary=True,
        scale="log_hazard_ratio",
        label_nl="Log hazard ratio",
    )
    w.add_estimate(
        "proef.att",
        estimate=0.061,
        std_error=0.018,
        lower=0.026,
        upper=0.096,
        method="Naïef",
        naive=True,
        n_treated=120,
        n_control=900,
        scale="probability",
    )
    w.add_estimate(
        "proef.cost_per_exit",
        estimate=39336.0,
        lower=24996.0,
        upper=math.inf,
        method="Kosten",
        scale="euro",
    )
    w.add_estimate(
        "proef.small",
        estimate=0.4,
        std_error=0.3,
        lower=-0.2,
        upper=1.0,
        method="Matching",
        n_treated=6,
        n_control=24,
    )
    w.add_value("pilot_size", 34, label_nl="Deelnemers")
    w.add_table(
        "wijken",
        pd.DataFrame({"wijk": ["a", "b", "c"], "n": [120, 3, 55], "rate": [0.2, 0.5, 0.3]}),
        caption_nl="Per wijk",
        count_columns=["n"],
    )
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1.0, 0.5, 0.2])
    w.add_figure("curve", fig, caption_nl="Een curve")
    plt.close(fig)
    w.add_assumption("Geen verborgen selectie.", "No hidden selection.")
    w.add_note("Fictief.")
    return w


def test_results_file_is_valid_and_holds_what_was_added(tmp_path):
    path = make_writer(tmp_path).write()
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    r = read_results(path.parent, validate=True)
    est = r.estimate("proef.log_hazard_ratio")
    assert est["estimate"] == pytest.approx(0.3)
    assert est["lower"] == pytest.approx(0.3 - 1.959963984540054 * 0.1)
    assert (est["n_treated"], est["n_control"], est["primary"]) == (120, 900, True)
    assert r.estimate("proef.att") is None  # only a naive one exists
    assert r.estimate("proef.att", naive=True)["estimate"] == pytest.approx(0.061)
    assert r.estimate("proef.cost_per_exit")["upper"] == math.inf
    assert data["estimates"][0]["estimand"] <= data["estimates"][-1]["estimand"]
    assert r.table("wijken").shape == (3, 3)
    assert r.figure_path("curve").read_bytes().startswith(b"<?xml")
    assert data["flow"][1]["dropped"] == 50
    # no absolute paths, no timestamps
    text = path.read_text()
    assert str(Path.cwd()) not in text and str(tmp_path) not in text
    assert "data/x" in data["command"]
    assert "<dc:date>" not in r.figure_path("curve").read_text()


def test_injected_small_cells_are_suppressed_and_logged(tmp_path):
    path = make_writer(tmp_path).write()
    r = read_results(path)
    table = r.table("wijken")
    assert pd.isna(table.loc[1, "n"]) and pd.isna(table.loc[1, "rate"])
    assert table.loc[0, "n"] == 120
    small = r.estimate("proef.small")
    assert small["suppressed"] is True and small["estimate"] is None
    assert small["n_treated"] is None and small["n_control"] == 24
    log = r["disclosure"]["log"]
    outputs = {(e["output"], e["rule"]) for e in log}
    assert ("table:wijken", "small_count") in outputs
    assert ("table:wijken", "small_group") in outputs
    assert ("estimate:proef.small", "small_group") in outputs
    assert r["disclosure"]["threshold"] == 10


def test_rerun_is_byte_identical(tmp_path):
    a = make_writer(tmp_path / "a").write().parent
    b = make_writer(tmp_path / "b").write().parent
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 3
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_person_level_table_is_refused(tmp_path):
    w = make_writer(tmp_path)
    with pytest.raises(DisclosureError, match="person_id"):
        w.add_table("rows", pd.DataFrame({"person_id": ["p1", "p2"], "age": [30, 40]}))
    with pytest.raises(DisclosureError, match="individual rows"):
        w.add_table("rows2", pd.DataFrame({"age": np.arange(1950) % 60}))
    with pytest.raises(DisclosureError, match="risk set"):
        fig, ax = plt.subplots()
        w.add_figure("km", fig, min_count=4)
    plt.close("all")
    with pytest.raises(DisclosureError, match="BSN"):
        w.add_note("persoon 111222333")


def test_threshold_and_rounding_are_configurable(tmp_path):
    w = make_writer(tmp_path, threshold=5, rounding=5)
    data = w.to_dict()
    assert data["disclosure"]["threshold"] == 5 and data["disclosure"]["rounding"] == 5
    assert w.values["pilot_size"]["value"] == 35.0
    small = next(e for e in w.estimates if e["estimand"] == "proef.small")
    assert small["suppressed"] is False and small["n_treated"] == 5  # 6 rounded to 5


def test_estimate_needs_a_method_and_a_known_scale(tmp_path):
    w = make_writer(tmp_path)
    with pytest.raises(ValueError, match="scale"):
        w.add_estimate("x", estimate=1.0, method="m", scale="weird")
    with pytest.raises(ValueError, match="method"):
        w.add_estimate("x", estimate=1.0)
    with pytest.raises(ValueError, match="already"):
        w.add_estimate("proef.att", estimate=0.1, method="Naïef", naive=True)


def test_packaged_schema_is_the_documented_one():
    root = Path(__file__).resolve().parents[1]
    docs = (root / "docs" / "results.schema.json").read_bytes()
    packaged = (root / "src" / "werkeffect" / "results" / "schema.json").read_bytes()
    assert docs == packaged, "copy docs/results.schema.json to src/werkeffect/results/"


def test_flow_steps_added_after_the_writer_opened_are_written(tmp_path):
    from werkeffect.data.flow import DataFlow
    from werkeffect.results.files import ResultsWriter, read_results

    flow = DataFlow()
    flow.add("read", "spells", 500, 500, "read spells.parquet")
    w = ResultsWriter("flowtest", tmp_path, flow=flow, fingerprint="0" * 64)
    flow.add("population", "spells", 500, 420, "spells of persons living in Groningen")
    w.write()
    steps = read_results(tmp_path / "flowtest").flow
    assert list(steps["step"]) == ["read", "population"]
    assert int(steps.loc[1, "rows_out"]) == 420


def test_table_attrs_are_not_written(tmp_path):
    """A table computed from a frame that carries its data flow in ``attrs`` is written
    without them (pyarrow would warn that it cannot store them)."""
    import warnings

    import pyarrow.parquet as pq

    from werkeffect.data.flow import DataFlow
    from werkeffect.results.files import write_parquet

    df = pd.DataFrame({"groep": ["a", "b"], "aantal": [120, 340]})
    df.attrs["flow"] = DataFlow()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_parquet(df, tmp_path / "t.parquet")
    meta = pq.read_schema(tmp_path / "t.parquet").metadata or {}
    assert b"attrs" not in b"".join(meta.values())
    assert df.attrs  # the caller's frame is left as it was


def test_flow_reason_nl_round_trips_through_records_and_a_results_file(tmp_path):
    from werkeffect.data.flow import DataFlow, FlowStep

    assert FlowStep("read", "spells", 5, 5, "read spells.parquet").reason_nl == ""  # positional
    flow = DataFlow()
    flow.add("read", "spells", 500, 500, "read spells.parquet", "ingelezen: spells.parquet")
    flow.add("population", "spells", 500, 420, "spells of persons living in Groningen")
    records = flow.to_records()
    assert [r["reason_nl"] for r in records] == ["ingelezen: spells.parquet", ""]
    assert DataFlow.from_records(records).steps == flow.steps
    ResultsWriter("flowtest", tmp_path, flow=flow, fingerprint="0" * 64).write()
    res = read_results(tmp_path / "flowtest", validate=True)
    assert list(res.flow["reason_nl"]) == ["ingelezen: spells.parquet", ""]
    assert DataFlow.from_records(res["flow"]).steps == flow.steps


def test_an_old_flow_record_without_reason_nl_loads(tmp_path):
    old = [
        {"step": "read", "table": "spells", "rows_in": 500, "rows_out": 500, "dropped": 0,
         "reason": "read spells.parquet"},
    ]  # fmt: skip
    flow = DataFlow.from_records(old)
    assert flow.steps[0].reason == "read spells.parquet" and flow.steps[0].reason_nl == ""
    # a results file written before reason_nl existed still validates and reads
    ResultsWriter("oud", tmp_path, flow=flow, fingerprint="0" * 64).write()
    path = tmp_path / "oud" / "results.json"
    data = json.loads(path.read_text())
    for r in data["flow"]:
        del r["reason_nl"]
    path.write_text(json.dumps(data))
    res = read_results(path, validate=True)
    assert list(res.flow["reason_nl"]) == [""]
    assert list(res.flow["reason"]) == ["read spells.parquet"]


def test_a_figure_drawn_in_both_languages_is_stored_twice(tmp_path):
    """add_drawn_figure draws Dutch and English words; Dutch reports read the first, English
    reports the second; a figure with one drawing serves both."""
    from werkeffect.analysis import add_drawn_figure
    from werkeffect.reports.helpers import Report

    w = make_writer(tmp_path)

    def draw(ax, lang):
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel({"nl": "maanden", "en": "months"}[lang])

    open_before = set(plt.get_fignums())
    add_drawn_figure(w, "lijn", draw, caption_nl="Een lijn", caption_en="A line")
    assert set(plt.get_fignums()) == open_before  # both drawings were closed
    path = w.write()
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["figures"]["lijn"]["file_en"] == "figures/lijn.en.svg"
    r = read_results(path.parent, validate=True)
    assert r.figure_path("lijn").name == "lijn.svg"
    assert r.figure_path("lijn", "en").name == "lijn.en.svg"
    assert r.figure_path("lijn").read_bytes() != r.figure_path("lijn", "en").read_bytes()
    assert r.figure_path("curve", "en").name == "curve.svg"  # one drawing: for both
    assert "lijn.en.svg" in Report(tmp_path, "proef", "en").figure("lijn")
    assert "lijn.svg" in Report(tmp_path, "proef").figure("lijn")
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="English drawing of figure 'lijn'"):
        w.add_figure("lijn.en", fig)  # would overwrite lijn's English file
    plt.close(fig)
