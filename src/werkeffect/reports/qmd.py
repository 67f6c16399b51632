"""Read a Quarto ``.qmd`` document into front matter, Markdown and ``{python}`` chunks.

Only the subset the built-in engine renders is accepted; anything else (an ``{r}`` or
``{ojs}`` chunk, a shortcode ``{{< >}}``, an unknown chunk option or front-matter key, an
unsupported output format) raises :class:`UnsupportedFeatureError` naming the line, so a
feature is never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from werkeffect.exceptions import UnsupportedFeatureError

#: chunk options the engine implements
CHUNK_OPTIONS = {
    "label",
    "echo",
    "eval",
    "output",
    "include",
    "warning",
    "error",
    "fig-cap",
    "tbl-cap",
    "fig-width",
    "fig-height",
    "tags",
}
#: front-matter keys the engine implements
FRONT_MATTER = {
    "title",
    "subtitle",
    "author",
    "date",
    "lang",
    "abstract",
    "format",
    "execute",
    "jupyter",
    "toc",
    "toc-title",
    "number-sections",
    "institute",
    "keywords",
    "description",
    "project",
    "werkeffect",
}
FORMATS = {"html", "pdf", "typst"}
FORMAT_OPTIONS = {"toc", "toc-title", "number-sections", "embed-resources", "papersize"}
EXECUTE_OPTIONS = {"echo", "eval", "output", "include", "warning", "error"}

_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")
_ENGINE_CHUNK = re.compile(r"^\{\s*(?P<lang>[A-Za-z][\w-]*)(?P<rest>[^}]*)\}$")
_INLINE = re.compile(r"`\{(?P<lang>[A-Za-z]\w*)\}\s+(?P<expr>[^`]+?)`")
_SHORTCODE = re.compile(r"\{\{[<%]")
_OPTION = re.compile(r"^\s*#\|\s?(?P<body>.*)$")


@dataclass
class Chunk:
    """A ``{python}`` code chunk with its ``#|`` options."""

    code: str
    options: dict[str, Any]
    line: int

    @property
    def label(self) -> str:
        return str(self.options.get("label", f"chunk at line {self.line}"))


@dataclass
class Markdown:
    """A stretch of Markdown; ``inline`` holds its `` `{python} expr` `` expressions."""

    text: str
    line: int
    inline: list[str] = field(default_factory=list)


@dataclass
class Document:
    path: Path
    meta: dict[str, Any]
    parts: list[Chunk | Markdown]


