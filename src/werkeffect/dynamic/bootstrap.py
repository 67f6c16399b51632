"""Bootstrap over persons (or any cluster), parallel with joblib, seeded with SeedSequence.

Each replication draws cluster multiplicities from a multinomial (resampling clusters with
replacement) and calls a function of those frequency weights: the whole estimator (start
model, matching or weighting within each u, Aalen–Johansen curves) or, for
nearest-neighbour matching, the curves on the fixed full-sample matches
(:mod:`werkeffect.dynamic.fixed_match`). Replication
``r`` always uses the ``r``-th child of ``SeedSequence(seed)``, so the draws do not depend on
the number of workers or on how the replications are split into batches.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
from joblib import Parallel, delayed

from werkeffect.exceptions import warn_estimation

#: CPU seconds (summed over workers) and wall seconds of the last resampling run
LAST_RUN: dict = {}


def cluster_weights(
    rng: np.random.Generator, cluster: np.ndarray, n_clusters: int, scheme: str = "bootstrap"
) -> np.ndarray:
    """Frequency weights of one resample of clusters.

    ``"bootstrap"``: n clusters drawn with replacement. ``"half"``: half of the clusters
    drawn without replacement (half-sampling, the delete-n/2 jackknife; no duplicates, so
    it stays valid for nearest-neighbour matching when the matching is redone, where the
    bootstrap is not — Abadie & Imbens 2008, though conservative: with half of the controls
    the neighbours change). The spread of half-sample estimates around the full-sample
    estimate equals the sampling variance of the full-sample estimator (factor
    m / (n - m) = 1).
    """
    if scheme == "half":
        keep = np.zeros(n_clusters)
        keep[rng.choice(n_clusters, n_clusters // 2, replace=False)] = 1.0
        return keep[cluster]
    draws = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters))
    return draws[cluster].astype(float)


def _run_batch(
    func: Callable[[np.ndarray], np.ndarray],
    cluster: np.ndarray,
    n_clusters: int,
    seeds: list[np.random.SeedSequence],
    n_stats: int,
    scheme: str = "bootstrap",
) -> tuple[np.ndarray, float]:
    cpu0 = time.process_time()
    out = np.full((len(seeds), n_stats), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, ss in enumerate(seeds):  # loop over replications, not people
            rng = np.random.default_rng(ss)
            w = cluster_weights(rng, cluster, n_clusters, scheme)
            try:
                out[j] = func(w)
            except (ValueError, np.linalg.LinAlgError):
                pass  # counted as failed replication by the caller
    return out, time.process_time() - cpu0


def bootstrap(
    func: Callable[[np.ndarray], np.ndarray],
    cluster: np.ndarray,
    n_clusters: int,
    n_stats: int,
    n_boot: int,
    *,
    seed: int | np.random.SeedSequence | None = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    batch_size: int | None = None,
    scheme: str = "bootstrap",
) -> np.ndarray:
    """Run ``func(weights)`` on ``n_boot`` cluster-bootstrap samples; rows are replications.

    ``progress=None`` shows a tqdm bar when there are at least 50 replications.
    """
    if n_boot <= 0:
        return np.empty((0, n_stats))
    if n_clusters < 30:
        warn_estimation(
            f"the bootstrap resamples only {n_clusters} clusters; intervals may be too narrow",
            f"de bootstrap trekt uit slechts {n_clusters} clusters; de intervallen kunnen te "
            "smal zijn",
            stacklevel=3,
        )
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = root.spawn(n_boot)
    n_jobs = max(1, int(n_jobs)) if n_jobs and n_jobs > 0 else max(1, _cpu_count())
    if batch_size is None:
        batch_size = max(1, min(25, n_boot // (4 * n_jobs) or 1))
    batches = [children[i : i + batch_size] for i in range(0, n_boot, batch_size)]
    show = (n_boot >= 50) if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_boot, desc="bootstrap", unit="rep", leave=False)
    results: list[np.ndarray] = []
    cpu = 0.0
    wall0 = time.perf_counter()
    if n_jobs == 1:
        for b in batches:
            res, c = _run_batch(func, cluster, n_clusters, b, n_stats, scheme)
            results.append(res)
            cpu += c
            if bar is not None:
                bar.update(len(b))
    else:
        gen = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_run_batch)(func, cluster, n_clusters, b, n_stats, scheme) for b in batches
        )
        for res, c in gen:
            results.append(res)
            cpu += c
            if bar is not None:
                bar.update(len(res))
    if bar is not None:
        bar.close()
    LAST_RUN.update(cpu_seconds=cpu, wall_seconds=time.perf_counter() - wall0, n_jobs=n_jobs)
    out = np.vstack(results)
    failed = int(np.all(np.isnan(out), axis=1).sum())
    if failed:
        warn_estimation(
            f"{failed} of {n_boot} bootstrap replications failed and were left out",
            f"{failed} van {n_boot} bootstraptrekkingen mislukten en zijn weggelaten",
            stacklevel=3,
        )
    return out


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
