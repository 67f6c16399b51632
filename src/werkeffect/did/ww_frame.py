"""Analysis frame for the *Aanpak WW naar bijstand*: inflow into bijstand after WW ends.

:func:`ww_inflow_frame` turns the ``ww`` and ``spells`` tables of a :class:`Dataset` into
a DiD frame. One row per WW record (``level="individual"``, repeated cross sections of
WW-ending cohorts) or per municipality x period (``level="municipality"``):

- ``period``: the period of the *maximum* WW end date (``ww_max_end``, known in advance and
  what decides the contact six months earlier). ``period="half-year"`` numbers half-years
  from ``origin`` (default 2017H1 = 1, the convention of ``werkeffect.simulate`` so that the
  truth keys ``ww.att_gt.{g}.{t}`` line up); ``"quarter"`` and ``"year"`` likewise.
- ``group``: the first period in which the municipality contacted anyone (first non-empty
  ``contact_date``), 0 for municipalities that never did — the adoption cohort.
- ``treated``: 1 when ``group > 0`` and ``period >= group`` (intention to treat: everyone
  ending WW in an adopting municipality after adoption, contacted or not).
- ``inflow``: 1 when a bijstand spell of the person starts within ``horizon_months`` after
  the actual WW end (``ww_end``; months of 365.25/12 days).

Records whose WW is still running, or whose follow-up window ends after the extract date
(outcome not yet observable), are dropped; both steps are written to the data-flow record
(``frame.attrs["flow"]``). The estimand of a DiD on this frame is ``ww.att_inflow_{h}m``:
the average effect of the approach on the probability of inflow within h months among WW
records ending after adoption in adopting municipalities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.exceptions import DataValidationError

MONTH_DAYS = 365.25 / 12
_PER_YEAR = {"half-year": 2, "quarter": 4, "year": 1}


def calendar_period(dates: pd.Series, period: str = "half-year", origin: str = "2017-01-01"):
    """Integer period of each date: 1 = the period containing ``origin``."""
    if period not in _PER_YEAR:
        raise ValueError(f"period must be one of {sorted(_PER_YEAR)}, got {period!r}")
    k = _PER_YEAR[period]
    d = pd.to_datetime(dates)
    o = pd.Timestamp(origin)
    months = (d.dt.year - o.year) * 12 + (d.dt.month - o.month)
    return (np.floor(months / (12 // k)) + 1).astype("int64")


def period_label(k, period: str = "half-year", origin: str = "2017-01-01") -> list[str]:
    """Calendar label of integer periods from :func:`calendar_period`: ``"2020-2"`` for the
    second half of 2020 (``"2020-Q3"`` for quarters, ``"2020"`` for years); 0 (never) → "–"."""
    if period not in _PER_YEAR:
        raise ValueError(f"period must be one of {sorted(_PER_YEAR)}, got {period!r}")
    per = _PER_YEAR[period]
    o = pd.Timestamp(origin)
    first = o.year * per + (o.month - 1) // (12 // per)
    out = []
    for x in np.atleast_1d(np.asarray(k, dtype=int)):
        if x <= 0:
            out.append("–")
            continue
        year, part = divmod(first + int(x) - 1, per)
        out.append(
            str(year) if per == 1 else f"{year}-Q{part + 1}" if per == 4 else f"{year}-{part + 1}"
        )
    return out


def ww_inflow_frame(
    dataset,
    horizon_months: float = 6,
    period: str = "half-year",
    *,
    level: str = "individual",
    origin: str = "2017-01-01",
) -> pd.DataFrame:
    """Build the WW-naar-bijstand DiD frame (see the module docstring)."""
    ww = dataset.ww
    if ww is None or len(ww) == 0:
        raise DataValidationError("the dataset has no 'ww' table (UWV WW records)")
    need = ["ww_id", "person_id", "municipality", "ww_max_end", "ww_end"]
    missing = [c for c in need if c not in ww.columns]
    if missing:
        raise DataValidationError(f"table 'ww' lacks column(s) {missing}")
    flow = DataFlow()
    n0 = len(ww)
    w = ww.loc[ww["ww_end"].notna()].copy()
    flow.add(
        "ww: WW ended",
        "ww",
        n0,
        len(w),
        "WW still running at the extract date",
        "WW-uitkering liep op de peildatum nog",
    )
    extract = pd.Timestamp(dataset.extract_date)
    horizon_days = horizon_months * MONTH_DAYS
    window_end = w["ww_end"] + pd.to_timedelta(horizon_days, unit="D")
    n1 = len(w)
    w = w.loc[window_end <= extract].copy()
    months_nl = f"{horizon_months:g}".replace(".", ",")
    flow.add(
        "ww: follow-up complete",
        "ww",
        n1,
        len(w),
        f"the {horizon_months:g}-month window after WW end passes the extract date",
        f"de periode van {months_nl} maanden na het einde van de WW loopt tot na de peildatum",
    )
    # first bijstand spell start after the WW end, per WW record
    sp = dataset.spells[["person_id", "start_date"]]
    m = w[["ww_id", "person_id", "ww_end"]].merge(sp, on="person_id", how="left")
    gap = (m["start_date"] - m["ww_end"]).dt.days
    hit = (gap >= 0) & (gap <= horizon_days)
    inflow = hit.groupby(m["ww_id"]).any()
    w["inflow"] = w["ww_id"].map(inflow).fillna(False).astype(int).to_numpy()
    w["period"] = calendar_period(w["ww_max_end"], period, origin)
    # adoption cohort: first period with a contact, per municipality (from all records)
    allp = calendar_period(ww["ww_max_end"], period, origin)
    if "contact_date" in ww.columns:
        contacted = ww["contact_date"].notna()
        first = allp[contacted].groupby(ww.loc[contacted, "municipality"]).min()
    else:
        first = pd.Series(dtype="int64")
    w["group"] = w["municipality"].map(first).fillna(0).astype("int64")
    w["treated"] = ((w["group"] > 0) & (w["period"] >= w["group"])).astype(int)
    cols = ["ww_id", "person_id", "municipality", "period", "group", "treated", "inflow"]
    out = w[cols].reset_index(drop=True)
    if level == "municipality":
        g = out.groupby(["municipality", "period"], sort=True)
        out = g.agg(
            group=("group", "first"),
            treated=("treated", "max"),
            inflow=("inflow", "mean"),
            n=("inflow", "size"),
        ).reset_index()
        flow.add(
            "ww: municipality x period",
            "ww",
            len(w),
            len(out),
            "aggregated to inflow rates per municipality and period",
            "samengevoegd tot instroomkansen per gemeente en periode",
        )
    elif level != "individual":
        raise ValueError("level must be 'individual' or 'municipality'")
    out.attrs["flow"] = flow
    out.attrs["horizon_months"] = horizon_months
    return out
