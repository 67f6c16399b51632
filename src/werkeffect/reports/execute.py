"""Run a parsed ``.qmd`` document once in a Jupyter kernel (nbclient + ipykernel).

The kernel gets a fixed environment (``PYTHONHASHSEED=0``, ``SOURCE_DATE_EPOCH``, ``TZ=UTC``,
one thread) and a hidden first cell that makes figures reproducible and puts every displayed
DataFrame through disclosure control. Inline expressions of a Markdown stretch are evaluated
by a hidden cell placed where that stretch sits, so they see the state at that point.

On POSIX systems the kernel talks over Unix sockets in a private temporary folder, not over
TCP ports on localhost: no other user of a shared analysis server can reach it, and
ipykernel has no reason to warn about unencrypted TCP traffic.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from werkeffect.exceptions import DisclosureError, RenderError
from werkeffect.reports._kernel import FIGURE_DIR_ENV
from werkeffect.reports.qmd import Chunk, Document, Markdown

INLINE_MARK = "\x1eWERKEFFECT-INLINE"
SOURCE_DATE_EPOCH = "946684800"  # 2000-01-01: a fixed date for every embedded timestamp


@dataclass
class ChunkResult:
    chunk: Chunk
    outputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Executed:
    """What the kernel returned: per chunk its outputs, per Markdown stretch its values."""

    chunks: dict[int, ChunkResult]
    inline: dict[int, list[str]]


#: Unix socket paths are limited to 104-108 bytes; the kernel appends "kernel-<n>"
MAX_SOCKET_DIR = 90


def _socket_dir(parents: tuple[str | None, ...] = (None, "/tmp")) -> str | None:
    """A private folder for the kernel's sockets: in the temporary folder, or in /tmp when
    that path is too long for a socket; None (TCP) on other systems or when neither fits."""
    if os.name != "posix":
        return None
    for parent in parents:
        if parent is not None and not os.path.isdir(parent):
            continue
        folder = tempfile.mkdtemp(prefix="werkeffect-kernel-", dir=parent)
        if len(os.fsencode(folder)) <= MAX_SOCKET_DIR:
            return folder
        os.rmdir(folder)
    return None


def _kernel_manager(socket_dir: str | None):
    """A python3 kernel manager: Unix sockets in ``socket_dir``, or TCP when it is None."""
    from jupyter_client import KernelManager

    if socket_dir is None:
        return KernelManager(kernel_name="python3")
    return KernelManager(
        kernel_name="python3", transport="ipc", ip=os.path.join(socket_dir, "kernel")
    )


def kernel_env(figure_dir: str | Path | None = None) -> dict[str, str]:
    """The fixed environment of the report kernel; ``figure_dir`` is where chunks write the
    figures they draw (``WERKEFFECT_FIGURE_DIR``)."""
    import werkeffect

    src = str(Path(werkeffect.__file__).resolve().parents[1])
    env = dict(os.environ)
    env.update(
        {
            "PYTHONHASHSEED": "0",
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
            "TZ": "UTC",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "PYTHONPATH": os.pathsep.join(
                [src] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
            ),
        }
    )
    if figure_dir is not None:
        env[FIGURE_DIR_ENV] = str(Path(figure_dir).resolve())
    else:
        env.pop(FIGURE_DIR_ENV, None)
    return env


def _python_literal(value: Any) -> str:
    return repr(value)


def build_notebook(
    doc: Document, params: dict[str, Any], lang: str, threshold: int, defaults: dict[str, Any]
) -> tuple[nbformat.NotebookNode, list[tuple[str, int]]]:
    """The notebook to execute and, per cell, what it belongs to (kind, part index)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cells = []
    owners: list[tuple[str, int]] = []
    setup = (
        "from werkeffect.reports._kernel import setup as __we_setup, inline as __we_inline\n"
        f"__we_setup(lang={lang!r}, threshold={int(threshold)})"
    )
    cells.append(nbformat.v4.new_code_cell(setup))
    owners.append(("setup", -1))
    injected = False
    for idx, part in enumerate(doc.parts):
        if isinstance(part, Markdown):
            if part.inline:
                exprs = ",\n    ".join(f"({e})" for e in part.inline)
                cells.append(nbformat.v4.new_code_cell(f"__we_inline([\n    {exprs},\n])"))
                owners.append(("inline", idx))
            continue
        opts = {**defaults, **part.options}
        if opts.get("eval", True) is False:
            continue
        code = part.code
        w, h = part.options.get("fig-width"), part.options.get("fig-height")
        if w or h:
            code = (
                "import matplotlib as __mpl\n"
                f"__mpl.rcParams['figure.figsize'] = ({float(w or 6.4)}, {float(h or 3.6)})\n"
                + code
            )
        cell = nbformat.v4.new_code_cell(code)
        tags = part.options.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        if opts.get("error", False):
            cell.metadata["tags"] = ["raises-exception"]
        cells.append(cell)
        owners.append(("chunk", idx))
        if "parameters" in tags and not injected:
            injected = True
            if params:
                src = "\n".join(f"{k} = {_python_literal(v)}" for k, v in params.items())
                cells.append(nbformat.v4.new_code_cell("# injected parameters\n" + src))
                owners.append(("params", idx))
    if params and not injected:  # like Quarto: without a parameters cell, inject at the top
        src = "\n".join(f"{k} = {_python_literal(v)}" for k, v in params.items())
        cells.insert(1, nbformat.v4.new_code_cell("# injected parameters\n" + src))
        owners.insert(1, ("params", -1))
    nb.cells = cells
    return nb, owners


