"""What a closed-loop evaluation drives: policy, scenario, held-out seeds, workers, world overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError


@dataclass(frozen=True)
class EvalConfig:
    policy: str = "expert"
    """'expert', 'expert-no-routes', 'rules', 'oracle', a run directory, an .onnx file or 'oracle-pick:RUN'
    (`policies.make_policy`)."""
    scenario: str = "highway"
    """One scenario, a comma list, or 'all' (then episodes per scenario, the same seeds in each)."""
    episodes: int = 10
    seed: int = 10_000
    """First held-out seed; episodes use seed..seed+episodes-1."""
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)
    accel_from: str | None = None
    """How a learned driver sets its pace (`core/control.ControllerConfig.accel_from`): "trajectory",
    "controls" or "guarded"; None: as its run records (`model.config.run_controller`)."""
    max_lateral_accel_mps2: float | None = None
    """A learned driver's turn speed limit (`core/control.ControllerConfig.max_lateral_accel_mps2`; 0: none); None:
    as its run records."""

    def controller_overrides(self) -> dict[str, Any]:
        """The controller fields this evaluation sets for a planning driver (a network, the oracle)."""
        fields = {"accel_from": self.accel_from, "max_lateral_accel_mps2": self.max_lateral_accel_mps2}
        return {k: v for k, v in fields.items() if v is not None}

    def __post_init__(self) -> None:
        from e2edrive.policies import check_policy_spec
        from e2edrive.sim.scenarios import get_scenario, scenario_names, scenario_overrides

        for name in scenario_names(self.scenario):
            scenario_overrides(get_scenario(name), self.overrides)
        if self.episodes < 1 or self.workers < 1:
            raise UserError(f"episodes={self.episodes} and workers={self.workers} must be >= 1")
        check_policy_spec(self.policy)
        ControllerConfig(**self.controller_overrides())  # refuses an unknown pace source or a negative limit at once
