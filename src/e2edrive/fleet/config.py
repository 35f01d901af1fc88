"""What a collection job records: scenario, seeds, workers, world overrides, perturbations, cameras and who
drives. Saved as collect_config.json and in every clip's meta; light to import (the command line reads its
defaults)."""

from __future__ import annotations

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

    def __post_init__(self) -> None:
        from e2edrive.policies import check_policy_spec
        from e2edrive.sim.scenarios import get_scenario, scenario_overrides

        scenario_overrides(get_scenario(self.scenario), self.overrides)
        if self.episodes < 1:
            raise UserError(f"episodes={self.episodes} must be >= 1")
        if self.workers < 1:
            raise UserError(f"workers={self.workers} must be >= 1")
        check_policy_spec(self.policy)

    def to_json(self) -> dict:
        return asdict(self)
