"""Result objects shared by every estimator, and results files.

``EstimationResult`` is imported lazily so that reading results files (reports) does not
import scipy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EstimationResult", "ResultsWriter", "read_results"]


def __getattr__(name: str) -> Any:
    if name == "EstimationResult":
        from werkeffect.results.base import EstimationResult

        return EstimationResult
    if name in ("ResultsWriter", "read_results"):
        from werkeffect.results import files

        return getattr(files, name)
    raise AttributeError(f"module 'werkeffect.results' has no attribute {name!r}")
