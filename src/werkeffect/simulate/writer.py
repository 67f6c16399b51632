"""Write a simulated extract in the folder format ``werkeffect.load`` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from werkeffect.data.dataset import Dataset
from werkeffect.simulate.truth import Truth


def write_simulation(
    dataset: Dataset, truth: Truth, out: str | Path, fmt: str = "parquet"
) -> list[Path]:
    """Write ``<table>.parquet`` (or ``.csv``), ``extract.json``, ``truth.json`` and
    ``simulation.json`` (the parameters) into ``out``. Files are byte-identical for the same
    simulation. Returns the paths written."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in dataset.tables().items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            table.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
        else:
            _to_csv(table, path)
        written.append(path)
    ext = {"extract_date": str(pd.Timestamp(dataset.extract_date).date())}
    (out / "extract.json").write_text(json.dumps(ext, sort_keys=True, indent=2) + "\n")
    (out / "truth.json").write_text(truth.to_json())
    (out / "simulation.json").write_text(truth.to_json(include_params=True))
    written += [out / "extract.json", out / "truth.json", out / "simulation.json"]
    return written


def _to_csv(table: pd.DataFrame, path: Path) -> None:
    t = table.copy()
    for c in t.columns:
        if pd.api.types.is_datetime64_any_dtype(t[c]):
            t[c] = t[c].dt.strftime("%Y-%m-%d")
    t.to_csv(path, index=False, lineterminator="\n", float_format="%.2f")
