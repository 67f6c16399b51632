"""Exact simulation of piecewise-constant (monthly-interval) hazards by inverting the
cumulative hazard, vectorised over spells.

A spell that starts at calendar month ``t0`` has, during its elapsed month ``m`` (the interval
``[m, m+1)``), cause-specific hazards

    h_k(m) = base_k[m] * cal_k[year(t0 + m)] * a_k * (treatment factors, work only)

with ``a_k = exp(x'beta_k + motivation + frailty terms)``. Treatment factors switch on at the
(continuous) programme start ``U`` (jobcoaching, ``exp(delta(months since U))``) and ``P``
(pilot placement, ``exp(pi)``), so a month can split in up to three pieces; within a piece the
hazard is constant. The spell ends when the integrated total hazard reaches the spell's
``E ~ Exp(1)``; the cause is drawn with probabilities proportional to the cause-specific
hazards at that moment (exact for competing risks with piecewise-constant hazards).
Spells still running at ``tmax`` end there (state pension, cause 3) or are censored
(simulation horizon, cause 0, time ``inf``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from werkeffect.simulate.params import DURATION_BREAKS, to_months


def duration_table(values, breaks=DURATION_BREAKS, n: int = 1000) -> np.ndarray:
    """Value of a piecewise-constant function of elapsed month m = 0..n-1."""
    values = np.asarray(values, dtype=float)
    if len(values) != len(breaks):
        raise ValueError(f"need {len(breaks)} hazard values (breaks {breaks}), got {len(values)}")
    idx = np.searchsorted(np.asarray(breaks, dtype=float), np.arange(n), side="right") - 1
    return values[idx]


@dataclass
class CalendarTable:
    """A piecewise-constant calendar-year multiplier, looked up by calendar month."""

    first_year: int
    values: np.ndarray

    @classmethod
    def from_dict(cls, d: dict[int, float], default_before: float | None = None) -> CalendarTable:
        years = sorted(int(y) for y in d)
        lo, hi = 1970, 2035
        vals = np.empty(hi - lo + 1)
        for i, y in enumerate(range(lo, hi + 1)):
            if y < years[0]:
                vals[i] = d[years[0]] if default_before is None else default_before
            elif y > years[-1]:
                vals[i] = d[years[-1]]
            else:
                vals[i] = d[y] if y in d else d[max(k for k in years if k <= y)]
        return cls(lo, vals)

    def change_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Calendar months where the value changes (with a final ``inf``) and the values
        on the segments between them."""
        v = self.values
        ch = [i for i in range(1, len(v)) if v[i] != v[i - 1]]
        cb = np.array([(self.first_year + i - 2000) * 12.0 for i in ch] + [np.inf])
        vals = np.array([v[0]] + [v[i] for i in ch])
        return cb, vals

    def at(self, calendar_month: np.ndarray) -> np.ndarray:
        year = np.floor(calendar_month / 12.0).astype(np.int64) + 2000
        i = np.clip(year - self.first_year, 0, len(self.values) - 1)
        return self.values[i]


@dataclass
class ExitModel:
    """Baseline tables of the three competing exits and the treatment effects."""

    base: np.ndarray  # (3, n_months): work, education, other
    cal_work: CalendarTable
    effect_breaks: np.ndarray  # months since programme start
    effect_values: np.ndarray  # log HR of exit to work
    pilot_effect: float

    @property
    def next_change(self) -> np.ndarray:
        if not hasattr(self, "_next"):
            self._next = next_change_table(self.base)
        return self._next

    @property
    def cal_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "_cal"):
            self._cal = self.cal_work.change_arrays()
        return self._cal

    @property
    def constant_effect(self) -> bool:
        return len(self.effect_values) == 1 or bool(
            np.all(self.effect_values == self.effect_values[0])
        )

    def effect(self, k: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.effect_breaks, k, side="right") - 1
        return self.effect_values[np.clip(i, 0, len(self.effect_values) - 1)]


