"""The layout shows the architecture: data → estimators → results → reports. A lower layer
never imports a higher one, not even lazily inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "werkeffect"

#: each layer and the werkeffect modules it may not import
FORBIDDEN = {
    "data": ("werkeffect.survival", "werkeffect.dynamic", "werkeffect.did",
             "werkeffect.matching", "werkeffect.results", "werkeffect.reports",
             "werkeffect.analysis", "werkeffect.monitor"),
    "formatting.py": ("werkeffect",),
    "survival": ("werkeffect.reports", "werkeffect.analysis"),
    "dynamic": ("werkeffect.reports", "werkeffect.analysis"),
    "did": ("werkeffect.reports", "werkeffect.analysis"),
    "matching": ("werkeffect.reports", "werkeffect.analysis"),
    "costs.py": ("werkeffect.reports", "werkeffect.analysis"),
    "monitor.py": ("werkeffect.reports", "werkeffect.analysis"),
    "results": ("werkeffect.reports", "werkeffect.analysis"),
}  # fmt: skip


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_lower_layer_does_not_import_a_higher_one(layer):
    files = [SRC / layer] if layer.endswith(".py") else sorted((SRC / layer).rglob("*.py"))
    assert files and all(f.exists() for f in files)
    bad = [
        f"{f.relative_to(SRC)}:{line} imports {name}"
        for f in files
        for line, name in _imports(f)
        if any(name == m or name.startswith(m + ".") for m in FORBIDDEN[layer])
    ]
    assert not bad, "\n".join(bad)


def test_the_rule_catches_a_lazy_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from werkeffect.reports.helpers import fmt_num\n")
    assert (2, "werkeffect.reports.helpers") in _imports(f)
