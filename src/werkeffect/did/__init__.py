"""Difference-in-differences: 2x2, TWFE event studies, staggered adoption, few clusters.

Public names: :class:`CallawaySantAnna`, :class:`DiD`, :class:`EventStudy`,
:func:`bacon_decomposition`, :class:`SunAbraham`, :func:`wild_cluster_bootstrap`,
:func:`honest_bounds`, :func:`event_study_plot`, :func:`ww_inflow_frame`.
"""

from werkeffect.did.callaway_santanna import (
    AggregateResult,
    CallawaySantAnna,
    CallawaySantAnnaResult,
)

__all__ = ["AggregateResult", "CallawaySantAnna", "CallawaySantAnnaResult"]
