"""Fredriksson & Johansson (2008): matching on elapsed duration for the whole survival curve.

Starters at elapsed month ``u`` are matched (nearest neighbours on the logit propensity score
within ``u``) to spells still on benefit and not yet treated at ``u``; comparison spells that
start later are **censored at their start**, and the survival curve (share still on benefit)
and cumulative exit to work after ``u`` are Kaplan–Meier / Aalen–Johansen curves within the
matched samples. The estimand is the effect of starting at ``u`` versus not starting (at least
not during the follow-up) — Van den Berg & Vikström's estimand, reached by matching.

Censoring at a later start is ignorable *within* a matched pair (under the pooled logit
``alpha_m + x' beta`` two spells with the same ``x' beta`` at ``u`` have the same start hazard
in every later month), but not in the comparison curve that pools the pairs: spells with a
high score start, and so leave the comparison arm, sooner, and the score also predicts the
exit to work, so the arm's composition drifts. Each matched comparison spell is therefore
weighted in month ``m > u`` by the inverse probability of not having started by ``m`` given
its covariates (inverse probability of censoring weights from the start model, as in
:class:`~werkeffect.dynamic.DynamicIPW`). Without them the estimate was +0.002 to +0.003 too
high at u = 3–12 on ``groningen-observables`` (4–8% of the effect; ``docs/dynamic.md``).

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
    _ipcw = True
    _method = "Survival-function matching (Fredriksson & Johansson 2008)"
    _truth_prefix = "jobcoaching.att_u12"
    _estimand = (
        "ATT(u, h) and the curves after u: starting at u versus not starting during follow-up "
        "(comparison spells censored when they start), among starters at u"
    )
    _assumptions = (
        "Starting at u is as good as random given the covariates among spells not yet treated "
        "at u; later starts of comparison spells are ignorable given the covariates, and the "
        "start model (pooled logit with month effects) that weights them is correctly specified.",
        "No anticipation of a future start.",
        "Overlap within u.",
        "Censoring at the extract date independent of the outcome given u.",
    )
