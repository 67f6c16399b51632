"""Data preparation for the timing-of-events model.

Turns one row per benefit spell (duration, exit cause, programme start, entry time,
covariates) into the piecewise exposure arrays the likelihood needs, so that a likelihood
evaluation is a handful of matrix products:

* exit processes: exposure per spell in *cells* = (baseline interval j) x (treatment state r),
  where r = 0 is "not (yet) in the programme" and r = 1 + m is "piece m of time since
  programme start";
* programme entry: exposure per spell in the programme's baseline intervals, from the spell
  start until programme start or the end of the spell;
* the same exposures up to the entry time of left-truncated spells (the conditioning event of
  the conditional likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from werkeffect.exceptions import EstimationError, warn_estimation


def interval_labels(cuts: np.ndarray) -> list[str]:
    hi = list(cuts[1:]) + [np.inf]
    return [f"[{lo:g},{h:g})" for lo, h in zip(cuts, hi, strict=True)]


def _overlap(a: np.ndarray, b: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Length of [a, b] inside each interval [cuts[j], cuts[j+1]) -> (n, J)."""
    lo = cuts
    hi = np.append(cuts[1:], np.inf)
    out = np.minimum(b[:, None], hi[None, :]) - np.maximum(a[:, None], lo[None, :])
    return np.clip(out, 0.0, None)


