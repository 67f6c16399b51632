"""The data-flow record: every step that drops or changes rows leaves a line here.

Reports draw it as a CONSORT-style diagram, so a reader can follow every row from the
extract to the estimate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["DataFlow", "FlowStep"]


@dataclass(frozen=True)
class FlowStep:
    """One step of the data flow: ``rows_in`` rows of ``table`` became ``rows_out``.

    ``reason`` is English; ``reason_nl`` says the same in Dutch for the Dutch reports (empty
    in records written before it existed: the reports then show the English reason).
    """

    step: str
    table: str
    rows_in: int
    rows_out: int
    reason: str
    reason_nl: str = ""

    @property
    def dropped(self) -> int:
        return self.rows_in - self.rows_out


@dataclass
class DataFlow:
    """An append-only list of :class:`FlowStep` records."""

    steps: list[FlowStep] = field(default_factory=list)

    def add(
        self,
        step: str,
        table: str,
        rows_in: int,
        rows_out: int,
        reason: str,
        reason_nl: str = "",
    ) -> None:
        self.steps.append(
            FlowStep(step, table, int(rows_in), int(rows_out), reason, str(reason_nl or ""))
        )

    def add_new_steps(self, other: DataFlow) -> None:
        """Append the steps of a frame's flow that this record does not hold yet.

        A frame built from a dataset (``episodes``, ``person_months``) carries the dataset's
        flow followed by its own steps; only those are added, so no step is counted twice.
        A flow that does not start with this record's steps is appended whole.
        """
        n = len(self.steps)
        start = n if other.steps[:n] == self.steps else 0
        self.steps.extend(other.steps[start:])

    def copy(self) -> DataFlow:
        return DataFlow(list(self.steps))

    def __iter__(self) -> Iterator[FlowStep]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def to_frame(self) -> pd.DataFrame:
        cols = ["step", "table", "rows_in", "rows_out", "dropped", "reason", "reason_nl"]
        rows = [
            {
                "step": s.step,
                "table": s.table,
                "rows_in": s.rows_in,
                "rows_out": s.rows_out,
                "dropped": s.dropped,
                "reason": s.reason,
                "reason_nl": s.reason_nl,
            }
            for s in self.steps
        ]
        return pd.DataFrame(rows, columns=cols)

    def to_records(self) -> list[dict]:
        return self.to_frame().to_dict(orient="records")

    @classmethod
    def from_records(cls, records: list[dict]) -> DataFlow:
        """The record back from :meth:`to_records` (``reason_nl`` may be absent: older files)."""
        flow = cls()
        for r in records:
            nl = r.get("reason_nl")
            nl = "" if nl is None or (isinstance(nl, float) and nl != nl) else str(nl)
            flow.add(r["step"], r["table"], r["rows_in"], r["rows_out"], r["reason"], nl)
        return flow
