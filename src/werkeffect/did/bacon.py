"""Goodman-Bacon (2021) decomposition of the static TWFE DiD coefficient.

With staggered adoption the TWFE coefficient on ``D_it`` (balanced panel, no covariates) is
a weighted average of all 2x2 DiDs between timing groups: treated vs never treated,
earlier- vs later-treated (later group still untreated: a clean comparison), and
later- vs earlier-treated (the earlier group, already treated, as control: a "forbidden"
comparison that biases TWFE when effects change over time). The weights depend on group
sizes and on the variance of treatment within each pair. ``sum(weight * estimate)``
reproduces the TWFE coefficient exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.did._checks import build_panel, group_codes, require_columns
from werkeffect.exceptions import EstimationError


@dataclass(frozen=True)
class BaconDecomposition:
    """``table``: one row per 2x2 comparison (type, treated, control, estimate, weight)."""

    table: pd.DataFrame
    twfe: float

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted average estimate per comparison type."""
        t = self.table
        g = t.groupby("type", sort=False)
        return pd.DataFrame(
            {
                "weight": g["weight"].sum(),
                "estimate": g.apply(
                    lambda d: (
                        np.average(d["estimate"], weights=d["weight"])
                        if d["weight"].sum() > 0
                        else np.nan
                    ),
                    include_groups=False,
                ),
            }
        )

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lines = [f"Goodman-Bacon decomposition of the TWFE estimate {self.twfe:.4f}"]
        lines.append(self.by_type().to_string(float_format=lambda v: f"{v:.4f}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax=None):
        """Estimate against weight per comparison, coloured by type."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        colours = {
            "treated vs never treated": "#00468b",
            "earlier vs later treated": "#42b540",
            "later vs earlier treated": "#ed0000",
            "treated vs always treated": "#925e9f",
        }
        for kind, d in self.table.groupby("type"):
            ax.scatter(d["weight"], d["estimate"], label=kind, color=colours.get(kind))
        ax.axhline(self.twfe, color="grey", ls="--", lw=0.8, label="TWFE")
        ax.set_xlabel("weight")
        ax.set_ylabel("2x2 DiD estimate")
        ax.legend(fontsize=8)
        return ax


def bacon_decomposition(
    df: pd.DataFrame, outcome: str, unit: str, time: str, group: str
) -> BaconDecomposition:
    """Decompose the TWFE DiD coefficient (balanced panel; ``group`` = first treated period)."""
    require_columns(df, [outcome, unit, time, group])
    pan = build_panel(df, outcome=outcome, unit=unit, time=time, g=group_codes(df, group))
    y, periods = pan.y, pan.periods
    n_t = len(periods)
    gvals = np.where(pan.g == 0, np.inf, pan.g)
    timing = np.unique(gvals)
    dbar = np.array([np.mean(periods >= g) for g in timing])  # share of periods treated
    n_units = y.shape[0]
    gidx = np.searchsorted(timing, gvals)
    share = np.bincount(gidx, minlength=len(timing)) / n_units
    ybar = np.zeros((len(timing), n_t))
    np.add.at(ybar, gidx, y)
    ybar /= np.bincount(gidx, minlength=len(timing))[:, None]
    if (dbar > 0).sum() == 0 or len(timing) < 2:
        raise EstimationError("the decomposition needs treated units and a comparison group")

    def did(k: int, l_: int, window: np.ndarray, post: np.ndarray) -> float:
        a = ybar[k, window & post].mean() - ybar[k, window & ~post].mean()
        b = ybar[l_, window & post].mean() - ybar[l_, window & ~post].mean()
        return float(a - b)

    rows = []
    for i in range(len(timing)):
        for j in range(len(timing)):
            dk, dl = dbar[i], dbar[j]
            if not dk > dl:
                continue  # i is treated earlier than j
            nk, nl = share[i], share[j]
            nkl = nk / (nk + nl)
            gk, gl = timing[i], timing[j]
            if dl == 0:  # j never treated within the panel
                w = (nk + nl) ** 2 * nkl * (1 - nkl) * dk * (1 - dk)
                if w > 0:
                    kind = (
                        "treated vs never treated" if np.isinf(gl) else "treated vs never treated"
                    )
                    rows.append((kind, gk, gl, did(i, j, np.ones(n_t, bool), periods >= gk), w))
                continue
            # earlier (i) vs later (j) before j is treated
            w1 = (
                ((nk + nl) * (1 - dl)) ** 2
                * nkl
                * (1 - nkl)
                * (dk - dl)
                / (1 - dl)
                * (1 - dk)
                / (1 - dl)
            )
            if w1 > 0:
                window = periods < gl
                rows.append(
                    ("earlier vs later treated", gk, gl, did(i, j, window, periods >= gk), w1)
                )
            # later (j) vs earlier (i) after i is treated
            w2 = ((nk + nl) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * (dk - dl) / dk
            if w2 > 0:
                window = periods >= gk
                kind = "later vs earlier treated" if dk < 1 else "treated vs always treated"
                rows.append((kind, gl, gk, did(j, i, window, periods >= gl), w2))
    table = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    table["weight"] = table["weight"] / table["weight"].sum()
    for c in ("treated", "control"):
        table[c] = table[c].replace(np.inf, 0).astype(float)
    twfe = float((table["weight"] * table["estimate"]).sum())
    return BaconDecomposition(table=table, twfe=twfe)
