"""What a collection job records: scenario, seeds, workers, world overrides, perturbations, cameras and who
drives. Saved as collect_config.json and in every clip's meta; light to import (the command line reads its
defaults)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from e2edrive.core.camera import CameraConfig
from e2edrive.core.errors import UserError
from e2edrive.sim.perturb import PerturbConfig

if TYPE_CHECKING:
    from e2edrive.sim.drivers.expert import ExpertConfig


@dataclass(frozen=True)
class CollectConfig:
    scenario: str = "highway"
    """One scenario, a comma list, or 'all': episodes are spread over them by `shares`."""
    episodes: int = 8
    workers: int = 2
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    expert: ExpertConfig | None = None
    """None: each scenario's own expert config (`Scenario.expert`)."""
    perturb: PerturbConfig = PerturbConfig(start_probability=0.03)
    cameras: tuple[CameraConfig, ...] = (CameraConfig(),)
    policy: str = "expert"
    """Who drives: 'expert', or a run directory / .onnx file — then the expert only labels (DAgger data)."""
    expert_share: float = 0.0
    """DAgger's beta: with a learner driving, the chance that the expert's command drives each 1-s segment."""
    relabel_every_steps: int = 2
    """With a learner driving, the expert plans its trajectory from every this-many-th visited state (the
    trajectory label of those frames; `sim/relabel.py`). 0: no plans (the clip teaches controls only)."""
    shares: dict[str, float] = field(default_factory=dict)
    """Relative share of episodes per scenario (missing: 1); e.g. {"intersection": 2} doubles its episodes."""
    vary: bool = True
    """Draw each episode's traffic from its scenario's variation ranges (`sim/variation.py`), recorded in meta."""

    def __post_init__(self) -> None:
        from e2edrive.policies import check_policy_spec
        from e2edrive.sim.scenarios import get_scenario, scenario_names, scenario_overrides

        names = scenario_names(self.scenario)
        for name in names:
            scenario_overrides(get_scenario(name), self.overrides)
        unknown = set(self.shares) - set(names)
        if unknown or any(w < 0 for w in self.shares.values()) or not any(self.share(n) > 0 for n in names):
            raise UserError(f"shares {self.shares}: expected non-negative weights of {names}, not all zero")
        if self.episodes < 1:
            raise UserError(f"episodes={self.episodes} must be >= 1")
        if self.workers < 1:
            raise UserError(f"workers={self.workers} must be >= 1")
        if not 0.0 <= self.expert_share <= 1.0 or self.relabel_every_steps < 0:
            raise UserError(
                f"expert_share={self.expert_share} must be in [0, 1] and "
                f"relabel_every_steps={self.relabel_every_steps} >= 0"
            )
        check_policy_spec(self.policy)

    def to_json(self) -> dict:
        return asdict(self)

    def share(self, name: str) -> float:
        return float(self.shares.get(name, 1.0))

    def seeds(self) -> range:
        return range(self.seed, self.seed + self.episodes)

    def scenario_of(self, seed: int) -> str:
        """Which scenario episode `seed` drives: a smooth weighted round robin over the scenarios by share, so
        any first n episodes are spread as evenly as the shares allow (and a longer job keeps them)."""
        from e2edrive.sim.scenarios import scenario_names

        names = tuple(n for n in scenario_names(self.scenario) if self.share(n) > 0)
        return _round_robin(names, tuple(self.share(n) for n in names), self.episodes)[seed - self.seed]


@functools.lru_cache(maxsize=8)
def _round_robin(names: tuple[str, ...], weights: tuple[float, ...], n: int) -> list[str]:
    current = [0.0] * len(names)
    out = []
    for _ in range(n):
        current = [c + w for c, w in zip(current, weights)]
        pick = max(range(len(names)), key=lambda i: current[i])
        current[pick] -= sum(weights)
        out.append(names[pick])
    return out
