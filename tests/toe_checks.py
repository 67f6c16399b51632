"""Checks shared by the timing-of-events likelihood tests."""

from __future__ import annotations

import numpy as np


def assert_gradient_and_scores(lik, lay, theta: np.ndarray, h: float = 1e-6) -> None:
    """The analytic gradient equals central differences of the log-likelihood, and the
    person scores sum to it."""
    _, g = lik.loglik(theta, lay)
    num = np.array(
        [
            (
                lik.loglik(theta + h * e, lay, grad=False)
                - lik.loglik(theta - h * e, lay, grad=False)
            )
            / (2 * h)
            for e in np.eye(lay.n_params)
        ]
    )
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(lik.scores(theta, lay).sum(axis=0), g, rtol=1e-9, atol=1e-8)
