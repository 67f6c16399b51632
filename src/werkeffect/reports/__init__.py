"""Reports: ``werkeffect report NAME|all [--to html,pdf] [--results DIR]``.

With the ``quarto`` CLI on PATH (or ``QUARTO_PATH``) the reports are rendered by Quarto;
otherwise by werkeffect's built-in engine (:mod:`werkeffect.reports.engine`), which renders
the same ``.qmd`` files. Reports read results files only (:mod:`werkeffect.reports.helpers`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from werkeffect.exceptions import DisclosureError, RenderError, UnsupportedFeatureError
from werkeffect.reports.qmd import (
    TRANSLATABLE,
    check_language,
    document_languages,
    split_front_matter,
    translated_meta,
)

__all__ = [
    "REPORTS",
    "DisclosureError",
    "RenderError",
    "UnsupportedFeatureError",
    "quarto_path",
    "render",
    "render_reports",
    "reports_dir",
]

#: the reports ``all`` renders
REPORTS = ("jobcoaching", "ww_naar_bijstand", "statushouders", "programma", "raadsinformatie")


def reports_dir() -> Path:
    """``reports/`` in the working directory, else beside the source tree."""
    here = Path.cwd() / "reports"
    if (here / "_quarto.yml").is_file():
        return here
    repo = Path(__file__).resolve().parents[3] / "reports"
    if (repo / "_quarto.yml").is_file():
        return repo
    raise FileNotFoundError(
        "No reports/ folder (with _quarto.yml) in the working directory or beside the package"
    )


def quarto_path() -> str | None:
    """The Quarto CLI to use: ``QUARTO_PATH`` if set, else ``quarto`` on PATH, else None."""
    env = os.environ.get("QUARTO_PATH")
    if env:
        return env
    return shutil.which("quarto")


def _render_quarto(
    quarto: str,
    qmd: Path,
    to: Sequence[str],
    params: Mapping[str, Any],
    out_dir: Path,
    suffix: str,
    titles: Mapping[str, str],
) -> dict[str, Path]:
    written = {}
    for fmt in to:
        qfmt = "typst" if fmt == "pdf" else fmt
        cmd = [quarto, "render", qmd.name, "--to", qfmt, "--output-dir", str(out_dir.resolve())]
        for k, v in params.items():
            cmd += ["-P", f"{k}:{v}"]
        for k, v in titles.items():
            cmd += ["-M", f"{k}:{v}"]
        if suffix:
            cmd += ["--output", f"{qmd.stem}{suffix}.{fmt}"]
        proc = subprocess.run(cmd, cwd=qmd.parent, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            msg = proc.stderr.strip().splitlines()
            raise RenderError(f"quarto render {qmd.name} --to {qfmt} failed: {' '.join(msg[-5:])}")
        written[fmt] = out_dir / f"{qmd.stem}{suffix}.{fmt}"
    return written


def _front_matter(qmd: Path) -> dict[str, Any]:
    return split_front_matter(qmd.read_text(encoding="utf-8"), qmd)[0]


def render(
    qmd_path: str | Path,
    to: Sequence[str] | str = ("html", "pdf"),
    params: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    *,
    lang: str | None = None,
    engine: str = "auto",
) -> dict[str, Path]:
    """Render one document; ``engine`` is ``"auto"`` (Quarto if available), ``"quarto"`` or
    ``"builtin"``. Returns ``{format: path}``."""
    from werkeffect.reports import engine as builtin

    qmd = Path(qmd_path)
    formats = [to] if isinstance(to, str) else [f.strip() for f in to if f.strip()]
    suffix = "" if (lang or "nl") == "nl" else f"-{lang}"
    quarto = quarto_path() if engine in ("auto", "quarto") else None
    if engine == "quarto" and quarto is None:
        raise RenderError("engine='quarto' but no quarto on PATH and no QUARTO_PATH")
    if quarto:
        meta = _front_matter(qmd)
        code = lang or str(meta.get("lang") or "nl")[:2]
        check_language(meta, code, qmd.name)
        own = translated_meta(meta, code)
        titles = {k: str(own[k]) for k in TRANSLATABLE if k in own and own[k] != meta.get(k)}
        out = Path(out_dir) if out_dir is not None else qmd.parent / "_output"
        out.mkdir(parents=True, exist_ok=True)
        p = dict(params or {})
        if lang:
            p.setdefault("lang", lang)
        return _render_quarto(quarto, qmd, formats, p, out, suffix, titles)
    return builtin.render(qmd, to=formats, params=params, out_dir=out_dir, lang=lang, suffix=suffix)


def render_reports(
    name: str,
    to: Sequence[str] | str = ("html", "pdf"),
    results: str | Path = "results",
    lang: str = "nl",
    out: str | Path | None = None,
) -> int:
    """Render ``reports/<name>.qmd`` (or every report for ``all``) into ``reports/_output/``.

    Returns 0 when every report rendered, 1 otherwise (each failure is printed with its
    reason; a disclosure violation stops that report).
    """
    folder = reports_dir()
    names = list(REPORTS) if name == "all" else [name]
    formats = [to] if isinstance(to, str) else list(to)
    formats = [f for part in formats for f in part.split(",") if f.strip()]
    results_dir = Path(results).resolve()
    out_dir = Path(out) if out is not None else folder / "_output"
    failed = []
    for n in names:
        qmd = folder / f"{n}.qmd"
        if not qmd.is_file():
            known = sorted(p.stem for p in folder.glob("*.qmd"))
            raise FileNotFoundError(f"No report '{n}' in {folder}; available: {known}")
        params = {"results": str(results_dir), "lang": lang}
        written_in = document_languages(_front_matter(qmd))
        if lang not in written_in:
            print(
                f"== werkeffect report {n}: skipped, it is written in "
                f"{', '.join(written_in)} only (no '{lang}' version)",
                flush=True,
            )
            continue
        print(f"== werkeffect report {n} ({', '.join(formats)})", flush=True)
        try:
            written = render(qmd, to=formats, params=params, out_dir=out_dir, lang=lang)
        except (RenderError, DisclosureError) as exc:
            print(f"werkeffect report {n}: {exc}", file=sys.stderr)
            failed.append(n)
            continue
        for path in written.values():
            print(f"   {path}")
    if failed:
        print(f"werkeffect report: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