def execute(
    doc: Document,
    params: dict[str, Any] | None = None,
    *,
    lang: str = "nl",
    threshold: int = 10,
    defaults: dict[str, Any] | None = None,
    timeout: int = 600,
    figure_dir: str | Path | None = None,
) -> Executed:
    """Execute the document's chunks once; raise on the first error not allowed by
    ``error: true`` (a disclosure violation raises :class:`DisclosureError`). Figures the
    chunks draw go to ``figure_dir`` (default: the system's temporary folder)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb, owners = build_notebook(doc, dict(params or {}), lang, threshold, defaults or {})
    socket_dir = _socket_dir()
    km = _kernel_manager(socket_dir)  # ours, so nbclient leaves the shutdown to us
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(doc.path.parent.resolve())}},
    )
    try:
        client.execute(env=kernel_env(figure_dir), cleanup_kc=True)  # stop channels, shut down
    except CellExecutionError as exc:
        failing = None
        for cell, owner in zip(nb.cells, owners, strict=True):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                if "raises-exception" not in cell.metadata.get("tags", []):
                    failing = (cell, owner)
                    break
        where = "a chunk"
        if failing is not None:
            kind, idx = failing[1]
            if kind == "chunk":
                part = doc.parts[idx]
                where = f"chunk '{part.label}' (line {part.line})"
            elif kind == "inline":
                where = f"an inline expression in the text at line {doc.parts[idx].line}"
            elif kind == "params":
                where = "the injected parameters"
            else:
                where = "the set-up cell"
        ename = getattr(exc, "ename", "") or ""
        evalue = getattr(exc, "evalue", "") or str(exc)
        if ename == "DisclosureError":
            raise DisclosureError(f"{doc.path.name}: {where}: {evalue}") from None
        raise RenderError(f"{doc.path.name}: {where} failed: {ename}: {evalue}") from None
    except Exception as exc:  # kernel could not start, timeout
        if isinstance(exc, RenderError | DisclosureError):
            raise
        raise RenderError(f"{doc.path.name}: executing the document failed: {exc}") from exc
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        if socket_dir is not None:
            shutil.rmtree(socket_dir, ignore_errors=True)

    chunks: dict[int, ChunkResult] = {}
    inline: dict[int, list[str]] = {}
    for cell, (kind, idx) in zip(nb.cells, owners, strict=True):
        if kind == "chunk":
            chunks[idx] = ChunkResult(doc.parts[idx], list(cell.get("outputs", [])))
        elif kind == "inline":
            text = "".join(
                o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout"
            )
            pos = text.rfind(INLINE_MARK)
            if pos < 0:
                raise RenderError(f"{doc.path.name}: inline expressions gave no value")
            inline[idx] = json.loads(text[pos + len(INLINE_MARK) :].strip())
    return Executed(chunks=chunks, inline=inline)
