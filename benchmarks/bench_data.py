"""Data suite: episode splitting (and the person-month panel) at scale.

Task ``episodes``: ``werkeffect.episodes`` on ``size`` spells (two per person, the second after
a gap) with one jobcoaching participation each, covariates included. Peer: lifelines'
``add_covariate_to_timeline`` builds the same start–stop rows (programme start and end as
covariate changes); it loops per subject, so it runs on a smaller size and is compared with
werkeffect on exactly that size (``agrees``: identical rows, times, events and in_programme).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from common import measure, row
from werkeffect.data.dataset import Dataset
from werkeffect.data.frames import DAYS_PER_MONTH, episodes, person_months
from werkeffect.data.validate import empty_table

SUITE = "data"
DEFAULT_SIZE = 1_000_000
PEER_SIZE = 1_000
T0 = np.datetime64("2010-01-01")
EXTRACT = 5000  # days after T0


def make_dataset(n_spells: int, seed: int = 0) -> Dataset:
    """``n_spells`` bijstand spells (two per person), one jobcoaching participation each."""
    rng = np.random.default_rng(seed)
    n_persons = (n_spells + 1) // 2
    person = np.repeat(np.arange(n_persons), 2)[:n_spells]
    second = np.arange(n_spells) % 2 == 1
    s0 = rng.integers(0, 3000, n_persons)
    l1 = rng.integers(30, 1500, n_persons)
    gap = rng.integers(1, 400, n_persons)
    start = np.where(second, s0[person] + l1[person] + gap[person], s0[person])
    length = np.where(second, rng.integers(30, 2000, n_spells), l1[person])
    end = start + length - 1
    running = end > EXTRACT
    last = np.minimum(end, EXTRACT)
    a = start + (rng.random(n_spells) * (last - start + 1)).astype(np.int64)
    b = a + rng.integers(30, 365, n_spells)
    b_nat = rng.random(n_spells) < 0.1
    day = lambda x: (T0 + x.astype("timedelta64[D]")).astype("datetime64[ns]")  # noqa: E731
    pid = np.char.add("p", person.astype(str)).astype(object)
    spells = pd.DataFrame(
        {
            "spell_id": np.char.add("s", np.arange(n_spells).astype(str)).astype(object),
            "person_id": pid,
            "start_date": day(start),
            "end_date": pd.Series(day(end)).mask(running),
            "exit_reason": pd.Series(
                rng.choice(["werk", "scholing", "partner", "overig"], n_spells), dtype=object
            ).mask(running),
            "monthly_amount": 1300.0,
        }
    )
    programmes = pd.DataFrame(
        {
            "participation_id": np.char.add("j", np.arange(n_spells).astype(str)).astype(object),
            "person_id": pid,
            "programme": "jobcoaching",
            "start_date": day(a),
            "end_date": pd.Series(day(np.minimum(b, EXTRACT))).mask(b_nat),
            "provider": "Werkbedrijf",
        }
    )
    persons = pd.DataFrame(
        {
            "person_id": np.char.add("p", np.arange(n_persons).astype(str)).astype(object),
            "birth_date": day(s0 - rng.integers(18 * 365, 60 * 365, n_persons)),
            "sex": rng.choice(["M", "V"], n_persons).astype(object),
            "education": rng.choice(["laag", "middelbaar", "hoog"], n_persons).astype(object),
            "startkwalificatie": rng.random(n_persons) < 0.5,
            "household": rng.choice(["alleenstaand", "paar"], n_persons).astype(object),
            "municipality": "Groningen",
            "wijk": rng.choice(["Oosterpoort", "Selwerd", "Lewenborg"], n_persons).astype(object),
            "statushouder": rng.random(n_persons) < 0.05,
            "barrier_health": rng.random(n_persons) < 0.3,
            "barrier_language": rng.random(n_persons) < 0.2,
            "barrier_debts": rng.random(n_persons) < 0.2,
            "ladder_intake": pd.array(rng.integers(1, 7, n_persons), dtype="Int64"),
        }
    )
    return Dataset(
        persons=persons,
        spells=spells,
        programmes=programmes,
        ww=empty_table("ww"),
        extract_date=pd.Timestamp(T0 + np.timedelta64(EXTRACT, "D")),
    )


def lifelines_episodes(ds: Dataset) -> pd.DataFrame:
    """The same start–stop rows built with lifelines (programme start/end as covariate changes)."""
    from lifelines.utils import add_covariate_to_timeline

    ep = episodes(ds, covariates=False)  # only to take spell lengths; not timed with lifelines
    base = ep.groupby("spell_id", sort=False).agg(stop=("stop", "max"), event=("event", "max"))
    base = base.reset_index().assign(start=0.0)
    sp = ds.spells.set_index("spell_id")
    pr = ds.programmes.assign(spell_id=ds.spells["spell_id"].to_numpy())  # one per spell, in order
    s_start = sp.loc[pr["spell_id"], "start_date"].to_numpy()
    a = (pr["start_date"].to_numpy() - s_start) / np.timedelta64(1, "D") / DAYS_PER_MONTH
    end = pr["end_date"].to_numpy()
    b = ((end - s_start) / np.timedelta64(1, "D") + 1) / DAYS_PER_MONTH
    cv = pd.concat(
        [
            pd.DataFrame({"spell_id": pr["spell_id"], "t": a, "in_programme": 1}),
            pd.DataFrame({"spell_id": pr["spell_id"], "t": b, "in_programme": 0}).dropna(),
        ]
    )
    return base, cv, add_covariate_to_timeline


def _agree(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    cols = ["spell_id", "start", "stop", "event", "in_programme"]
    o = ours[cols].sort_values(["spell_id", "start"]).reset_index(drop=True)
    t = theirs.assign(in_programme=theirs["in_programme"].fillna(0))
    t = t[cols].sort_values(["spell_id", "start"]).reset_index(drop=True)
    if len(o) != len(t) or not (o["spell_id"].to_numpy() == t["spell_id"].to_numpy()).all():
        return False
    return bool(
        np.allclose(o[["start", "stop"]], t[["start", "stop"]], atol=1e-9)
        and (o["event"].to_numpy() == t["event"].to_numpy()).all()
        and (o["in_programme"].to_numpy() == t["in_programme"].astype(int).to_numpy()).all()
    )


def run(size: int | None = None) -> list[dict]:
    size = int(size or DEFAULT_SIZE)
    rows = []
    ds = make_dataset(size)
    sec, peak, ep = measure(lambda: episodes(ds), repeat=3)
    rows.append(
        row(SUITE, "episodes: split spells at programme start/end", "werkeffect", size, sec,
            peak, None, f"{len(ep):,} rows, covariates included; cpu {measure.last_cpu:.2f} s")
    )  # fmt: skip
    pm_size = min(size, 200_000)
    ds_pm = make_dataset(pm_size, seed=1)
    sec, peak, pm = measure(lambda: person_months(ds_pm, on_benefit_only=True), repeat=3)
    rows.append(
        row(SUITE, "person_months (on benefit only)", "werkeffect", pm_size, sec, peak, None,
            f"{len(pm):,} person-months; cpu {measure.last_cpu:.2f} s")
    )  # fmt: skip

    # reading and validating an extract (Parquet)
    import json
    import tempfile
    from pathlib import Path

    from werkeffect.data.io import load

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("persons", "spells", "programmes"):
            getattr(ds_pm, name).to_parquet(Path(tmp) / f"{name}.parquet", index=False)
        (Path(tmp) / "extract.json").write_text(
            json.dumps({"extract_date": str(ds_pm.extract_date.date())})
        )
        sec, peak, loaded = measure(lambda: load(tmp), repeat=1)
    rows.append(
        row(SUITE, "load + validate (Parquet, BSN guard)", "werkeffect", pm_size, sec, peak,
            None, f"{len(loaded.persons):,} persons; cpu {measure.last_cpu:.2f} s")
    )  # fmt: skip

    # peer comparison at a size lifelines can do
    n = min(size, PEER_SIZE)
    small = make_dataset(n, seed=2)
    ours_sec, ours_peak, ours = measure(lambda: episodes(small, covariates=False), repeat=3)
    rows.append(
        row(SUITE, "episodes (no covariates), peer size", "werkeffect", n, ours_sec, ours_peak)
    )
    try:
        base, cv, add = lifelines_episodes(small)
    except ImportError:
        return rows
    fn = lambda: add(base, cv, id_col="spell_id", duration_col="t", event_col="event")  # noqa: E731
    sec, peak, theirs = measure(fn, repeat=1)
    rows.append(
        row(SUITE, "episodes (no covariates), peer size", "lifelines", n, sec, peak,
            _agree(ours, theirs), "add_covariate_to_timeline")
    )  # fmt: skip
    return rows
