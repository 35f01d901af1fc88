"""Scenario registry: each scenario names a highway-env world, its config and what success means."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from highway_env.envs.highway_env import HighwayEnv

from e2edrive.model.io import FRAME_RATE_HZ

CHEAP_OBSERVATION = {"type": "AttributesObservation", "attributes": []}
"""highway-env's default Kinematics observation costs ~7 ms a step (pandas); ours renders its own."""


class HighwayScenarioEnv(HighwayEnv):
    """highway-env's highway with rewards removed: we score driving ourselves, in `evaluate/`."""

    def _reward(self, action: Any) -> float:
        return 0.0

    def _rewards(self, action: Any) -> dict[str, float]:
        return {}


@dataclass(frozen=True)
class Scenario:
    """A world to drive in.

    env_config: highway-env config overrides on top of the env class defaults.
    duration_s: episode length; success = no collision, stayed on the road, reached this time.
    """

    name: str
    env_class: type
    env_config: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 30.0
    command: str = "follow"

    def make_env_config(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        config = {
            "observation": CHEAP_OBSERVATION,
            "action": {"type": "ContinuousAction"},
            "simulation_frequency": FRAME_RATE_HZ,
            "policy_frequency": FRAME_RATE_HZ,
            "duration": self.duration_s,
            "offroad_terminal": True,
            **self.env_config,
        }
        for key, value in (overrides or {}).items():
            config[key] = value
        return config


SCENARIOS: dict[str, Scenario] = {
    "highway": Scenario(
        name="highway",
        env_class=HighwayScenarioEnv,
        env_config={"lanes_count": 4, "vehicles_count": 30, "vehicles_density": 1.0},
        duration_s=30.0,
    ),
}


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
    return SCENARIOS[name]


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """`["vehicles_density=1.5", "lanes_count=3"]` → {"vehicles_density": 1.5, "lanes_count": 3}.

    Values are parsed as JSON when they can be (numbers, booleans, lists), else kept as strings.
    """
    import json

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out
