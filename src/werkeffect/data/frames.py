"""Analysis frames: start–stop episodes with time-varying treatment, and a person-month panel.

Both are built with numpy array operations (sorting, ``searchsorted``, ``repeat``); there is no
Python loop over persons, spells or rows.

Time conventions
----------------
Time is counted in whole days and reported in months of ``365.25 / 12`` days. A spell is at
risk from the start of its first day (time 0) to the end of its last day ``end_date``:
``stop = (end_date - start_date).days + 1``. A spell still running at the extract date is
censored at the end of the extract date. A programme starting on day ``p`` of the spell is in
effect from the start of that day, ``(p - start_date).days``; it ends after its last day
``(end - start_date).days + 1`` (clipped to the spell).

A participation belongs to the spell in which it *starts* (a participation that started
before the spell, e.g. in an earlier spell, does not treat this one). ``treated`` switches on
at the first start in the spell and stays on (absorbing); ``in_programme`` is 1 while any
participation of the programme in this spell runs.

The data-flow record of each frame is in ``frame.attrs["flow"]`` (a :class:`DataFlow`: the
dataset's flow plus the rows these functions drop or split).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.data.dataset import Dataset
from werkeffect.data.flow import DataFlow
from werkeffect.data.schema import EXIT_GROUPS
from werkeffect.formatting import nl_date, nl_int, nl_month

__all__ = ["CAUSES", "DAYS_PER_MONTH", "episodes", "job_spells", "person_months"]

DAYS_PER_MONTH = 365.25 / 12
#: Cause codes of the competing exits (0 = censored).
CAUSES = {0: "censored", 1: "work", 2: "education", 3: "other"}
_CAUSE_OF_GROUP = {"work": 1, "education": 2, "other": 3}
COVARIATES = (
    "sex",
    "education",
    "startkwalificatie",
    "household",
    "wijk",
    "statushouder",
    "barrier_health",
    "barrier_language",
    "barrier_debts",
    "ladder_intake",
)


# --------------------------------------------------------------------------- helpers


def _days(values) -> np.ndarray:
    """Dates -> int64 days since 1970-01-01 (NaT -> INT64 min)."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    return arr.astype(np.int64)


_NAT = np.iinfo(np.int64).min


