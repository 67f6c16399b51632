"""Fredriksson & Johansson (2008): matching on elapsed duration for the whole survival curve.

Starters at elapsed month ``u`` are matched (nearest neighbours on the logit propensity score
within ``u``) to spells still on benefit and not yet treated at ``u``; comparison spells that
start later are **censored at their start**, and the survival curve (share still on benefit)
and cumulative exit to work after ``u`` are Kaplan–Meier / Aalen–Johansen curves within the
matched samples. The estimand is the effect of starting at ``u`` versus not starting (at least
not during the follow-up) — Van den Berg & Vikström's estimand, reached by matching.

Censoring at a later start is ignorable within matched pairs because the start hazard is a
function of the matched score: under the pooled logit ``alpha_m + x' beta`` two spells with the
same ``x' beta`` at ``u`` have the same start hazard in every later month.

The whole curves are in ``result.curves``; ``result.plot_curves(u)`` draws them.
"""

from __future__ import annotations

from werkeffect.dynamic._base import DynamicEstimator


class SurvivalMatch(DynamicEstimator):
    """Fredriksson–Johansson survival-function matching (controls censored at a later start).

    Same data and arguments as :class:`~werkeffect.dynamic.DynamicMatch`.
    """

    _weighting_options = ("nn",)
    _censor_later = True
    _ipcw = False
    _method = "Survival-function matching (Fredriksson & Johansson 2008)"
    _truth_prefix = "jobcoaching.att_u12"
    _estimand = (
        "ATT(u, h) and the curves after u: starting at u versus not starting during follow-up "
        "(comparison spells censored when they start), among starters at u"
    )
    _assumptions = (
        "Starting at u is as good as random given the covariates among spells not yet treated "
        "at u; later starts of comparison spells are ignorable given the matched score.",
        "No anticipation of a future start.",
        "Overlap within u.",
        "Censoring at the extract date independent of the outcome given u.",
    )
