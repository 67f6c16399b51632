"""Matching and weighting: propensity scores, nearest-neighbour matching, CEM, IPW, AIPW,
entropy balancing, balance diagnostics, sensitivity analysis, randomisation inference and
power for small groups.

As in MatchIt + cobalt, matching produces matched sets and weights; balance is assessed
separately (:func:`balance`), and the effect is estimated afterwards (``res.att(outcome)``).
"""

from werkeffect.matching.balance import balance, love_plot, overlap_plot
from werkeffect.matching.effects import MatchingEffectResult, WeightingResult
from werkeffect.matching.nearest import MatchResult, NearestNeighborMatch
from werkeffect.matching.propensity import (
    CommonSupport,
    PropensityScore,
    PropensityScoreResult,
    common_support,
)

__all__ = [
    "CommonSupport",
    "MatchResult",
    "MatchingEffectResult",
    "NearestNeighborMatch",
    "PropensityScore",
    "PropensityScoreResult",
    "WeightingResult",
    "balance",
    "common_support",
    "love_plot",
    "overlap_plot",
]
