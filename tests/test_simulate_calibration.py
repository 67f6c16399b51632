"""Calibration of the default Groningen scenario to the facts in the brief (seeds 003, 004).

One test per fact, all on the default seed (0) and default parameters.
"""

import pandas as pd
import pytest

from _simhelpers import exits_to_work, sim, stock


@pytest.fixture(scope="module")
def ds():
    return sim("groningen", 0)[0]


def test_stock_on_1_october_2019_is_about_10356(ds):
    n = len(stock(ds, "2019-10-01"))
    assert 0.9 * 10_356 <= n <= 1.1 * 10_356, n


def test_more_than_two_thirds_of_the_stock_longer_than_three_years(ds):
    s = stock(ds, "2019-10-01")
    long = (pd.Timestamp("2019-10-01") - s.start_date).dt.days > 3 * 365.25
    assert long.mean() > 2 / 3, long.mean()


def test_more_than_half_of_the_stock_without_startkwalificatie(ds):
    s = stock(ds, "2019-10-01")
    assert (~s.startkwalificatie).mean() > 0.5


def test_about_1000_under_27_in_the_stock(ds):
    s = stock(ds, "2019-10-01")
    age = (pd.Timestamp("2019-10-01") - s.birth_date).dt.days / 365.25
    n = int((age < 27).sum())
    assert 750 <= n <= 1250, n


@pytest.mark.parametrize("year", [2019, 2020])
def test_850_to_950_exits_to_work_a_year(ds, year):
    n = exits_to_work(ds, year)
    assert 850 <= n <= 950, (year, n)