def _exit_causes(reason: pd.Series, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cause of each spell's exit (0 censored) and which ended spells have no exit reason
    (they count as 3, other: see :func:`_note_missing_reasons`)."""
    group = reason.map(EXIT_GROUPS).map(_CAUSE_OF_GROUP)
    cause = group.fillna(3).to_numpy(dtype=np.int8)  # ended without a reason: other
    no_reason = np.asarray(event, bool) & group.isna().to_numpy()
    return np.where(event, cause, 0).astype(np.int8), no_reason


def _note_missing_reasons(
    flow: DataFlow, step: str, event: np.ndarray, no_reason: np.ndarray, used: np.ndarray
) -> None:
    """Count, in the flow, the ended spells (of those ``used``) that have no exit reason and
    so count as an exit for another reason (cause 3), not to work or education."""
    n = int((no_reason & used).sum())
    if not n:
        return
    ended = int((np.asarray(event, bool) & used).sum())
    flow.add(
        step,
        "spells",
        ended,
        ended,
        f"{n:,} of {ended:,} ended spells have no exit reason: counted as an exit for "
        "another reason (cause 3, 'other'), not to work or education",
        f"{nl_int(n)} van {nl_int(ended)} beëindigde uitkeringsperioden zonder reden van "
        "uitstroom: geteld als uitstroom om een andere reden (oorzaak 3, 'overig'), niet "
        "naar werk of scholing",
    )


def _programmes_of(ds: Dataset, programme: str | Sequence[str]) -> pd.DataFrame:
    """The participations in ``programme`` with a start date; typed (dates as datetime64)
    also when there are none, so date arithmetic on the result works on an empty table."""
    from werkeffect.data.validate import empty_table

    names = [programme] if isinstance(programme, str) else list(programme)
    pr = ds.programmes
    if pr is None or pr.empty:
        return empty_table("programmes")
    return pr[pr["programme"].isin(names) & pr["start_date"].notna()]


def _link_to_spells(
    spell_pcode: np.ndarray,
    spell_start: np.ndarray,
    spell_stop: np.ndarray,
    prog_pcode: np.ndarray,
    prog_start: np.ndarray,
) -> np.ndarray:
    """Index of the spell of the same person in which each participation starts (-1: none).

    ``*_start`` are days; ``spell_stop`` is days at risk. Spells must not overlap (validated).
    """
    if len(prog_pcode) == 0 or len(spell_pcode) == 0:
        return np.full(len(prog_pcode), -1, dtype=np.int64)
    base = min(spell_start.min(), prog_start.min())
    shift = np.int64(1) << np.int64(32)
    skey = spell_pcode.astype(np.int64) * shift + (spell_start - base)
    order = np.argsort(skey, kind="stable")
    sk = skey[order]
    pkey = prog_pcode.astype(np.int64) * shift + (prog_start - base)
    pos = np.searchsorted(sk, pkey, side="right") - 1
    ok = pos >= 0
    cand = np.where(ok, order[np.clip(pos, 0, None)], 0)
    ok &= spell_pcode[cand] == prog_pcode
    ok &= (prog_start - spell_start[cand]) < spell_stop[cand]
    return np.where(ok, cand, -1)


def _spell_days(ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and end day of every spell, whether it ended by the extract date (an end after
    the extract is censored) and its days at risk up to that end or the extract date."""
    sp = ds.spells
    extract_day = _days([ds.extract_date])[0]
    s_start = _days(sp["start_date"])
    s_end = _days(sp["end_date"])
    event = (s_end != _NAT) & (s_end <= extract_day)
    last = np.where(event, np.minimum(s_end, extract_day), extract_day)
    return s_start, s_end, event, last - s_start + 1


def _person_codes(*ids: pd.Series) -> list[np.ndarray]:
    allids = pd.concat([pd.Series(np.asarray(i, dtype=object)) for i in ids], ignore_index=True)
    codes, _ = pd.factorize(allids)
    out, at = [], 0
    for i in ids:
        out.append(codes[at : at + len(i)].astype(np.int64))
        at += len(i)
    return out


def _covariate_frame(persons: pd.DataFrame, person_ids: pd.Series) -> pd.DataFrame:
    cols = ["person_id", "birth_date"] + [c for c in COVARIATES if c in persons.columns]
    p = persons[cols].drop_duplicates("person_id").set_index("person_id")
    out = p.reindex(pd.Index(person_ids)).reset_index(drop=True)
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.BooleanDtype):
            out[c] = s.astype("float") if s.isna().any() else s.astype(np.int8)
        elif isinstance(s.dtype, pd.Int64Dtype):
            out[c] = s.astype(float)
    return out


# --------------------------------------------------------------------------- linking


def participation_spells(
    dataset: Dataset, programme: str | Sequence[str] = "jobcoaching"
) -> pd.DataFrame:
    """The bijstand spell each participation in ``programme`` starts in, as the evaluations
    link them (the person's spell running on the participation's start date).

    Returns one row per participation (in the order of ``dataset.programmes``): ``person_id,
    start_date, spell_row`` (position in ``dataset.spells``; -1 when the participation starts
    outside every spell of the person), ``spell_start_date``, ``spell_end_date`` (NaT when
    the spell is still running at the extract date, so censored), ``exit_reason`` (empty when
    censored) and ``days_to_spell_end`` (from the participation's start; NaN when censored
    or unlinked).
    """
    pr = _programmes_of(dataset, programme)
    sp = dataset.spells
    s_start, s_end, ended, stop = _spell_days(dataset)
    s_pc, p_pc = _person_codes(sp["person_id"], pr["person_id"])
    p_start = _days(pr["start_date"])
    link = _link_to_spells(s_pc, s_start, stop, p_pc, p_start)
    linked = link >= 0
    row = np.clip(link, 0, None)
    closed = linked & ended[row]
    days = np.where(closed, s_end[row] - p_start, 0).astype(float)
    reason = sp["exit_reason"].to_numpy(dtype=object)[row]
    return pd.DataFrame(
        {
            "person_id": pr["person_id"].to_numpy(),
            "start_date": pr["start_date"].to_numpy(),
            "spell_row": link,
            "spell_start_date": sp["start_date"].to_numpy()[row],
            "spell_end_date": sp["end_date"].to_numpy()[row],
            "exit_reason": np.where(closed, reason, None),
            "days_to_spell_end": np.where(closed, days, np.nan),
        }
    ).assign(
        spell_start_date=lambda f: f["spell_start_date"].where(linked),
        spell_end_date=lambda f: f["spell_end_date"].where(closed),
    )


