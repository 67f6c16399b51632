"""Monte Carlo replications on a Dask cluster through joblib's dask backend give the same
answer as local execution (seeds are fixed per replication, not per worker)."""

import pytest

from werkeffect.validation import monte_carlo

distributed = pytest.importorskip("distributed")


def ww_did(dataset, seed):
    from werkeffect.did import TWFE, ww_inflow_frame

    fm = ww_inflow_frame(dataset, 6, level="municipality")
    res = TWFE(fm, "inflow", "municipality", "period", "treated").fit(inference="analytic")
    ci = res.conf_int().loc["ATT"]
    return {"ww.att_inflow_6m": (res.params["ATT"], ci["lower"], ci["upper"])}


def test_monte_carlo_on_a_local_dask_cluster_equals_local_run():
    local = monte_carlo(ww_did, scenario="groningen", reps=2, n_jobs=1, seed=3, scale=0.1)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = monte_carlo(
            ww_did, scenario="groningen", reps=2, n_jobs=2, seed=3, scale=0.1,
            scheduler=cluster.scheduler_address,
        )  # fmt: skip
    assert on_dask.equals(local)
