"""Result objects for matching and weighting effect estimates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.results.base import EstimationResult

__all__ = ["MatchingEffectResult", "WeightingResult"]


@dataclass(frozen=True, eq=False)
class MatchingEffectResult(EstimationResult):
    """ATT from matching. ``extra`` holds ``variance_components`` (Abadie–Imbens terms),
    ``unit_effects`` (treated-minus-imputed control outcome per matched treated unit) and
    ``pairs`` (matched-set outcome table used by sensitivity analyses)."""

    @property
    def unit_effects(self) -> pd.Series:
        return self.extra["unit_effects"]

    @property
    def variance_components(self) -> dict:
        return dict(self.extra.get("variance_components", {}))


@dataclass(frozen=True, eq=False)
class WeightingResult(EstimationResult):
    """Effect from a weighting estimator (IPW, AIPW, entropy balancing, CEM).

    ``weights`` (Series aligned to the input rows) are in ``extra``; :meth:`balance` gives the
    balance table before and after weighting.
    """

    @property
    def weights(self) -> pd.Series:
        return self.extra["weights"]

    def balance(self, covariates=None, **kwargs) -> pd.DataFrame:
        from werkeffect.matching.balance import balance

        ex = self.extra
        return balance(
            ex["data"],
            treatment=ex["treatment"],
            covariates=list(covariates or ex["covariates"]),
            weights=self.weights,
            estimand=ex.get("estimand", "ATT"),
            **kwargs,
        )

    def love_plot(self, ax=None, threshold: float = 0.1):
        from werkeffect.matching.balance import love_plot

        return love_plot(self.balance(), ax=ax, threshold=threshold)

    def effective_sample_size(self) -> pd.Series:
        """Kish's effective sample size per group, (sum w)^2 / sum w^2."""
        ex = self.extra
        w = self.weights.to_numpy()
        d = ex["data"][ex["treatment"]].to_numpy().astype(int)
        out = {}
        for g, name in ((1, "treated"), (0, "control")):
            wg = w[d == g]
            out[name] = float(wg.sum() ** 2 / np.sum(wg**2)) if np.sum(wg**2) > 0 else 0.0
        return pd.Series(out, name="ess")
