"""Fixtures shared by test modules."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory) -> Path:
    """A small simulated extract (seed 11, 0.3 of Groningen) written as files; read-only:
    a test that changes it copies it first."""
    from werkeffect.simulate import simulate, write_simulation

    out = tmp_path_factory.mktemp("extract") / "groningen"
    dataset, truth = simulate(seed=11, scale=0.3)
    write_simulation(dataset, truth, out)
    return out
