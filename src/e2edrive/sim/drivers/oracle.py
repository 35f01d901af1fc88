"""Oracles: the expert's knowledge behind parts of the learned driver, to tell its errors apart.

`OraclePolicy`, the ceiling of control: it plans like the expert (`sim/relabel.expert_trajectory`, the very label
the network learns) and drives that plan through the same controller as the learned driver
(`core/control.plan_to_action`), with the expert's acceleration. Where it fails, no network trained on these
labels can succeed with this controller.

`OraclePickPolicy`, the ceiling of the network's pick: a trained network plans as it does, and of its trajectory
hypotheses the one nearest the expert's plan drives, not the one its confidence head prefers. Where it succeeds
and the network does not, the network's own hypotheses held the right plan and its confidences chose another.
"""

from __future__ import annotations

from pathlib import Path

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


PICK_LOGIT = 30.0
"""The picked hypothesis's confidence logit (the others get minus this): the controller drives the most confident."""


class OraclePickPolicy:
    privileged = True

    def __init__(self, run_dir: Path, controller: ControllerConfig | None = None) -> None:
        """controller: None drives with the one the run records, as the run itself would."""
        from e2edrive.model.policy import TorchPolicy

        self.network = TorchPolicy(Path(run_dir), controller)  # holds the plan layout
        self.controller = self.network.controller
        self.expert = ExpertPolicy()

    def reset(self, seed: int) -> None:
        self.network.reset(seed)
        self.expert.reset(seed)

    def act(self, observation: Observation) -> Action:
        layout = self.network.layout
        plan = self.network.plan(observation).copy()  # the network reads frames, speed and command, as it drives
        # Its action is not driven, but acting keeps the expert's intent current on the real car (lane change,
        # target speed, a missed exit abandoned), which the shadow world copies, as the DAgger labeller's acts do.
        self.expert.act(observation)
        truth = expert_trajectory(observation.state, self.expert)
        if truth is not None and layout.hypotheses > 1:  # else: the network's own pick
            hypotheses, _ = layout.hypotheses_of(plan)
            pick = int(np.argmin(np.linalg.norm(hypotheses - truth, axis=2).mean(axis=1)))
            plan[layout.confidences] = np.where(np.arange(layout.hypotheses) == pick, PICK_LOGIT, -PICK_LOGIT)
        return plan_to_action(plan, observation.speed_mps, self.controller, layout)
