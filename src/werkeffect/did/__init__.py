"""Difference-in-differences: 2x2, TWFE event studies, staggered adoption, few clusters.

Estimators (model configured in ``__init__``, ``fit()`` returns an immutable result):

- :class:`DiD` — 2x2 with covariates (outcome regression, IPW, doubly robust; panel or
  repeated cross sections), analytic or wild-cluster-bootstrap inference.
- :class:`CallawaySantAnna` — staggered adoption, ATT(g,t) and ``aggregate()``.
- :class:`EventStudy` / :class:`TWFE` — two-way fixed effects, leads and lags, pre-trend test.
- :class:`SunAbraham` — interaction-weighted event study.
- :func:`bacon_decomposition` — which 2x2 comparisons a TWFE estimate leans on.
- :func:`honest_bounds` — Rambachan & Roth (2023) sensitivity to parallel-trend violations.
- :func:`wild_cluster_bootstrap`, :func:`event_study_plot`, :func:`ww_inflow_frame`.
"""

from werkeffect.did._checks import group_from_treatment
from werkeffect.did.bacon import BaconDecomposition, bacon_decomposition
from werkeffect.did.callaway_santanna import (
    AggregateResult,
    CallawaySantAnna,
    CallawaySantAnnaResult,
)
from werkeffect.did.honest import HonestResult, honest_bounds
from werkeffect.did.plot import event_study_plot, sup_t_critical
from werkeffect.did.sun_abraham import SunAbraham
from werkeffect.did.twfe import TWFE, EventStudy, EventStudyResult
from werkeffect.did.two_by_two import DiD, DiDResult
from werkeffect.did.wild_bootstrap import WildBootstrapResult, wild_cluster_bootstrap
from werkeffect.did.ww_frame import ww_inflow_frame

__all__ = [
    "TWFE",
    "AggregateResult",
    "BaconDecomposition",
    "CallawaySantAnna",
    "CallawaySantAnnaResult",
    "DiD",
    "DiDResult",
    "EventStudy",
    "EventStudyResult",
    "HonestResult",
    "SunAbraham",
    "WildBootstrapResult",
    "bacon_decomposition",
    "event_study_plot",
    "group_from_treatment",
    "honest_bounds",
    "sup_t_critical",
    "wild_cluster_bootstrap",
    "ww_inflow_frame",
]