def _refuse(path: Path | str, line: int, what: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(
        f"{path}:{line}: {what} is not supported by werkeffect's built-in Quarto engine; "
        "install Quarto (quarto on PATH or QUARTO_PATH) or remove it"
    )


def split_front_matter(text: str, path: Path | str = "<qmd>") -> tuple[dict[str, Any], str, int]:
    """YAML front matter (``---`` … ``---`` at the top), the body, and the body's first line."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            meta = yaml.safe_load("".join(lines[1:i])) or {}
            if not isinstance(meta, dict):
                raise UnsupportedFeatureError(f"{path}: the front matter is not a YAML mapping")
            return meta, "".join(lines[i + 1 :]), i + 2
    raise UnsupportedFeatureError(f"{path}: the front matter has no closing '---'")


#: front-matter keys a document can give per language under ``werkeffect: {en: {...}}``
TRANSLATABLE = ("title", "subtitle", "author", "abstract", "description")
LANGUAGES = ("nl", "en")


def document_languages(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """The languages a document is written for: ``werkeffect: {languages: [nl]}`` in its
    front matter (the council information is Dutch only); default Dutch and English."""
    own = meta.get("werkeffect") or {}
    return tuple(own.get("languages") or LANGUAGES)


def check_language(meta: Mapping[str, Any], lang: str, name: str) -> None:
    """Refuse to render a document in a language it is not written for."""
    written_in = document_languages(meta)
    if lang not in written_in:
        raise UnsupportedFeatureError(
            f"{name} is written in {', '.join(written_in)} only (werkeffect: languages in its "
            f"front matter); it has no '{lang}' version"
        )


def translated_meta(meta: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The title, subtitle, author, ... in ``lang``: the front matter's own values, with
    those under ``werkeffect: {<lang>: {...}}`` in their place (``nl`` is the default)."""
    own = (meta.get("werkeffect") or {}).get(lang) or {}
    return {**meta, **{k: v for k, v in own.items() if k in TRANSLATABLE}}


def _check_own_meta(own: Any, path: Path | str) -> None:
    """The ``werkeffect`` front-matter key: ``languages`` and per-language titles."""
    if not isinstance(own, dict):
        raise UnsupportedFeatureError(f"{path}: 'werkeffect' must be a mapping")
    for key, value in own.items():
        if key == "languages":
            bad = [x for x in (value or []) if x not in LANGUAGES]
            if not isinstance(value, list) or not value or bad:
                raise UnsupportedFeatureError(
                    f"{path}: werkeffect: languages must be a list of {', '.join(LANGUAGES)}"
                )
        elif key in LANGUAGES:
            unknown = sorted(set(value or {}) - set(TRANSLATABLE))
            if not isinstance(value, dict) or unknown:
                raise UnsupportedFeatureError(
                    f"{path}: werkeffect: {key}: only {', '.join(TRANSLATABLE)} can be given "
                    f"per language (got {', '.join(unknown) or type(value).__name__})"
                )
        else:
            raise UnsupportedFeatureError(
                f"{path}: werkeffect: '{key}' is not an option (languages, nl, en)"
            )


def check_meta(meta: dict[str, Any], path: Path | str, source: str = "front matter") -> None:
    """Refuse front-matter keys, formats and options the engine does not implement."""
    for key in meta:
        if key not in FRONT_MATTER:
            raise UnsupportedFeatureError(
                f"{path}: {source} key '{key}' is not supported by werkeffect's built-in Quarto "
                f"engine (supported: {', '.join(sorted(FRONT_MATTER))})"
            )
    if "werkeffect" in meta:
        _check_own_meta(meta["werkeffect"], path)
    fmt = meta.get("format")
    if fmt is not None:
        items = {fmt: {}} if isinstance(fmt, str) else fmt
        if not isinstance(items, dict):
            raise UnsupportedFeatureError(f"{path}: 'format' must be a name or a mapping")
        for name, opts in items.items():
            if name not in FORMATS:
                raise UnsupportedFeatureError(
                    f"{path}: output format '{name}' is not supported by the built-in engine "
                    f"(supported: html, pdf, typst)"
                )
            for opt in (opts or {}) if isinstance(opts, dict) else {}:
                if opt not in FORMAT_OPTIONS:
                    raise UnsupportedFeatureError(
                        f"{path}: format option '{name}: {opt}' is not supported by the built-in "
                        f"engine (supported: {', '.join(sorted(FORMAT_OPTIONS))})"
                    )
    for opt in meta.get("execute") or {}:
        if opt not in EXECUTE_OPTIONS:
            raise UnsupportedFeatureError(
                f"{path}: execute option '{opt}' is not supported by the built-in engine"
            )
    jup = meta.get("jupyter")
    if jup is not None and jup not in ("python3", "python"):
        raise UnsupportedFeatureError(f"{path}: jupyter kernel '{jup}' is not supported")


def parse_options(code: str, path: Path | str, line: int) -> tuple[dict[str, Any], str]:
    """Leading ``#|`` lines as YAML options, and the remaining code."""
    lines = code.splitlines()
    opts_src: list[str] = []
    i = 0
    while i < len(lines):
        m = _OPTION.match(lines[i])
        if not m:
            break
        opts_src.append(m.group("body"))
        i += 1
    options: dict[str, Any] = {}
    if opts_src:
        try:
            options = yaml.safe_load("\n".join(opts_src)) or {}
        except yaml.YAMLError as exc:
            raise UnsupportedFeatureError(
                f"{path}:{line}: chunk options are not valid YAML: {exc}"
            ) from exc
        if not isinstance(options, dict):
            raise UnsupportedFeatureError(f"{path}:{line}: chunk options must be 'key: value'")
    for key in options:
        if key not in CHUNK_OPTIONS:
            raise _refuse(path, line, f"chunk option '#| {key}'")
    out = options.get("output")
    if out not in (None, True, False, "asis"):
        raise _refuse(path, line, f"chunk option 'output: {out}'")
    return options, "\n".join(lines[i:])


def parse(text: str, path: Path | str = "<qmd>") -> Document:
    """Parse a ``.qmd`` text."""
    meta, body, first = split_front_matter(text, path)
    check_meta(meta, path)
    lines = body.splitlines()
    parts: list[Chunk | Markdown] = []
    md: list[str] = []
    md_start = first
    i = 0

    def flush(next_line: int) -> None:
        nonlocal md, md_start
        if md:
            text = "\n".join(md) + "\n"
            parts.append(Markdown(text=text, line=md_start))
        md = []
        md_start = next_line

    while i < len(lines):
        raw = lines[i]
        lineno = first + i
        m = _FENCE_OPEN.match(raw)
        if m:
            fence, info = m.group("fence"), m.group("info")
            close = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            if j >= len(lines):
                raise UnsupportedFeatureError(f"{path}:{lineno}: code fence is never closed")
            inner = "\n".join(lines[i + 1 : j])
            em = _ENGINE_CHUNK.match(info)
            if em:
                lang = em.group("lang").lower()
                if lang.startswith("="):
                    md.extend(lines[i : j + 1])
                elif lang != "python":
                    raise _refuse(path, lineno, f"a '{{{em.group('lang')}}}' code chunk")
                else:
                    if em.group("rest").strip():
                        raise _refuse(
                            path, lineno, f"chunk header options '{em.group('rest').strip()}'"
                        )
                    flush(lineno)
                    options, code = parse_options(inner, path, lineno)
                    parts.append(Chunk(code=code, options=options, line=lineno))
                    md_start = first + j + 1
            else:
                md.extend(lines[i : j + 1])  # a displayed code block, kept as is
            i = j + 1
            continue
        if _SHORTCODE.search(raw):
            raise _refuse(path, lineno, "a shortcode ({{< … >}})")
        md.append(raw)
        i += 1
    flush(first + len(lines))
    for part in parts:
        if isinstance(part, Markdown):
            for m in _INLINE.finditer(part.text):
                if m.group("lang") != "python":
                    raise _refuse(path, part.line, f"an inline '{{{m.group('lang')}}}' expression")
                part.inline.append(m.group("expr"))
    return Document(path=Path(path), meta=meta, parts=parts)


def substitute_inline(text: str, values: list[str]) -> str:
    """Replace the inline expressions of ``text``, in order, by their values."""
    it = iter(values)
    return _INLINE.sub(lambda m: next(it), text)
