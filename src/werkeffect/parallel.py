"""Where parallel work runs: local processes, or a Dask cluster.

Monte Carlo validation, power simulations and bootstraps use joblib. By default joblib runs
them in local processes (``n_jobs`` workers). Inside :func:`compute_backend` with a Dask
scheduler address they run on that Dask cluster through joblib's ``dask`` backend instead —
the code that asks for parallel work does not change.

    from werkeffect.parallel import compute_backend
    with compute_backend("tcp://scheduler:8786"):
        table = werkeffect.monte_carlo(my_estimator, reps=500, n_jobs=-1)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def compute_backend(scheduler: Any = None) -> Iterator[Any]:
    """Run joblib work on the Dask cluster at ``scheduler`` (an address such as
    ``"tcp://10.0.0.5:8786"``, or a ``distributed.Client`` / ``LocalCluster``); with ``None``
    joblib's default local backend is used. Yields the Dask client (or None)."""
    if scheduler is None:
        yield None
        return
    import joblib

    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - dask is an optional extra
        raise ImportError(
            "running on a Dask cluster needs dask.distributed: pip install 'werkeffect[dask]'"
        ) from exc
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        with joblib.parallel_config(backend="dask"):
            yield client
    finally:
        if own:
            client.close()
