"""Set up the Jupyter kernel a report runs in (called from the engine's hidden first cell).

* matplotlib figures come out as SVG with a fixed hash salt and no date, so the report's
  bytes do not change between runs;
* every DataFrame a chunk displays passes disclosure control first (a person-level table
  stops the render with the disclosure message) and is shown as a Dutch-formatted Markdown
  table, so it appears the same in HTML and PDF.
"""

from __future__ import annotations

import json
from typing import Any

#: where a chunk writes figures it draws while rendering: the engine sets it to the render's
#: build folder, which is removed after the render
FIGURE_DIR_ENV = "WERKEFFECT_FIGURE_DIR"


def setup(lang: str = "nl", threshold: int = 10) -> None:
    import warnings

    import matplotlib
    import pandas as pd
    from IPython import get_ipython

    from werkeffect.disclosure import DisclosurePolicy, OutputCheckLog, check_table
    from werkeffect.reports.helpers import markdown_table, suppressed_cells

    matplotlib.rcParams["svg.hashsalt"] = "werkeffect"
    matplotlib.rcParams["svg.fonttype"] = "path"
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    matplotlib.rcParams["figure.figsize"] = (6.4, 3.6)
    matplotlib.rcParams["axes.spines.top"] = False
    matplotlib.rcParams["axes.spines.right"] = False
    if lang == "nl":
        matplotlib.rcParams["axes.formatter.use_locale"] = False
    warnings.filterwarnings("default")
    ip = get_ipython()
    if ip is None:  # pragma: no cover - only inside a kernel
        return
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        ip.run_line_magic("matplotlib", "inline")
        set_matplotlib_formats("svg", metadata={"Date": None}, bbox_inches="tight")
    except Exception:  # pragma: no cover - older stacks
        pass

    policy = DisclosurePolicy(threshold=threshold)
    formatter = ip.display_formatter
    original = formatter.format

    def checked_format(obj: Any, include: Any = None, exclude: Any = None):
        if isinstance(obj, pd.Series):
            obj = obj.to_frame()
        if isinstance(obj, pd.DataFrame):
            log = OutputCheckLog()
            safe = check_table(obj, "getoonde tabel", policy=policy, displayed=True, log=log)
            mask = suppressed_cells(safe, log.entries)
            md = markdown_table(safe, lang=lang, marker=policy.marker, suppressed=mask)
            return {"text/markdown": md, "text/plain": safe.to_string()}, {}
        return original(obj, include=include, exclude=exclude)

    formatter.format = checked_format


def inline(values: list[Any]) -> None:
    """Print the values of a Markdown paragraph's inline expressions for the engine."""
    out = []
    for v in values:
        out.append(v if isinstance(v, str) else str(v))
    print("\x1eWERKEFFECT-INLINE" + json.dumps(out, ensure_ascii=False))