# --------------------------------------------------------------------------- episodes


def episodes(
    dataset: Dataset,
    programme: str | Sequence[str] = "jobcoaching",
    window_start=None,
    covariates: bool = True,
) -> pd.DataFrame:
    """Start–stop rows of every bijstand spell, split at programme start and end.

    Parameters
    ----------
    dataset
        A (validated) :class:`Dataset`.
    programme
        Programme code (or codes) whose participations define the time-varying treatment.
    window_start
        Opening of the observation window. Spells that began before it enter at their elapsed
        duration (left truncation: ``start`` of the first row > 0, ``entry_delayed = 1``); spells
        that ended before it are dropped (counted in the flow).
    covariates
        Add the person's characteristics, ``age`` at spell start and ``previous_spells``.

    Returns
    -------
    DataFrame
        ``person_id, spell_id, start, stop, event, cause, treated, in_programme,
        programme_start, time_since_programme, spell_start_date, entry_delayed`` (+ covariates),
        times in months since the spell's start. ``attrs["flow"]`` holds the data flow.
        Rows are ordered by spell (as in ``dataset.spells``) and time.
    """
    flow: DataFlow = dataset.flow.copy()
    sp = dataset.spells
    S0 = len(sp)
    s_start, s_end, event, stop = _spell_days(dataset)
    cause, no_reason = _exit_causes(sp["exit_reason"], event)
    pr = _programmes_of(dataset, programme)
    s_pc, p_pc = _person_codes(sp["person_id"], pr["person_id"])

    # previous spells of the person (all spells, before any selection)
    order = np.lexsort((s_start, s_pc))
    grp = s_pc[order]
    first = np.r_[True, grp[1:] != grp[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(grp)), 0))
    previous = np.empty(len(grp), dtype=np.int64)
    previous[order] = np.arange(len(grp)) - group_start

    # left truncation and spells with no time at risk
    entry = np.zeros(S0, dtype=np.int64)
    if window_start is not None:
        w = _days([window_start])[0]
        entry = np.maximum(w - s_start, 0)
    keep = stop > entry
    n_ended_before = int((~keep & (stop > 0)).sum())
    n_no_time = int((stop <= 0).sum())
    if window_start is not None:
        n_running = int((keep & (entry > 0)).sum())
        flow.add(
            "episodes: window",
            "spells",
            S0,
            S0 - n_ended_before,
            f"spells ended before window_start {pd.Timestamp(window_start).date()} dropped; "
            f"{n_running:,} spells already running enter at their "
            "elapsed duration (left truncation)",
            "uitkeringsperioden die eindigden vóór het begin van het venster "
            f"({nl_date(window_start)}) vallen af; {nl_int(n_running)} uitkeringsperioden die "
            "toen al liepen, tellen mee vanaf hun verstreken duur (linkse truncatie)",
        )
    if n_no_time:
        flow.add(
            "episodes: no time at risk",
            "spells",
            S0 - n_ended_before,
            S0 - n_ended_before - n_no_time,
            "spells starting after the extract date dropped",
            "uitkeringsperioden die na de peildatum beginnen, vallen af",
        )
    _note_missing_reasons(flow, "episodes", event, no_reason, keep)
    kept = np.flatnonzero(keep)

    # participations -> spells
    p_start = _days(pr["start_date"])
    p_end = _days(pr["end_date"])
    link = _link_to_spells(s_pc, s_start, stop, p_pc, p_start)
    linked = link >= 0
    linked &= keep[np.where(linked, link, 0)]
    names = programme if isinstance(programme, str) else "/".join(programme)
    flow.add(
        "episodes: programme",
        "programmes",
        len(pr),
        int(linked.sum()),
        f"{names} participations used: those starting within a (kept) spell of the person",
        f"{names}-trajecten gebruikt: de trajecten die beginnen binnen een (behouden) "
        "uitkeringsperiode van dezelfde persoon",
    )
    li = link[linked]
    a = p_start[linked] - s_start[li]
    pe = p_end[linked]
    b = np.where(pe != _NAT, pe - s_start[li] + 1, stop[li])
    b = np.minimum(np.maximum(b, a + 1), stop[li])
    ps = np.full(S0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(ps, li, a)

    # cut points: entry, stop, programme starts and ends strictly inside (entry, stop)
    W = np.int64(max(int(stop.max()) if S0 else 1, 1) + 2)
    cuts_s = np.concatenate([kept, kept, li, li])
    cuts_t = np.concatenate([entry[kept], stop[kept], a, b])
    inside = np.ones(len(cuts_s), dtype=bool)
    n2 = 2 * len(kept)
    inside[n2:] = (cuts_t[n2:] > entry[cuts_s[n2:]]) & (cuts_t[n2:] < stop[cuts_s[n2:]])
    keys = np.sort(cuts_s[inside].astype(np.int64) * W + cuts_t[inside])
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]  # unique (sort-based; fast for int64)
    ks, kt = keys // W, keys % W
    same = ks[1:] == ks[:-1]
    r_spell = ks[:-1][same]
    r_start = kt[:-1][same]
    r_stop = kt[1:][same]

    # treatment status on each row
    treated = ps[r_spell] <= r_start
    ka = np.sort(li.astype(np.int64) * W + a)
    kb = np.sort(li.astype(np.int64) * W + b)
    rk = r_spell * W + r_start
    lo = r_spell * W
    n_started = np.searchsorted(ka, rk, "right") - np.searchsorted(ka, lo, "left")
    n_ended = np.searchsorted(kb, rk, "right") - np.searchsorted(kb, lo, "left")
    in_prog = (n_started - n_ended) > 0
    r_event = event[r_spell] & (r_stop == stop[r_spell])

    M = DAYS_PER_MONTH
    has_ps = ps[r_spell] != np.iinfo(np.int64).max
    prog_start = np.where(has_ps, ps[r_spell] / M, np.nan)
    out = pd.DataFrame(
        {
            "person_id": sp["person_id"].to_numpy()[r_spell],
            "spell_id": sp["spell_id"].to_numpy()[r_spell],
            "start": r_start / M,
            "stop": r_stop / M,
            "event": r_event.astype(np.int8),
            "cause": np.where(r_event, cause[r_spell], 0).astype(np.int8),
            "treated": treated.astype(np.int8),
            "in_programme": in_prog.astype(np.int8),
            "programme_start": prog_start,
            "time_since_programme": np.where(treated, (r_start - ps[r_spell]) / M, np.nan),
            "spell_start_date": sp["start_date"].to_numpy()[r_spell],
            "entry_delayed": (entry[r_spell] > 0).astype(np.int8),
        }
    )
    if covariates:
        cov = _covariate_frame(dataset.persons, sp["person_id"])
        age = (sp["start_date"].to_numpy() - cov["birth_date"].to_numpy()) / np.timedelta64(1, "D")
        out["age"] = (age / 365.25)[r_spell]
        for c in COVARIATES:
            if c in cov.columns:
                out[c] = cov[c].to_numpy()[r_spell]
        out["previous_spells"] = previous[r_spell]
    n_treated_spells = int((ps[kept] != np.iinfo(np.int64).max).sum())
    flow.add(
        "episodes: split",
        "spells",
        len(kept),
        len(out),
        f"spells split at {names} start and end into start–stop rows "
        f"({int(r_event.sum()):,} exits, {n_treated_spells:,} spells with {names})",
        f"uitkeringsperioden gesplitst bij begin en einde van {names} in start-stoprijen "
        f"({nl_int(r_event.sum())} keer uitstroom, {nl_int(n_treated_spells)} "
        f"uitkeringsperioden met {names})",
    )
    out.attrs["flow"] = flow
    out.attrs["programme"] = names
    out.attrs["window_start"] = (
        None if window_start is None else str(pd.Timestamp(window_start).date())
    )
    return out


