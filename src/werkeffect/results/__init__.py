"""Result objects shared by every estimator."""

from werkeffect.results.base import EstimationResult

__all__ = ["EstimationResult"]
