"""Exceptions and warnings of werkeffect (kept tiny on purpose)."""

from __future__ import annotations

import warnings


class WerkeffectError(Exception):
    """Base class of every error werkeffect raises on purpose."""


class DataValidationError(WerkeffectError):
    """An extract breaks the data model. ``problems`` lists every problem found.

    The message lists, per problem, table, column, count and up to five example rows.
    """

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class EstimationError(WerkeffectError, ValueError):
    """An estimator cannot give an honest answer on these data (no overlap, no events, ...)."""


class EstimationWarning(UserWarning):
    """An estimate exists but needs care (few clusters, weak overlap, ...).

    ``nl`` says the same in Dutch, for the Dutch reports (empty where only English exists).
    """

    def __init__(self, message: str = "", nl: str = "") -> None:
        super().__init__(message)
        self.nl = nl

    def __reduce__(self):  # keep the Dutch text when a worker process sends the warning
        return (type(self), (str(self), self.nl))


class SingleTreatedClusterWarning(EstimationWarning):
    """The treated of some cohorts all lie in one cluster: their cluster-robust standard
    errors are not usable. ``cohorts`` lists those cohorts (first treated periods), so a
    caller can leave the intervals of those estimates out (and word the message in its own
    terms, e.g. calendar labels for the periods)."""

    def __init__(self, message: str = "", nl: str = "", cohorts: tuple = ()) -> None:
        super().__init__(message, nl)
        self.cohorts = tuple(cohorts)

    def __reduce__(self):
        return (type(self), (str(self), self.nl, self.cohorts))


def warn_estimation(message: str, nl: str = "", stacklevel: int = 2) -> None:
    """Issue an :class:`EstimationWarning` in English and Dutch; ``stacklevel`` as
    ``warnings.warn`` would take it in the calling function."""
    warnings.warn(EstimationWarning(message, nl), stacklevel=stacklevel + 1)


class DisclosureError(WerkeffectError):
    """An output would allow a person to be recognised and cannot be made safe by suppression.

    The message names the output (table, figure or estimate), the column and rows.
    """


class RenderError(WerkeffectError):
    """A report could not be rendered (names the document, the chunk and the cause)."""


class UnsupportedFeatureError(RenderError):
    """A Quarto feature the built-in engine does not implement (it is refused, never dropped)."""


__all__ = [
    "DataValidationError",
    "DisclosureError",
    "EstimationError",
    "EstimationWarning",
    "RenderError",
    "SingleTreatedClusterWarning",
    "UnsupportedFeatureError",
    "WerkeffectError",
    "warn_estimation",
]
