import numpy as np
import pandas as pd
import pytest

from werkeffect.data.dataset import Dataset
from werkeffect.monitor import exits_by_year, monitor_table, programme_starts_by_year


def tiny_dataset():
    persons = pd.DataFrame(
        {"person_id": ["a", "b", "c", "d"], "municipality": ["Groningen"] * 3 + ["Assen"]}
    )
    d = pd.to_datetime
    spells = pd.DataFrame(
        {
            "spell_id": ["s1", "s2", "s3", "s4", "s5"],
            "person_id": ["a", "a", "b", "c", "d"],
            "start_date": d(["2018-01-01", "2020-03-01", "2018-05-01", "2019-01-01", "2019-01-01"]),
            "end_date": d(["2019-06-30", None, "2020-02-29", "2020-07-31", "2019-05-31"]),
            "exit_reason": ["werk", None, "deeltijdwerk", "scholing", "werk"],
        }
    )
    programmes = pd.DataFrame(
        {
            "participation_id": ["p1", "p2", "p3"],
            "person_id": ["a", "b", "c"],
            "programme": ["jobcoaching", "jobcoaching", "nazorg"],
            "start_date": d(["2019-01-01", "2019-03-01", "2020-08-01"]),
        }
    )
    return Dataset(persons, spells, programmes, pd.DataFrame(), pd.Timestamp("2020-12-31"))


def test_exits_by_year_counts_only_work_exits_in_the_municipality():
    ex = exits_by_year(tiny_dataset())
    assert ex.to_dict() == {
        2018: 0,
        2019: 1,
        2020: 1,
    }  # part-time work counts (as in the evaluations); Assen's exit and scholing do not
    ex_all = exits_by_year(tiny_dataset(), municipality=None)
    assert ex_all[2019] == 2


def test_programme_starts_and_monitor_table():
    ds = tiny_dataset()
    starts = programme_starts_by_year(ds)
    assert starts.to_dict() == {2019: 2}
    ex = pd.Series([900, 1000], index=pd.Index([2019, 2020], name="year"))
    tab = monitor_table(ex, pd.Series({2019: 100, 2020: 200}), 0.1, 0.05, targets={2020: 1000})
    assert tab["extra_exits"].tolist() == pytest.approx([10.0, 20.0])
    assert tab.loc[1, "share_of_target"] == pytest.approx(1.0)
    assert np.isnan(tab.loc[0, "target"])
    assert tab.loc[0, "reported"] == 861
    assert tab.loc[1, "extra_lower"] == pytest.approx((0.1 - 1.959964 * 0.05) * 200, rel=1e-6)


def test_unknown_municipality_is_an_error():
    with pytest.raises(ValueError, match="Utrecht"):
        exits_by_year(tiny_dataset(), municipality="Utrecht")


def test_participant_exits_to_work_counts_exits_within_the_window():
    """a starts jobcoaching 2019-01-01 in spell s1, which ends in work 2019-06-30 (within 12
    months); b starts 2019-03-01 in s3, part-time work 2020-02-29 (within 12 months); with a
    6-month window only a counts. c's nazorg is another programme."""
    from werkeffect.monitor import participant_exits_to_work

    ds = tiny_dataset()
    out = participant_exits_to_work(ds)
    assert out.to_dict("records") == [{"year": 2019, "participants": 2, "exits_work_within": 2}]
    six = participant_exits_to_work(ds, within_months=6)
    assert six["exits_work_within"].tolist() == [1]
    # a participation of someone outside the municipality does not count
    ds.programmes.loc[len(ds.programmes)] = ["p4", "d", "jobcoaching", pd.Timestamp("2019-02-01")]
    assert participant_exits_to_work(ds)["participants"].tolist() == [2]
    assert participant_exits_to_work(ds, municipality=None)["exits_work_within"].tolist() == [3]
    assert programme_starts_by_year(ds).to_dict() == {2019: 2}
    assert programme_starts_by_year(ds, municipality=None).to_dict() == {2019: 3}