def _locate(t: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Interval (c_j, c_{j+1}] holding t (events at a cut belong to the interval they end)."""
    return np.clip(np.searchsorted(cuts, t, side="left") - 1, 0, len(cuts) - 1)


def merge_empty(counts: np.ndarray) -> np.ndarray:
    """Group consecutive intervals so that every group has at least one event.

    Returns the group index of each interval (groups numbered 0..G-1); an interval without
    events joins the previous group (the first ones join the next non-empty group).
    Returns an empty array if there is no event at all.
    """
    counts = np.asarray(counts)
    if counts.sum() == 0:
        return np.array([], dtype=int)
    group = np.cumsum(counts > 0) - 1
    group[group < 0] = 0
    return group.astype(int)


def baseline_names(bgroup: np.ndarray, cuts: np.ndarray, prefix: str) -> list[str]:
    """``<prefix>:baseline[lo,hi)`` per group of merged baseline intervals."""
    J = len(cuts)
    names = []
    for g in range(int(bgroup.max()) + 1):
        members = np.flatnonzero(bgroup == g)
        hi = cuts[members[-1] + 1] if members[-1] + 1 < J else np.inf
        names.append(f"{prefix}:baseline[{cuts[members[0]]:g},{hi:g})")
    return names


@dataclass
class ToEData:
    """Arrays for the likelihood (all internal; covariates standardised)."""

    n_spells: int
    n_persons: int
    person: np.ndarray  # (n,) person index 0..n_persons-1
    agg: sp.csr_matrix  # (n_persons, n) sums spells per person
    X: np.ndarray  # (n, p) exit covariates, standardised
    Xp: np.ndarray  # (n, pp) programme covariates, standardised
    E: sp.csr_matrix  # (n, Cx) exit exposure cells [0, T]
    Ep: sp.csr_matrix  # (n, Cp) programme exposure [p0, min(T, ps)]
    d: np.ndarray  # (n, K) exit cause indicators
    cell: np.ndarray  # (n,) exit event cell (any cause; meaningless if censored)
    dp: np.ndarray  # (n,) programme entry observed in spell (while the process is at risk)
    has_programme: np.ndarray  # (n,) bool: programme started before the spell ended
    cellp: np.ndarray  # (n,) programme event interval
    dp_post: np.ndarray  # (n,) programme entry observed after the entry time
    # left truncation
    trunc: np.ndarray  # indices of spells with entry > 0
    tperson: np.ndarray  # (n_tp,) person index of the persons with a truncated spell
    tagg: sp.csr_matrix  # (n_tp, n_t)
    trow: np.ndarray  # (n_t,) row of each truncated spell in tagg
    Et: sp.csr_matrix  # (n_t, Cx) exposure cells on [0, entry]
    Ept: sp.csr_matrix  # (n_t, Cp)
    dpt: np.ndarray  # (n_t,) programme entry before the entry time
    # raw
    T: np.ndarray
    entry: np.ndarray
    ps: np.ndarray  # programme start if observed in spell (< T) else NaN
    cuts: np.ndarray
    pcuts: np.ndarray
    ecuts: np.ndarray
    K: int
    calpos: np.ndarray  # (n, C-1) elapsed duration at which each calendar cut falls
    calendar_labels: list[str]  # labels of calendar periods 2..C
    # initial conditions: group of each person for the mass-point probabilities
    # (0 = inflow: first observed spell starts in the window; 1 = stock: it is left-truncated)
    pgroup: np.ndarray | None = None
    n_groups: int = 1
    # the return to benefit (job spells after an exit to work; optional): one row per job
    # spell, exposure from the exit to work until the return (event) or censoring
    n_return: int = 0  # 1 when job spells are modelled, else 0
    rperson: np.ndarray | None = None  # (n_r,) person index of each job spell
    ragg: sp.csr_matrix | None = None  # (n_persons, n_r) sums job spells per person
    Er: sp.csr_matrix | None = None  # (n_r, Jr) exposure per return baseline interval
    dr: np.ndarray | None = None  # (n_r,) return observed
    cellr: np.ndarray | None = None  # (n_r,) return interval (meaningless if censored)
    Z: np.ndarray | None = None  # (n_r, pz) return covariates, standardised
    U: np.ndarray | None = None  # (n_r,) job-spell durations
    rcuts: np.ndarray | None = None

    @property
    def n_periods(self) -> int:
        return self.calpos.shape[1] + 1

    @property
    def n_states(self) -> int:
        return 1 + len(self.ecuts)

    @property
    def treated(self) -> np.ndarray:
        return np.flatnonzero(self.has_programme)


def _calendar_windows(calpos: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per calendar period c, its window [lo, hi) in elapsed time of each spell.

    ``calpos`` (n, C-1) holds the elapsed duration at which each calendar cut falls.
    """
    n = calpos.shape[0]
    lo = np.column_stack([np.full(n, -np.inf), calpos])
    hi = np.column_stack([calpos, np.full(n, np.inf)])
    return [(lo[:, c], hi[:, c]) for c in range(lo.shape[1])]


def _windows_cells(a, b, cuts, calwin):
    """Exposure of [a, b] per (baseline interval j, calendar period c) -> (n, J, C)."""
    out = np.empty((len(a), len(cuts), len(calwin)))
    for c, (lo, hi) in enumerate(calwin):
        out[:, :, c] = _overlap(np.maximum(a, lo), np.minimum(b, hi), cuts)
    return out


def _exit_cells(upper, ps, cuts, ecuts, calpos):
    """Exposure cells (n, J*(1+M)*C) of the exit process on [0, upper]."""
    n = len(upper)
    J, M = len(cuts), len(ecuts)
    calwin = _calendar_windows(calpos)
    C = len(calwin)
    has = ~np.isnan(ps)
    untreated_end = np.where(has, np.minimum(ps, upper), upper)
    out = np.zeros((n, J, 1 + M, C))
    out[:, :, 0, :] = _windows_cells(np.zeros(n), untreated_end, cuts, calwin)
    ps0 = np.where(has, ps, np.inf)
    e_hi = np.append(ecuts[1:], np.inf)
    for m in range(M):
        a = np.minimum(ps0 + ecuts[m], upper)
        b = np.minimum(ps0 + e_hi[m], upper)
        a = np.where(has, a, 0.0)
        b = np.where(has, b, 0.0)
        out[:, :, 1 + m, :] = _windows_cells(a, b, cuts, calwin)
    return out.reshape(n, J * (1 + M) * C)


def _period(t: np.ndarray, calpos: np.ndarray) -> np.ndarray:
    """Calendar period holding elapsed time t (periods (lo, hi], like the intervals)."""
    return (calpos < t[:, None]).sum(axis=1)


def build_data(
    *,
    person: np.ndarray,
    T: np.ndarray,
    entry: np.ndarray,
    cause: np.ndarray,
    ps: np.ndarray,
    X: np.ndarray,
    Xp: np.ndarray,
    K: int,
    cuts: np.ndarray,
    pcuts: np.ndarray,
    ecuts: np.ndarray,
    programme_from_entry: bool = False,
    calpos: np.ndarray | None = None,
    calendar_labels: list[str] | None = None,
    stock_group: bool = True,
    returns: dict | None = None,
) -> ToEData:
    """Exposure arrays of the benefit spells (and, with ``returns``, of the job spells).

    ``returns``: ``person`` (same codes as ``person``), ``U`` (months from the exit to work
    to the return or censoring), ``event`` (0/1 return), ``Z`` (covariates) and ``cuts``.
    """
    n = len(T)
    if calpos is None:
        calpos = np.zeros((n, 0))
    C = calpos.shape[1] + 1
    ps = np.where(ps < T, ps, np.nan)  # programme observed only before the spell ends
    _, pidx = np.unique(person, return_inverse=True)
    n_p = int(pidx.max()) + 1 if n else 0
    agg = sp.csr_matrix((np.ones(n), (pidx, np.arange(n))), shape=(n_p, n))
    E = _exit_cells(T, ps, cuts, ecuts, calpos)
    has = ~np.isnan(ps)
    # the programme process is at risk from p0: the spell start, or the entry time when the
    # programme did not exist / was not recorded before observation started
    p0 = entry if programme_from_entry else np.zeros(n)
    calwin = _calendar_windows(calpos)
    Ep = _windows_cells(p0, np.where(has, ps, T), pcuts, calwin).reshape(n, len(pcuts) * C)
    d = np.zeros((n, K))
    ev = cause > 0
    d[np.flatnonzero(ev), cause[ev] - 1] = 1.0
    j = _locate(T, cuts)
    r = np.zeros(n, dtype=int)
    since = np.where(has, T - np.where(has, ps, 0.0), 0.0)
    r[has] = 1 + _locate(since[has], ecuts)
    cell = (j * (1 + len(ecuts)) + r) * C + _period(T, calpos)
    dp = (has & (np.where(has, ps, 0.0) >= p0)).astype(float)
    ps_or0 = np.where(has, ps, 0.0)
    cellp = np.where(has, _locate(ps_or0, pcuts) * C + _period(ps_or0, calpos), 0)
    trunc = np.flatnonzero(entry > 0)
    dpt = (has[trunc] & (ps[trunc] < entry[trunc])).astype(float)
    if programme_from_entry:
        dpt[:] = 0.0
    dp_post = dp.copy()
    dp_post[trunc[dpt > 0]] = 0.0
    tp_unique, tinv = np.unique(pidx[trunc], return_inverse=True)
    tagg = sp.csr_matrix(
        (np.ones(len(trunc)), (tinv, np.arange(len(trunc)))), shape=(len(tp_unique), len(trunc))
    )
    Et = _exit_cells(entry[trunc], ps[trunc], cuts, ecuts, calpos[trunc])
    Ept = _windows_cells(
        np.zeros(len(trunc)),
        np.where(has[trunc], np.minimum(ps[trunc], entry[trunc]), entry[trunc]),
        pcuts,
        _calendar_windows(calpos[trunc]),
    ).reshape(len(trunc), len(pcuts) * C)
    if programme_from_entry:
        Ept[:] = 0.0
    E, Ep, Et, Ept = (sp.csr_matrix(a) for a in (E, Ep, Et, Ept))  # exposure is sparse
    # persons whose first observed spell is left-truncated (the stock) get their own
    # mass-point probabilities when stock_group (and both kinds of persons are present)
    pgroup = np.zeros(n_p, dtype=np.int64)
    pgroup[tp_unique] = 1
    n_groups = 2 if stock_group and 0 < len(tp_unique) < n_p else 1
    if n_groups == 1:
        pgroup[:] = 0
    ret: dict = {}
    if returns is not None:
        upers, _ = np.unique(person, return_inverse=True)
        rp = np.asarray(returns["person"])
        ridx = np.searchsorted(upers, rp)
        ridx = np.clip(ridx, 0, len(upers) - 1)
        if len(rp) and not np.array_equal(upers[ridx], rp):
            raise EstimationError("job spells of persons without benefit spells")
        U = np.asarray(returns["U"], dtype=float)
        rcuts = np.asarray(returns["cuts"], dtype=float)
        nr = len(U)
        ret = dict(
            n_return=1,
            rperson=ridx,
            ragg=sp.csr_matrix((np.ones(nr), (ridx, np.arange(nr))), shape=(n_p, nr)),
            Er=sp.csr_matrix(_overlap(np.zeros(nr), U, rcuts)),
            dr=np.asarray(returns["event"], dtype=float),
            cellr=_locate(U, rcuts),
            Z=np.asarray(returns["Z"], dtype=float).reshape(nr, -1),
            U=U,
            rcuts=rcuts,
        )
    return ToEData(
        n_spells=n,
        n_persons=n_p,
        person=pidx,
        agg=agg,
        X=X,
        Xp=Xp,
        E=E,
        Ep=Ep,
        d=d,
        cell=cell,
        dp=dp,
        has_programme=has,
        cellp=cellp,
        dp_post=dp_post,
        trunc=trunc,
        tperson=tp_unique,
        tagg=tagg,
        trow=tinv,
        Et=Et,
        Ept=Ept,
        dpt=dpt,
        T=T,
        entry=entry,
        ps=ps,
        cuts=cuts,
        pcuts=pcuts,
        ecuts=ecuts,
        K=K,
        calpos=calpos,
        calendar_labels=list(calendar_labels or []),
        pgroup=pgroup,
        n_groups=n_groups,
        **ret,
    )


@dataclass
class Layout:
    """Where each parameter sits in the parameter vector, and the cell design matrices."""

    names: list[str]  # internal parameter names (structural + heterogeneity)
    G: list[np.ndarray]  # per process q: (cells_q, n_cellpar_q) design matrix
    cell_slice: list[slice]
    beta_slice: list[slice]
    baseline_index: list[np.ndarray]  # per process: parameter indices of baseline groups
    effect_index: list[np.ndarray]  # per exit process: param index per piece (-1 = fixed 0)
    n_struct: int
    Q: int  # number of processes (K exits + programme)
    M: int  # mass points
    labels: list[str]  # process labels
    n_groups: int = 1  # groups of persons with their own mass-point probabilities
    n_return: int = 0  # 1: the last process is the return to benefit (job spells)

    @property
    def K(self) -> int:
        """Number of exit causes (processes 0..K-1; K is programme entry; K+1 the return)."""
        return self.Q - 1 - self.n_return

    def het_slices(self) -> tuple[slice, slice]:
        v = slice(self.n_struct, self.n_struct + (self.M - 1) * self.Q)
        w = slice(v.stop, v.stop + (self.M - 1) * self.n_groups)
        return v, w

    @property
    def n_params(self) -> int:
        return self.n_struct + (self.M - 1) * (self.Q + self.n_groups)

    def with_mass_points(self, M: int) -> Layout:
        names = self.names[: self.n_struct]
        for m in range(2, M + 1):
            names += [f"het:v{m}:{lab}" for lab in self.labels]
        names += [f"het:logit_p{m}" for m in range(2, M + 1)]
        if self.n_groups > 1:
            names += [f"het:stock:logit_p{m}" for m in range(2, M + 1)]
        return Layout(
            names=names,
            G=self.G,
            cell_slice=self.cell_slice,
            beta_slice=self.beta_slice,
            baseline_index=self.baseline_index,
            effect_index=self.effect_index,
            n_struct=self.n_struct,
            Q=self.Q,
            M=M,
            labels=self.labels,
            n_groups=self.n_groups,
            n_return=self.n_return,
        )


def _calendar_groups(counts: np.ndarray, labels: list[str], what: str) -> np.ndarray:
    """Calendar periods without events are merged with a neighbour (period 1 = reference).

    Returns the group per period; group 0 is the reference (no parameter).
    """
    group = merge_empty(counts)
    if len(np.unique(group)) < len(counts):
        empty = [lab for lab, c in zip(["first"] + labels, counts, strict=True) if c == 0]
        warn_estimation(
            f"{what}: calendar periods without events were merged with a neighbour ({empty})",
            f"{what}: kalenderperioden zonder gebeurtenissen zijn samengevoegd met een buur "
            f"({empty})",
            stacklevel=5,
        )
    return group


def build_layout(
    data: ToEData,
    *,
    exit_labels: list[str],
    exit_cov_names: list[str],
    prog_cov_names: list[str],
    interest: int,
    treatment_name: str = "treatment",
    return_cov_names: list[str] | None = None,
) -> Layout:
    """Parameters per process: baseline groups, treatment pieces, calendar periods, covariates.

    Baseline intervals (treatment pieces, calendar periods) without any event are merged with
    their neighbour, with a warning, so that no log hazard runs off to minus infinity. Cells
    are indexed ((j * S) + r) * C + c for baseline interval j, treatment state r and calendar
    period c (programme entry: j * C + c).
    """
    K, J, S, C = data.K, len(data.cuts), data.n_states, data.n_periods
    names: list[str] = []
    G: list[np.ndarray] = []
    cell_slice, beta_slice, base_idx, eff_idx = [], [], [], []
    blabels = interval_labels(data.cuts)
    clabels = data.calendar_labels
    ncell = J * S * C
    jcell = np.repeat(np.arange(J), S * C)
    rcell = np.tile(np.repeat(np.arange(S), C), J)
    ccell = np.tile(np.arange(C), J * S)
    ev_c = data.cell % C
    ev_r = (data.cell // C) % S
    ev_j = data.cell // (C * S)
    for k in range(K):
        lab = exit_labels[k]
        dk = data.d[:, k] > 0
        counts = np.bincount(ev_j[dk], minlength=J)
        if counts.sum() == 0:
            raise EstimationError(
                f"no exits of cause '{lab}' in the data: drop the cause or merge it with another"
            )
        bgroup = merge_empty(counts)
        if len(np.unique(bgroup)) < J:
            empty = ", ".join(b for b, c in zip(blabels, counts, strict=True) if c == 0)
            warn_estimation(
                f"exit '{lab}': baseline intervals without exits were merged with a neighbour "
                f"({empty})",
                f"uitstroom '{lab}': intervallen van de basishazard zonder uitstroom zijn "
                f"samengevoegd met een buur ({empty})",
                stacklevel=4,
            )
        pcounts = np.bincount(ev_r[dk & (ev_r > 0)] - 1, minlength=S - 1)
        start = len(names)
        nb = int(bgroup.max()) + 1
        names += baseline_names(bgroup, data.cuts, f"exit:{lab}")
        if pcounts.sum() == 0:
            if k == interest:
                raise EstimationError(
                    f"no exits to '{lab}' after programme start: the programme effect on this "
                    "exit cannot be estimated"
                )
            warn_estimation(
                f"no exits to '{lab}' after programme start: its treatment effect is fixed at 0",
                f"geen uitstroom naar '{lab}' na de trajectstart: het effect daarop is op 0 "
                "vastgezet",
                stacklevel=4,
            )
            egroup = np.full(S - 1, -1)
        else:
            egroup = merge_empty(pcounts)
            if len(np.unique(egroup)) < S - 1:
                warn_estimation(
                    f"exit '{lab}': pieces of time since programme start without exits were "
                    "merged with a neighbour",
                    f"uitstroom '{lab}': perioden sinds de trajectstart zonder uitstroom zijn "
                    "samengevoegd met een buur",
                    stacklevel=4,
                )
        ne = 0 if (egroup < 0).all() else int(egroup.max()) + 1
        base_name = treatment_name if k == interest else f"{treatment_name}:{lab}"
        for g in range(ne):
            members = np.flatnonzero(egroup == g)
            if g == 0:
                names.append(base_name)
            else:
                lo = data.ecuts[members[0]]
                hi = data.ecuts[members[-1] + 1] if members[-1] + 1 < S - 1 else np.inf
                names.append(f"{base_name}[{lo:g},{hi:g})")
        cgroup = _calendar_groups(np.bincount(ev_c[dk], minlength=C), clabels, f"exit '{lab}'")
        nc = int(cgroup.max())  # groups 1..nc get a parameter
        for g in range(1, nc + 1):
            first = int(np.flatnonzero(cgroup == g)[0])
            names.append(f"exit:{lab}:calendar[{clabels[first - 1]}]")
        ncp = nb + ne + nc
        Gk = np.zeros((ncell, ncp))
        Gk[np.arange(ncell), bgroup[jcell]] = 1.0
        treated_cells = np.flatnonzero(rcell > 0)
        eg = egroup[rcell[treated_cells] - 1]
        ok = eg >= 0
        Gk[treated_cells[ok], nb + eg[ok]] = 1.0
        cg = cgroup[ccell]
        Gk[np.flatnonzero(cg > 0), nb + ne + cg[cg > 0] - 1] = 1.0
        G.append(Gk)
        cell_slice.append(slice(start, start + ncp))
        base_idx.append(start + np.arange(nb))
        eff_idx.append(np.where(egroup >= 0, start + nb + egroup, -1))
        names += [f"exit:{lab}:{c}" for c in exit_cov_names]
        beta_slice.append(slice(start + ncp, start + ncp + len(exit_cov_names)))
    # programme entry
    Jp = len(data.pcuts)
    post = data.dp_post > 0
    counts = np.bincount(data.cellp[post] // C, minlength=Jp)
    if counts.sum() == 0:
        raise EstimationError(
            "no programme entries observed after the start of observation: the timing-of-events "
            "model needs programme starts during the observed spells"
        )
    bgroup = merge_empty(counts)
    if len(np.unique(bgroup)) < Jp:
        warn_estimation(
            "programme entry: baseline intervals without entries were merged with a neighbour",
            "trajectstart: intervallen van de basishazard zonder starts zijn samengevoegd met "
            "een buur",
            stacklevel=4,
        )
    start = len(names)
    nb = int(bgroup.max()) + 1
    names += baseline_names(bgroup, data.pcuts, "programme")
    cgroup = _calendar_groups(
        np.bincount(data.cellp[post] % C, minlength=C), clabels, "programme entry"
    )
    nc = int(cgroup.max())
    for g in range(1, nc + 1):
        first = int(np.flatnonzero(cgroup == g)[0])
        names.append(f"programme:calendar[{clabels[first - 1]}]")
    pj = np.repeat(np.arange(Jp), C)
    pc = np.tile(np.arange(C), Jp)
    Gp = np.zeros((Jp * C, nb + nc))
    Gp[np.arange(Jp * C), bgroup[pj]] = 1.0
    cg = cgroup[pc]
    Gp[np.flatnonzero(cg > 0), nb + cg[cg > 0] - 1] = 1.0
    G.append(Gp)
    cell_slice.append(slice(start, start + nb + nc))
    base_idx.append(start + np.arange(nb))
    names += [f"programme:{c}" for c in prog_cov_names]
    beta_slice.append(slice(start + nb + nc, start + nb + nc + len(prog_cov_names)))
    labels = list(exit_labels) + ["programme"]
    if data.n_return:
        # the return to benefit: piecewise-constant baseline in months since the exit to work
        # (no calendar effects), covariates of the job spell
        rnames = list(return_cov_names or [])
        Jr = len(data.rcuts)
        counts = np.bincount(data.cellr[data.dr > 0], minlength=Jr)
        if counts.sum() == 0:
            raise EstimationError(
                "no returns to benefit among the job spells: the return hazard cannot be "
                "estimated (leave return_spells out)"
            )
        bgroup = merge_empty(counts)
        if len(np.unique(bgroup)) < Jr:
            warn_estimation(
                "return to benefit: baseline intervals without returns were merged with a "
                "neighbour",
                "terugkeer in de bijstand: intervallen van de basishazard zonder terugkeer zijn "
                "samengevoegd met een buur",
                stacklevel=4,
            )
        start = len(names)
        nb = int(bgroup.max()) + 1
        names += baseline_names(bgroup, data.rcuts, "return")
        Gr = np.zeros((Jr, nb))
        Gr[np.arange(Jr), bgroup] = 1.0
        G.append(Gr)
        cell_slice.append(slice(start, start + nb))
        base_idx.append(start + np.arange(nb))
        names += [f"return:{c}" for c in rnames]
        beta_slice.append(slice(start + nb, start + nb + len(rnames)))
        labels.append("return")
    return Layout(
        names=names,
        G=G,
        cell_slice=cell_slice,
        beta_slice=beta_slice,
        baseline_index=base_idx,
        effect_index=eff_idx,
        n_struct=len(names),
        Q=K + 1 + data.n_return,
        M=1,
        labels=labels,
        n_groups=data.n_groups,
        n_return=data.n_return,
    )
