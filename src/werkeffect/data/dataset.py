"""The validated collection of tables an evaluation works on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from werkeffect.data.flow import DataFlow


@dataclass
class Dataset:
    """Validated tables of one extract.

    ``persons``, ``spells`` and ``programmes`` are always present; ``ww``, ``jobs`` and
    ``ladder`` are empty DataFrames with the right columns when the extract lacks them
    (``has("ww")`` tells). ``extract_date`` is the date the extract was drawn: running spells
    are right-censored there.
    """

    persons: pd.DataFrame
    spells: pd.DataFrame
    programmes: pd.DataFrame
    ww: pd.DataFrame
    extract_date: pd.Timestamp
    jobs: pd.DataFrame = field(default_factory=pd.DataFrame)
    ladder: pd.DataFrame = field(default_factory=pd.DataFrame)
    flow: DataFlow = field(default_factory=DataFlow)
    source: str = ""

    TABLE_NAMES = ("persons", "spells", "programmes", "ww", "jobs", "ladder")

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in self.TABLE_NAMES}

    def has(self, name: str) -> bool:
        table = getattr(self, name, None)
        return table is not None and len(table) > 0

    def fingerprint(self) -> str:
        """SHA-256 over the content of all tables (order of rows and columns as stored)."""
        h = hashlib.sha256()
        h.update(str(pd.Timestamp(self.extract_date).date()).encode())
        for name, table in self.tables().items():
            h.update(name.encode())
            if table is None or table.empty:
                continue
            h.update(",".join(map(str, table.columns)).encode())
            h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables().items() if v is not None)
        return f"<Dataset extract_date={pd.Timestamp(self.extract_date).date()} {sizes}>"
