"""The result of a dynamic evaluation: ATT(u, h), its average over u, and the curves after u."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from werkeffect.results.base import EstimationResult


@dataclass(frozen=True, eq=False)
class DynamicResult(EstimationResult):
    """ATT(u, h) by elapsed month ``u`` and horizon ``h``, plus ``("ATT", h)`` averages.

    ``params`` is indexed by a MultiIndex ``(u, horizon)``; ``params[("ATT", h)]`` averages
    ATT(u, h) over the distribution of ``u`` among the (matched) programme starters, and
    ``params["ATT"]`` gives these averages by horizon.

    Extra attributes
    ----------------
    cohorts
        One row per u: treated, matched treated, controls (not yet treated), controls used,
        effective number of controls.
    curves
        Survival (still on benefit) and cumulative incidence of the outcome after u, months
        ``1..H``, for the treated and the (matched / weighted) controls.
    start_model
        Coefficients of the programme-start hazard (log odds per standard deviation of each
        covariate).
    bootstrap_estimates
        One row per bootstrap replication (columns as ``params``).
    """

    horizons: tuple[int, ...] = ()
    u_values: tuple[int, ...] = ()
    outcome: str = "work"
    cohorts: pd.DataFrame | None = None
    curves: pd.DataFrame | None = None
    start_model: pd.Series | None = None
    bootstrap_estimates: pd.DataFrame | None = None
    truth_prefix: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    # -- access ------------------------------------------------------------------------------
    def att(self, u: int | str = "ATT", horizon: int = 12) -> float:
        """ATT(u, h) as a float; ``u="ATT"`` for the average over u."""
        return float(self.params[(u, horizon)])

    def att_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Wide table: one row per (u, horizon) with estimate, std_error, lower, upper, n."""
        ci = self.conf_int(level)
        out = pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": self.std_errors,
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )
        out.index = self.params.index
        if self.cohorts is not None:
            n = self.cohorts.set_index("u")["n_treated_matched"]
            out["n_treated"] = [
                float(n.get(u, np.nan)) if u != "ATT" else float(n.sum()) for u, _ in out.index
            ]
        return out

    def estimand_keys(self) -> dict[tuple, str]:
        """Truth keys of the simulator for the (u, 12) estimates, e.g.
        ``jobcoaching.att_u12_sianesi.u6`` (only when the outcome is exit to work)."""
        if not self.truth_prefix or self.outcome != "work":
            return {}
        return {
            (u, h): f"{self.truth_prefix}.u{u}"
            for (u, h) in self.params.index
            if u != "ATT" and h == 12
        }

    # -- plots -------------------------------------------------------------------------------
    def plot(
        self,
        ax=None,
        level: float = 0.95,
        horizon: int | None = None,
        kind: str = "att",
        lang: str = "en",
    ):
        """ATT(u, h) by u with intervals (``kind="att"``; ``lang`` ``en``/``nl`` for its
        words), or the curves (``kind="curves"``)."""
        from werkeffect.dynamic.plot import plot_att, plot_curves

        if kind == "curves":
            return plot_curves(self, ax=ax)
        return plot_att(self, ax=ax, level=level, horizon=horizon, lang=lang)

    def plot_curves(self, u: int | None = None, ax=None, what: str = "survival"):
        """Survival (still on benefit) or cumulative incidence after u, treated vs controls."""
        from werkeffect.dynamic.plot import plot_curves

        return plot_curves(self, u=u, ax=ax, what=what)
