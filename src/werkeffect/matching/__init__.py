"""Matching and weighting: propensity scores, nearest-neighbour matching, CEM, IPW, AIPW,
entropy balancing, balance diagnostics, sensitivity analysis, randomisation inference and
power for small groups.

As in MatchIt + cobalt, matching produces matched sets and weights; balance is assessed
separately (:func:`balance`), and the effect is estimated afterwards (``res.att(outcome)``).
"""

from werkeffect.matching.balance import balance, love_plot, overlap_plot
from werkeffect.matching.cem import CEM
from werkeffect.matching.effects import MatchingEffectResult, WeightingResult
from werkeffect.matching.entropy import EntropyBalance
from werkeffect.matching.nearest import MatchResult, NearestNeighborMatch
from werkeffect.matching.pilot import pilot_frame
from werkeffect.matching.power import analytic_mde, minimum_detectable_effect, power
from werkeffect.matching.propensity import (
    CommonSupport,
    PropensityScore,
    PropensityScoreResult,
    common_support,
)
from werkeffect.matching.randomization import RandomizationResult, randomization_test
from werkeffect.matching.sensitivity import evalue, rosenbaum_bounds
from werkeffect.matching.weighting import AIPW, IPW, crump_alpha

__all__ = [
    "AIPW",
    "CEM",
    "IPW",
    "CommonSupport",
    "EntropyBalance",
    "MatchResult",
    "MatchingEffectResult",
    "NearestNeighborMatch",
    "PropensityScore",
    "PropensityScoreResult",
    "RandomizationResult",
    "WeightingResult",
    "analytic_mde",
    "balance",
    "common_support",
    "crump_alpha",
    "evalue",
    "love_plot",
    "minimum_detectable_effect",
    "overlap_plot",
    "pilot_frame",
    "power",
    "randomization_test",
    "rosenbaum_bounds",
]
