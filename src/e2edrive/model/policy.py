"""The trained network as a driving policy (torch, eager)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from e2edrive.core import io
from e2edrive.core.control import CameraContexts, ControllerConfig, plan_to_action
from e2edrive.core.policy import Action, Observation
from e2edrive.model.checkpoint import load_model
from e2edrive.model.config import run_controller


class TorchPolicy:
    """Sees only the cameras its config names, its own speed and the command; never the simulator state."""

    privileged = False

    def __init__(self, run_dir: Path, controller: ControllerConfig | None = None, threads: int | None = 1) -> None:
        """controller: None drives with the one the run records (`model.config.run_controller`)."""
        self.model, self.config = load_model(run_dir)
        self.controller = controller or run_controller(run_dir)
        model_config = self.model.config
        self.cameras = model_config.camera_names
        self.context = CameraContexts(
            [(c.name, c.shape_hwc) for c in model_config.cameras], model_config.context_offsets_frames
        )
        self.layout = model_config.plan
        self.last_plan = np.zeros(self.layout.size, np.float32)
        if threads is not None:
            torch.set_num_threads(threads)

    def reset(self, seed: int) -> None:
        self.context.reset()

    @torch.no_grad()
    def plan(self, observation: Observation) -> np.ndarray:
        stacks = self.context.push(observation.frames)
        plan = self.model(
            [torch.from_numpy(s[None].copy()) for s in stacks],
            torch.tensor([[observation.speed_mps]], dtype=torch.float32),
            torch.from_numpy(io.command_one_hot(observation.command)[None]),
        )
        self.last_plan = plan[0].numpy()
        return self.last_plan

    def act(self, observation: Observation) -> Action:
        return plan_to_action(self.plan(observation), observation.speed_mps, self.controller, self.layout)