# --------------------------------------------------------------------------- person-months


def _month_index(days: np.ndarray) -> np.ndarray:
    """int days since epoch -> months since 1970-01 (int64)."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _expand(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For intervals [first, last] of months: (interval index, month) for each covered month."""
    n = np.maximum(last - first + 1, 0)
    idx = np.repeat(np.arange(len(first)), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return idx, first[idx] + offset


def person_months(
    dataset: Dataset,
    start=None,
    end=None,
    on_benefit_only: bool = False,
    programme: str = "jobcoaching",
) -> pd.DataFrame:
    """One row per person per calendar month (the person-month panel).

    Parameters
    ----------
    dataset
        A (validated) :class:`Dataset`.
    start, end
        First and last calendar month (default: the month of the earliest spell start, the
        month of the extract date).
    on_benefit_only
        Keep only months on benefit (otherwise every person of ``persons`` has every month;
        mind the size: persons x months rows).
    programme
        Programme defining ``treated`` (default jobcoaching).

    Returns
    -------
    DataFrame
        ``person_id, month`` (first of month), ``spell_id`` (NaN off benefit), ``on_benefit``,
        ``duration`` (completed months since the spell's start month; NA off benefit),
        ``exit`` (the spell ends this month), ``cause`` (0 censored/none, 1 work, 2 education,
        3 other), ``treated`` (programme started in this spell in or before this month),
        ``employed`` (a job from ``jobs`` covers any day of the month; NaN when the dataset has
        no jobs table), ``earnings`` (sum of monthly earnings of those jobs; 0 when not
        employed), ``ladder_step`` (last assessment in or before this month; NaN before the
        first). A month with an exit and a new spell belongs to the exiting spell; the new spell
        shows from the next month (counted in the flow).

    Raises
    ------
    MemoryError
        Before building a panel whose peak (about 100 bytes a row) exceeds the available
        memory, with its size and what to do instead.
    """
    flow: DataFlow = dataset.flow.copy()
    sp = dataset.spells
    persons = dataset.persons
    extract_day = _days([dataset.extract_date])[0]
    s_start, s_end, event, stop = _spell_days(dataset)
    last = s_start + stop - 1
    sm, em = _month_index(s_start), _month_index(last)
    m0 = (
        _month_index(np.array([_days([start])[0]]))[0]
        if start is not None
        else (int(sm.min()) if len(sm) else _month_index(np.array([extract_day]))[0])
    )
    m1 = (
        _month_index(np.array([_days([end])[0]]))[0]
        if end is not None
        else _month_index(np.array([extract_day]))[0]
    )
    nM = int(m1 - m0 + 1)
    if nM <= 0:
        raise ValueError(f"person_months: end ({end}) lies before start ({start})")
    cause, no_reason = _exit_causes(sp["exit_reason"], event)

    pid_index = pd.Index(persons["person_id"].drop_duplicates())
    s_p = pid_index.get_indexer(sp["person_id"])
    in_window = (em >= m0) & (sm <= m1) & (s_p >= 0)
    flow.add(
        "person_months: window",
        "spells",
        len(sp),
        int(in_window.sum()),
        f"spells outside {_month_label(m0)} .. {_month_label(m1)} not used",
        f"uitkeringsperioden buiten {nl_month(_month_label(m0))} t/m "
        f"{nl_month(_month_label(m1))} niet gebruikt",
    )
    _note_missing_reasons(flow, "person_months", event, no_reason, in_window)

    # treatment: first start of the programme within the spell
    pr = _programmes_of(dataset, programme)
    s_pc, p_pc = _person_codes(sp["person_id"], pr["person_id"])
    p_start = _days(pr["start_date"])
    link = _link_to_spells(s_pc, s_start, last - s_start + 1, p_pc, p_start)
    ok = link >= 0
    first_prog = np.full(len(sp), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_prog, link[ok], _month_index(p_start[ok]))

    # expand spells to months, earliest spell first in a month
    w = np.flatnonzero(in_window)
    w = w[np.argsort(s_start[w], kind="stable")]
    idx, month = _expand(np.maximum(sm[w], m0), np.minimum(em[w], m1))
    spell = w[idx]
    cell = s_p[spell].astype(np.int64) * nM + (month - m0)
    ucell, first_pos = np.unique(cell, return_index=True)
    n_collapsed = len(cell) - len(ucell)
    flow.add(
        "person_months: one spell a month",
        "person-months on benefit",
        len(cell),
        len(ucell),
        "a month with an exit and a new spell is assigned to the exiting spell",
        "een maand met uitstroom én een nieuwe uitkeringsperiode telt bij de "
        "uitkeringsperiode die eindigt",
    )
    spell = spell[first_pos]  # the spell shown in each benefit month (cells sorted)
    del first_pos, cell, idx, month

    # Memory: at national scale a column is ~0.8 GB, so temporaries are freed as soon as
    # their column is built, indices are int32 where they fit and jobs and ladder are
    # mapped onto the rows through their own (smaller) arrays.
    n = len(ucell) if on_benefit_only else len(pid_index) * nM
    need = n * _PANEL_BYTES_PER_ROW
    free = _available_memory()
    if free is not None and need > free:
        raise MemoryError(
            f"person_months: the panel would have {n:,} rows "
            + (
                "(months on benefit)"
                if on_benefit_only
                else f"({len(pid_index):,} persons x {nM} months)"
            )
            + f", about {need / 1e9:.1f} GB at its peak, more than the {free / 1e9:.1f} GB of "
            "memory available"
            + ("" if on_benefit_only else f"; use on_benefit_only=True ({len(ucell):,} rows)")
            + ", a shorter window (start=, end=) or fewer persons"
        )
    small = np.int32 if max(n, len(sp), len(pid_index), nM) < 2**31 - 1 else np.int64
    if on_benefit_only:
        row_of_benefit = None  # every row is a benefit month, in the order of ucell
        person = (ucell // nM).astype(small)
        month_rel = (ucell % nM).astype(small)
        spell_at = spell.astype(small)
    else:
        row_of_benefit = ucell  # full panel: the row of a cell is the cell itself
        person = np.repeat(np.arange(len(pid_index), dtype=small), nM)
        month_rel = np.tile(np.arange(nM, dtype=small), len(pid_index))
        spell_at = np.full(n, -1, dtype=small)
        spell_at[ucell] = spell
    del spell
    has = spell_at >= 0
    sidx = np.where(has, spell_at, 0)
    del spell_at
    month_abs = month_rel.astype(np.int64) + m0

    out = pd.DataFrame({"person_id": pid_index.to_numpy()[person]})
    out["month"] = month_abs.astype("datetime64[M]").astype("datetime64[ns]")
    spell_ids = sp["spell_id"].to_numpy(dtype=object)[sidx]
    if not on_benefit_only:
        spell_ids[~has] = np.nan
    out["spell_id"] = spell_ids
    del spell_ids
    out["on_benefit"] = has.astype(np.int8)
    duration = month_abs - sm[sidx]
    if on_benefit_only:
        out["duration"] = duration
    else:
        out["duration"] = pd.array(duration, dtype="Int64")
        out.loc[~has, "duration"] = pd.NA
    del duration
    exits = has & event[sidx] & (month_abs == em[sidx])
    out["exit"] = exits.astype(np.int8)
    out["cause"] = np.where(exits, cause[sidx], 0).astype(np.int8)
    del exits
    out["treated"] = (has & (first_prog[sidx] <= month_abs)).astype(np.int8)
    del sidx, has, month_abs

    def rows_of(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of panel cells (person * nM + month - m0) and which cells have a row."""
        if row_of_benefit is not None:  # full panel
            return cells, (cells >= 0) & (cells < n)
        pos = np.searchsorted(ucell, cells)
        found = pos < len(ucell)
        found[found] = ucell[pos[found]] == cells[found]
        return pos, found

    # employment from jobs: a job covering any day of the month
    jobs = dataset.jobs
    if jobs is not None and len(jobs) and {"person_id", "start_date"} <= set(jobs.columns):
        j_p = pid_index.get_indexer(jobs["person_id"])
        j_s = _days(jobs["start_date"])
        j_e = _days(jobs["end_date"]) if "end_date" in jobs.columns else np.full(len(jobs), _NAT)
        j_e = np.where(j_e == _NAT, extract_day, j_e)
        jm0, jm1 = np.maximum(_month_index(j_s), m0), np.minimum(_month_index(j_e), m1)
        okj = j_p >= 0
        jidx, jmonth = _expand(np.where(okj, jm0, 1), np.where(okj, jm1, 0))
        jcell = j_p[jidx].astype(np.int64) * nM + (jmonth - m0)
        earn = (
            jobs["monthly_earnings"].astype(float).to_numpy()
            if "monthly_earnings" in jobs.columns
            else np.full(len(jobs), np.nan)
        )[jidx]
        uj, inv = np.unique(jcell, return_inverse=True)
        total = np.bincount(inv, weights=np.nan_to_num(earn), minlength=len(uj))
        known = np.bincount(inv, weights=~np.isnan(earn), minlength=len(uj))
        del jidx, jmonth, jcell, earn, inv
        rows, found = rows_of(uj)
        employed = np.zeros(n, dtype=np.int8)
        employed[rows[found]] = 1
        earnings = np.zeros(n)
        earnings[rows[found]] = np.where(known > 0, total, np.nan)[found]
        out["employed"] = employed
        out["earnings"] = earnings
        del employed, earnings, rows, found
    else:
        out["employed"] = np.nan
        out["earnings"] = np.nan

    # ladder: last assessment in or before the month
    lad = dataset.ladder
    if lad is not None and len(lad) and {"person_id", "date", "step"} <= set(lad.columns):
        l_p = pid_index.get_indexer(lad["person_id"])
        okl = l_p >= 0
        l_m = _month_index(_days(lad["date"]))
        base = min(int(l_m.min()), int(m0))
        K = np.int64(max(int(l_m.max()), int(m1)) - base + 2)
        lkey = l_p[okl].astype(np.int64) * K + (l_m[okl] - base)
        ldays = _days(lad["date"])[okl]
        o = np.lexsort((ldays, lkey))
        lk = lkey[o]
        steps = lad["step"].astype(float).to_numpy()[okl][o]
        rkey = person.astype(np.int64) * K + (month_rel.astype(np.int64) + (m0 - base))
        pos = np.searchsorted(lk, rkey, "right") - 1
        del rkey
        okp = pos >= 0
        np.maximum(pos, 0, out=pos)
        okp &= (lk[pos] // K) == person
        out["ladder_step"] = np.where(okp, steps[pos], np.nan)
        del pos, okp
    else:
        out["ladder_step"] = np.nan
    del person, month_rel
    flow.add(
        "person_months",
        "person-months",
        len(out),
        len(out),
        f"{len(pid_index):,} persons x {nM} months"
        + (" (months on benefit only)" if on_benefit_only else "")
        + f"; {n_collapsed:,} months of a new spell shown from the next month",
        f"{nl_int(len(pid_index))} personen × {nM} maanden"
        + (" (alleen maanden met een uitkering)" if on_benefit_only else "")
        + f"; bij {nl_int(n_collapsed)} maanden telt een nieuwe uitkeringsperiode pas vanaf "
        "de maand erna",
    )
    out.attrs["flow"] = flow
    return out


#: peak memory of the person-month panel per row (measured: about 85 bytes for the full
#: panel and 100 for months on benefit, which keep their expansion arrays longer)
_PANEL_BYTES_PER_ROW = 100


def _available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _month_label(m: int) -> str:
    return str(np.datetime64(int(m), "M"))


def job_spells(
    dataset: Dataset,
    spells: pd.DataFrame,
    covariates: Sequence[str] = (),
    aow_age: float = 67.0,
    nazorg_within_days: int = 31,
) -> pd.DataFrame:
    """The job spell after each exit to work: time until the return to bijstand.

    For the return hazard of the timing-of-events model (``TimingOfEvents(return_spells=)``):
    a benefit spell of ``spells`` (start–stop rows from :func:`episodes`, or one row per
    spell; its last row's ``cause`` counts) that ends in an exit to work (``cause`` 1) is
    followed by a job spell from its last day until the person's next bijstand spell starts
    (the return, ``event`` 1) or, without one, censoring at the extract date or a month before
    the person reaches ``aow_age`` (bijstand ends at the state-pension age, so there is no
    return after it).

    Returns
    -------
    DataFrame
        One row per exit to work: ``person_id, spell_id`` (the benefit spell that ended),
        ``exit_date``, ``duration`` (months of ``365.25 / 12`` days), ``event``, ``nazorg``
        (1 when a ``nazorg`` participation of the person starts within
        ``nazorg_within_days`` days after the exit) and the ``covariates`` of the benefit
        spell's last row. Job spells that began before the first spell of ``spells`` (their
        exit is not in it) are not there; job spells of zero length are left out.
    """
    need = ["spell_id", "person_id", "cause", *covariates]
    missing = [c for c in need if c not in spells.columns]
    if missing:
        raise KeyError(f"job_spells: spells lack column(s) {missing}")
    stop_col = "stop" if "stop" in spells.columns else None
    order = ["spell_id", stop_col] if stop_col else ["spell_id"]
    last = spells.sort_values(order, kind="stable").groupby("spell_id", sort=False).tail(1)
    work = last[last["cause"] == 1]
    sp = dataset.spells[["spell_id", "person_id", "start_date", "end_date"]]
    ended = sp.set_index("spell_id")["end_date"].reindex(work["spell_id"].to_numpy())
    jb = work[["person_id", "spell_id", *covariates]].reset_index(drop=True)
    jb["exit_date"] = ended.to_numpy()
    # the person's next spell: the first start after the exit
    starts = sp[["person_id", "start_date"]].rename(columns={"start_date": "next_start"})
    nxt = pd.merge_asof(
        jb[["person_id", "exit_date"]].reset_index().sort_values("exit_date"),
        starts.sort_values("next_start"),
        left_on="exit_date",
        right_on="next_start",
        by="person_id",
        direction="forward",
        allow_exact_matches=False,
    ).set_index("index")
    next_start = nxt["next_start"].reindex(jb.index).to_numpy()
    birth = dataset.persons.set_index("person_id")["birth_date"].reindex(jb["person_id"])
    months = int(round(12 * aow_age))
    aow = (birth + pd.DateOffset(months=months)).to_numpy() - np.timedelta64(31, "D")
    end = np.minimum(np.datetime64(pd.Timestamp(dataset.extract_date)), aow)
    returned = ~pd.isna(next_start) & (next_start <= end)
    stop = np.where(returned, next_start, end)
    days = (stop - jb["exit_date"].to_numpy()) / np.timedelta64(1, "D")
    jb["duration"] = days / DAYS_PER_MONTH
    jb["event"] = returned.astype(int)
    # nazorg: a participation starting within a month after the exit (no loop over persons)
    nz = _programmes_of(dataset, "nazorg")[["person_id", "start_date"]]
    cand = jb[["person_id", "exit_date"]].reset_index().merge(nz, on="person_id", how="inner")
    lag = (cand["start_date"] - cand["exit_date"]).dt.days
    hit = cand.loc[(lag >= 0) & (lag <= nazorg_within_days), "index"].unique()
    jb["nazorg"] = 0.0
    jb.loc[hit, "nazorg"] = 1.0
    return jb[jb["duration"] > 0].reset_index(drop=True)
