"""The built-in Quarto engine: render a small report, check its text, rerun byte-identical,
refuse what it does not support, stop on a person-level table.

Kernel start-up is slow, so the module renders few documents: one report to HTML and PDF
twice (text and byte-identity), one that must fail on disclosure.
"""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from werkeffect.exceptions import DisclosureError, UnsupportedFeatureError
from werkeffect.reports.engine import render
from werkeffect.reports.execute import execute
from werkeffect.reports.qmd import parse
from werkeffect.results.files import ResultsWriter

REPORT = """---
title: "Proefrapport"
subtitle: "Klein"
date: 2024-12-31
---

```{python}
#| tags: [parameters]
results = "results"
lang = "nl"
```

```{python}
#| include: false
from werkeffect.reports.helpers import load_report
R = load_report(results, "proef", lang)
```

# Uitkomst

Het effect is `{python} R.sentence("proef.att")` en de besparing `{python} R.fmt("proef.saved")`.
Zie @fig-curve en @tbl-wijken; de ontbrekende: `{python} R.fmt("proef.ontbreekt")`.

```{python}
#| output: asis
print(R.figure("curve"))
print(R.table("wijken"))
print(R.flow_figure("fig-stroom"))
```

```{python}
#| label: fig-kernel
#| fig-cap: "Getekend in de kernel"
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [0, 1])
plt.show()
```

```{python}
#| label: tbl-kernel
#| tbl-cap: "Tabel uit de kernel"
import pandas as pd
pd.DataFrame({"groep": ["a", "b"], "n": [1500, 2500]})
```

Kernelfiguur: @fig-kernel, kerneltabel: @tbl-kernel.

```{python}
#| echo: true
#| error: true
raise ValueError("bewust fout")
```

```{python}
#| eval: false
print("mag niet draaien")
```

```{python}
#| include: false
import os, pathlib
pathlib.Path(results, "figure_dir.txt").write_text(os.environ.get("WERKEFFECT_FIGURE_DIR", ""))
```
"""


def _results(folder: Path) -> None:
    from werkeffect.data.flow import DataFlow

    flow = DataFlow()
    flow.add("lezen", "spells", 1500, 1400, "spells before 2015 dropped", "vóór 2015 vallen af")
    w = ResultsWriter("proef", folder, title="Proef", fingerprint="ef" * 32, seed=1, flow=flow)
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
    )
    w.add_estimate(
        "proef.saved",
        estimate=4218000.0,
        lower=1607000.0,
        upper=6829000.0,
        method="Kosten",
        scale="euro",
    )
    w.add_table(
        "wijken",
        pd.DataFrame({"wijk": ["Beijum", "Vinkhuizen", "Centrum"], "n": [1234, 3, 56]}),
        caption_nl="Deelnemers per wijk",
        count_columns=["n"],
    )
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [1.0, 0.6, 0.3])
    w.add_figure("curve", fig, caption_nl="Nog in bijstand")
    plt.close(fig)
    w.write()


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.links, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "svg"):
            self._skip += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in ("style", "script", "svg"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self):
        return re.sub(r"\s+([,.])", r"\1", re.sub(r"\s+", " ", " ".join(self.parts)))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    _results(base / "results")
    qmd = base / "proef.qmd"
    qmd.write_text(REPORT, encoding="utf-8")
    params = {"results": str(base / "results")}
    first = render(qmd, to=["html", "pdf"], params=params, out_dir=base / "out1")
    second = render(qmd, to=["html", "pdf"], params=params, out_dir=base / "out2")
    return base, first, second


def test_html_has_dutch_numbers_and_cross_references(rendered):
    base, first, _ = rendered
    html = first["html"].read_text(encoding="utf-8")
    p = _Text()
    p.feed(html)
    text = p.text
    assert "Proefrapport" in text and "31 december 2024" in text
    assert "6,1 procentpunt (95%-interval: tussen 2,6 en 9,6 procentpunt)" in text
    assert "€ 4.218.000" in text
    assert "Zie Figuur 1 en Tabel 1" in text
    assert "Figuur 1: Nog in bijstand" in text and "Tabel 1: Deelnemers per wijk" in text
    assert "Figuur 2: Datastroom van extract tot analysebestand" in text
    assert "Kernelfiguur: Figuur 3, kerneltabel: Tabel 2" in text
    assert "Figuur 3: Getekend in de kernel" in text
    assert "1.234" in text and "<10" in text  # Vinkhuizen's 3 is suppressed
    assert "niet beschikbaar" in text
    assert re.search(r"raise\s*ValueError", text)  # echo: true
    assert "ValueError: bewust fout" in text  # error: true shows the error
    assert "mag niet draaien" not in text  # eval: false
    assert "#fig-curve" in p.links and "#tbl-kernel" in p.links
    # self-contained: no external files, no paths of this machine
    assert 'src="data:' in html or "<svg" in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert str(base) not in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) absent")
