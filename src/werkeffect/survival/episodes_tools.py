"""Reshaping start–stop episodes: splitting rows at given times and piecewise treatment effects."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.survival._checks import event_column, numeric_column, require_columns


def split_episodes(
    df: pd.DataFrame,
    split_times: np.ndarray,
    start: str = "start",
    stop: str = "stop",
    event: str = "event",
    cause: str | None = None,
) -> pd.DataFrame:
    """Split each ``(start, stop]`` row at the times in ``split_times`` (n × m, NaN: none).

    Only times strictly inside a row split it. Other columns are copied; the event (and
    cause) stay on the last piece only. Fully vectorised.
    """
    s0 = numeric_column(df, start, "split_episodes")
    s1 = numeric_column(df, stop, "split_episodes")
    pts = np.asarray(split_times, dtype=float)
    if pts.ndim == 1:
        pts = pts[:, None]
    valid = np.isfinite(pts) & (pts > s0[:, None]) & (pts < s1[:, None])
    pts = np.sort(np.where(valid, pts, np.inf), axis=1)
    cnt = valid.sum(1)
    rows = np.repeat(np.arange(len(df)), cnt + 1)
    first = np.concatenate(([0], np.cumsum(cnt + 1)[:-1]))
    k = np.arange(rows.shape[0]) - first[rows]
    m = pts.shape[1]
    prev = pts[rows, np.clip(k - 1, 0, m - 1)]
    nxt = pts[rows, np.clip(k, 0, m - 1)]
    last = k == cnt[rows]
    new_start = np.where(k == 0, s0[rows], prev)
    new_stop = np.where(last, s1[rows], nxt)
    out = df.iloc[rows].reset_index(drop=True)
    out[start] = new_start
    out[stop] = new_stop
    ev = event_column(df, event, "split_episodes")
    out[event] = np.where(last, ev[rows], 0).astype(df[event].dtype)
    if cause is not None:
        out[cause] = np.where(last, df[cause].to_numpy()[rows], 0)
    return out


def time_varying_effect(
    df: pd.DataFrame,
    treatment: str = "treated",
    programme_start: str = "programme_start",
    cuts: Sequence[float] = (6, 12),
    start: str = "start",
    stop: str = "stop",
    event: str = "event",
    cause: str | None = "cause",
    prefix: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Build piecewise treatment indicators by time since programme start.

    Rows are split at ``programme_start + cut`` for each cut, so that time since programme
    start is within one band on every row; then ``{treatment}_0_6``, ``{treatment}_6_12``,
    ``{treatment}_12+`` (for ``cuts=(6, 12)``) are 1 on treated rows in that band. Use the
    returned column names as covariates of :class:`CoxPH` instead of ``treatment``: each is the
    log hazard ratio of the programme in that period after its start. Also updates
    ``time_since_programme`` (months since programme start at ``start``) when present.

    Returns the split frame and the names of the new columns.
    """
    require_columns(df, [treatment, programme_start, start, stop, event], "time_varying_effect")
    if cause is not None and cause not in df.columns:
        cause = None
    cuts = sorted(float(c) for c in cuts)
    ps = pd.to_numeric(df[programme_start], errors="coerce").to_numpy(dtype=float)
    split = ps[:, None] + np.asarray(cuts)[None, :]
    out = split_episodes(df, split, start=start, stop=stop, event=event, cause=cause)
    tr = out[treatment].to_numpy() == 1
    since = out[start].to_numpy() - pd.to_numeric(out[programme_start]).to_numpy(dtype=float)
    if "time_since_programme" in out.columns:
        out["time_since_programme"] = np.where(since >= 0, since, np.nan)
    p = prefix or treatment
    bounds = [0.0, *cuts, np.inf]
    names = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        name = f"{p}_{lo:g}_{hi:g}" if np.isfinite(hi) else f"{p}_{lo:g}+"
        out[name] = (tr & (since >= lo - 1e-9) & (since < hi - 1e-9)).astype(np.int8)
        names.append(name)
    return out, names
