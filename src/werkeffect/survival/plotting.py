"""Survival and cumulative-incidence curves with confidence bands and a risk table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from werkeffect.formatting import fmt_num

PALETTE = ("#00468b", "#ed0000", "#42b540", "#0099b4", "#925e9f", "#fdaf91", "#ad002a")


def plot_curves(
    res,
    ax=None,
    level: float = 0.95,
    risk_times: Sequence[float] | None = None,
    xlabel: str = "months on benefit",
    ylabel: str = "",
    colors: Sequence[str] | None = None,
    xlim: tuple[float, float] | None = None,
    labels: Mapping | None = None,
    title: str | None = None,
    risk_title: str = "number at risk",
    lang: str = "en",
):
    """Draw step curves of a :class:`SurvivalCurveResult` with bands and a risk table.

    Bands are the pointwise intervals computed at ``fit(level=...)``. ``xlim`` limits the
    time axis and the risk table to it (set it here rather than with ``ax.set_xlim`` after:
    the table's counts past the axis would stretch the saved figure). ``labels`` names the
    curves in the legend (by cause or group value, e.g. ``{1: "work"}``); ``title`` replaces
    the method's name ("" for none); ``risk_title`` heads the risk table, whose counts are
    written as ``lang`` (``en``/``nl``) writes numbers. Returns the curve
    Axes; the risk-table Axes is ``ax.risk_table_ax``.
    """
    import matplotlib.pyplot as plt

    curves = res.curves
    colors = list(colors or PALETTE)
    if ax is None:
        fig, (ax, axt) = plt.subplots(
            2, 1, figsize=(7, 5.2), sharex=True, gridspec_kw={"height_ratios": [4, 1]}
        )
    else:
        axt = ax.inset_axes([0.0, -0.42, 1.0, 0.22], sharex=ax)
    start = res.extra["start_value"]
    keys = ["group"] + (["cause"] if "cause" in curves.columns else [])
    coi = res.extra.get("cause_of_interest")
    if coi is not None and "cause" in curves.columns:
        curves = curves[curves["cause"] == coi]
    tmax = float(curves["time"].max()) if len(curves) else 1.0
    for i, (key, c) in enumerate(curves.groupby(keys, sort=True)):
        key = key if isinstance(key, tuple) else (key,)
        gname = res.extra.get("group_name") or "group"
        label = ", ".join(
            str(labels[v]) if labels is not None and v in labels
            else f"{gname if k == 'group' else k}={v}"
            for k, v in zip(keys, key, strict=True)
            if not (k == "group" and v == "all")
        )  # fmt: skip
        col = colors[i % len(colors)]
        t = np.concatenate(([0.0], c["time"].to_numpy(), [tmax]))
        y = np.concatenate(([start], c["estimate"].to_numpy(), [c["estimate"].iloc[-1]]))
        ax.step(t, y, where="post", color=col, lw=1.6, label=label or None)
        lo = np.concatenate(([start], c["lower"].to_numpy(), [c["lower"].iloc[-1]]))
        up = np.concatenate(([start], c["upper"].to_numpy(), [c["upper"].iloc[-1]]))
        ok = np.isfinite(lo) & np.isfinite(up)
        ax.fill_between(t[ok], lo[ok], up[ok], step="post", color=col, alpha=0.18, lw=0)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02 if start in (0.0, 1.0) and ylabel != "cumulative hazard" else None)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False)
    ax.set_title(f"{res.method} ({level * 100:g}% bands)" if title is None else title)
    lo_t, hi_t = xlim if xlim is not None else (0.0, tmax)
    if xlim is not None:
        ax.set_xlim(*xlim)
    if risk_times is None:
        risk_times = np.linspace(lo_t, hi_t, 6).round(0)
    risk_times = [t for t in risk_times if lo_t <= t <= hi_t]
    tab = res.risk_table(risk_times)
    for i, (lab, row) in enumerate(tab.iterrows()):
        yy = len(tab) - 1 - i
        for t, v in zip(tab.columns, row, strict=True):
            axt.text(t, yy, fmt_num(v, 0, lang), ha="center", va="center", fontsize=8)
        axt.text(
            -0.02,
            yy,
            "" if str(lab) == "all" else str(labels.get(lab, lab) if labels else lab),
            ha="right",
            va="center",
            fontsize=8,
            transform=axt.get_yaxis_transform(),
        )
    axt.set_ylim(-0.6, len(tab) - 0.4)
    axt.set_yticks([])
    axt.set_title(risk_title, fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        axt.spines[side].set_visible(False)
    axt.set_xlabel(xlabel)
    ax.risk_table_ax = axt
    return ax
