"""The reports/ Quarto project: every document parses within the engine's subset, reads
results only, and ``render_reports`` finds and renders them."""

import sys
from pathlib import Path

import pytest
import yaml

from werkeffect.reports import REPORTS, render_reports
from werkeffect.reports.engine import load_project
from werkeffect.reports.qmd import Chunk, parse

ROOT = Path(__file__).resolve().parents[1] / "reports"


def test_project_and_every_report_parse():
    project = load_project(ROOT / "jobcoaching.qmd")
    assert project["lang"] == "nl"
    assert project["project"]["output-dir"] == "_output"
    listed = [
        Path(p).stem
        for p in yaml.safe_load((ROOT / "_quarto.yml").read_text())["project"]["render"]
    ]
    assert listed == list(REPORTS)
    for name in REPORTS:
        doc = parse((ROOT / f"{name}.qmd").read_text(encoding="utf-8"), ROOT / f"{name}.qmd")
        chunks = [p for p in doc.parts if isinstance(p, Chunk)]
        assert any("parameters" in (c.options.get("tags") or []) for c in chunks), name
        code = "\n".join(c.code for c in chunks)
        # reports read results; they never estimate
        assert "load_report" in code, name
        for forbidden in (".fit(", "werkeffect.survival", "werkeffect.did", "simulate("):
            assert forbidden not in code, (name, forbidden)


def test_render_reports_cli_path(tmp_path, monkeypatch, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_quarto.yml").write_text("project:\n  type: default\nlang: nl\n")
    (reports / "jobcoaching.qmd").write_text("---\ntitle: Kort\n---\n\nAlleen tekst.\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no quarto on PATH
    assert render_reports("jobcoaching", to=["html"], results="results") == 0
    out = reports / "_output" / "jobcoaching.html"
    assert "Alleen tekst." in out.read_text()
    with pytest.raises(FileNotFoundError, match="available"):
        render_reports("bestaat_niet", to=["html"])


def test_english_renderings_have_english_titles_and_the_council_text_stays_dutch(
    tmp_path, monkeypatch, capsys
):
    """Technical reports carry their English title under ``werkeffect: en``; the council
    information is Dutch only, so ``--lang en`` skips it (and says so) instead of writing a
    Dutch document with an English name."""
    from werkeffect.exceptions import UnsupportedFeatureError
    from werkeffect.reports import render
    from werkeffect.reports.qmd import document_languages, split_front_matter

    for name in REPORTS:
        meta = split_front_matter((ROOT / f"{name}.qmd").read_text(encoding="utf-8"))[0]
        if name == "raadsinformatie":
            assert document_languages(meta) == ("nl",)
        else:
            english = meta["werkeffect"]["en"]
            assert english["title"] != meta["title"], name
            assert english["subtitle"] != meta["subtitle"], name

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_quarto.yml").write_text("project:\n  type: default\nlang: nl\n")
    (reports / "jobcoaching.qmd").write_text(
        "---\ntitle: Werk\nsubtitle: Kort\nwerkeffect:\n  en:\n    title: Work\n---\n\nTekst.\n"
    )
    (reports / "raadsinformatie.qmd").write_text(
        "---\ntitle: Raad\nwerkeffect:\n  languages: [nl]\n---\n\nTekst.\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    for name in ("jobcoaching", "raadsinformatie"):
        assert render_reports(name, to=["html"], results="results", lang="en") == 0
    assert "skipped, it is written in nl only" in capsys.readouterr().out
    out = reports / "_output"
    assert not (out / "raadsinformatie-en.html").exists()
    english = (out / "jobcoaching-en.html").read_text()
    assert "<title>Work" in english and "Kort" in english  # no English subtitle: the Dutch one
    assert render_reports("jobcoaching", to=["html"], results="results") == 0
    assert "<title>Werk" in (out / "jobcoaching.html").read_text()
    with pytest.raises(UnsupportedFeatureError, match="written in nl only"):
        render(reports / "raadsinformatie.qmd", to="html", lang="en", out_dir=out)


@pytest.mark.slow
def test_all_reports_render_on_synthetic_results(tmp_path):
    from werkeffect.reports.demo import write_demo_results

    write_demo_results(tmp_path / "results")
    code = render_reports(
        "all", to=["html", "pdf"], results=tmp_path / "results", out=tmp_path / "out"
    )
    assert code == 0
    for name in REPORTS:
        html = (tmp_path / "out" / f"{name}.html").read_text(encoding="utf-8")
        assert "Niet beschikbaar" not in html, name
        assert (tmp_path / "out" / f"{name}.pdf").stat().st_size > 10_000
    # and in English, where the council information is skipped (Dutch only)
    code = render_reports(
        "all", to=["html"], results=tmp_path / "results", out=tmp_path / "en", lang="en"
    )
    assert code == 0
    for name in REPORTS:
        english = tmp_path / "en" / f"{name}-en.html"
        assert english.exists() == (name != "raadsinformatie"), name
        if english.exists():
            assert "Not available" not in english.read_text(encoding="utf-8"), name


def test_quarto_cli_is_used_when_available(tmp_path, monkeypatch):
    """With QUARTO_PATH set, render() calls Quarto (here a stand-in script) instead of the
    built-in engine, mapping pdf to Quarto's typst format and passing -P parameters."""
    from werkeffect.reports import render

    log = tmp_path / "calls.txt"
    fake = tmp_path / "quarto"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        'while [ "$#" -gt 0 ]; do\n'
        '  if [ "$1" = "--output-dir" ]; then out="$2"; fi\n'
        '  if [ "$1" = "--to" ]; then fmt="$2"; fi\n'
        "  shift\ndone\n"
        'mkdir -p "$out"; ext=$fmt; [ "$fmt" = typst ] && ext=pdf\n'
        'echo x > "$out/doc.$ext"\n'
    )
    fake.chmod(0o755)
    qmd = tmp_path / "doc.qmd"
    qmd.write_text("---\ntitle: x\nwerkeffect:\n  en:\n    title: y z\n---\n\nTekst.\n")
    monkeypatch.setenv("QUARTO_PATH", str(fake))
    written = render(qmd, to=["html", "pdf"], params={"results": "r"}, out_dir=tmp_path / "o")
    calls = log.read_text().splitlines()
    assert calls[0].startswith("render") and "--to html" in calls[0]
    assert "--to typst" in calls[1] and "-P results:r" in calls[1]
    assert written["pdf"] == tmp_path / "o" / "doc.pdf"
    assert "-M" not in calls[0]  # Dutch: the front matter's own title
    render(qmd, to=["html"], params={"results": "r"}, out_dir=tmp_path / "o", lang="en")
    assert "-M title:y z" in log.read_text().splitlines()[2]