def test_pdf_text(rendered):
    _, first, _ = rendered
    out = subprocess.run(
        ["pdftotext", "-layout", str(first["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = re.sub(r"\s+", " ", out)
    assert "Proefrapport" in text
    assert "6,1 procentpunt" in text and "tussen 2,6 en 9,6" in text
    assert "Zie Figuur 1 en Tabel 1" in text
    assert "Figuur 1: Nog in bijstand" in text
    assert "Pagina 1 van" in text


def test_rerun_is_byte_identical(rendered):
    _, first, second = rendered
    for fmt in ("html", "pdf"):
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), fmt
    assert not (first["html"].parent / ".build").exists()


def test_figures_drawn_while_rendering_go_to_the_build_folder_and_leave_with_it(rendered):
    """The kernel gets the render's build folder as WERKEFFECT_FIGURE_DIR (where
    Report.flow_figure writes its diagram); the folder is removed after the render, so no
    figure is left behind in a shared temporary folder."""
    base, _, _ = rendered
    used = Path((base / "results" / "figure_dir.txt").read_text())
    assert used.parent == (base / "out2" / ".build").resolve()
    assert used.name == "proef" and not used.exists()


def test_the_kernel_gets_the_figure_folder_only_from_the_render(monkeypatch, tmp_path):
    from werkeffect.reports._kernel import FIGURE_DIR_ENV
    from werkeffect.reports.execute import kernel_env

    assert kernel_env(tmp_path)[FIGURE_DIR_ENV] == str(tmp_path.resolve())
    monkeypatch.setenv(FIGURE_DIR_ENV, "/elders")
    assert FIGURE_DIR_ENV not in kernel_env()


def test_person_level_table_stops_the_render(tmp_path):
    qmd = tmp_path / "lek.qmd"
    qmd.write_text(
        '---\ntitle: "Lek"\n---\n\n```{python}\nimport pandas as pd\n'
        'pd.DataFrame({"person_id": ["a1", "b2"], "leeftijd": [34, 51]})\n```\n',
        encoding="utf-8",
    )
    with pytest.raises(DisclosureError, match="person_id"):
        render(qmd, to="html", out_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "lek.html").exists()


@pytest.mark.parametrize(
    "source, match",
    [
        ("```{r}\n1 + 1\n```\n", r"'\{r\}' code chunk"),
        ("```{ojs}\nx = 1\n```\n", r"'\{ojs\}' code chunk"),
        ("Tekst {{< pagebreak >}}\n", "shortcode"),
        ("```{python}\n#| code-fold: true\n1\n```\n", "code-fold"),
        ("```{python}\n#| output: weird\n1\n```\n", "output: weird"),
        ("Inline `{r} 1 + 1`.\n", "inline"),
    ],
)
def test_unsupported_quarto_features_are_refused(source, match):
    with pytest.raises(UnsupportedFeatureError, match=match):
        parse("---\ntitle: x\n---\n\n" + source, "doc.qmd")


@pytest.mark.parametrize(
    "front, match",
    [
        ("bibliography: refs.bib", "bibliography"),
        ("format: docx", "docx"),
        ("format:\n  html:\n    code-fold: true", "code-fold"),
        ("execute:\n  cache: true", "cache"),
        ("werkeffect:\n  de:\n    title: x", "'de' is not an option"),
        ("werkeffect:\n  en:\n    date: 2024-01-01", "only title"),
        ("werkeffect:\n  languages: [fr]", "languages must be"),
    ],
)
def test_unsupported_front_matter_is_refused(front, match):
    with pytest.raises(UnsupportedFeatureError, match=match):
        parse(f"---\ntitle: x\n{front}\n---\n\nTekst.\n", "doc.qmd")


@pytest.mark.parametrize(
    "body, match",
    [
        ("Zie @fig-bestaat-niet.\n", "unresolved cross-reference @fig-bestaat-niet"),
        ("Zie @sec-inleiding.\n", "not supported"),
        ("::: {.panel-tabset}\nA\n:::\n", "panel-tabset"),
        ("::: {.callout-raar}\nA\n:::\n", "callout"),
    ],
)
def test_pandoc_level_refusals(tmp_path, body, match):
    qmd = tmp_path / "doc.qmd"
    qmd.write_text(f"---\ntitle: x\n---\n\n{body}", encoding="utf-8")
    with pytest.raises(Exception, match=match):
        render(qmd, to="html", out_dir=tmp_path / "out")


def test_nondeterministic_date_and_unknown_format_refused(tmp_path):
    qmd = tmp_path / "doc.qmd"
    qmd.write_text("---\ntitle: x\ndate: today\n---\n\nTekst.\n", encoding="utf-8")
    with pytest.raises(UnsupportedFeatureError, match="today"):
        render(qmd, to="html", out_dir=tmp_path / "out")
    with pytest.raises(UnsupportedFeatureError, match="docx"):
        render(qmd, to="docx", out_dir=tmp_path / "out")


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_kernel_talks_over_private_unix_sockets(tmp_path, capfd, monkeypatch):
    """No TCP port for other users of a shared server, no ipykernel warning about
    unencrypted traffic; the kernel and its socket folder are gone afterwards."""
    from werkeffect.reports import execute as ex

    made = []
    socket_dir = ex._socket_dir
    monkeypatch.setattr(ex, "_socket_dir", lambda: made.append(socket_dir()) or made[-1])
    qmd = tmp_path / "kern.qmd"
    qmd.write_text(
        '---\ntitle: "Kern"\n---\n\n```{python}\nimport os\nfrom ipykernel.connect import '
        'get_connection_info\nprint(get_connection_info(unpack=True)["transport"], '
        "os.getpid())\n```\n",
        encoding="utf-8",
    )
    done = execute(parse(qmd.read_text(encoding="utf-8"), qmd))
    text = "".join(o.get("text", "") for c in done.chunks.values() for o in c.outputs)
    transport, pid = text.split()
    assert transport == "ipc"
    assert "without encryption" not in capfd.readouterr().err
    assert made and made[0] is not None and not os.path.exists(made[0])
    # the kernel is shut down with the document, not left running until the parent exits
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_socket_folder_falls_back_when_the_temporary_path_is_too_long(tmp_path):
    from werkeffect.reports.execute import MAX_SOCKET_DIR, _socket_dir

    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    assert _socket_dir(parents=(str(deep),)) is None  # TCP then
    assert not list(deep.iterdir())
    folder = _socket_dir(parents=(str(deep), "/tmp"))
    assert folder is not None and folder.startswith("/tmp/") and len(folder) <= MAX_SOCKET_DIR
    os.rmdir(folder)
