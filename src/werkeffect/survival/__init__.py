"""Survival analysis: hazards, competing exits and the timing-of-events model."""

from werkeffect.survival.timing_of_events import TimingOfEvents

__all__ = ["TimingOfEvents"]
