"""werkeffect's built-in Quarto engine: ``.qmd`` → self-contained HTML and PDF.

It renders the subset of Quarto the reports use — YAML front matter (merged with
``_quarto.yml``), ``{python}`` chunks with ``#|`` options, the ``parameters`` cell with
injected parameters, inline `` `{python} expr` `` expressions, ``@fig-``/``@tbl-``
cross-references (numbered "Figuur 1"/"Tabel 1" in Dutch), callouts and ``lang`` — by running
the chunks once in a Jupyter kernel (nbclient + ipykernel) and converting the Markdown with
pandoc (pypandoc-binary): HTML with CSS and images embedded, PDF through pandoc's Typst writer
and the ``typst`` package with fonts shipped with matplotlib and typst (no system fonts) and a
fixed creation date. The same results give byte-identical files.

Anything outside the subset is refused with :class:`UnsupportedFeatureError`.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from werkeffect.exceptions import RenderError, UnsupportedFeatureError
from werkeffect.reports.execute import Executed, execute
from werkeffect.reports.filters import LUA_FILTER
from werkeffect.reports.qmd import (
    Chunk,
    Document,
    Markdown,
    check_language,
    check_meta,
    parse,
    substitute_inline,
    translated_meta,
)

TEMPLATES = Path(__file__).with_name("templates")
FIXED_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_ADDRESS = re.compile(r"^\[?<[^>]* at 0x[0-9a-fA-F]+>\]?$")
_NONDETERMINISTIC_DATES = {"today", "now", "last-modified"}
_FORMAT_ALIASES = {"pdf": "pdf", "typst": "pdf", "html": "html"}


def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def font_paths() -> list[str]:
    """Fonts that ship with matplotlib (DejaVu Sans); typst embeds its own (DejaVu Sans Mono,
    Libertinus Serif, New Computer Modern)."""
    import matplotlib

    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


def load_project(qmd: Path) -> dict[str, Any]:
    """``_quarto.yml`` beside the document (or none)."""
    path = qmd.parent / "_quarto.yml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise UnsupportedFeatureError(f"{path}: not a YAML mapping")
    check_meta(data, path, source="_quarto.yml")
    project = data.get("project") or {}
    for key in project:
        if key not in ("type", "output-dir", "render", "title"):
            raise UnsupportedFeatureError(
                f"{path}: project option '{key}' is not supported by the built-in engine"
            )
    if project.get("type", "default") != "default":
        raise UnsupportedFeatureError(
            f"{path}: project type '{project.get('type')}' is not supported (only 'default')"
        )
    return data


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _format_options(meta: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    formats = meta.get("format") or {}
    if isinstance(formats, str):
        formats = {formats: {}}
    opts: dict[str, Any] = {}
    keys = ("pdf", "typst") if fmt == "pdf" else ("html",)
    for k in keys:
        if isinstance(formats.get(k), Mapping):
            opts.update(formats[k])
    return opts


class _Assembler:
    """Turns executed chunks into Markdown (figures written beside it)."""

    def __init__(self, doc: Document, executed: Executed, build: Path, defaults: dict[str, Any]):
        self.doc = doc
        self.executed = executed
        self.build = build
        self.defaults = defaults
        self.n_fig = 0

    def _write_image(self, data: str | bytes, ext: str) -> str:
        self.n_fig += 1
        name = f"{self.doc.path.stem}-fig-{self.n_fig}.{ext}"
        path = self.build / name
        if ext == "png":
            path.write_bytes(base64.b64decode(data))
        else:
            path.write_text(data if isinstance(data, str) else data.decode(), encoding="utf-8")
        return name

    def markdown(self, fmt: str) -> str:
        self.n_fig = 0
        out: list[str] = []
        for idx, part in enumerate(self.doc.parts):
            if isinstance(part, Markdown):
                text = part.text
                if part.inline:
                    text = substitute_inline(text, self.executed.inline[idx])
                out.append(text)
            else:
                out.append(self._chunk(idx, part, fmt))
        return "\n".join(out)

    def _chunk(self, idx: int, chunk: Chunk, fmt: str) -> str:
        opts = {**self.defaults, **chunk.options}
        if opts.get("include", True) is False:
            return ""
        pieces: list[str] = []
        if opts.get("echo", False) is True and chunk.code.strip():
            pieces.append(f"```python\n{chunk.code.rstrip()}\n```")
        result = self.executed.chunks.get(idx)
        output = opts.get("output", True)
        if result is None or output is False:
            return "\n\n".join(pieces) + "\n"
        asis = output == "asis"
        label = str(chunk.options.get("label", ""))
        fig_cap = chunk.options.get("fig-cap")
        tbl_cap = chunk.options.get("tbl-cap")
        images: list[str] = []
        body: list[str] = []
        for o in result.outputs:
            kind = o.get("output_type")
            if kind == "stream":
                text = o.get("text", "")
                if o.get("name") == "stderr":
                    if opts.get("warning", True) is False or not text.strip():
                        continue
                    body.append(f"```{{.stderr}}\n{text.rstrip()}\n```")
                elif asis:
                    body.append(text)
                elif text.strip():
                    body.append(f"```\n{text.rstrip()}\n```")
            elif kind == "error":
                text = f"{o.get('ename')}: {o.get('evalue')}"
                body.append(f"```{{.stderr}}\n{text}\n```")
            elif kind in ("display_data", "execute_result"):
                data = o.get("data", {})
                if "text/markdown" in data:
                    body.append(data["text/markdown"])
                elif "image/svg+xml" in data:
                    images.append(self._write_image(data["image/svg+xml"], "svg"))
                elif "image/png" in data:
                    images.append(self._write_image(data["image/png"], "png"))
                elif "text/html" in data and fmt == "html":
                    body.append(f"```{{=html}}\n{data['text/html']}\n```")
                elif "text/plain" in data:
                    text = data["text/plain"]
                    if _ADDRESS.match(text.strip()):
                        continue  # e.g. "<Figure size … at 0x…>": not reproducible
                    body.append(text if asis else f"```\n{text.rstrip()}\n```")
                elif data:
                    raise UnsupportedFeatureError(
                        f"{self.doc.path.name}: chunk '{chunk.label}' returned output of type "
                        f"{sorted(data)} which the built-in engine cannot place"
                    )
        if label.startswith("fig-") and len(images) > 1:
            raise UnsupportedFeatureError(
                f"{self.doc.path.name}: chunk '{label}' drew {len(images)} figures; the built-in "
                "engine supports one figure per labelled chunk (subfigures are not supported)"
            )
        for i, name in enumerate(images):
            cap = str(fig_cap) if fig_cap else ""
            ident = f"{{#{label}}}" if label.startswith("fig-") and i == 0 else ""
            body.append(f"![{cap}]({name}){ident}")
        text = "\n\n".join(b.rstrip("\n") for b in body)
        if label.startswith("tbl-") or tbl_cap:
            ident = f"#{label} " if label.startswith("tbl-") else ""
            cap = f"\n\nTable: {tbl_cap}" if tbl_cap else ""
            text = f"::: {{{ident}.we-table}}\n\n{text}{cap}\n\n:::"
        pieces.append(text)
        return "\n\n".join(p for p in pieces if p) + "\n"


def _meta_block(meta: Mapping[str, Any], lang: str) -> str:
    from werkeffect.reports.helpers import fmt_date

    keep = {}
    for key in (
        "title",
        "subtitle",
        "author",
        "date",
        "abstract",
        "institute",
        "keywords",
        "description",
        "toc-title",
    ):
        if key in meta and meta[key] is not None:
            keep[key] = meta[key]
    date = keep.get("date")
    if isinstance(date, str | dt.date):
        if str(date).strip().lower() in _NONDETERMINISTIC_DATES:
            raise UnsupportedFeatureError(
                f"date: {date} would change the report on every render; give a fixed date"
            )
        if isinstance(date, dt.date) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(date)):
            keep["date"] = fmt_date(str(date), lang)
    if "toc-title" not in keep:
        keep["toc-title"] = "Inhoud" if lang == "nl" else "Contents"
    keep["lang"] = lang
    return "---\n" + yaml.safe_dump(keep, allow_unicode=True, sort_keys=True) + "---\n\n"


def _run_pandoc(args: Sequence[str], source: str, cwd: Path, doc: str) -> None:
    proc = subprocess.run(
        [pandoc_path(), *args],
        input=source.encode("utf-8"),
        cwd=cwd,
        capture_output=True,
        check=False,
        env={"LANG": "C.UTF-8", "SOURCE_DATE_EPOCH": "946684800", "PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip()
        m = re.search(r"werkeffect: (.*)", msg)
        detail = m.group(1).strip() if m else msg
        if "not supported" in detail:
            raise UnsupportedFeatureError(f"{doc}: {detail}")
        raise RenderError(f"{doc}: pandoc failed: {detail}")


def _to_html(source: str, build: Path, out: Path, opts: Mapping[str, Any], doc: Document) -> Path:
    lua = build / "werkeffect.lua"
    args = [
        "--from=markdown",
        "--to=html5",
        "--standalone",
        "--embed-resources",
        f"--css={(TEMPLATES / 'werkeffect.css').as_posix()}",
        f"--lua-filter={lua.name}",
        f"--resource-path=.:{doc.path.parent.resolve().as_posix()}",
        "--wrap=none",
        "--output",
        str(out.resolve()),
    ]
    if opts.get("toc"):
        args.append("--toc")
    if opts.get("number-sections"):
        args.append("--number-sections")
    _run_pandoc(args, source, build, doc.path.name)
    return out


def _to_pdf(source: str, build: Path, out: Path, opts: Mapping[str, Any], doc: Document) -> Path:
    import typst

    lua = build / "werkeffect.lua"
    typ = build / f"{doc.path.stem}.typ"
    args = [
        "--from=markdown",
        "--to=typst",
        "--standalone",
        f"--template={(TEMPLATES / 'werkeffect.typ').as_posix()}",
        f"--lua-filter={lua.name}",
        f"--resource-path=.:{doc.path.parent.resolve().as_posix()}",
        "--extract-media=media",
        "--wrap=none",
        "--output",
        typ.name,
    ]
    if opts.get("toc"):
        args.append("--toc")
        args += ["--variable", "toc=true"]
    if opts.get("number-sections"):
        args += ["--variable", "number-sections=true"]
    _run_pandoc(args, source, build, doc.path.name)
    try:
        pdf = typst.compile(
            str(typ),
            root=str(build),
            font_paths=font_paths(),
            ignore_system_fonts=True,
            timestamp=FIXED_TIMESTAMP,
        )
    except Exception as exc:  # typst.TypstError
        raise RenderError(f"{doc.path.name}: typst failed: {exc}") from exc
    out.write_bytes(pdf)
    return out


def render(
    qmd_path: str | Path,
    to: Sequence[str] | str = ("html", "pdf"),
    params: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    *,
    lang: str | None = None,
    suffix: str = "",
    keep_build: bool = False,
) -> dict[str, Path]:
    """Render one ``.qmd`` with the built-in engine; returns ``{format: path}``.

    Parameters
    ----------
    qmd_path
        The document.
    to
        ``"html"``, ``"pdf"`` (``"typst"`` is taken as ``"pdf"``) or a list of them.
    params
        Values for the ``parameters`` cell (Quarto's ``-P key:value``).
    out_dir
        Where the files go (default: ``_output`` beside the document, or the project's
        ``output-dir``).
    lang
        ``nl`` or ``en``; default the document's ``lang`` (else ``nl``).
    """
    qmd = Path(qmd_path)
    if not qmd.is_file():
        raise FileNotFoundError(f"no report {qmd}")
    formats = [to] if isinstance(to, str) else list(to)
    targets = []
    for f in formats:
        f = f.strip().lower()
        if f not in _FORMAT_ALIASES:
            raise UnsupportedFeatureError(
                f"{qmd.name}: output format '{f}' is not supported by the built-in engine "
                "(html, pdf)"
            )
        if _FORMAT_ALIASES[f] not in targets:
            targets.append(_FORMAT_ALIASES[f])
    project = load_project(qmd)
    doc = parse(qmd.read_text(encoding="utf-8"), qmd)
    meta = _merge({k: v for k, v in project.items() if k != "project"}, doc.meta)
    lang = lang or str(meta.get("lang") or "nl")[:2]
    if lang not in ("nl", "en"):
        raise UnsupportedFeatureError(f"{qmd.name}: lang '{lang}' (supported: nl, en)")
    check_language(meta, lang, qmd.name)
    meta = translated_meta(meta, lang)
    defaults = {"echo": False, "warning": False, **(meta.get("execute") or {})}
    if out_dir is None:
        out_dir = qmd.parent / ((project.get("project") or {}).get("output-dir") or "_output")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    build = out / ".build" / f"{qmd.stem}{suffix}"
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)
    threshold = 10
    try:
        needs_kernel = any(
            isinstance(p, Chunk) or (isinstance(p, Markdown) and p.inline) for p in doc.parts
        )
        if needs_kernel:
            executed = execute(
                doc,
                dict(params or {}),
                lang=lang,
                threshold=threshold,
                defaults=defaults,
                figure_dir=build,
            )
        else:  # no code: nothing to execute (parameters are unused)
            executed = Executed(chunks={}, inline={})
        (build / "werkeffect.lua").write_text(LUA_FILTER, encoding="utf-8")
        assembler = _Assembler(doc, executed, build, defaults)
        written: dict[str, Path] = {}
        for fmt in targets:
            source = _meta_block(meta, lang) + assembler.markdown(fmt)
            opts = {
                **{k: meta[k] for k in ("toc", "number-sections") if k in meta},
                **_format_options(meta, fmt),
            }
            target = out / f"{qmd.stem}{suffix}.{fmt}"
            (build / f"{qmd.stem}.{fmt}.md").write_text(source, encoding="utf-8")
            if fmt == "html":
                written[fmt] = _to_html(source, build, target, opts, doc)
            else:
                written[fmt] = _to_pdf(source, build, target, opts, doc)
    finally:
        if not keep_build:
            shutil.rmtree(build, ignore_errors=True)
            parent = build.parent
            if parent.exists() and not any(parent.iterdir()):
                parent.rmdir()
    return written
