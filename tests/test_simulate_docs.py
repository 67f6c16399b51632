"""docs/simulator.md documents every parameter and every truth key."""

import dataclasses
import re
from pathlib import Path

from _simhelpers import sim
from werkeffect.simulate import SimParams

DOC = Path(__file__).resolve().parents[1] / "docs" / "simulator.md"


def test_every_parameter_is_documented():
    text = DOC.read_text()
    missing = [f.name for f in dataclasses.fields(SimParams) if f"`{f.name}`" not in text]
    assert not missing


def test_every_truth_key_is_documented():
    text = DOC.read_text()
    truth = sim("groningen", 0)[1]
    for key in truth.values:
        pattern = re.sub(r"\d+", r"\\S*", re.escape(key))
        generic = key.split(".")[0] + "." + key.split(".")[1].split("_")[0]
        assert re.search(pattern, text) or generic in text, key
