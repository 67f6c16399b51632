"""Pictures of a dynamic evaluation: ATT(u, h) by u, and the curves after u."""

from __future__ import annotations

import numpy as np

from werkeffect.formatting import fmt_num

BLUE = "#00468b"
RED = "#ed0000"


#: plot_att's words: legend, x axis, y axis (durable, other), title
ATT_PLOT_WORDS = {
    "en": ("h = {h} months (average {avg})",
           "elapsed benefit duration at programme start, u (months)",
           "ATT(u, h): durable exit to work within h months",
           "ATT(u, h): exit to work within h months", "{method} ({level}% intervals)"),
    "nl": ("h = {h} maanden (gemiddeld {avg})", "uitkeringsduur bij de start, u (maanden)",
           "extra kans op duurzaam werk binnen h maanden", "extra kans op werk binnen h maanden",
           "{method} ({level}%-intervallen)"),
}  # fmt: skip


def plot_att(res, ax=None, level: float = 0.95, horizon: int | None = None, lang: str = "en"):
    """ATT(u, h) against elapsed month u with intervals; one series per horizon; ``lang``
    (``en``/``nl``) for the words."""
    import matplotlib.pyplot as plt

    legend, xlabel, y_durable, y_exit, title = ATT_PLOT_WORDS[lang]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ci = res.conf_int(level)
    horizons = res.horizons if horizon is None else (horizon,)
    colours = [BLUE, RED, "#42b540", "#925e9f"]
    width = 0.25 if len(horizons) > 1 else 0.0
    for j, h in enumerate(horizons):
        us = [u for u, hh in res.params.index if hh == h and u != "ATT"]
        est = np.array([res.params[(u, h)] for u in us])
        lo = np.array([ci.loc[(u, h), "lower"] for u in us])
        up = np.array([ci.loc[(u, h), "upper"] for u in us])
        x = np.asarray(us, float) + (j - (len(horizons) - 1) / 2) * width
        c = colours[j % len(colours)]
        ax.errorbar(
            x,
            est,
            yerr=[est - lo, up - est],
            fmt="o",
            ms=4,
            capsize=2,
            color=c,
            label=legend.format(h=h, avg=fmt_num(res.params[("ATT", h)], 3, lang, sign=True)),
        )
        ax.axhline(res.params[("ATT", h)], color=c, lw=0.8, ls=":")
    ax.axhline(0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(y_durable if res.outcome == "durable" else y_exit)
    ax.set_title(title.format(method=res.method, level=f"{level * 100:g}"))
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_curves(res, u: int | None = None, ax=None, what: str = "survival"):
    """Curves after u for treated and controls (``what``: ``survival`` or ``cif``)."""
    import matplotlib.pyplot as plt

    cur = res.curves
    if cur is None:
        raise ValueError("this result holds no curves")
    us = sorted(cur["u"].unique())
    if u is None:
        counts = res.cohorts.set_index("u")["n_treated_matched"]
        u = int(counts.idxmax())
    if u not in us:
        raise ValueError(f"no curves for u={u}; available: {us}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    sub = cur[cur["u"] == u]
    for group, colour in (("treated", RED), ("control", BLUE)):
        g = sub[sub["group"] == group]
        x = np.r_[0, g["month"].to_numpy()]
        y = np.r_[1.0 if what == "survival" else 0.0, g[what].to_numpy()]
        ax.step(x, y, where="post", color=colour, label=group)
    ax.set_xlabel(f"months after u = {u}")
    ax.set_ylabel(
        "share still on benefit" if what == "survival" else "cumulative share exited (outcome)"
    )
    ax.set_ylim(0, 1)
    ax.set_title(f"{res.method}: starters at u = {u} and their comparison group")
    ax.legend(frameon=False)
    return ax