def exit_times_monthly(
    model: ExitModel,
    t0: np.ndarray,
    tmax: np.ndarray,
    tmax_is_aow: np.ndarray,
    a: np.ndarray,
    U: np.ndarray,
    P: np.ndarray,
    E: np.ndarray,
    uc: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exit time (elapsed months, ``inf`` if censored at the horizon) and cause (0-3).

    ``a`` is (3, n): the proportional factors of the work, education and other hazards.
    """
    n = t0.shape[0]
    T = np.full(n, np.inf)
    cause = np.zeros(n, dtype=np.int8)
    Erem = E.astype(float).copy()
    base = model.base
    nmax = base.shape[1]
    idx = np.flatnonzero(tmax > 0)
    m = 0
    const = model.constant_effect
    while idx.size:
        if m >= nmax:
            raise RuntimeError("spell longer than the baseline table; raise n in duration_table")
        ti0 = t0[idx]
        Ui = U[idx]
        Pi = P[idx]
        brk = ((Ui > m) & (Ui < m + 1)) | ((Pi > m) & (Pi < m + 1))
        if not const:
            brk |= Ui < m + 1
        calw = model.cal_work.at(ti0 + m)
        rw = base[0, m] * calw * a[0, idx]
        re = base[1, m] * a[1, idx]
        ro = base[2, m] * a[2, idx]
        lim = np.minimum(1.0, tmax[idx] - m)
        exited = np.zeros(idx.size, dtype=bool)

        # spells without a breakpoint this month: one piece
        nb = ~brk
        if nb.any():
            fw = np.ones(nb.sum())
            Un, Pn = Ui[nb], Pi[nb]
            tr = Un <= m
            if tr.any():
                k = np.floor(m - Un[tr])
                fw[tr] = np.exp(model.effect(k))
            fw = np.where(Pn <= m, fw * np.exp(model.pilot_effect), fw)
            _piece(
                idx[nb],
                m,
                0.0,
                lim[nb],
                rw[nb] * fw,
                re[nb],
                ro[nb],
                Erem,
                T,
                cause,
                uc,
                exited,
                np.flatnonzero(nb),
            )
        if brk.any():
            b = np.flatnonzero(brk)
            c1 = np.clip(Ui[b] - m, 0.0, 1.0)  # treated by jobcoaching from here on
            c2 = np.clip(Pi[b] - m, 0.0, 1.0)  # placed in the pilot from here on
            cut1 = c1
            if not const:  # the effect changes at U + j: cut at the fractional part of U
                ub = Ui[b]
                with np.errstate(invalid="ignore"):
                    cut1 = np.where(ub < m + 1, ub - np.floor(ub), c1)
            lo_, hi_ = np.minimum(cut1, c2), np.maximum(cut1, c2)
            cuts = (np.zeros(b.size), lo_, hi_, np.ones(b.size))
            for j in range(3):
                s = np.minimum(cuts[j], lim[b])
                e = np.minimum(cuts[j + 1], lim[b])
                live = (~exited[b]) & (e > s)
                if not live.any():
                    continue
                bb = b[live]
                sj = s[live]
                trU = sj >= c1[live]
                trP = sj >= c2[live]
                k = np.maximum(0.0, np.floor(m - Ui[bb] + sj + 1e-9))
                fw = np.where(trU, np.exp(model.effect(k)), 1.0)
                fw = np.where(trP, fw * np.exp(model.pilot_effect), fw)
                _piece(
                    idx[bb],
                    m,
                    sj,
                    e[live] - sj,
                    rw[bb] * fw,
                    re[bb],
                    ro[bb],
                    Erem,
                    T,
                    cause,
                    uc,
                    exited,
                    bb,
                )
        # spells reaching tmax this month without an exit
        ends = (~exited) & (tmax[idx] <= m + 1)
        if ends.any():
            ii = idx[ends]
            aow = tmax_is_aow[ii]
            T[ii[aow]] = tmax[ii[aow]]
            cause[ii[aow]] = 3
        idx = idx[(~exited) & (~ends)]
        m += 1
    return T, cause


def _piece(ii, m, start, length, rw, re, ro, Erem, T, cause, uc, exited, local):
    """Integrate one constant-hazard piece; record exits (in place)."""
    tot = rw + re + ro
    H = tot * length
    er = Erem[ii]
    out = er < H
    if out.any():
        io = ii[out]
        with np.errstate(divide="ignore", invalid="ignore"):
            st = np.broadcast_to(start, ii.shape)[out]
            T[io] = m + st + er[out] / tot[out]
        u = uc[io] * tot[out]
        c = np.where(u < rw[out], 1, np.where(u < rw[out] + re[out], 2, 3)).astype(np.int8)
        cause[io] = c
        exited[local[out]] = True
    Erem[ii[~out]] = er[~out] - H[~out]


def start_times_monthly(
    base: np.ndarray,
    cal: CalendarTable,
    t0: np.ndarray,
    from_month: np.ndarray,
    until: np.ndarray,
    a: np.ndarray,
    E: np.ndarray,
) -> np.ndarray:
    """First event time of a single piecewise-constant hazard ``base[m]*cal(t0+m)*a``,
    counting from elapsed month ``from_month`` (integer) on, ``inf`` if none before ``until``.
    """
    n = t0.shape[0]
    U = np.full(n, np.inf)
    if n == 0:
        return U
    Erem = E.astype(float).copy()
    fm = np.maximum(from_month.astype(np.int64), 0)
    cand = np.flatnonzero(fm < until)
    order = cand[np.argsort(fm[cand], kind="stable")]
    fms = fm[order]
    pos = 0
    idx = np.empty(0, dtype=np.int64)
    m = int(fms[0]) if fms.size else 0
    nmax = base.shape[0]
    while (idx.size or pos < order.size) and m < nmax:
        if idx.size == 0 and pos < order.size and fms[pos] > m:
            m = int(fms[pos])
        nxt = pos + int(np.searchsorted(fms[pos:], m, side="right"))
        if nxt > pos:
            idx = np.concatenate([idx, order[pos:nxt]])
            pos = nxt
        if idx.size == 0:
            continue
        r = base[m] * cal.at(t0[idx] + m) * a[idx]
        lim = np.minimum(1.0, until[idx] - m)
        H = r * np.maximum(lim, 0.0)
        er = Erem[idx]
        out = er < H
        with np.errstate(divide="ignore", invalid="ignore"):
            U[idx[out]] = m + er[out] / r[out]
        Erem[idx[~out]] = er[~out] - H[~out]
        keep = (~out) & (until[idx] > m + 1)
        idx = idx[keep]
        m += 1
    return U


def calendar_month_of(date: str) -> float:
    return to_months(date)


def next_change_table(table: np.ndarray) -> np.ndarray:
    """For each month m, the first month m' > m at which any row of ``table`` changes
    (``inf`` if none)."""
    t = np.atleast_2d(table)
    n = t.shape[1]
    out = np.full(n, np.inf)
    nxt = np.inf
    for m in range(n - 2, -1, -1):
        if np.any(t[:, m + 1] != t[:, m]):
            nxt = float(m + 1)
        out[m] = nxt
    return out


def _calendar_segment(cb, vals, t0, mi):
    """Calendar value during elapsed month ``mi`` and the next elapsed month it changes."""
    ci = np.searchsorted(cb[:-1], t0 + mi + 1e-9, side="right")
    nxt = np.maximum(np.ceil(cb[ci] - t0 - 1e-9), mi + 1.0)
    return vals[ci], nxt


def exit_times(
    model: ExitModel,
    t0: np.ndarray,
    tmax: np.ndarray,
    tmax_is_aow: np.ndarray,
    a: np.ndarray,
    U: np.ndarray,
    P: np.ndarray,
    E: np.ndarray,
    uc: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exit time (elapsed months, ``inf`` if censored at the horizon) and cause (0-3).

    Segment version: jumps from one change point of the hazard to the next (duration
    breaks, calendar-year changes, programme starts and effect breaks), which is exact for
    piecewise-constant hazards and gives the same result as :func:`exit_times_monthly`.
    ``a`` is (3, n): the proportional factors of the work, education and other hazards.
    """
    n = t0.shape[0]
    T = np.full(n, np.inf)
    cause = np.zeros(n, dtype=np.int8)
    Erem = E.astype(float).copy()
    cur = np.zeros(n)
    base = model.base
    nmax = base.shape[1]
    nxt_dur = model.next_change
    cb, cvals = model.cal_arrays
    eb = np.append(model.effect_breaks, np.inf)
    const = model.constant_effect
    eff0 = float(np.exp(model.effect_values[0]))
    piv = float(np.exp(model.pilot_effect))
    idx = np.flatnonzero(tmax > 0)
    while idx.size:
        c = cur[idx]
        ti0 = t0[idx]
        mi = np.floor(c + 1e-12).astype(np.int64)
        if mi.max() >= nmax:
            raise RuntimeError("spell longer than the baseline table")
        calv, ncal = _calendar_segment(cb, cvals, ti0, mi)
        end = np.minimum(np.minimum(nxt_dur[mi], ncal), tmax[idx])
        Ui, Pi = U[idx], P[idx]
        trU = c >= Ui
        end = np.minimum(end, np.where(trU, np.inf, Ui))
        trP = c >= Pi
        end = np.minimum(end, np.where(trP, np.inf, Pi))
        fw = np.where(trU, eff0, 1.0)
        if not const and trU.any():
            k = np.floor(c[trU] - Ui[trU] + 1e-9)
            fw[trU] = np.exp(model.effect(k))
            j = np.searchsorted(eb, c[trU] - Ui[trU] + 1e-9, side="right")
            end[trU] = np.minimum(end[trU], Ui[trU] + eb[j])
        if trP.any():
            fw = np.where(trP, fw * piv, fw)
        rw = base[0, mi] * calv * a[0, idx] * fw
        re = base[1, mi] * a[1, idx]
        ro = base[2, mi] * a[2, idx]
        tot = rw + re + ro
        H = tot * (end - c)
        er = Erem[idx]
        out = er < H
        if out.any():
            io = idx[out]
            T[io] = c[out] + er[out] / tot[out]
            u = uc[io] * tot[out]
            cause[io] = np.where(u < rw[out], 1, np.where(u < rw[out] + re[out], 2, 3))
        stay = ~out
        ist = idx[stay]
        Erem[ist] = er[stay] - H[stay]
        cur[ist] = end[stay]
        done = end[stay] >= tmax[ist]
        if done.any():
            idn = ist[done]
            aow = tmax_is_aow[idn]
            T[idn[aow]] = tmax[idn[aow]]
            cause[idn[aow]] = 3
        idx = ist[~done]
    return T, cause


def start_times(
    base: np.ndarray,
    cal: CalendarTable,
    t0: np.ndarray,
    from_month: np.ndarray,
    until: np.ndarray,
    a: np.ndarray,
    E: np.ndarray,
) -> np.ndarray:
    """First event time of a single piecewise-constant hazard ``base[m]*cal(t0+m)*a``,
    counting from elapsed month ``from_month`` (integer) on, ``inf`` if none before ``until``
    (segment version of :func:`start_times_monthly`)."""
    n = t0.shape[0]
    U = np.full(n, np.inf)
    Erem = E.astype(float).copy()
    cur = np.maximum(np.floor(from_month), 0.0).astype(float)
    nxt_dur = next_change_table(base)
    cb, cvals = cal.change_arrays()
    nmax = base.shape[0]
    idx = np.flatnonzero((cur < until) & (a > 0))
    while idx.size:
        c = cur[idx]
        mi = np.floor(c + 1e-12).astype(np.int64)
        if mi.max() >= nmax:
            raise RuntimeError("duration longer than the baseline table")
        calv, ncal = _calendar_segment(cb, cvals, t0[idx], mi)
        end = np.minimum(np.minimum(nxt_dur[mi], ncal), until[idx])
        r = base[mi] * calv * a[idx]
        H = r * (end - c)
        er = Erem[idx]
        out = er < H
        if out.any():
            U[idx[out]] = c[out] + er[out] / r[out]
        stay = ~out
        ist = idx[stay]
        Erem[ist] = er[stay] - H[stay]
        cur[ist] = end[stay]
        idx = ist[end[stay] < until[ist]]
    return U
