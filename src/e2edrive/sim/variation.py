"""Varied worlds for collection: each episode draws its traffic from ranges, so a learned driver meets traffic
and layouts it was not trained on. The draw is a function of the episode seed (same seed, same world).

Ranges per scenario live in the registry (`Scenario.variation`): traffic density and count, lane count where
the scenario has it, other drivers' desired speeds and politeness, the ego's start speed. Evaluation uses the
scenarios as they are (and `--set` for denser traffic); collection draws from these ranges, and every clip
records the ranges and what was drawn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

Range = tuple[float, float]

ENV_KEYS = ("vehicles_density", "vehicles_count", "lanes_count", "initial_vehicle_count", "other_vehicles")
"""Ranges that become highway-env config keys of the episode (integers where highway-env counts)."""
INTEGER_KEYS = ("vehicles_count", "lanes_count", "initial_vehicle_count", "other_vehicles")
SEED_SALT = 424_243
"""The draw's generator is seeded by episode seed + this, apart from highway-env's and the perturbations'."""


@dataclass(frozen=True)
class Variation:
    """Uniform ranges [low, high] (integers inclusive); None leaves the scenario's own value."""

    vehicles_density: Range | None = None
    vehicles_count: Range | None = None
    lanes_count: Range | None = None
    initial_vehicle_count: Range | None = None
    """The intersection's cars at the start."""
    other_vehicles: Range | None = None
    """The racetrack's other cars."""
    other_speed_scale: Range | None = (0.85, 1.15)
    """Other drivers' desired speed x this (each driver its own draw)."""
    politeness: Range | None = (0.0, 0.5)
    """Other drivers' MOBIL politeness (0: selfish lane changes, 0.5: considerate), each its own draw."""
    ego_speed_mps: Range | None = None
    """The ego's speed at the start."""

    def __post_init__(self) -> None:
        for f in fields(self):
            r = getattr(self, f.name)
            if r is not None and (len(r) != 2 or r[0] > r[1]):
                raise ValueError(f"{f.name}={r}: a range is (low, high) with low <= high")

    def to_json(self) -> dict:
        return asdict(self)

    def draw(self, seed: int) -> dict[str, Any]:
        """This episode's values: env keys, the ego's start speed, and per-driver draws made at reset."""
        rng = np.random.default_rng(seed + SEED_SALT)
        out: dict[str, Any] = {}
        for key in ENV_KEYS + ("ego_speed_mps",):
            r = getattr(self, key)
            if r is None:
                continue
            out[key] = int(rng.integers(int(r[0]), int(r[1]) + 1)) if key in INTEGER_KEYS else float(rng.uniform(*r))
        out["drivers_seed"] = int(rng.integers(2**31 - 1))
        return out

    def env_overrides(self, drawn: dict[str, Any]) -> dict[str, Any]:
        return {k: drawn[k] for k in ENV_KEYS if k in drawn}

    def apply_to_traffic(self, vehicles: list, ego, drawn: dict[str, Any]) -> None:
        """After highway-env's reset: each other driver's desired speed and politeness, and the ego's speed."""
        rng = np.random.default_rng(drawn["drivers_seed"])
        for v in vehicles:
            if v is ego or not hasattr(v, "target_speed"):
                continue
            if self.other_speed_scale is not None:
                v.target_speed = float(v.target_speed * rng.uniform(*self.other_speed_scale))
            if self.politeness is not None:
                v.POLITENESS = float(rng.uniform(*self.politeness))  # an instance attribute: this driver only
        if "ego_speed_mps" in drawn:
            ego.speed = drawn["ego_speed_mps"]
