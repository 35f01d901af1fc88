"""The oracle: a perfect planner behind the learned driver's controller — the ceiling of control.

It plans like the expert (`sim/relabel.expert_trajectory`, the very label the network learns) and drives that
plan through the same controller as the learned driver (`core/control.plan_to_action`), with the expert's
acceleration. Its score separates control errors from learning errors: where the oracle fails, no network
trained on these labels can succeed with this controller.
"""

from __future__ import annotations

import numpy as np

from e2edrive.core import io
from e2edrive.core.control import ControllerConfig, plan_to_action
from e2edrive.core.policy import Action, Observation
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.relabel import expert_trajectory


class OraclePolicy:
    privileged = True

    def __init__(self, controller: ControllerConfig = ControllerConfig()) -> None:
        self.expert = ExpertPolicy()
        self.controller = controller
        self.layout = io.PlanLayout(hypotheses=1, aux=())

    def reset(self, seed: int) -> None:
        self.expert.reset(seed)

    def act(self, observation: Observation) -> Action:
        command = self.expert.act(observation)
        plan = expert_trajectory(observation.state, self.expert)
        if plan is None:  # the episode ends within the horizon: the expert's own command
            return command
        out = np.zeros(self.layout.size, np.float32)
        out[self.layout.trajectories] = plan.reshape(-1)
        out[self.layout.control] = (command.steer_rad, command.accel_mps2)
        return plan_to_action(out, observation.speed_mps, self.controller, self.layout)
